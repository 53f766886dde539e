"""Scores ``{"instructions": [{"class": NAME, "args": {...}}, …]}`` against an answer (instruction_checkers.md § 1)."""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

from vero_data.rewards._literal import FAIL, literal
from vero_data.rewards.ifeval import checkers

MAX_INSTRUCTIONS = 200
MAX_TEXT_CHARS = 200_000


def load_payload(truth: Any) -> dict | None:
    """The instruction payload: JSON, a Python literal, or a JSON string holding JSON."""
    if isinstance(truth, dict):
        return truth
    if not isinstance(truth, str):
        return None
    if len(truth) <= _MAX_CACHED_TRUTH:
        return _load_cached(truth)
    return _load(truth)


# Parsed payloads are cached per ground truth (every rollout of a prompt shares it). They are shared, read-only:
# check_entry copies ``args`` and no checker mutates an argument.
_MAX_CACHED_TRUTH = 8_000


@lru_cache(maxsize=1024)
def _load_cached(truth: str) -> dict | None:
    return _load(truth)


def _load(truth: str) -> dict | None:
    text = truth.strip()
    for json_first in (True, False):
        parsed = literal(text, json_first=json_first)
        if parsed is FAIL:
            continue
        if isinstance(parsed, str) and parsed.strip() and parsed.strip() != text:
            inner = literal(parsed.strip())
            if inner is not FAIL:
                parsed = inner
        if isinstance(parsed, dict):
            return parsed
    return None


@lru_cache(maxsize=128)
def _declared(name: str) -> tuple[str, ...]:
    if name in checkers.DECLARED:
        return checkers.DECLARED[name]
    params = inspect.signature(checkers.CHECKERS.get(name)).parameters
    return tuple(p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY)


def check_entry(item: Any, text: str) -> bool:
    """One entry: unknown class, non-dict item, build error or failing check → False."""
    if not isinstance(item, dict):
        return False
    name = item.get("class")
    if not isinstance(name, str) or name not in checkers.CHECKERS:  # Vero: an unknown instruction is not followed
        return False
    fn = checkers.CHECKERS.get(name)
    args = item.get("args")
    args = {k: v for k, v in args.items() if v is not None} if isinstance(args, dict) else {}
    checkers.RNG.seed_zero()
    try:
        return bool(fn(text, **args))
    except TypeError:
        keep = _declared(name)
        checkers.RNG.seed_zero()
        try:
            return bool(fn(text, **{k: v for k, v in args.items() if k in keep}))
        except Exception:
            return False
    except Exception:
        return False


def score_instructions(text: str, truth: Any) -> float:
    """Fraction of listed instructions the text satisfies (every item counts in the denominator).

    >>> score_instructions("red green blue", '{"instructions": [{"class": "CommaChecker", "args": {}},'
    ...                    ' {"class": "KeywordChecker", "args": {"keywords": ["pink"]}}]}')
    0.5
    """
    payload = load_payload(truth)
    items = payload.get("instructions") if isinstance(payload, dict) else None
    if not isinstance(items, list | tuple) or not items:
        return 0.0
    if not text.strip() or len(text) > MAX_TEXT_CHARS or len(items) > MAX_INSTRUCTIONS:
        return 0.0
    # The checkers draw from their own seeded RNG and never touch the global one (test_fast_paths.py checks this).
    return sum(1 for item in items if check_entry(item, text)) / len(items)
