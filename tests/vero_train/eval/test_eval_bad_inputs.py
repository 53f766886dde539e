"""`vero eval` with bad inputs: another model's samples in OUT, model load failures, benchmarks outside the suite,
missing suite files, malformed `score --cases` lines and `compare` files. No model: a fake generator stands in."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_train import evaluate
from vero_train.evaluate import EvalConfig, run_eval
from vero_train.models.backends import Completion

runner = CliRunner(env={"COLUMNS": "1000"})  # rich wraps nothing: each error is one line


class FakeGen:
    """Stands in for evaluate._Generator: answers every request and counts them."""

    calls: list[str] = []

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, spec, reqs):
        FakeGen.calls += [r.id for r in reqs]
        return [[Completion(text=f"<answer>{self.cfg.model}</answer>", n_tokens=3, finish_reason="stop")]
                for _ in reqs]


@pytest.fixture
def fake_gen(monkeypatch):
    FakeGen.calls = []
    monkeypatch.setattr(evaluate, "_Generator", FakeGen)
    return FakeGen


def _cfg(out, model="model-a", **kw):
    return EvalConfig(suite="synthetic", model=model, out=out, benchmarks=["synthetic_chart"],
                      limit=kw.pop("limit", 2), **kw)


def _responses(out) -> list[str]:
    lines = (out / "samples" / "synthetic_chart.jsonl").read_text().splitlines()
    return [json.loads(x)["response"] for x in lines]


def test_other_model_in_out_is_refused_same_model_resumes(tmp_path, fake_gen):
    out = tmp_path / "run"
    run_eval(_cfg(out))
    assert len(fake_gen.calls) == 2
    with pytest.raises(ConfigError, match=r"holds synthetic_chart samples of model 'model-a' \(this run: "
                                          r"'model-b'\); use another --out or --overwrite"):
        run_eval(_cfg(out, model="model-b"))
    with pytest.raises(ConfigError, match=r"model 'model-a' with temperature 0.6 \(now 0.0\)"):
        run_eval(_cfg(out, temperature=0.0))
    with pytest.raises(ConfigError, match="max_new_tokens"):
        run_eval(_cfg(out, max_new_tokens=7))
    assert len(fake_gen.calls) == 2 and _responses(out) == ["<answer>model-a</answer>"] * 2

    run_eval(_cfg(out, limit=3))  # same model and settings: resumes, generates only the new doc
    assert len(fake_gen.calls) == 3

    res = run_eval(_cfg(out, model="model-b", overwrite=True))
    assert len(fake_gen.calls) == 5 and res["config"]["model"] == "model-b"
    assert _responses(out) == ["<answer>model-b</answer>"] * 2


def test_samples_without_fingerprint_are_checked_against_results_json(tmp_path, fake_gen):
    out = tmp_path / "run"
    run_eval(_cfg(out))
    (out / "samples" / "synthetic_chart.fingerprint.json").unlink()  # a run made before fingerprints
    with pytest.raises(ConfigError, match="samples of model 'model-a'"):
        run_eval(_cfg(out, model="model-b"))
    run_eval(_cfg(out))
    assert len(fake_gen.calls) == 2 and (out / "samples" / "synthetic_chart.fingerprint.json").exists()
    (out / "samples" / "synthetic_chart.fingerprint.json").unlink()
    (out / "results.json").unlink()
    with pytest.raises(ConfigError, match="does not record which model"):
        run_eval(_cfg(out))


def test_cli_refuses_other_model_in_one_line(tmp_path, fake_gen):
    out = tmp_path / "run"
    run_eval(_cfg(out))
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "model-b", "--benchmark", "synthetic_chart",
                            "--limit", "2", "--out", str(out)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "model 'model-a'" in r.output and "--overwrite" in r.output
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "model-b", "--benchmark", "synthetic_chart",
                            "--limit", "2", "--out", str(out), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert _responses(out) == ["<answer>model-b</answer>"] * 2


def test_overwrite_never_deletes_the_working_directory(tmp_path, fake_gen, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="(is|holds) the working directory"):
        run_eval(_cfg(tmp_path, overwrite=True))
    assert (tmp_path / "keep.txt").exists()


def test_model_load_failure_stops_once(tmp_path, monkeypatch, caplog):
    import vero_train.models.backends as backends

    tries = []

    def unreachable(kind, model, **kw):
        tries.append(model)
        raise SourceUnavailableError(f"cannot load model {model}: the Hugging Face Hub is not reachable")

    monkeypatch.setattr(backends, "get_backend", unreachable)
    caplog.set_level(logging.WARNING)
    with pytest.raises(evaluate.ModelLoadError, match="cannot load model org/missing"):
        run_eval(EvalConfig(suite="synthetic", model="org/missing", out=tmp_path / "run", limit=1))
    assert tries == ["org/missing"]
    assert not [r for r in caplog.records if "skipping" in r.getMessage()]


def test_model_that_is_not_a_model_is_one_error(tmp_path, monkeypatch):
    import vero_train.models.backends as backends

    def bad(kind, model, **kw):
        raise ValueError("Unrecognized processing class in x.\nMake sure the repository contains the files")

    monkeypatch.setattr(backends, "get_backend", bad)
    with pytest.raises(evaluate.ModelLoadError, match="cannot load model x: Unrecognized processing class in x. Make"):
        run_eval(EvalConfig(suite="synthetic", model="x", out=tmp_path / "run", limit=1))


def test_benchmark_outside_the_suite(tmp_path, fake_gen):
    with pytest.raises(ConfigError, match=r"ChartQA is not in suite 'synthetic' \(its benchmarks: synthetic_chart, "):
        run_eval(EvalConfig(suite="synthetic", model="m", out=tmp_path / "run", benchmarks=["ChartQA"]))
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "m", "--benchmark", "ChartQA",
                            "--benchmark", "EvoChart", "--out", str(tmp_path / "run")])
    assert r.exit_code == 1 and "error: ChartQA, EvoChart are not in suite 'synthetic'" in r.output
    assert fake_gen.calls == []


def test_suite_path_that_does_not_exist(tmp_path):
    r = runner.invoke(app, ["eval", "ls", "--suite", "missing.yaml"])
    assert r.exit_code == 1 and "no such file: missing.yaml" in r.output and "unknown suite" not in r.output
    r = runner.invoke(app, ["eval", "ls", "--suite", str(tmp_path / "suites" / "mine")])
    assert r.exit_code == 1 and "no such file" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n  benchmarks: : [\n")
    r = runner.invoke(app, ["eval", "ls", "--suite", str(bad)])
    assert r.exit_code == 1 and f"error: {bad}: invalid YAML at line 2" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(("line", "message"), [
    ([1, 2], ':1: expected an object {"benchmark", "doc", "response"}, got list'),
    ({"benchmark": "ChartQA", "doc": "oops", "response": "<answer>1</answer>"}, ":1: field 'doc' must be an object"),
    ({"benchmark": "ChartQA", "answer": "1", "response": "<answer>1</answer>"}, ":1: missing field 'doc'"),
    ({"benchmark": "ChartQA", "doc": {"answer": "1"}}, ":1: missing field 'response'"),
    ({"benchmark": "ChartQA", "doc": {"answer": "1"}, "response": 1}, ":1: field 'response' must be a string"),
    ({"benchmark": ["ChartQA"], "doc": {}, "response": ""}, ":1: field 'benchmark' must be a string"),
    ({"benchmark": "ChartQAX", "doc": {}, "response": ""}, ":1: benchmark: unknown benchmark 'ChartQAX'"),
    ({"benchmark": "ScreenSpot", "doc": {"bbox": "x"}, "response": "(1, 2)"},
     ":1: doc does not fit screenspot_point_in_box_reasoning's scorer"),
])
def test_score_cases_bad_lines_name_file_line_and_field(tmp_path, line, message):
    cases = tmp_path / "cases.jsonl"
    good = {"benchmark": "ChartQA", "doc": {"answer": "1"}, "response": "<answer>1</answer>"}
    cases.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n")
    out = tmp_path / "scored.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out)])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert r.output.startswith(f"error: {cases}:2{message[2:]}"), r.output
    if "doc does not fit" in message:  # found while scoring: the lines before it are kept (streamed), not this one
        kept = [json.loads(x) for x in out.read_text().splitlines()]
        assert [(k["response"], k["score"]) for k in kept] == [(good["response"], 1.0)]
    else:  # found when reading the file: nothing is scored or written
        assert not out.exists()


def test_score_cases_not_json_names_the_line(tmp_path):
    from vero_data.benchmarks.rescore import score_cases

    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"benchmark": "ChartQA", "doc": {"answer": "1"}, "response": "1"}) + "\n{bad\n")
    with pytest.raises(VeroError, match=r"cases.jsonl:2: not JSON"):
        score_cases(cases, tmp_path / "o.jsonl")


@pytest.mark.parametrize(("text", "message"), [
    ("{bad", "not JSON"),
    ('{"a": 1}', "not the results.json of a `vero eval` run"),
    ('[1]', "not the results.json of a `vero eval` run"),
    ('{"veroeval": {"benchmarks": {"ChartQA": "high"}, "categories": {}}}', "veroeval.benchmarks.ChartQA is 'high'"),
    ('{"veroeval": {"benchmarks": {"nope": 1}, "categories": {}}}', "unknown benchmark 'nope'"),
])
def test_compare_bad_results_file(tmp_path, text, message):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"veroeval": {"benchmarks": {"chartqa_reasoning": 50.0},
                                             "categories": {"chart_ocr": 50.0}, "overall": 50.0}}))
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    r = runner.invoke(app, ["eval", "compare", str(good), str(bad)])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert r.output.startswith(f"error: {bad}: ") and message in r.output and len(r.output.splitlines()) == 1
    r = runner.invoke(app, ["eval", "compare", str(good), str(good), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[-1]["delta"] == 0.0


def test_lmms_eval_habits_tasks_and_output_path(tmp_path, fake_gen):
    """`--tasks a,b` alone picks the suite holding them; `--output_path` is --out; `--json` is one document."""
    out = tmp_path / "run"
    r = runner.invoke(app, ["eval", "--tasks", "synthetic_chart,synthetic_counting", "--model", "m", "--limit", "1",
                            "--output_path", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["config"]["suite"] == "synthetic" and set(res["results"]) == {"synthetic_chart", "synthetic_counting"}
    assert res["config"]["benchmarks"] == ["synthetic_chart", "synthetic_counting"]
    assert (out / "results.json").is_file()


def test_upstream_task_names_resolve_to_ours():
    from vero_data.benchmarks.registry import resolve_benchmarks

    assert resolve_benchmarks(["mathvista_testmini"]) == ["mathvista_testmini_reasoning"]
    assert len(resolve_benchmarks(["mmmu_pro"])) == 2 and all("mmmu_pro" in n for n in resolve_benchmarks(["mmmu_pro"]))
    assert resolve_benchmarks(["chartqa,synthetic_chart", "chartqa"]) == ["chartqa_reasoning", "synthetic_chart"]


def test_eval_score_json(tmp_path):
    cases = tmp_path / "responses.jsonl"
    cases.write_text("".join(json.dumps({"benchmark": "ChartQA", "doc": {"answer": a}, "response": "<answer>1</answer>"})
                             + "\n" for a in ("1", "2")))
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(tmp_path / "s.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n"] == 2 and doc["scored"] == 2 and doc["mean"] == {"ChartQA": 0.5}  # as the lines name it
