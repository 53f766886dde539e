"""web_action: weighted match of the ACTION / MARK / VALUE fields of a JSON action."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vero_data.rewards._literal import FAIL, literal
from vero_data.rewards.base import register


def _payload(text: str) -> dict[str, Any]:
    parsed = literal(text.strip())
    if parsed is FAIL or not isinstance(parsed, dict):
        return {}
    return {str(k).upper(): v for k, v in parsed.items()}


@lru_cache(maxsize=8192)
def _gold(truth: str) -> tuple[tuple[str, Any], ...]:
    """The considered gold fields: ACTION; MARK unless -1; VALUE unless None/"None"."""
    gold = _payload(truth)
    keys = []
    if "ACTION" in gold:
        keys.append("ACTION")
    mark = gold.get("MARK")
    if "MARK" in gold and not (mark == -1 or (isinstance(mark, str) and mark.strip() == "-1")):
        keys.append("MARK")
    value = gold.get("VALUE")
    if "VALUE" in gold and not (value is None or (isinstance(value, str) and value.strip().lower() == "none")):
        keys.append("VALUE")
    return tuple((k, gold[k]) for k in keys)


def _same(gold: Any, pred: Any, lenient: bool) -> bool:
    if isinstance(gold, int | float) and isinstance(pred, str):
        try:
            return float(gold) == float(pred)
        except Exception:
            pass
    if isinstance(gold, str) and isinstance(pred, int | float):
        try:
            return float(gold) == float(pred)
        except Exception:
            pass
    if str(gold).strip() == str(pred).strip():
        return True
    if lenient:
        if isinstance(gold, int | float) and isinstance(pred, int | float):
            return float(gold) == float(pred)
        return str(gold).strip().lower() == str(pred).strip().lower()
    return False


@register("web_action", answer_form="verbatim", subtag="ui_action", subtag_unless=("counting",))
def web_action(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Fraction of considered gold fields the prediction repeats (strings case-sensitive unless ``lenient``).

    >>> web_action('{"action":"click","mark":5}', '{"action":"CLICK","mark":5,"value":"None"}')
    0.5
    """
    try:
        hash(truth)
        gold = _gold(truth)
    except Exception:
        return 0.0
    if not gold:
        return 0.0
    got = _payload(pred)
    if not got:
        return 0.0
    w = 1.0 / len(gold)
    score = 0.0
    for key, value in gold:
        if key in got and _same(value, got[key], lenient):
            score += w
    return score
