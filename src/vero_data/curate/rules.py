"""Which answers the rule-based canonicaliser settles, and which only an LLM can (vero600k_format.md §7.3).

The rules (``vero_data.stages.canonicalise.RuleCanonicaliser``, the build's canonicaliser) run first on every
row; the LLM sees only answers they leave unsettled: a numeric answer that is still not a plain decimal number
(LaTeX, fractions, expressions, ranges), a multiple-choice answer with no letter, a short-answer text that may hold
several values ("3 or 4", "red/blue"). Structured answers (boxes, points, actions, lists) and captioning/IF rows
are not canonicalised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from vero_data.errors import RowError
from vero_data.stages.canonicalise import RuleCanonicaliser

DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?$")
LETTER = re.compile(r"^[A-Z]$")
# Markers of a possibly multi-valued short answer: "3 or 4", "red/blue", "a; b", "x, y", "between 2 and 3".
_MULTI = re.compile(r"\s(?:or|and|to)\s|/|;|,\s|\bbetween\b|\beither\b|\betc\b", re.I)
SKIP_CATEGORIES = ("captioning_if",)  # §7.2/§7.3: no question filter, no multi-value drop
# Answers that are structured or free-form by design: nothing to canonicalise.
STRUCTURED = ("grounding", "clicking", "web_action", "number_list", "list_string_match", "instruction_following",
              "instruction_following_llm_judge", "llm_judge")


@dataclass
class Settled:
    """What the rules made of one answer: ``status`` is ``rules`` (``answer`` is final), ``llm`` (ask the model;
    ``why`` says what the rules could not settle) or ``skip`` (not canonicalised: ``why``)."""

    status: str
    answer: str
    why: str = ""


def settle(answer: str, reward_type: str, category: str, extra: dict[str, Any]) -> Settled:
    """Run the rules on ``answer`` and say whether they settled it."""
    if category in SKIP_CATEGORIES:
        return Settled("skip", answer, "captioning_if")
    if reward_type in STRUCTURED:
        return Settled("skip", answer, f"structured ({reward_type})")
    try:
        a = RuleCanonicaliser().canonicalise(answer, reward_type, dict(extra))
    except RowError as e:
        return Settled("llm", answer, e.reason)
    if reward_type in ("numeric", "counting"):
        return Settled("rules", a) if DECIMAL.match(a) else Settled("llm", a, "not a plain decimal number")
    if reward_type == "multiple_choice":
        return Settled("rules", a) if LETTER.match(a) else Settled("llm", a, "not one option letter")
    if _alternatives(a):  # a JSON list of accepted spellings is one value with aliases
        return Settled("rules", a)
    if _MULTI.search(a):
        return Settled("llm", a, "may hold several values")
    return Settled("rules", a)


def _alternatives(a: str) -> bool:
    if not a.startswith("["):
        return False
    try:
        v = json.loads(a)
    except ValueError:
        return False
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v)


def check_llm_answer(answer: str, reward_type: str, extra: dict[str, Any]) -> tuple[str | None, str]:
    """The LLM's canonical answer after the rules tidy it, or ``(None, why)`` when it still is not the form its
    reward type needs (a numeric answer that is not a decimal number, an MC answer that is not an option letter)."""
    if not answer.strip():
        return None, "empty canonical answer"
    try:
        a = RuleCanonicaliser().canonicalise(answer, reward_type, dict(extra))
    except RowError as e:
        return None, f"{e.reason}: {e.detail}"
    if reward_type in ("numeric", "counting") and not DECIMAL.match(a):
        return None, f"{a[:80]!r} is not a plain decimal number"
    if reward_type == "multiple_choice" and not LETTER.match(a):
        return None, f"{a[:80]!r} is not one option letter"
    return a, ""
