"""number_list (ordering): exact sequence of integers, 0.2 partial credit for a permutation."""

from __future__ import annotations

import re

from vero_data.rewards.base import register

_INT = re.compile(r"-?\d+")
MAX_NUMBERS = 10_000
PARTIAL_CREDIT = 0.2


def _ints(text: str) -> list[int] | None:
    found = _INT.findall(text)
    if len(found) > MAX_NUMBERS:
        return None
    try:
        return [int(x) for x in found]
    except ValueError:  # more digits than int() accepts: Vero raises here and scores 0
        return None


@register("number_list", subtag="ordering", subtag_unless=("counting",))
def number_list(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """All integers in order → 1; a duplicate-free permutation → 0.2·(positions right)/k; otherwise 0.

    >>> number_list("3, 1, 2", "[3, 1, 2]"), round(number_list("3, 2, 1", "[3, 1, 2]"), 4), number_list("1, 2", "[1, 2, 3]")
    (1.0, 0.0667, 0.0)
    """
    gold, got = _ints(truth), _ints(pred)
    if not gold or not got:
        return 0.0
    k = len(gold)
    if len(got) != k or len(set(got)) != k or sorted(got) != sorted(gold):
        return 0.0
    if got == gold:
        return 1.0
    return PARTIAL_CREDIT * (sum(1 for g, p in zip(gold, got, strict=True) if g == p) / k)
