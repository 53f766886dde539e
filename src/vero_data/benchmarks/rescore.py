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
    needs a judge and none was given). Relative image paths resolve against the cases file's folder.

    Returns:
        ``{"n": lines, "scored": k, "mean": {benchmark: mean}}``.
    """
    cases, out = Path(cases), Path(out)
    base = cases.resolve().parent
    items = []
    for i, line in enumerate(cases.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            c = json.loads(line)
            spec = get_benchmark(c["benchmark"])
        except (ValueError, KeyError) as e:
            raise ConfigError(f"{cases}:{i}: {e}") from e
        items.append((i, c, spec))

    def one(item):
        i, c, spec = item
        ctx = ScoreContext(base_dir=base, judge=judge, key=f"{spec.name}:{i}")
        metrics = scorer_for(spec)(c.get("doc") or {}, str(c.get("response", "")), ctx)
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
