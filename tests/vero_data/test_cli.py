"""The CLI end to end (typer CliRunner), fast --help, and every command documented in the README."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.gen_cli_docs import commands
from vero_data.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.embed
def test_demo_build_cli_loads_back_with_datasets(tmp_path):
    from datasets import load_dataset

    out = tmp_path / "demo"
    res = runner.invoke(app, ["data", "build", "--recipe", "demo", "--out", str(out), "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output and "shards:" in res.output
    ds = load_dataset(str(out), split="train")
    assert set(ds["category"]) == {"chart_ocr", "stem", "spatial_action", "knowledge", "grounding_counting_search",
                                   "captioning_if"}
    assert ds[0]["images"][0].size[0] > 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["reconciled"] and rep["rows"] == len(ds)
    # a second run into the same directory refuses unless --resume/--overwrite, with one red line
    again = runner.invoke(app, ["data", "build", "--recipe", "demo", "--out", str(out)])
    assert again.exit_code == 1 and "--resume" in again.output


def test_validate_and_ls():
    res = runner.invoke(app, ["data", "validate"])
    assert res.exit_code == 0, res.output
    n_ok, n_all = map(int, re.search(r"(\d+)/(\d+) valid", res.output).groups())
    assert n_ok == n_all >= 59 + 20
    res = runner.invoke(app, ["data", "ls", "--json"])
    data = json.loads(res.output)
    assert {r["name"] for r in data["recipes"]} >= {"demo", "vero600k"}


def test_validate_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncategory: math\nsource: {generator: {name: bar_chart}}\nadapter: generated\n")
    res = runner.invoke(app, ["data", "validate", str(bad)])
    assert res.exit_code == 1
    flat = " ".join(res.output.split())
    assert "bad.yaml" in flat and "category" in flat and "math" in flat


def test_generate_writes_a_loadable_source(tmp_path):
    res = runner.invoke(app, ["data", "generate", "counting", "--n", "4", "--seed", "7", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=str(tmp_path / "c" / "*.parquet"), split="train")
    assert len(ds) == 4 and ds[0]["reward_type"] == "counting"


def test_dry_run_plans_vero600k_offline(tmp_path):
    res = runner.invoke(app, ["data", "build", "--recipe", "vero600k", "--dry-run", "--out", str(tmp_path / "x")])
    assert res.exit_code == 0, res.output
    assert "59 sources" in " ".join(res.output.split())
    assert not (tmp_path / "x").exists()


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys, vero_data.cli; heavy = [m for m in ('torch', 'datasets', 'sentence_transformers', 'trl', "
            "'vllm', 'transformers', 'polars', 'pyarrow') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_command_has_help_and_is_in_the_readme_and_cli_docs():
    readme = (ROOT / "README.md").read_text()
    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    leaves = [(" ".join(p), c) for p, c in commands(app) if p and not getattr(c, "commands", None)]
    for path, cmd in leaves:
        assert (cmd.help or "").strip(), f"`vero {path}` has no help"
        assert f"vero {path}" in readme, f"`vero {path}` is not documented in README.md"
        assert f"## vero {path}\n" in cli_doc, f"`vero {path}` missing from docs/cli.md (python scripts/gen_cli_docs.py)"
