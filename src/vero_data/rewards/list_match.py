"""list_string_match: the prediction equals any one of the gold alternatives."""

from __future__ import annotations

from functools import lru_cache

from vero_data.rewards._literal import FAIL, literal
from vero_data.rewards._text import normalize_text
from vero_data.rewards.base import register


@lru_cache(maxsize=8192)
def gold_items(truth: str) -> tuple[str, ...]:
    """Normalised gold alternatives: a Python/JSON list literal, or the whole string as one item.

    >>> gold_items("['Dog', 'the puppy']")
    ('dog', 'puppy')
    """
    candidate = truth.strip()
    if not candidate:
        return ()
    parsed = literal(candidate, json_first=False)
    items = [str(x) for x in parsed] if parsed is not FAIL and isinstance(parsed, list | tuple | set) else [candidate]
    return tuple(normalize_text(x) for x in items)


@register("list_string_match", answer_form="text")
def list_string_match(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """1.0 when the normalised prediction equals any gold item; the prediction itself is not split.

    >>> list_string_match("Puppy", "['dog', 'puppy']"), list_string_match("dog, puppy", "['dog', 'puppy']")
    (1.0, 0.0)
    """
    p = normalize_text(pred)
    if not p:
        return 0.0
    return 1.0 if p in gold_items(truth) else 0.0
