"""multiple_choice: the gold letter (A–Z, extracted as math-verify does) against the prediction as a string."""

from __future__ import annotations

import re
from functools import lru_cache

from vero_data.rewards import _mv
from vero_data.rewards._text import normalize_text
from vero_data.rewards.base import register
from vero_data.rewards.string_match import string_equal

_SINGLE_LETTER = re.compile(r"[A-Z]")
# Lenient prediction letter: "Option C", "C) dog", "(C) dog", "Answer: C", "C: dog".
_LENIENT_LETTER = re.compile(
    r"^\s*(?:(?:the\s+)?(?:correct\s+)?(?:answer|option|choice)\s*(?:is)?\s*[:\-]?\s*)?[\(\[]?([A-Za-z])[\)\]]?"
    r"(?:[\.\):,]|\s|$)",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def gold_letter(truth: str) -> str:
    """The letter math-verify's A–Z string extraction finds in the gold answer, else the raw answer.

    >>> gold_letter("D. a horse"), gold_letter("(C)")
    ('d', '(C)')
    """
    if len(truth) == 1 and _SINGLE_LETTER.fullmatch(truth):
        return truth.lower()  # the start-of-line pattern extracts a lone capital letter as itself
    parsed = _mv.parse(truth, _mv.letter_targets())
    return str(parsed[0]) if parsed else truth


@register("multiple_choice", answer_form="letter", subtag="multiple_choice")
def multiple_choice(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Letter answer: ``(C)``, ``c`` and ``C.`` match ``C``; ``Option C`` only when ``lenient``.

    >>> multiple_choice("(D)", "D"), multiple_choice("Option D", "D"), multiple_choice("Option D", "D", lenient=True)
    (1.0, 0.0, 1.0)
    """
    gold = gold_letter(truth)
    if string_equal(pred, gold):
        return 1.0
    if not lenient:
        return 0.0
    m = _LENIENT_LETTER.match(pred)
    if m and string_equal(m.group(1), gold):
        return 1.0
    choices = (extra_info or {}).get("choices") if isinstance(extra_info, dict) else None
    if isinstance(choices, list) and len(gold) == 1 and gold.isalpha():
        idx = ord(gold.upper()) - ord("A")
        if 0 <= idx < len(choices):
            option = normalize_text(choices[idx])
            return 1.0 if option and normalize_text(pred) == option else 0.0
    return 0.0
