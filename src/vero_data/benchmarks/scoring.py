"""Scorer registry: ``fn(doc, response, ctx) -> {metric: value}`` per benchmark family (eval_scoring.md).

A benchmark YAML names its scorer and its headline metric; the per-sample score is ``result[metric]`` in [0, 1].
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vero_data.registry import Registry

ScoreFn = Callable[[dict, str, "ScoreContext"], dict[str, float]]
SCORERS: Registry[ScoreFn] = Registry("scorer")


@dataclass
class ScoreContext:
    """What a scorer may need besides the row and the response.

    Args:
        base_dir: directory that relative image paths in a row are resolved against.
        judge: a :class:`vero_data.benchmarks.judge_client.BenchmarkJudge` for LLM-judged benchmarks (None offline).
        key: a stable per-sample key; seeds the upstream random fallbacks so reruns agree.
    """

    base_dir: Path | None = None
    judge: Any = None
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_path(value: str, base_dir: Path | None) -> Path | None:
    """An existing regular file for a row's path: as given, under ``base_dir``, or under its parent; else None
    (a FIFO or a device is never a file to read)."""
    p = Path(value)
    bases = (base_dir, base_dir.parent) if base_dir else ()
    cands = [p] if p.is_absolute() else [*(b / p for b in bases), p]
    return next((c for c in cands if c.is_file()), None)


def scorer(name: str) -> Callable[[ScoreFn], ScoreFn]:
    def deco(fn: ScoreFn) -> ScoreFn:
        SCORERS.register(name, fn)
        return fn

    return deco


# --------------------------------------------------------------------------------------------------- numbers
def mv_number(text: str) -> float | None:
    """A float from math-verify's default parse, or None."""
    from vero_data.rewards._limits import call_bounded

    text = str(text).strip()
    if not text:
        return None
    # Parsing and evaluating share one wall-clock budget: float() of a parsed product of 1000 factors takes seconds.
    return call_bounded(lambda: _first_float(text), None)


def _first_float(text: str) -> float | None:
    from vero_data.rewards._mv import default_targets, parse

    for r in parse(text, default_targets()):
        if isinstance(r, str):
            continue
        try:
            v = float(r)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            return v
    return None


_RATIO = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*:\s*(-?\d+(?:\.\d+)?)\s*$")


def chart_float(text: str) -> float | None:
    """ChartQA float conversion: mv parse of the text, then without a trailing ``%``/``\\%``, then ``a:b``."""
    v = mv_number(text)
    if v is not None:
        return v
    t = text.strip()
    for suf in ("\\%", "%"):
        if t.endswith(suf):
            v = mv_number(t[: -len(suf)])
            if v is not None:
                return v
            break
    m = _RATIO.match(t)
    if m and float(m.group(2)) != 0:
        return float(m.group(1)) / float(m.group(2))
    return None


def _pct(s: str) -> bool:
    return s.rstrip().endswith("%")


def _close(p: float, t: float, tol: float, zero_exact: bool) -> bool:
    if t == 0:
        return p == 0 if zero_exact else abs(p) <= tol
    return abs(p - t) / abs(t) <= tol


def relaxed_numeric(pred: str, target: str, tol: float = 0.05, unit_interval: bool = True,
                    zero_exact: bool = False) -> bool | None:
    """Relaxed numeric match with the percent variants; None when either side is not a number."""
    p, t = chart_float(pred), chart_float(target)
    if p is None or t is None:
        return None
    pairs = [(p, t)]
    pp, tp = _pct(pred), _pct(target)
    if pp and not tp:
        pairs += [(p * 100, t), (p / 100, t)]
    elif tp and not pp:
        pairs += [(p, t * 100), (p, t / 100)]
    elif not pp and not tp and unit_interval:
        if 0 < p < 1 and t != 0:
            pairs.append((p * 100, t))
        if 0 < t < 1 and p != 0:
            pairs.append((p, t * 100))
    return any(_close(a, b, tol, zero_exact) for a, b in pairs)


def relaxed_correctness(pred: str, target: str, tol: float = 0.05) -> bool:
    """ChartQA relaxed accuracy: 5 % numeric tolerance with percent variants, or case-insensitive equality.

    >>> relaxed_correctness("83", "80"), relaxed_correctness("85", "80"), relaxed_correctness("blue", "Blue")
    (True, False, True)
    """
    pred, target = str(pred).strip(), str(target).strip()
    if pred.endswith("."):
        pred = pred[:-1]
    if relaxed_numeric(pred, target, tol):
        return True
    return pred.lower() == target.lower()


# ------------------------------------------------------------------------------------------------------ ANLS
def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def anls(pred: str, refs: list[str], threshold: float = 0.5) -> float:
    """ANLS: 1 − min normalised edit distance (lower-cased, whitespace-collapsed; length of the originals).

    >>> anls("London, UK", ["london"])
    0.6
    """
    det = " ".join(str(pred).strip().lower().split())
    vals = []
    for r in refs:
        gt = " ".join(str(r).strip().lower().split())
        length = max(len(str(r).upper()), len(str(pred).upper()))
        vals.append(0.0 if length == 0 else levenshtein(gt, det) / length)
    if not vals:
        return 0.0
    score = 1 - min(vals)
    return 0.0 if score < threshold else score
