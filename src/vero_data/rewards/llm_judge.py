"""llm_judge: Vero's compute_score gives accuracy 0; the judge score (1–10 → [0, 1]) replaces it at manager level."""

from __future__ import annotations

from vero_data.rewards.base import register


@register("llm_judge", extraction="raw")
def llm_judge(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Always 0 offline, exactly as Vero's ``compute_score``; see :class:`LLMJudge` for the real score.

    >>> llm_judge("anything", "reference")
    0.0
    """
    return 0.0
