"""The one scoring path of a benchmark response, shared by ``score_sample``, ``vero eval score`` and ``vero eval``,
so the three cannot drift apart."""

from __future__ import annotations

from typing import Any

from vero_data.benchmarks.registry import scorer_for
from vero_data.benchmarks.scoring import ScoreContext
from vero_data.benchmarks.spec import BenchmarkSpec


def judge_identity(judge: Any) -> str | None:
    """Who gave a judged verdict (credentials masked); None without a judge. Stored beside the verdict so that another
    judge rescores rather than reuses it."""
    return getattr(judge, "identity", type(judge).__name__) if judge is not None else None


def score_record(spec: BenchmarkSpec, doc: dict, response: str, ctx: ScoreContext) -> dict[str, Any]:
    """Score one response to one benchmark doc.

    Args:
        spec: the benchmark.
        doc: its row as the scorer reads it.
        response: the model's full response.
        ctx: base folder of relative paths, judge (None offline) and the per-sample key that seeds random fallbacks.

    Returns:
        ``{"score": the headline metric (None when unscored), "metrics": every metric value}``, plus ``"judge"``
        (:func:`judge_identity`) for a benchmark that needs one.
    """
    metrics = scorer_for(spec)(doc, response, ctx)
    scored: dict[str, Any] = {"score": metrics.get(spec.metric), "metrics": metrics}
    if spec.needs_judge:
        scored["judge"] = judge_identity(ctx.judge)
    return scored
