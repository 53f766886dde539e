"""A ``vero eval`` run's sample files, ``OUT/samples/<benchmark>.jsonl``: one record per doc, the unit of resume.

Records are appended as batches are generated (an interrupted run resumes where it stopped) and the file is
rewritten once they are scored. Nothing here needs a model: ``vero_train.evaluate`` generates, this keeps the file.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vero_data.benchmarks.extract import final_answer, strip_reasoning
from vero_data.benchmarks.score import judge_identity, score_record
from vero_data.benchmarks.scoring import ScoreContext
from vero_data.benchmarks.spec import BenchmarkSpec

# the doc fields that hold the reference answer, in the order they are looked for
_TARGET_FIELDS = ("answer", "Answer", "answers", "label", "number", "bbox", "reasoning_a")


def samples_path(out: Path, spec: BenchmarkSpec) -> Path:
    """Where a run in ``out`` keeps ``spec``'s sample records."""
    return out / "samples" / f"{spec.name}.jsonl"


def is_eval_output(folder: Path) -> bool:
    """An eval folder written before output markers existed."""
    return (folder / "results.json").is_file() or (folder / "samples").is_dir()


def read_samples(path: Path) -> dict[str, dict]:
    """The records of a sample file by ``doc_id``, the last one of a doc winning; a line cut by an interruption is
    skipped."""
    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
                done[r["doc_id"]] = r
            except (ValueError, KeyError):
                continue
    return done


def append_samples(path: Path, records: list[dict]) -> None:
    """Append records to the sample file (a rerun reads the last record of each doc)."""
    with path.open("a", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def replace_samples(path: Path, records: list[dict]) -> None:
    """Rewrite the sample file with ``records`` in one step (a sibling temporary file renamed over it)."""
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)


def doc_target(doc: dict) -> Any:
    """The doc's reference answer as stored in its record (a JSON value), or None."""
    for k in _TARGET_FIELDS:
        if k in doc:
            v = doc[k]
            return v if isinstance(v, str | int | float | list) else str(v)
    return None


def new_sample(spec: BenchmarkSpec, doc: dict, prompt: str, response: str, n_tokens: int,
               finish_reason: str | None) -> dict:
    """The record of one generated response, not yet scored."""
    return {"doc_id": doc["_id"], "benchmark": spec.name, "sub_task": doc.get("sub_task"),
            "category": doc.get("category"), "prompt": prompt, "response": response, "n_tokens": n_tokens,
            "finish_reason": finish_reason, "target": doc_target(doc), "score": None, "metrics": {}}


def score_samples(spec: BenchmarkSpec, records: list[dict], docs: dict[str, dict], judge: Any = None) -> list[dict]:
    """Score the records that need it, through :func:`~vero_data.benchmarks.score.score_record`.

    A record keeps its score unless it has none or, for a judged benchmark, another judge (or none) gave it. A scored
    record gains ``extracted`` (the answer as the benchmark reads it) and keeps only the metrics that have a value.

    Args:
        spec: the benchmark.
        records: its sample records.
        docs: each record's doc by ``doc_id``, as its scorer sees it.
        judge: the LLM judge (None offline); judged records are scored ``judge.concurrency`` at a time.
    """
    judge_id = judge_identity(judge) if spec.needs_judge else None
    extract = strip_reasoning if spec.answer_extraction != "fae" else final_answer

    def score(rec: dict) -> dict:
        if rec.get("score") is not None and (not spec.needs_judge or rec.get("judge") == judge_id):
            return rec
        scored = score_record(spec, docs[rec["doc_id"]], rec["response"], ScoreContext(judge=judge, key=rec["doc_id"]))
        scored["metrics"] = {k: v for k, v in scored["metrics"].items() if v is not None}
        return {**rec, "extracted": extract(rec["response"]), **scored}

    if spec.needs_judge and judge is not None and len(records) > 1:
        with ThreadPoolExecutor(max(1, judge.concurrency)) as ex:
            return list(ex.map(score, records))
    return [score(r) for r in records]
