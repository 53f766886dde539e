"""Throughput figures shared by the reports of the model-driven passes (LLM curation, the pass@k filter)."""

from __future__ import annotations


class GenerationTiming:
    """Mixin for a run result with ``rows_in``, ``wall_seconds``, ``gen_seconds`` (waiting for the model) and
    ``load_seconds`` (loading it)."""

    rows_in: int
    wall_seconds: float
    gen_seconds: float
    load_seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows_in / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def share_outside_generation(self) -> float:
        """Share of wall time (model loading excluded) not spent waiting for the model: the run's own overhead."""
        busy = self.wall_seconds - self.load_seconds
        return max(0.0, busy - self.gen_seconds) / busy if busy > 0 else 0.0
