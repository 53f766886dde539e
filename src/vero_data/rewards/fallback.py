"""The fallback for an unrecognised ``reward_type``: case-insensitive equality, then math-verify (bounded, see _mv)."""

from __future__ import annotations

from functools import lru_cache

from vero_data.rewards import _limits, _mv


def fallback_accuracy(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Vero's generic comparison, single-letter multiple choice included.

    >>> fallback_accuracy("Paris", "paris"), fallback_accuracy(r"\\frac{1}{2}", "0.5")
    (1.0, 1.0)
    """
    if pred.strip().lower() == truth.strip().lower():
        return 1.0
    # One budget for all the sympy work of the call (Vero gives each math-verify step 1 s): pathological → 0.
    if len(pred) + len(truth) <= _MAX_CACHED_PAIR:
        return _limits.call_bounded(lambda: _verdict_cached(pred, truth), 0.0)
    return _limits.call_bounded(lambda: _verdict(pred, truth), 0.0)


# Verdicts of short pairs are cached (rollouts of one prompt repeat the same answers).
_MAX_CACHED_PAIR = 400


@lru_cache(maxsize=32768)
def _verdict_cached(pred: str, truth: str) -> float:
    return _verdict(pred, truth)


def _verdict(pred: str, truth: str) -> float:
    # Simple numbers parse the same under the default targets as under numeric's (tests/…/test_fast_paths.py)
    from vero_data.rewards.numeric import simple_verdict

    fast = simple_verdict(truth, pred)
    if fast is not None:
        return 1.0 if fast else 0.0
    gold = _mv.parse(truth, _mv.default_targets(), timeout=1)
    mcq = False
    if not gold and len(truth.strip()) == 1 and truth.strip().isalpha():
        gold = _mv.parse(truth, _mv.default_letter_targets(), timeout=1)
        mcq = bool(gold)
    got = _mv.parse(pred, _mv.default_targets(), timeout=1)
    if not got and mcq:
        got = _mv.parse(pred, _mv.default_letter_targets(), timeout=1)
    gold_target = gold if gold else [truth]
    pred_target = got if got else [pred]
    return 1.0 if _mv.verify(gold_target, pred_target, timeout=1) else 0.0
