"""math-verify behind size bounds, a per-call deadline and caches, the same on every thread.

math-verify bounds its own work with ``signal.alarm``, which only works in the main thread and cannot stop one long
C call (``\\binom{10^8}{5\\cdot 10^7}`` is evaluated while parsing, ``9^{3\\cdot 333333333}`` when comparing). So we
pass it no timeout and bound the work ourselves (:mod:`vero_data.rewards._limits`): text that is too long or nested
is not parsed; latex2sympy's evaluating calls refuse oversized arguments; every parsed expression is walked before
anything evaluates it; and each call runs under a wall-clock budget. An answer refused for its size scores as a
timeout does in Vero (parse → nothing; verify → only structural equality, the check math-verify makes first).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from itertools import product
from typing import Any

from vero_data.rewards import _limits

logger = logging.getLogger(__name__)

# Longest text handed to math-verify. Longer answers are not short final answers; Vero would spend up to its
# timeout on them and almost always score 0.
MAX_MV_CHARS = _limits.MAX_CHARS


@lru_cache(maxsize=1)
def _mv():
    # Importing math-verify and sympy takes seconds: not on any call's budget (an interrupted import would leave
    # half-initialised modules behind).
    with _limits.paused():
        logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" warning is expected here
        import math_verify
        from math_verify import parser

        _limits.guard_latex2sympy()
        # The first parse compiles math-verify's regexes and the first verify imports sympy's lazy parts.
        math_verify.verify(math_verify.parse("$\\frac{1}{2}$", parsing_timeout=None),
                           math_verify.parse("0.5", parsing_timeout=None), timeout_seconds=None)
    return math_verify, parser


def load() -> None:
    """Import math-verify (slow, once) so that no budget is spent on it."""
    _mv()


class Opaque:
    """A parsed expression too large to evaluate: compared to others only by structure, never evaluated."""

    __slots__ = ("expr", "reason")

    def __init__(self, expr: Any, reason: str):
        self.expr, self.reason = expr, reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.expr == self.expr

    def __hash__(self) -> int:
        return hash(self.expr)

    def __repr__(self) -> str:
        return f"Opaque({self.reason})"


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


def parse(text: str, targets: tuple, timeout: float = 3) -> list:
    """math-verify ``parse`` within the bounds (cached per text and targets; sympy results are immutable).

    An expression too large to evaluate comes back as :class:`Opaque`; text refused outright, an oversized
    argument met while parsing, or ``timeout`` (capped at the per-call budget) running out gives ``[]``.
    """
    _mv()  # (the first import is not charged to the budget)
    return _limits.call_bounded(lambda: list(_parse_cached(text, targets)), [], min(timeout, _limits.BUDGET_S))


@lru_cache(maxsize=8192)
def _parse_cached(text: str, targets: tuple) -> tuple:
    # A Deadline passes through (nothing is cached); a refusal is a property of the text and is cached.
    if _limits.text_refusal(text) is not None:
        return ()
    mv, _ = _mv()
    try:
        with _limits.guarding():
            found = mv.parse(text, list(targets), parsing_timeout=None)
    except _limits.Refused:
        return ()
    out = []
    for x in found:
        reason = _limits.expr_refusal(x)
        out.append(x if reason is None else Opaque(x, reason))
    return tuple(out)


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
        if isinstance(x, str):
            r = ("s", x)
        elif isinstance(x, Opaque):
            r = ("opaque", srepr(x.expr))
        else:
            r = (type(x).__name__, srepr(x))
        size += len(r[1])
        if size > _MAX_KEY_CHARS:
            return None
        out.append(r)
    return tuple(out)


def verify(gold: list, pred: list, timeout: float = 3) -> bool:
    """math-verify ``verify`` with Vero's settings (float rounding 6, strict, no set/relation comparison)."""
    _mv()
    try:
        g, p = _structure(gold), _structure(pred)
    except Exception:  # an integer too long to print, say
        g = p = None
    if g is None or p is None:
        return _limits.call_bounded(lambda: _verify(gold, pred), False, min(timeout, _limits.BUDGET_S))
    key = (g, p)
    found = _VERDICTS.get(key)
    if found is None:
        # A Deadline propagates out of the lambda before the verdict is stored (or is caught by the outermost call).
        found = _limits.call_bounded(lambda: _verify_and_store(key, gold, pred), False, min(timeout, _limits.BUDGET_S))
    return found


def _verify_and_store(key: tuple, gold: list, pred: list) -> bool:
    found = _verify(gold, pred)
    if len(_VERDICTS) >= _MAX_VERDICTS:
        _VERDICTS.clear()
    _VERDICTS[key] = found
    return found


def _verify(gold: list, pred: list) -> bool:
    if not any(isinstance(x, Opaque) for x in (*gold, *pred)):
        return _mv_verify(gold, pred)
    # math-verify compares every pair; a pair with a refused expression gets only its first check, structural
    # equality (what Vero returns for it before any evaluation could time out).
    for g, p in product(gold, pred):
        if isinstance(g, Opaque) or isinstance(p, Opaque):
            if _same_structure(g, p):
                return True
        elif _mv_verify([g], [p]):
            return True
    return False


def _same_structure(g: Any, p: Any) -> bool:
    from sympy import nan, zoo

    a = g.expr if isinstance(g, Opaque) else g
    b = p.expr if isinstance(p, Opaque) else p
    if isinstance(a, str) or isinstance(b, str):
        return False
    try:
        return a != nan and a != zoo and a == b  # math-verify refuses to compare nan/zoo
    except Exception:
        return False


def _mv_verify(gold: list, pred: list) -> bool:
    mv, _ = _mv()
    try:
        return bool(
            mv.verify(gold, pred, float_rounding=6, strict=True, allow_set_relation_comp=False, timeout_seconds=None)
        )
    except Exception:
        return False
