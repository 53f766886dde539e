"""Canonicalise answers with rules: trim, unify numbers/units/percent, MC → letter.

The paper canonicalises with a text-only LLM (vero600k_format.md §7.3: numbers without units or currency in
decimal form, MC as one letter, ambiguous answers dropped). Rules cover the mechanical part here, row by row; the
LLM step is ``vero data curate --canonicalise`` (or a recipe's ``curate: canonicalise:``, see docs/curation.md),
which runs these rules first and asks the model, in batches, only about the answers they leave unsettled
(``vero_data.curate.rules``). Other row-by-row canonicalisers register in ``CANONICALISERS``.
"""

from __future__ import annotations

import re
from typing import Any

from vero_data.errors import RowError
from vero_data.registry import Registry
from vero_data.rewards import REWARDS
from vero_data.schema import dumps_extra, loads_extra
from vero_data.stages.base import RowStage

CANONICALISERS: Registry[type] = Registry("canonicaliser")

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_CURRENCY = "$€£¥₹"
# number with optional sign, thousands separators and decimals, then an optional unit/percent suffix
_NUM_UNIT = re.compile(
    r"^\s*(?P<cur>[" + _CURRENCY + r"])?\s*(?P<num>[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+−]?\.\d+)\s*"
    r"(?P<unit>%|°|[A-Za-zµ°²³/ ]{1,20}\.?)?\s*$"
)
_MC_LETTER = re.compile(r"^\(?\s*([A-Za-z])\s*\)?(?:\s*[.:)]\s*.*|\s*)$", re.S)


def trim_number(num: str) -> str:
    """'1,234.50' → '1234.5', '12.0' → '12', '−3' → '-3'."""
    s = num.replace(",", "").replace("−", "-").lstrip("+")
    if s.startswith("."):
        s = "0" + s
    elif s.startswith("-."):
        s = "-0" + s[1:]
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


class Canonicaliser:
    """Interface: return the canonical answer, or raise RowError(reason) when it cannot be made verifiable."""

    name = "base"

    def canonicalise(self, answer: str, reward_type: str, extra: dict[str, Any]) -> str:
        raise NotImplementedError


@CANONICALISERS.register("rules")
class RuleCanonicaliser(Canonicaliser):
    name = "rules"

    def canonicalise(self, answer: str, reward_type: str, extra: dict[str, Any]) -> str:
        """The answer in its verifier's ``answer_form`` (vero_data.rewards.base.AnswerForm)."""
        a = " ".join(answer.split()) if "\n" not in answer else answer.strip()
        form = REWARDS.get(reward_type).answer_form if reward_type in REWARDS else "free"
        if form == "number":
            return self._number(a, reward_type, extra)
        if form == "letter":
            return self._letter(a, extra)
        if form == "text":
            if a.lower() in ("yes", "no"):
                return a.lower()
            return a[:-1] if a.endswith(".") and not a.endswith("..") and len(a) > 1 else a
        if form == "verbatim":
            return answer.strip()
        return a

    @staticmethod
    def _number(a: str, reward_type: str, extra: dict[str, Any]) -> str:
        low = a.lower().rstrip(".")
        if low in _NUMBER_WORDS:
            return _NUMBER_WORDS[low]
        m = _NUM_UNIT.match(a)
        if not m:
            return a  # LaTeX, fractions, expressions: the numeric verifier (math-verify) handles them
        unit = (m.group("unit") or "").strip()
        if m.group("cur"):
            extra.setdefault("unit", m.group("cur"))
        elif unit:
            extra.setdefault("unit", unit)
        return trim_number(m.group("num"))

    @staticmethod
    def _letter(a: str, extra: dict[str, Any]) -> str:
        choices = extra.get("choices") or []
        if len(a) == 1 and a.isalpha():
            letter = a.upper()
        else:
            m = _MC_LETTER.match(a)
            letter = m.group(1).upper() if m and (len(a) <= 3 or a[1:2] in ".:)" or a.startswith("(")) else None
            if letter is None and choices:
                norm = [str(c).strip().lower() for c in choices]
                if a.strip().lower() in norm:
                    letter = chr(ord("A") + norm.index(a.strip().lower()))
        if letter is None:
            raise RowError("mc_answer_not_a_letter", f"cannot map {a[:80]!r} to an option letter", "answer")
        if choices and ord(letter) - ord("A") >= len(choices):
            raise RowError("mc_letter_out_of_range", f"answer {letter} but only {len(choices)} choices", "answer")
        return letter


class CanonicaliseStage(RowStage):
    """Applies a canonicaliser to `answer`, keeping the original in `extra_info.raw_answer` when it changes."""

    name = "canonicalise"

    def __init__(self, canonicaliser: str | Canonicaliser = "rules"):
        self.canon = CANONICALISERS.get(canonicaliser)() if isinstance(canonicaliser, str) else canonicaliser

    def process_row(self, row: dict[str, Any]) -> dict[str, Any]:
        extra = loads_extra(row["extra_info"])
        before = row["answer"]
        after = self.canon.canonicalise(before, row["reward_type"], extra)
        if after != before:
            extra.setdefault("raw_answer", before)
        row = dict(row)
        row["answer"] = after
        row["extra_info"] = dumps_extra(extra)
        return row

