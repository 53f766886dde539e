"""string_match, counting and search: equality of normalised strings."""

from __future__ import annotations

import re

from vero_data.rewards._text import normalize_text
from vero_data.rewards.base import register

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
        " seventeen eighteen nineteen twenty".split()
    )
}
_LEADING_ZEROS = re.compile(r"\b0+(\d)")


def string_equal(pred: str, truth: str) -> float:
    """1.0 when both normalised strings are non-empty and equal.

    >>> string_equal("The Eiffel Tower", "eiffel tower")
    1.0
    """
    p = normalize_text(pred)
    if not p:
        return 0.0
    t = normalize_text(truth)
    return 1.0 if t and p == t else 0.0


def _lenient_count(text: str) -> str:
    s = normalize_text(text)
    s = " ".join(_NUMBER_WORDS.get(w, w) for w in s.split())
    return _LEADING_ZEROS.sub(r"\1", s)


@register("string_match", answer_form="text")
def string_match(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Normalised string equality (accents, case, punctuation, articles, thousands separators ignored).

    >>> string_match("São Paulo", "Sao Paulo")
    1.0
    >>> string_match("7.50", "7.5")
    0.0
    """
    return string_equal(pred, truth)


@register("counting", answer_form="number", subtag="counting", subtag_unless=())
def counting(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """String equality, as Vero does: ``three`` ≠ ``3`` and ``03`` ≠ ``3`` unless ``lenient``.

    >>> counting("3.0", "3"), counting("three", "3"), counting("three", "3", lenient=True)
    (1.0, 0.0, 1.0)
    """
    if string_equal(pred, truth):
        return 1.0
    if lenient:
        p, t = _lenient_count(pred), _lenient_count(truth)
        return 1.0 if p and p == t else 0.0
    return 0.0


@register("search", answer_form="text", subtag="visual_search", subtag_unless=())
def search(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Normalised string equality (visual search answers).

    >>> search("the red car", "Red car")
    1.0
    """
    return string_equal(pred, truth)
