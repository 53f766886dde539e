"""`vero eval` through typer's CliRunner: ls, score, compare, contamination, and the synthetic suite end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vero_data.cli import app

runner = CliRunner()
CASES = Path("/work/shared/acceptance/data/eval_score_cases.jsonl")


def test_ls_suite():
    r = runner.invoke(app, ["eval", "ls", "--suite", "veroeval30"])
    assert r.exit_code == 0, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 30 and lines[0].startswith("chartqa_pro_reasoning\tChartQA-Pro\tchart_ocr")
    r = runner.invoke(app, ["eval", "ls", "--suite", "nope"])
    assert r.exit_code == 1 and "unknown suite" in r.output


def test_score_cases(tmp_path):
    img = tmp_path / "data"
    img.mkdir()
    from PIL import Image

    Image.new("RGB", (2000, 1000)).save(img / "screen.png")
    lines = [
        {"benchmark": "ScreenSpot", "doc": {"bbox": [0.1, 0.1, 0.2, 0.2], "image": "data/screen.png"},
         "response": "<answer>(300, 150)</answer>"},
        {"benchmark": "screenspot_point_in_box_reasoning", "doc": {"bbox": [0.1, 0.1, 0.2, 0.2],
                                                                  "image": "data/screen.png"}, "response": "(500, 150)"},
        {"benchmark": "InfoVQA", "doc": {"answers": ["london"]}, "response": "London, UK"},
    ]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out" / "scored.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out)])
    assert r.exit_code == 0, r.output
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["score"] for g in got] == [1.0, 0.0, pytest.approx(0.6)]
    assert got[0]["doc"] == lines[0]["doc"] and got[0]["response"] == lines[0]["response"]


@pytest.mark.skipif(not CASES.exists(), reason="acceptance data not present")
def test_public_acceptance_cases(tmp_path):
    out = tmp_path / "s.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(CASES), "--out", str(out)])
    assert r.exit_code == 0, r.output
    want = [json.loads(x)["score"] for x in CASES.read_text().splitlines()]
    assert [json.loads(x)["score"] for x in out.read_text().splitlines()] == want


def test_contamination_cli(tmp_path):
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"benchmark": "GameQA-Lite", "doc": {
        "question": "In the maze shown, which direction should the player move first to reach the exit?"}}) + "\n")
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"id": "t1", "question": "In the maze shown, which direction should the player move "
                                "first to reach the exit?"}) + "\n" + json.dumps({"id": "t2", "question": "hi"}) + "\n")
    out = tmp_path / "flagged.jsonl"
    r = runner.invoke(app, ["eval", "contamination", "--data", str(data), "--bench-docs", str(bench), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "1 flagged" in r.output and json.loads(out.read_text())["id"] == "t1"


@pytest.mark.slow
def test_synthetic_suite_end_to_end_resume_and_compare(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    args = ["eval", "--suite", "synthetic", "--model", str(tiny_model_dir), "--limit", "1", "--out", str(out),
            "--max-new-tokens", "8", "--backend", "transformers"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert set(res["veroeval"]["categories"]) == {"chart_ocr", "stem", "spatial_action", "knowledge",
                                                   "grounding_counting_search", "captioning_if"}
    assert res["n-samples"]["synthetic_counting"] == {"original": 1, "effective": 1}
    assert (out / "report.html").read_text().count("<svg") == 1 and (out / "report.md").exists()
    assert len(list(out.glob("*/results.json"))) == 1 and len(list(out.glob("*/report.html"))) == 1
    rec = json.loads((out / "samples" / "synthetic_counting.jsonl").read_text().splitlines()[0])
    assert {"doc_id", "response", "extracted", "score", "prompt"} <= set(rec)
    # resume: a second run with the same model and settings generates nothing (loading a backend would fail)
    copy = tmp_path / "run2"
    shutil.copytree(out, copy)
    import vero_train.models.backends as backends

    def no_backend(*a, **k):
        raise AssertionError("a resumed run must not load a model")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backends, "get_backend", no_backend)
        r = runner.invoke(app, [str(copy) if a == str(out) else a for a in args])
    assert r.exit_code == 0, r.output
    # another model's samples are never reused
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "/nonexistent/model", "--limit", "1",
                            "--out", str(copy), "--max-new-tokens", "8"])
    assert r.exit_code == 1 and "--overwrite" in r.output, r.output
    r = runner.invoke(app, ["eval", "compare", str(out), str(copy), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[-1]["benchmark"] == "Overall" and rows[-1]["delta"] == 0.0


@pytest.mark.parametrize("backend, extra", [("transformers", "train"), ("vllm", "vllm")])
def test_missing_backend_library_names_the_extra_before_out_is_touched(tmp_path, monkeypatch, backend, extra):
    """Without torch (or vLLM) `vero eval --model` says which extra to install, in one line, and writes nothing."""
    import sys

    for name in ("torch", "transformers", "vllm"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: find_spec and import both fail
    out = tmp_path / "run"
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "tiny", "--backend", backend,
                            "--out", str(out), "--limit", "1"])
    assert r.exit_code == 1, r.output
    assert f"vero-toolkit[{extra}]" in r.output and "Traceback" not in r.output
    assert not out.exists()
