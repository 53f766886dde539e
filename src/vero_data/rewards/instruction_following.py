"""instruction_following: the fraction of IFEval-style constraints the answer satisfies."""

from __future__ import annotations

from vero_data.rewards import _limits
from vero_data.rewards.base import register

# Wall-clock budget of one call. Ordinary answers take milliseconds; sentence splitting of a 200k-character answer
# made of one-word sentences takes seconds, and Vero has no bound at all there.
BUDGET_S = 0.8


@register("instruction_following", extraction="raw", answer_form="verbatim", subtag="instruction_following",
          subtag_unless=("counting",))
def instruction_following(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Satisfied / listed constraints of ``{"instructions": [{"class", "args"}, …]}`` (0 past the budget)."""
    driver = _driver()
    return _limits.call_bounded(lambda: driver.score_instructions(pred, truth), 0.0, BUDGET_S)


def _driver():
    global _DRIVER
    if _DRIVER is None:
        from vero_data.rewards.ifeval import driver

        _DRIVER = driver
    return _DRIVER


_DRIVER = None


@register("instruction_following_llm_judge", extraction="raw", judge="blend", answer_form="verbatim",
          subtag="instruction_following", subtag_unless=("counting",))
def instruction_following_llm_judge(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """The rule-based part; the judge blend happens in :mod:`vero_data.rewards.llm_judge`."""
    return instruction_following(pred, truth, extra_info, lenient)
