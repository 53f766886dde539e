"""`vero data filter` end to end with the transformers backend and the tiny model (CPU, a few seconds)."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.sql import load_sql

runner = CliRunner()
FLAGS = ["--pass-at-k", "2", "--backend", "transformers", "--max-tokens", "6", "--batch-size", "2"]


def _run(*args):
    res = runner.invoke(app, ["data", "filter", *FLAGS, *args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def _rows(out):
    return sorted((r["id"], r["pass_count"], r["k"]) for f in sorted((out / "data").glob("*.parquet"))
                  for r in pq.read_table(f, columns=["id", "pass_count", "k"]).to_pylist())


def test_keep_all_annotates_every_row(tiny_model_dir, filter_input, tmp_path):
    out = tmp_path / "out"
    res = _run("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(out), "--keep-all",
               "--save-completions")
    rows = _rows(out)
    assert len(rows) == 6 and all(k == 2 and 0 <= p <= 2 for _, p, k in rows)
    # the random tiny model solves nothing: the summary says so and names the warmed model
    assert ("no row was solved" in res.output) == all(p == 0 for _, p, _ in rows)
    assert "tiny-warm" not in res.output  # a model path: no advice about the tiny aliases
    from datasets import load_dataset  # the shards stay HF-loadable, images decoded

    ds = load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == 6 and ds[0]["images"][0].size[0] > 0
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM difficulty").fetchone()[0] == 6
    assert con.execute("SELECT count(*) FROM completions").fetchone()[0] == 12
    hist = con.execute(load_sql("difficulty")).fetchall()
    assert sum(r[2] for r in hist) == 6
    report = json.loads((out / "passk_report.json").read_text())
    assert report["rows_in"] == 6 and report["tokens"] > 0
    assert "pass@2 filter" in (out / "README.md").read_text()


@pytest.mark.parametrize(("lo", "hi"), [(0, 0), (1, 1)])
def test_bounds_respected_and_drops_quarantined(tiny_model_dir, filter_input, tmp_path, lo, hi):
    out = tmp_path / "out"
    _run("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(out),
         "--min-pass", str(lo), "--max-pass", str(hi), "--limit", "4")
    kept = _rows(out)
    assert all(lo <= p <= hi for _, p, _ in kept)
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    n, n_kept = con.execute("SELECT count(*), count(*) FILTER (kept) FROM difficulty").fetchone()
    assert n == 4 and n_kept == len(kept)
    dropped = pq.read_table(out / "quarantine.parquet").num_rows if (out / "quarantine.parquet").exists() else 0
    assert dropped + len(kept) == 4


def test_resume_after_interrupt_gives_same_result(tiny_model_dir, filter_input, tmp_path, monkeypatch):
    from vero_train.models.backends import hf

    ref = tmp_path / "ref"
    _run("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(ref), "--keep-all",
         "--save-completions")

    real = hf.TransformersBackend.generate
    calls = {"n": 0}

    def dies_on_second_chunk(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(hf.TransformersBackend, "generate", dies_on_second_chunk)
    out = tmp_path / "out"
    args = ["--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(out), "--keep-all",
            "--save-completions", "--json"]
    res = runner.invoke(app, ["data", "filter", *FLAGS, *args])
    assert res.exit_code != 0 and not (out / "data").exists()
    monkeypatch.setattr(hf.TransformersBackend, "generate", real)
    res = _run(*args)
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["cached_rows"] == 2 and summary["generated_rows"] == 4
    assert _rows(out) == _rows(ref)
    a = pq.read_table(ref / "completions.parquet").sort_by([("id", "ascending"), ("idx", "ascending")])
    b = pq.read_table(out / "completions.parquet").sort_by([("id", "ascending"), ("idx", "ascending")])
    assert a.column("text").to_pylist() == b.column("text").to_pylist()
    # a third run generates nothing
    again = json.loads(_run(*args).stdout.strip().splitlines()[-1])
    assert again["generated_rows"] == 0 and again["cached_rows"] == 6


def test_bad_bounds_is_one_red_line(filter_input, tmp_path):
    res = runner.invoke(app, ["data", "filter", "--pass-at-k", "4", "--min-pass", "3", "--max-pass", "2",
                              "--data", str(filter_input), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "min-pass" in res.output


def test_nothing_solved_by_the_random_tiny_alias_names_tiny_warm(capsys, tmp_path):
    from vero_train.cli_filter import _print_result
    from vero_train.passk import FilterResult

    res = FilterResult(out=tmp_path, rows_in=3, rows_kept=0, k=2, histogram={0: 3, 1: 0, 2: 0},
                       by_category={"stem": {0: 3}}, dropped={"never_solved": 3}, cached_rows=0, generated_rows=3,
                       tokens=30, wall_seconds=1.0, gen_seconds=0.5, load_seconds=0.1, shards=[])
    _print_result(res, model="tiny")
    assert "tiny-warm" in capsys.readouterr().out
    _print_result(res, model="Qwen/Qwen3-VL-8B-Instruct")
    out = capsys.readouterr().out
    assert "no row was solved" in out and "tiny-warm" not in out


def test_card_describes_the_filtered_rows_and_push_takes_the_output(tiny_model_dir, filter_input, tmp_path):
    """The card is rewritten for OUT (its row and shard counts, links only to files it has); a Hub push plan of a
    filter output holds the dataset, not the pass@k cache (`.passk-cache/`, which the Hub client would accept)."""
    import re

    from vero_data.push import plan_push

    out = tmp_path / "out"
    _run("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(out), "--keep-all", "--limit", "4")
    card = (out / "README.md").read_text()
    n_rows = len(_rows(out))
    assert f"num_examples: {n_rows}" in card
    for name in re.findall(r"\b([\w.-]+\.(?:json|html|parquet))\b", card.split("---", 2)[2]):
        assert (out / name).is_file() or list((out / "data").glob(name)), f"the card names {name}, not in OUT"
    assert any((out / ".passk-cache").glob("passk-rank*.sqlite")) and not (out / ".cache").exists()
    plan = plan_push(out, "me/filtered")
    sent = [f for f, _ in plan.files]
    assert "README.md" in sent and "passk_report.json" in sent and all(f.startswith("data/") for f in sent
                                                                        if f.endswith(".parquet") and "/" in f)
    assert not [f for f in sent if ".passk-cache" in f or f.endswith(".duckdb")]
