"""MathVision scorer (eval_scoring.md §7): option letters, the classic answer clean-up chain and ``is_equal``."""

from __future__ import annotations

import re

from vero_data.benchmarks.extract import final_answer, last_boxed, letters, mv_letter
from vero_data.benchmarks.scoring import ScoreContext, scorer

_END_LETTER = re.compile(r"\s\(?([A-E])\)?\.?$")
_START_LETTER = re.compile(r"^\(?([A-E])\)?\n")
_IS_NUMBER = re.compile(r"\bis\s+(-?\d+(?:\.\d+)?)\s*\.?$", re.I)
_ANSWER_PHRASE = re.compile(r"(?:the final answer is|the answer is|final answer:|answer:)\s*(.*)", re.I | re.S)
_UNITS = re.compile(r"\\(?:text|mbox|mathrm)\{\s*(?:cm|m|km|mm|units?|degrees?|°|cm\^2|m\^2)\s*\}")


def find_math_answer(s: str) -> str:
    """Clean a LaTeX answer: boxed content, ``\\text``, units, ``\\left``/``\\right``, ``(a)`` → ``a``."""
    s = s.strip()
    b = last_boxed(s)
    if b is not None:
        s = b
    s = _UNITS.sub("", s)
    s = re.sub(r"\\(?:text|mbox|mathrm)\{([^{}]*)\}", r"\1", s)
    s = s.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "")
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "").replace("$", "")
    s = s.replace("dfrac", "frac").replace("tfrac", "frac")
    s = s.strip()
    if m := re.fullmatch(r"\(([a-zA-Z])\)", s):
        s = m.group(1)
    s = s.rstrip(".").lstrip(":").strip()
    return s


def mathvision_pred(ans: str, options: list[str]) -> str:
    if options:
        got = mv_letter(ans, letters(len(options)))
        if got:
            return got
    s = ans.strip()
    if m := _END_LETTER.search(s):
        return m.group(1)
    if m := _START_LETTER.match(s):
        return m.group(1)
    if m := _IS_NUMBER.search(s):
        s = m.group(1)
    if "oxed{" not in s and (m := _ANSWER_PHRASE.search(s)):
        s = m.group(1).strip().split("\n")[0]
        s = re.split(r"(?<=[^\d])\.\s", s)[0]
    return find_math_answer(s)


_UNBRACED_FRAC = re.compile(r"\\frac\s*[^\s{]")


def _as_float(s: str) -> float | None:
    try:
        return float(s.replace(",", ""))
    except ValueError:
        pass
    if m := re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", s):
        return float(m.group(1)) / float(m.group(2)) if float(m.group(2)) else None
    return None


def is_equal(a: str, b: str) -> bool:
    """String, element-wise, numeric and symbolic equality (LaTeX through math-verify)."""
    a, b = str(a).strip().lower(), str(b).strip().lower()
    if a == b:
        return True
    if "," in a and "," in b:
        pa, pb = [x.strip() for x in a.strip("()[]").split(",")], [x.strip() for x in b.strip("()[]").split(",")]
        if len(pa) == len(pb) > 1:
            return all(is_equal(x, y) for x, y in zip(pa, pb, strict=True))
    fa, fb = _as_float(a), _as_float(b)
    if fa is not None and fb is not None:
        return abs(fa - fb) <= 1e-6 * max(1.0, abs(fa))
    if _UNBRACED_FRAC.search(a) or _UNBRACED_FRAC.search(b):
        return False  # the reference latex evaluator does not read \frac12
    from vero_data.rewards._mv import default_targets, parse, verify

    ga, gb = parse(f"${a}$", default_targets()), parse(f"${b}$", default_targets())
    return bool(ga and gb and verify(ga, gb))


@scorer("mathvision")
def score_mathvision(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§7: correct when the cleaned prediction equals the answer (letter/value) or the answer option's text."""
    from vero_data.rewards._limits import call_bounded

    options = [str(o) for o in (doc.get("options") or [])]
    pred = mathvision_pred(final_answer(response), options)
    gold = str(doc.get("answer", "")).strip()

    def judge() -> bool:
        ok = is_equal(gold, pred)
        if not ok and options and gold.upper() in letters(len(options)):
            ok = is_equal(options[letters(len(options)).index(gold.upper())], pred)
        return ok

    # All the math-verify work of one sample shares one wall-clock budget (a pathological answer is wrong).
    return {"mathvision_standard_eval": float(call_bounded(judge, False))}
