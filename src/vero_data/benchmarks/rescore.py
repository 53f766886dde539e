"""Rescoring saved responses without a model (``vero eval score``)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vero_data.benchmarks.registry import get_benchmark
from vero_data.benchmarks.score import judge_identity, score_record
from vero_data.benchmarks.scoring import ScoreContext
from vero_data.errors import ConfigError


def score_cases(cases: str | Path, out: str | Path, judge: Any = None) -> dict[str, Any]:
    """Score every ``{"benchmark", "doc", "response"}`` line of ``cases``; write each line plus ``"score"``.

    ``score`` is the per-sample value of the benchmark's headline metric in [0, 1] (None when the benchmark
    needs a judge and none was given). Relative image paths resolve against the cases file's folder. A line that is
    not such an object (a list, a string ``doc``, no ``response``…) stops the run with ``file:line: field`` before
    anything is scored, as a silent 0 would pull the mean down.

    Lines are written as they are scored (appended and flushed, in input order), so an interrupted run keeps what
    it scored; a rerun with the same ``out`` keeps the lines already there (same benchmark, doc and response, a
    score, and for judged benchmarks the same judge) and scores only the rest. The finished file is in input order.

    Returns:
        ``{"n": lines, "scored": k, "mean": {benchmark: mean}, "resumed": lines kept from an earlier run}``.
    """
    cases, out = Path(cases), Path(out)
    if not cases.is_file():
        raise ConfigError(f"--cases {cases}: no such file" if not cases.exists() else f"--cases {cases}: not a file")
    if out.exists() and out.resolve() == cases.resolve():
        raise ConfigError(f"--out {out} is the --cases file; write the scored lines to another file")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the JSONL file to write")
    _check_replaceable(out)
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
            return {**c, **score_record(spec, c["doc"], c["response"], ctx)}
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise ConfigError(f"{cases}:{i}: doc does not fit {spec.name}'s scorer ({type(e).__name__}: {e}); "
                              f"expected its hub row's fields") from e

    from vero_data.outdir import OutputLock

    lock = OutputLock(out, "eval score").acquire()  # a second run into the same file is refused, naming this one
    try:
        return _score_items(items, out, one, judge)
    finally:
        lock.release()


def _check_replaceable(out: Path) -> None:
    """``out`` may be written when it is new or holds scored lines of an earlier run (a cut last line allowed);
    a file of anything else (someone's notes) is refused, not replaced."""
    if not out.is_file():
        return
    with out.open(encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    cut = not text.endswith("\n")  # an interrupted write leaves its last line without the newline
    for n, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
        except ValueError:
            if n == len(lines) and cut:
                continue
            r = None
        if not (isinstance(r, dict) and "score" in r and {"benchmark", "doc", "response"} <= set(r)):
            raise ConfigError(f"--out {out} exists and line {n} is not a scored case: it is not an earlier "
                              "`vero eval score` output, so it is not replaced; give another --out or remove it")


def _score_items(items: list, out: Path, one, judge: Any) -> dict[str, Any]:
    judge_id = judge_identity(judge)
    # resume: lines of an earlier run with the same case and a score (by the same judge) are kept as they are
    previous = _read_scored(out)
    rows: list[dict | None] = []
    for _, c, spec in items:
        bucket = previous.get(_case_key(c), [])
        hit = next((r for r in bucket if r.get("score") is not None
                    and (not spec.needs_judge or r.get("judge") == judge_id)), None)
        if hit is not None:
            bucket.remove(hit)
            hit = {**c, "score": hit["score"], "metrics": hit.get("metrics") or {},
                   **({"judge": judge_id} if spec.needs_judge else {})}
        rows.append(hit)
    todo = [(k, it) for k, (it, r) in enumerate(zip(items, rows, strict=True)) if r is None]
    resumed = len(items) - len(todo)

    out.parent.mkdir(parents=True, exist_ok=True)
    _write_lines(out, [r for r in rows if r is not None])  # kept lines only, in order (drops a cut last line)
    if todo:
        needs = any(it[2].needs_judge for _, it in todo)
        workers = getattr(judge, "concurrency", 1) if judge is not None and needs else 1
        with out.open("a", encoding="utf-8") as f:
            for k, row in _in_order([it for _, it in todo], one, workers, [k for k, _ in todo]):
                rows[k] = row
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                f.flush()
        if resumed:  # kept and new lines interleave: put the finished file in input order
            _write_lines(out, rows)
    by: dict[str, list[float]] = {}
    for r in rows:
        if r is not None and r["score"] is not None:
            by.setdefault(r["benchmark"], []).append(float(r["score"]))
    return {"n": len(rows), "scored": sum(len(v) for v in by.values()),
            "mean": {k: sum(v) / len(v) for k, v in by.items()}, "resumed": resumed}


def _case_key(c: dict) -> str:
    return json.dumps([c.get("benchmark"), c.get("doc"), c.get("response")], sort_keys=True, ensure_ascii=False,
                      default=str)


def _read_scored(out: Path) -> dict[str, list[dict]]:
    """Scored lines of an earlier run by case; a line cut by an interruption (or anything not a scored case) is
    skipped."""
    found: dict[str, list[dict]] = {}
    if not out.is_file():
        return found
    with out.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and "score" in r and {"benchmark", "doc", "response"} <= set(r):
                found.setdefault(_case_key(r), []).append(r)
    return found


def _write_lines(out: Path, rows: list[dict]) -> None:
    """Replace ``out`` with ``rows`` in one step (a temporary file of its own, renamed over it; removed if the
    write fails)."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        os.replace(name, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _in_order(items: list, fn, workers: int, keys: list) -> Iterator[tuple[Any, Any]]:
    """``(key, fn(item))`` in input order; with ``workers`` > 1 the items run concurrently. On an error or an
    interruption the items not yet started are cancelled (the caller has written every earlier result)."""
    if workers <= 1:
        for k, it in zip(keys, items, strict=True):
            yield k, fn(it)
        return
    ex = ThreadPoolExecutor(workers)
    try:
        futures = [ex.submit(fn, it) for it in items]
        for k, fut in zip(keys, futures, strict=True):
            yield k, fut.result()
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def _check_case(c: Any, where: str) -> None:
    """One cases line must be ``{"benchmark": str, "doc": {...}, "response": str}``."""
    if not isinstance(c, dict):
        raise ConfigError(f'{where}: expected an object {{"benchmark", "doc", "response"}}, got {type(c).__name__}')
    for key, typ, name in (("benchmark", str, "a string"), ("doc", dict, "an object"), ("response", str, "a string")):
        if key not in c:
            raise ConfigError(f"{where}: missing field {key!r} ({name})")
        if not isinstance(c[key], typ):
            raise ConfigError(f"{where}: field {key!r} must be {name}, got {type(c[key]).__name__}")
