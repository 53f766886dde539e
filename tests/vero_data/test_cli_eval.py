"""`vero eval`'s model-free subcommands work on the base install: run with the model packages unimportable."""

from __future__ import annotations

import json
import subprocess
import sys

# Makes the model extra's packages unimportable, runs `vero ARGS…` and prints which heavy modules got loaded.
_RUN = """
import importlib.abc, sys
MODEL = ("torch", "torchvision", "transformers", "trl", "accelerate", "vllm", "sentence_transformers", "ray")

class NoModelPackages(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in MODEL:
            raise ModuleNotFoundError(f"No module named {name!r} (base install)", name=name)

sys.meta_path.insert(0, NoModelPackages())
from vero_data.cli import app
try:
    app(sys.argv[1:], prog_name="vero")
except SystemExit as e:
    code = e.code
print("\\nHEAVY", [m for m in MODEL if m in sys.modules], "EXIT", code)
"""


def _vero(*args: str) -> str:
    out = subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("HEAVY [] EXIT 0"), out
    return out


def test_ls_score_compare_contamination_need_no_model_packages(tmp_path):
    assert "chartqa_reasoning" in _vero("eval", "ls", "--suite", "veroeval30")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"benchmark": "InfoVQA", "doc": {"answers": ["london"]}, "response": "London"}) + "\n")
    _vero("eval", "score", "--cases", str(cases), "--out", str(tmp_path / "scored.jsonl"))
    assert json.loads((tmp_path / "scored.jsonl").read_text())["score"] == 1.0
    run = tmp_path / "results.json"
    run.write_text(json.dumps({"veroeval": {"benchmarks": {"chartqa_reasoning": 50.0},
                                            "categories": {"chart_ocr": 50.0}, "overall": 50.0}}))
    assert '"benchmark": "ChartQA"' in _vero("eval", "compare", str(run), str(run), "--json")
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"benchmark": "GameQA-Lite", "doc": {"question": "which way to the exit first?"}}) + "\n")
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"id": "t1", "question": "hi"}) + "\n")
    assert "0 flagged" in _vero("eval", "contamination", "--data", str(train), "--bench-docs", str(bench))
