"""numeric: math-verify equivalence, or relative tolerance when ``extra_info.tolerance`` is set."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache

from vero_data.rewards import _limits, _mv
from vero_data.rewards._safe_eval import safe_float
from vero_data.rewards.base import register

# Plain decimals decided without sympy: with ≤15 significant characters Python floats and sympy Floats agree.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,13})(?:\.\d{1,8})?")
_PLAIN_INT = re.compile(r"-?(?:0|[1-9]\d{0,14})")
# Forms math-verify reads as exactly one number (an Integer or a 53-bit Float) and its own digits: a decimal with
# optional leading zeros, ``.5`` (not ``-.5``), strict thousands commas (``1,234.5``), optionally wrapped in ``$...$``.
_SIMPLE_NUMBER = re.compile(r"(\$?)(-?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)\1")
# An answer decorated with a variable (``x = 5``) or ``The (final) answer is``, and/or one trailing word
# (``5 units``): math-verify extracts the same number from it (same parse list, under both the numeric and the
# default targets), checked on random samples in tests/vero_data/rewards/test_fast_paths.py.
_DECORATED_NUMBER = re.compile(
    r"(?:[A-Za-z] ?= ?|[Tt]he (?:final )?answer is:? )?(-?\d+(?:\.\d+)?)(?: [a-z]{2,12})?"
)
# math-verify reads ``2.904000e+02`` as its mantissa ``2.904000`` (the same parse list; so ``1e3`` ≠ ``1000``, as in
# Vero). Only the exact verdict may use this: the tolerance path also reads the text with float().
_E_NOTATION = re.compile(r"(-?\d+(?:\.\d+)?)[eE][+-]?\d{1,2}")
_MAX_SIG_DIGITS = 15
# A plain decimal below 1000 with up to 20 significant digits (``143.76361999999997``, a float's repr).
_LONG_DECIMAL = re.compile(r"-?(?:0|[1-9]\d{0,2})\.\d{1,19}")


@lru_cache(maxsize=16384)
def _number_reading(text: str) -> tuple[Decimal, int] | None:
    """(exact value, significant digits) of a :data:`_SIMPLE_NUMBER` (or a decorated one), up to 20 digits."""
    m = _SIMPLE_NUMBER.fullmatch(text)
    if m is None:
        d = _DECORATED_NUMBER.fullmatch(text)
        return _number_reading(d.group(1)) if d is not None and d.group(1) != text else None
    digits = m.group(3).replace(",", "")
    if m.group(2) and digits[0] == ".":
        return None  # math-verify does not read ``-.5``
    sig = len(digits.replace(".", "").lstrip("0"))
    if sig > _MAX_LONG_DIGITS or len(digits.partition(".")[0].lstrip("0")) > _MAX_SIG_DIGITS:
        return None
    return Decimal(m.group(2) + digits), sig


def _verdict_reading(text: str) -> tuple[Decimal, int] | None:
    m = _E_NOTATION.fullmatch(text)
    return _number_reading(m.group(1) if m is not None else text)


def simple_number(text: str) -> Decimal | None:
    """The exact value of a :data:`_SIMPLE_NUMBER` with at most 15 significant digits (a 53-bit Float), else None."""
    r = _number_reading(text)
    return r[0] if r is not None and r[1] <= _MAX_SIG_DIGITS else None


def simple_verdict(gold: str, pred: str) -> bool | None:
    """math-verify's verdict on two simple numbers when it is certain, else None.

    Equal values (of at most 15 significant digits, so both are 53-bit Floats or Integers) are equal under any
    rounding; values more than 1e-5 (and 1e-12 relative) apart differ after rounding to 6 places (the
    ``float_rounding`` Vero passes). Values in between are left to math-verify.
    """
    g = _verdict_reading(gold)
    if g is None:
        return None
    p = _verdict_reading(pred)
    if p is None:
        return None
    if g[0] == p[0]:
        return True if g[1] <= _MAX_SIG_DIGITS and p[1] <= _MAX_SIG_DIGITS else None
    diff = abs(g[0] - p[0])
    if diff > _CLEARLY_DIFFERENT and diff > _RELATIVE_GAP * max(abs(g[0]), abs(p[0])):
        return False  # (math-verify's 53-bit Floats merge values ~1e-16 apart relative: stay well clear of that)
    return None


_MAX_LONG_DIGITS = 20
_CLEARLY_DIFFERENT = Decimal("1e-5")
_RELATIVE_GAP = Decimal("1e-12")


def tolerance_of(extra_info) -> float | None:
    """``extra_info.tolerance`` as a non-negative float, else None (absent, invalid or negative)."""
    if not isinstance(extra_info, dict):
        return None
    tol = extra_info.get("tolerance")
    if tol is None:
        return None
    try:
        t = float(tol)
    except (TypeError, ValueError):
        return None
    return None if t < 0 else t


def _to_float(value) -> float | None:
    try:
        return float(value)
    except Exception:
        pass
    if isinstance(value, str):
        return safe_float(value)
    try:  # a parsed sympy expression: evaluate numerically if it is a number
        if getattr(value, "is_number", False) or getattr(value, "is_real", False):
            return float(value.evalf())
    except Exception:
        pass
    return None


@lru_cache(maxsize=8192)
def candidates(text: str) -> tuple[float, ...]:
    """Float readings of ``text``: direct ``float()``, safe arithmetic, and math-verify's parse."""
    if _PLAIN_NUMBER.fullmatch(text):
        return (float(text),)  # math-verify reads a plain decimal as the same float: skip sympy
    value = simple_number(text)
    if value is not None:
        return (float(value),)  # ``$12$``, ``1,234.5``: float() and safe arithmetic refuse them, math-verify reads this
    if _LONG_DECIMAL.fullmatch(text):
        # float() reads it; math-verify's Float (more than 53 bits) rounds to a float at most 1 ulp away, and below
        # 1000 an ulp is under the 1e-12 that merges readings: the merged tuple is float(text) alone.
        return (float(text),)
    m = _E_NOTATION.fullmatch(text)
    if m is not None:
        mantissa = simple_number(m.group(1))
        if mantissa is not None:  # float() reads the whole; math-verify reads only the mantissa (tested)
            return _merge([float(text), float(mantissa)])
    found: list[float] = []
    direct = _to_float(text)
    if direct is not None:
        found.append(direct)
    for value in _mv.parse(text, _mv.numeric_targets()):
        v = _to_float(value)
        if v is not None:
            found.append(v)
    return _merge(found)


def _merge(found: list[float]) -> tuple[float, ...]:
    """Readings in order, dropping one within 1e-12 of an earlier one."""
    unique: list[float] = []
    for v in found:
        if not any(abs(v - u) <= 1e-12 for u in unique):
            unique.append(v)
    return tuple(unique)


def within_tolerance(gold: str, pred: str, tol: float) -> bool:
    """Any pair of readings with ``|g-p| <= tol*|g|`` (absolute ``tol`` when ``|g| <= 1e-12``)."""
    gs, ps = candidates(gold), candidates(pred)
    for g in gs:
        for p in ps:
            d = abs(g - p)
            if (d <= tol) if abs(g) <= 1e-12 else (d <= tol * abs(g)):
                return True
    return False


# Verdicts of short pairs are cached: GRPO scores many rollouts of one prompt, so (gold, answer) pairs repeat.
_MAX_CACHED_PAIR = 400


def exact_equal(gold: str, pred: str) -> bool:
    """math-verify parse + verify, with a sympy-free answer for plain integers and clearly different decimals."""
    if len(gold) + len(pred) <= _MAX_CACHED_PAIR:
        return _exact_equal_cached(gold, pred)
    return _exact_equal(gold, pred)


@lru_cache(maxsize=32768)
def _exact_equal_cached(gold: str, pred: str) -> bool:
    return _exact_equal(gold, pred)


def _exact_equal(gold: str, pred: str) -> bool:
    verdict = simple_verdict(gold, pred)
    if verdict is not None:
        return verdict
    if _PLAIN_NUMBER.fullmatch(gold) and _PLAIN_NUMBER.fullmatch(pred):
        if _PLAIN_INT.fullmatch(gold) and _PLAIN_INT.fullmatch(pred):
            return int(gold) == int(pred)
        g, p = float(gold), float(pred)
        if g == p:
            return True
        if abs(g - p) > 1e-5:
            return False
    g = _mv.parse(gold, _mv.numeric_targets())
    if not g:
        return False
    p = _mv.parse(pred, _mv.numeric_targets())
    if not p:
        return False
    return _mv.verify(g, p)


_LENIENT_STRIP = re.compile(r"\\\$|\$|\\dfrac|\\tfrac|\\,|\\!|\\;")


def _lenient_text(s: str) -> str:
    s = _LENIENT_STRIP.sub(lambda m: "\\frac" if "frac" in m.group() else "", s)
    return s.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s.strip()) else s


def _lenient_equal(gold: str, pred: str) -> bool:
    g, p = _lenient_text(gold), _lenient_text(pred)
    if exact_equal(g, p):
        return True
    gs, ps = candidates(g), candidates(p)
    for gv in gs:
        for pv in ps + tuple(v / 100 for v in ps if "%" in p) + tuple(v * 100 for v in ps if "%" in g):
            if math.isclose(gv, pv, rel_tol=1e-6, abs_tol=1e-12):
                return True
    return False


@register("numeric", answer_form="number", subtag="numeric")
def numeric(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    r"""Numeric equivalence.

    Without tolerance this is math-verify's verdict (so ``1e3`` ≠ ``1000`` and ``25\%`` ≠ ``0.25``, as in Vero);
    ``lenient=True`` also accepts scientific notation, ``\$``, ``\dfrac`` and decimals of surds within 1e-6.

    >>> numeric("0.25", r"\frac{1}{4}"), numeric("2e2", "200"), numeric("2e2", "200", {"tolerance": 0.01})
    (1.0, 0.0, 1.0)
    """
    # One budget for all the sympy work of the call (_limits): a pathological answer scores 0, on any thread.
    return _limits.call_bounded(lambda: _numeric(pred, truth, extra_info, lenient), 0.0)


def _numeric(pred: str, truth: str, extra_info, lenient: bool) -> float:
    tol = tolerance_of(extra_info)
    if tol is not None:
        return 1.0 if within_tolerance(truth, pred, tol) else 0.0
    if lenient and _E_NOTATION.fullmatch(pred.strip()):
        # math-verify reads ``1e5`` as its mantissa 1 (Vero's verdict: 1e5 = 1); lenient means the number itself
        return 1.0 if any(math.isclose(g, float(pred), rel_tol=1e-6, abs_tol=1e-12)
                          for g in candidates(_lenient_text(truth))) else 0.0
    if exact_equal(truth, pred):
        return 1.0
    return 1.0 if lenient and _lenient_equal(truth, pred) else 0.0
