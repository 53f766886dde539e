"""What `vero eval score` and `vero eval compare` leave behind: an interrupted `score` keeps what it scored and a
rerun resumes; `compare` of runs with different benchmarks or sample counts compares only what both runs share and
says on stderr what it left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vero_data.cli import app

runner = CliRunner(env={"COLUMNS": "1000"})


# ------------------------------------------------------------------------------------------- eval score streaming
def _infovqa_cases(path: Path, n: int) -> Path:
    """InfoVQA lines (ANLS, no judge): even lines answer right (1.0), odd lines wrong (0.0)."""
    rows = [{"benchmark": "InfoVQA", "doc": {"answers": [f"answer {i}"]},
             "response": f"\\boxed{{answer {i}}}" if i % 2 == 0 else "\\boxed{zzzzzzzzzzzzzzzz}", "id": i}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class _Interrupt(KeyboardInterrupt):
    pass


def _count_scoring(monkeypatch, stop_after: int | None = None) -> list[str]:
    """Wrap the scorer lookup of the scoring path: record each scored response; raise Ctrl-C after ``stop_after`` of
    them."""
    from vero_data.benchmarks import score

    real = score.scorer_for
    seen: list[str] = []

    def scorer_for(spec):
        fn = real(spec)

        def wrapped(doc, response, ctx):
            if stop_after is not None and len(seen) >= stop_after:
                raise _Interrupt()
            seen.append(response)
            return fn(doc, response, ctx)

        return wrapped

    monkeypatch.setattr(score, "scorer_for", scorer_for)
    return seen


def test_interrupted_score_keeps_scored_lines_and_resumes(tmp_path, monkeypatch):
    from vero_data.benchmarks.rescore import score_cases

    cases = _infovqa_cases(tmp_path / "cases.jsonl", 6)
    out = tmp_path / "out" / "scored.jsonl"
    with monkeypatch.context() as m:
        _count_scoring(m, stop_after=4)
        with pytest.raises(KeyboardInterrupt):
            score_cases(cases, out)
    assert out.exists(), "nothing was written before the interruption"
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["id"], r["score"]) for r in kept] == [(0, 1.0), (1, 0.0), (2, 1.0), (3, 0.0)]
    # a cut last line (the process killed mid-write) is ignored on resume
    with out.open("a") as f:
        f.write('{"benchmark": "InfoVQA", "doc": {"answ')
    seen = _count_scoring(monkeypatch)
    summary = score_cases(cases, out)
    assert len(seen) == 2 and summary["n"] == 6 and summary["resumed"] == 4
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["id"], r["score"]) for r in rows] == [(i, 1.0 if i % 2 == 0 else 0.0) for i in range(6)]
    assert summary["mean"] == {"InfoVQA": 0.5}
    # complete: a third run scores nothing
    seen.clear()
    assert score_cases(cases, out)["resumed"] == 6 and seen == []


def test_score_cli_streams_each_line_before_the_next_is_scored(tmp_path, monkeypatch):
    """Each scored line is on disk (flushed) before the next case is scored: the file grows line by line."""
    from vero_data.benchmarks import score

    cases = _infovqa_cases(tmp_path / "cases.jsonl", 4)
    out = tmp_path / "scored.jsonl"
    real = score.scorer_for
    sizes: list[int] = []

    def scorer_for(spec):
        fn = real(spec)

        def wrapped(doc, response, ctx):
            sizes.append(len(out.read_text().splitlines()) if out.exists() else 0)
            return fn(doc, response, ctx)

        return wrapped

    monkeypatch.setattr(score, "scorer_for", scorer_for)
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sizes == [0, 1, 2, 3]
    assert len(out.read_text().splitlines()) == 4


def test_score_changed_case_is_rescored_and_unscored_lines_get_a_second_chance(tmp_path, monkeypatch):
    from vero_data.benchmarks.rescore import score_cases

    cases = _infovqa_cases(tmp_path / "cases.jsonl", 3)
    out = tmp_path / "scored.jsonl"
    score_cases(cases, out)
    lines = cases.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["response"] = "\\boxed{answer 1}"  # now right
    cases.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    seen = _count_scoring(monkeypatch)
    score_cases(cases, out)
    assert seen == ["\\boxed{answer 1}"]
    assert [json.loads(x)["score"] for x in out.read_text().splitlines()] == [1.0, 1.0, 1.0]


def test_score_refuses_out_equal_to_cases(tmp_path):
    cases = _infovqa_cases(tmp_path / "cases.jsonl", 2)
    before = cases.read_text()
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(cases)])
    assert r.exit_code == 1 and "--out" in r.output
    assert cases.read_text() == before


# ------------------------------------------------------------------------------------------------- eval compare
def _run_file(path: Path, scores: dict[str, tuple[float, int]], limit: int | None, model: str = "m") -> Path:
    from vero_data.benchmarks.aggregate import results_json

    per = {k: {"score": s, "n": n, "n_scored": n, "metrics": {}} for k, (s, n) in scores.items()}
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps(results_json(per, {"model": model, "suite": "veroeval30",
                                                                     "limit": limit})))
    return path


def test_compare_uses_only_common_benchmarks_and_says_what_it_left_out(tmp_path):
    # A: 3 benchmarks at limit 50; B: ChartQA and InfoVQA at limit 50 plus MathVista on 200 samples (no limit)
    # and CountBenchQA, which A does not have
    a = _run_file(tmp_path / "a", {"chartqa_reasoning": (80.0, 50), "infovqa_val_reasoning": (60.0, 50),
                                   "mathvista_testmini_reasoning": (40.0, 50)}, limit=50)
    b = _run_file(tmp_path / "b", {"chartqa_reasoning": (84.0, 50), "infovqa_val_reasoning": (62.0, 50),
                                   "mathvista_testmini_reasoning": (70.0, 200),
                                   "countbenchqa_reasoning": (95.0, 50)}, limit=None)
    r = runner.invoke(app, ["eval", "compare", str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    rows = {x["benchmark"]: x for x in json.loads(r.stdout)}
    # overall over ChartQA and InfoVQA only: A 70, B 73
    assert rows["Overall"]["a"] == pytest.approx(70.0) and rows["Overall"]["b"] == pytest.approx(73.0)
    assert rows["Overall"]["delta"] == pytest.approx(3.0)
    assert rows["[chart_ocr]"]["delta"] == pytest.approx(3.0)
    assert rows["ChartQA"]["delta"] == pytest.approx(4.0)
    assert rows["MathVista"]["delta"] is None and rows["CountBenchQA"]["delta"] is None
    err = r.stderr
    assert "MathVista" in err and "50" in err and "200" in err
    assert "CountBenchQA" in err and "only in B" in err
    assert "2 benchmarks" in err
    # the table output says the same on stderr and nothing on stdout is mistaken for it
    r = runner.invoke(app, ["eval", "compare", str(a), str(b)])
    assert r.exit_code == 0 and "CountBenchQA" in r.stderr and "left out" in r.stderr


def test_compare_of_matching_runs_is_quiet(tmp_path):
    scores = {"chartqa_reasoning": (80.0, 50), "infovqa_val_reasoning": (60.0, 50)}
    a = _run_file(tmp_path / "a", scores, limit=50)
    b = _run_file(tmp_path / "b", {k: (v + 1, n) for k, (v, n) in scores.items()}, limit=50, model="other")
    r = runner.invoke(app, ["eval", "compare", str(a), str(b), "--json"])
    assert r.exit_code == 0 and r.stderr == ""
    rows = {x["benchmark"]: x for x in json.loads(r.stdout)}
    assert rows["Overall"]["delta"] == pytest.approx(1.0)
