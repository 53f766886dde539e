"""instruction_following: the fraction of IFEval-style constraints the answer satisfies."""

from __future__ import annotations

from vero_data.rewards.base import register


@register("instruction_following", extraction="raw")
def instruction_following(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Satisfied / listed constraints of ``{"instructions": [{"class", "args"}, …]}``."""
    return _driver().score_instructions(pred, truth)


def _driver():
    global _DRIVER
    if _DRIVER is None:
        from vero_data.rewards.ifeval import driver

        _DRIVER = driver
    return _DRIVER


_DRIVER = None


@register("instruction_following_llm_judge", extraction="raw")
def instruction_following_llm_judge(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """The rule-based part; the judge blend happens in :mod:`vero_data.rewards.llm_judge`."""
    return instruction_following(pred, truth, extra_info, lenient)
