"""What a filter run returns (and writes to ``passk_report.json``): counts, pass-count histograms and timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vero_data.run_timing import GenerationTiming


@dataclass
class FilterResult(GenerationTiming):
    out: Path
    rows_in: int
    rows_kept: int
    k: int
    histogram: dict[int, int]
    by_category: dict[str, dict[int, int]]
    dropped: dict[str, int]
    cached_rows: int
    generated_rows: int
    tokens: int
    wall_seconds: float
    gen_seconds: float
    load_seconds: float
    shards: list[Path]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.gen_seconds if self.gen_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "shards"}
        d.update(out=str(self.out), shards=[str(s) for s in self.shards], rows_per_s=round(self.rows_per_s, 3),
                 tokens_per_s=round(self.tokens_per_s, 1),
                 share_outside_generation=round(self.share_outside_generation, 4))
        return d
