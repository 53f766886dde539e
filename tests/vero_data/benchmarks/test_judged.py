"""LLM-judged benchmarks against a judge served on 127.0.0.1 by the test."""

from __future__ import annotations

import json

import pytest

from vero_data.benchmarks import ScoreContext, get_benchmark, score_sample
from vero_data.benchmarks.judge import BenchmarkJudge, parse_grade, parse_rating10, parse_verdict
from vero_data.benchmarks.rescore import score_cases

# (benchmark, hub-layout doc, score when GOOD, score when not)
JUDGED = [
    ("CharXiv", {"reasoning_q": "Which line is highest?", "reasoning_a": "3", "figure_path": "x.jpg"}, 1.0, 0.0),
    ("ChartMuseum", {"question": "What is the peak?", "answer": "1,500,000"}, 1.0, 0.0),
    ("SimpleVQA (English)", {"question": "Who built it?", "answer": "Gustave Eiffel"}, 1.0, 0.0),
    ("FVQA", {"question": "What is it used for?", "answer": "cutting", "answers": ["cut", "slicing"]}, 1.0, 0.0),
    ("MM-Vet v2", {"question": "What is written?", "answer": "hello<AND>world"}, 1.0, 0.25),
    ("VisualProbe", {"question": "What colour is the sign?", "answer": "red"}, 1.0, 0.0),
    ("MM-MT-Bench", {"question": "Describe the chart.", "reference": "A bar chart of sales."}, 0.8, 0.2),
    ("MIA-Bench", {"instruction": "Write two sentences.", "components": ["two sentences"],
                   "component_weight": [10]}, 0.8, 0.2),
    ("MM-IFEval", {"instruction": "Answer in 3 words.", "constraints": ["3 words"]}, 1.0, 0.25),
]


@pytest.mark.parametrize(("bench", "doc", "good", "bad"), JUDGED, ids=[j[0] for j in JUDGED])
def test_judged_benchmarks(judge_server, tmp_path, bench, doc, good, bad):
    url = f"http://127.0.0.1:{judge_server.server_port}/v1"
    judge = BenchmarkJudge(base_url=url, model="judge", cache_dir=tmp_path / "cache", backoff=0.0)
    spec = get_benchmark(bench)
    assert spec.judge is not None and spec.judge.model == "Qwen3-32B"
    ctx = ScoreContext(judge=judge)
    assert score_sample(spec, doc, "<think>x</think><answer>\\boxed{GOOD}</answer>", ctx)[spec.metric] == good
    assert score_sample(spec, doc, "<think>x</think><answer>\\boxed{meh}</answer>", ctx)[spec.metric] == bad
    sent = judge_server.requests[-1]
    assert sent["model"] == "judge" and sent["temperature"] == 0.0 and sent["max_tokens"] == 2048
    assert "<think>" not in sent["messages"][0]["content"]  # the judge sees the final answer only


def test_judge_cache_retries_and_offline(judge_server, tmp_path):
    judge_server.fail_first = True
    url = f"http://127.0.0.1:{judge_server.server_port}/v1"
    judge = BenchmarkJudge(base_url=url, model="judge", cache_dir=tmp_path / "c", backoff=0.0)
    doc = {"question": "q", "answer": "a"}
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["judge_accuracy"] == 1.0
    n = len(judge_server.requests)
    assert n == 2  # one 500, one retry
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["judge_accuracy"] == 1.0
    assert len(judge_server.requests) == n  # served from the on-disk cache
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}")["judge_accuracy"] is None  # no judge: unscored


def test_rescore_with_judge_concurrency(judge_server, tmp_path):
    cases = tmp_path / "cases.jsonl"
    lines = [{"benchmark": "FVQA", "doc": {"question": f"q{i}", "answer": "a"}, "response": "GOOD" if i % 2 else "x"}
             for i in range(6)]
    cases.write_text("".join(json.dumps(x) + "\n" for x in lines))
    judge = BenchmarkJudge(base_url=f"http://127.0.0.1:{judge_server.server_port}/v1", concurrency=3, backoff=0.0)
    summary = score_cases(cases, tmp_path / "out.jsonl", judge)
    got = [json.loads(x)["score"] for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert got == [0.0, 1.0] * 3 and summary["mean"]["FVQA"] == 0.5


def test_reply_parsers():
    assert parse_verdict("blah\nVerdict: **CORRECT**") == 1.0
    assert parse_verdict("Verdict: NOT_ATTEMPTED") == 0.0
    assert parse_grade("Grade: C") == 0.0 and parse_grade("nothing") is None
    assert parse_rating10("Rating: [[7]]") == 0.7
