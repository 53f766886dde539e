"""The recipe's `curate:` step: a build whose exported rows go through the question filter and canonicaliser."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest
import yaml

from vero_data.api import build
from vero_data.errors import ConfigError
from vero_data.manifest import load_recipe

JUDGE = "tests.vero_data.curate.fake_judge:ArithmeticJudge"  # a dotted path: the user's own judge factory


def _recipe(tmp_path, write_manifest, curate):
    write_manifest("eq", category="stem", adapter="generated", reward_type="numeric",
                   source={"generator": {"name": "equation", "n": 8, "seed": 3}})
    rec = tmp_path / "curated.yaml"
    rec.write_text(yaml.safe_dump({"name": "curated", "manifests": ["eq.yaml"], "curate": curate}))
    return rec


def test_a_recipe_curate_step_filters_and_canonicalises_the_build(tmp_path, write_manifest):
    rec = _recipe(tmp_path, write_manifest, {
        "question_filter": {"model": "vlm", "backend": JUDGE, "options": {"ambiguous_word": "Options"}},
        "canonicalise": {"model": "text-llm", "backend": JUDGE}})
    res = build(recipe=str(rec), out=tmp_path / "out", progress=False)
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    qf = report["curate"]["question_filter"]
    assert report["rows_before_curate"] == qf["rows_in"] > 0
    mc = qf["dropped"].get("question_filter:ambiguous_filter", 0)
    assert mc > 0  # the equation generator's multiple-choice questions list "Options"
    assert res.rows == report["rows"] == qf["rows_in"] - mc == report["curate"]["canonicalise"]["rows_in"]
    kept = pl.read_parquet(out / "data" / "*.parquet")
    assert kept.height == res.rows and not kept["prompt"].map_elements(
        lambda p: "Options" in p[0]["content"], return_dtype=pl.Boolean).any()
    for c in kept["curation"]:
        cur = json.loads(c)
        assert cur["question_filter"]["model"] == "vlm" and cur["canonicalise"]["by"] in ("rules", "llm")
    q = pl.read_parquet(out / "quarantine.parquet")
    assert q.filter(pl.col("stage") == "question_filter").height == mc
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM curation WHERE NOT kept").fetchone()[0] == mc
    assert con.execute("SELECT count(*) FROM samples WHERE status = 'curate_dropped'").fetchone()[0] == mc
    assert "## LLM curation" in (out / "README.md").read_text()
    import datasets

    assert datasets.load_dataset(str(out), split="train").num_rows == res.rows


def test_a_curate_step_needs_a_step(tmp_path, write_manifest):
    rec = _recipe(tmp_path, write_manifest, {"batch_size": 8})
    with pytest.raises(ConfigError, match="needs question_filter and/or canonicalise"):
        load_recipe(rec)
