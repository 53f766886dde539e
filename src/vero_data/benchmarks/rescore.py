"""Rescoring saved responses without a model (``vero eval score``)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vero_data.benchmarks.registry import get_benchmark, scorer_for
from vero_data.benchmarks.scoring import ScoreContext
from vero_data.errors import ConfigError


def score_cases(cases: str | Path, out: str | Path, judge: Any = None) -> dict[str, Any]:
    """Score every ``{"benchmark", "doc", "response"}`` line of ``cases``; write each line plus ``"score"``.

    ``score`` is the per-sample value of the benchmark's headline metric in [0, 1] (None when the benchmark
    needs a judge and none was given). Relative image paths resolve against the cases file's folder. A line that is
    not such an object (a list, a string ``doc``, no ``response``…) stops the run with ``file:line: field`` before
    anything is scored, as a silent 0 would pull the mean down.

    Returns:
        ``{"n": lines, "scored": k, "mean": {benchmark: mean}}``.
    """
    cases, out = Path(cases), Path(out)
    if not cases.is_file():
        raise ConfigError(f"--cases {cases}: no such file" if not cases.exists() else f"--cases {cases}: not a file")
    base = cases.resolve().parent
    items = []
    try:
        text = cases.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{cases}: not a UTF-8 JSONL file (byte {e.start})") from None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            c = json.loads(line)
        except ValueError as e:
            raise ConfigError(f"{cases}:{i}: not JSON ({e})") from None
        _check_case(c, f"{cases}:{i}")
        try:
            spec = get_benchmark(c["benchmark"])
        except KeyError as e:  # RegistryError
            raise ConfigError(f"{cases}:{i}: benchmark: {e}") from None
        items.append((i, c, spec))

    def one(item):
        i, c, spec = item
        ctx = ScoreContext(base_dir=base, judge=judge, key=f"{spec.name}:{i}")
        try:
            metrics = scorer_for(spec)(c["doc"], c["response"], ctx)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise ConfigError(f"{cases}:{i}: doc does not fit {spec.name}'s scorer ({type(e).__name__}: {e}); "
                              f"expected its hub row's fields") from e
        return {**c, "score": metrics.get(spec.metric), "metrics": metrics}

    workers = getattr(judge, "concurrency", 1) if judge is not None else 1
    if workers > 1:
        with ThreadPoolExecutor(workers) as ex:
            rows = list(ex.map(one, items))
    else:
        rows = [one(it) for it in items]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    by: dict[str, list[float]] = {}
    for r in rows:
        if r["score"] is not None:
            by.setdefault(r["benchmark"], []).append(float(r["score"]))
    return {"n": len(rows), "scored": sum(len(v) for v in by.values()),
            "mean": {k: sum(v) / len(v) for k, v in by.items()}}


def _check_case(c: Any, where: str) -> None:
    """One cases line must be ``{"benchmark": str, "doc": {...}, "response": str}``."""
    if not isinstance(c, dict):
        raise ConfigError(f'{where}: expected an object {{"benchmark", "doc", "response"}}, got {type(c).__name__}')
    for key, typ, name in (("benchmark", str, "a string"), ("doc", dict, "an object"), ("response", str, "a string")):
        if key not in c:
            raise ConfigError(f"{where}: missing field {key!r} ({name})")
        if not isinstance(c[key], typ):
            raise ConfigError(f"{where}: field {key!r} must be {name}, got {type(c[key]).__name__}")
