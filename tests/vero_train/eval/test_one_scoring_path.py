"""`vero eval`, `vero eval score` and `score_sample` score a record through one path: the same doc and response give
the same score, metrics and judge in all three (fake generator and judge, no model)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from vero_data.benchmarks import ScoreContext, get_benchmark, get_suite, score_sample
from vero_data.benchmarks.loader import load_docs
from vero_data.benchmarks.rescore import score_cases
from vero_train.evaluate import EvalConfig, evaluate_benchmark
from vero_train.models.backends import Completion


class AnswerGen:
    """Answers the even docs right and the odd ones wrong."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    def __call__(self, spec, reqs):
        order = list(self.answers)
        said = {r.id: self.answers[r.id] if order.index(r.id) % 2 == 0 else "zzz" for r in reqs}
        return [[Completion(text=f"<think>x</think><answer>\\boxed{{{said[r.id]}}}</answer>", n_tokens=3,
                            finish_reason="stop")] for r in reqs]


class FakeJudge:
    """Says yes to a response that contains GOOD."""

    concurrency = 2
    identity = "fake-judge@test"

    def ask(self, prompt, parse):
        reply = '{"is_equivalent": "Yes"}' if "GOOD" in prompt else '{"is_equivalent": "No"}'
        return parse(reply), reply


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    return buf.getvalue()


def _rescored(tmp_path, spec, docs, records, judge) -> list[dict]:
    cases = tmp_path / f"{spec.name}.cases.jsonl"
    cases.write_text("".join(json.dumps({"benchmark": spec.name, "response": r["response"],
                                         "doc": {k: v for k, v in d.items() if k not in ("images", "image")}}) + "\n"
                             for d, r in zip(docs, records, strict=True)))
    out = tmp_path / f"{spec.name}.scored.jsonl"
    score_cases(cases, out, judge)
    return [json.loads(x) for x in out.read_text().splitlines()]


def _given(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if v is not None}  # an eval sample file keeps the metrics that have one


@pytest.mark.parametrize("name", get_suite("synthetic").benchmarks)
def test_eval_rescore_and_score_sample_agree(tmp_path, name):
    spec = get_benchmark(name)
    docs = list(load_docs(spec, 4))
    records = evaluate_benchmark(spec, EvalConfig(suite="synthetic", model="fake", out=tmp_path / "run", limit=4),
                                 AnswerGen({d["_id"]: d["answer"] for d in docs}))
    rescored = _rescored(tmp_path, spec, docs, records, None)
    assert len({r["score"] for r in records}) > 1  # right and wrong answers score apart
    for d, rec, row in zip(docs, records, rescored, strict=True):
        direct = score_sample(spec, d, rec["response"], ScoreContext(key=rec["doc_id"]))
        assert rec["score"] == direct[spec.metric] == row["score"]
        assert rec["metrics"] == _given(direct) == _given(row["metrics"])


def test_judged_benchmark_agrees_and_records_the_judge(tmp_path):
    spec = get_benchmark("FVQA")
    rows = [{"question": f"q{i}", "answer": "a", "image": {"bytes": _png()}} for i in range(4)]
    docs = list(load_docs(spec, None, rows))
    judge = FakeJudge()
    records = evaluate_benchmark(spec, EvalConfig(suite="veroeval30", model="fake", out=tmp_path / "run"),
                                 AnswerGen({d["_id"]: "GOOD" for d in docs}), judge, rows)
    rescored = _rescored(tmp_path, spec, docs, records, judge)
    assert [r["score"] for r in records] == [1.0, 0.0, 1.0, 0.0]
    for d, rec, row in zip(docs, records, rescored, strict=True):
        direct = score_sample(spec, d, rec["response"], ScoreContext(judge=judge, key=rec["doc_id"]))
        assert rec["score"] == direct[spec.metric] == row["score"]
        assert rec["metrics"] == _given(direct) == _given(row["metrics"])
        assert rec["judge"] == row["judge"] == "fake-judge@test"
