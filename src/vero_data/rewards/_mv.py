"""math-verify behind size caps, caches and a thread-aware timeout.

math-verify bounds its own work with ``signal.alarm``, which only works in the main thread. In the main thread of
any process (worker processes included) we pass Vero's timeouts through; elsewhere we pass ``None`` and rely on
the input caps below plus :func:`looks_pathological`, which refuses the inputs that make sympy blow up (power
towers, huge factorials, huge exponents), so a call from a thread is still bounded.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

logger = logging.getLogger(__name__)

# Longest text handed to math-verify. Longer answers are not short final answers; Vero would spend up to its
# timeout on them and almost always score 0.
MAX_MV_CHARS = 2_000
MAX_MV_CHARS_THREAD = 300
_POWER_TOWER = re.compile(r"\^[^\^]{0,12}\^|\*\*[^*]{0,12}\*\*")
_BIG_EXP = re.compile(r"(\^|\*\*)\s*\{?\s*\(?\s*\d{4,}")
_FACTORIAL = re.compile(r"\d{3,}\s*!")


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def looks_pathological(text: str) -> bool:
    """Inputs that can keep sympy busy for seconds (or forever without a signal timeout)."""
    limit = MAX_MV_CHARS if in_main_thread() else MAX_MV_CHARS_THREAD
    if len(text) > limit:
        return True
    if in_main_thread():
        return False  # the signal timeout bounds these
    return bool(_POWER_TOWER.search(text) or _BIG_EXP.search(text) or _FACTORIAL.search(text)) or (
        text.count("{") > 40
    )


def _timeout(seconds: int) -> int | None:
    return seconds if in_main_thread() else None


@lru_cache(maxsize=1)
def _mv():
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" warning is expected here
    import math_verify
    from math_verify import parser

    return math_verify, parser


@lru_cache(maxsize=1)
def numeric_targets():
    _, p = _mv()
    return (p.LatexExtractionConfig(boxed_match_priority=0), p.ExprExtractionConfig())


@lru_cache(maxsize=1)
def letter_targets():
    _, p = _mv()
    return (p.StringExtractionConfig(strings=tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))),)


@lru_cache(maxsize=1)
def default_letter_targets():
    _, p = _mv()
    return (p.StringExtractionConfig(),)


@lru_cache(maxsize=1)
def default_targets():
    _, p = _mv()
    return (p.LatexExtractionConfig(), p.ExprExtractionConfig())


def _parse(text: str, targets: tuple, timeout: int) -> list:
    mv, _ = _mv()
    if looks_pathological(text):
        return []
    try:
        return mv.parse(text, list(targets), parsing_timeout=_timeout(timeout))
    except BaseException as e:  # TimeoutException derives from BaseException in some versions
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        return []


@lru_cache(maxsize=8192)
def _parse_cached(text: str, targets: tuple, timeout: int) -> tuple:
    return tuple(_parse(text, targets, timeout))


def parse(text: str, targets: tuple, timeout: int = 3) -> list:
    """math-verify ``parse`` (cached per text and config; sympy results are immutable)."""
    return list(_parse_cached(text, targets, timeout if in_main_thread() else 0))


# Verdicts cached by the exact structure of the parsed answers (``srepr`` round-trips a sympy expression, Float
# precision and symbol assumptions included): different texts that parse alike (``5``, ``x = 5``, ``5 units``)
# are compared once.
_VERDICTS: dict[tuple, bool] = {}
_MAX_VERDICTS = 16384
_MAX_KEY_CHARS = 2_000


def _structure(items: list) -> tuple | None:
    from sympy import srepr

    out = []
    size = 0
    for x in items:
        r = ("s", x) if isinstance(x, str) else (type(x).__name__, srepr(x))
        size += len(r[1])
        if size > _MAX_KEY_CHARS:
            return None
        out.append(r)
    return tuple(out)


def verify(gold: list, pred: list, timeout: int = 3) -> bool:
    """math-verify ``verify`` with Vero's settings (float rounding 6, strict, no set/relation comparison)."""
    try:
        g, p = _structure(gold), _structure(pred)
    except Exception:
        g = p = None
    if g is None or p is None:
        return _verify(gold, pred, timeout)
    key = (g, p, timeout, in_main_thread())
    found = _VERDICTS.get(key)
    if found is None:
        found = _verify(gold, pred, timeout)
        if len(_VERDICTS) >= _MAX_VERDICTS:
            _VERDICTS.clear()
        _VERDICTS[key] = found
    return found


def _verify(gold: list, pred: list, timeout: int) -> bool:
    mv, _ = _mv()
    try:
        return bool(
            mv.verify(
                gold,
                pred,
                float_rounding=6,
                strict=True,
                allow_set_relation_comp=False,
                timeout_seconds=_timeout(timeout),
            )
        )
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        return False
