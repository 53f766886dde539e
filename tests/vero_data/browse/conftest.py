"""A tiny build (two generated sources plus a copy of one, so dedup has work), a filter-like output made from it,
and an eval-like folder: generated once per module, in tmp folders."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

pytest.importorskip("starlette", reason="the browse extra is not installed: pip install -e '.[browse]'")
pytest.importorskip("jinja2", reason="the browse extra is not installed: pip install -e '.[browse]'")


def _manifest(folder, name, **fields):
    p = folder / f"{name}.yaml"
    p.write_text(yaml.safe_dump({"name": name, "license": "apache-2.0",
                                 "filters": {"min_rows": 1, "min_avg_pixels": 0}, **fields}))
    return str(p)


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """54 exported rows in 3 shards; 6 rows of `bars_again` are same-id copies of `bars` rows (dedup, quarantine)."""
    from vero_data.api import build

    d = tmp_path_factory.mktemp("browse-build")
    ms = [_manifest(d, "bars", category="chart_ocr", adapter="generated", target=24,  # a paper-style target
                    source={"generator": {"name": "bar_chart", "n": 24, "seed": 1}}),
          _manifest(d, "shapes", category="knowledge", adapter="generated",
                    source={"generator": {"name": "shape_colour", "n": 30, "seed": 1}}),
          _manifest(d, "bars_again", category="chart_ocr", adapter="generated",
                    source={"generator": {"name": "bar_chart", "n": 6, "seed": 1}})]
    res = build(out=d / "out", manifests=ms, rows_per_shard=20, part_rows=10)
    assert res.rows == 54 and res.report["dedup"]["by_rule"] == {"dup_exact": 6}
    return res.out


@pytest.fixture(scope="session")
def filtered(tiny_build, tmp_path_factory):
    """A `vero data filter`-shaped output: shards with pass_count/k set (k=4, pass count = row number % 5, rows at
    0 or 4 dropped as `vero data filter` does) and the catalog's `difficulty` table."""
    import duckdb
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path_factory.mktemp("browse-filter") / "out"
    (out / "data").mkdir(parents=True)
    shutil.copyfile(tiny_build / "catalog.duckdb", out / "catalog.duckdb")
    diff, n = [], 0
    for shard in sorted((tiny_build / "data").glob("*.parquet")):
        t = pq.read_table(shard)
        pc = [(n + i) % 5 for i in range(t.num_rows)]
        n += t.num_rows
        for name, col in (("pass_count", pa.array(pc, pa.int32())), ("k", pa.array([4] * t.num_rows, pa.int32()))):
            t = t.set_column(t.schema.get_field_index(name), name, col)
        for r, p in zip(t.select(["id", "data_source", "category"]).to_pylist(), pc, strict=True):
            diff.append({**r, "k": 4, "pass_count": p, "kept": 0 < p < 4,
                         "drop_reason": None if 0 < p < 4 else ("all_fail" if p == 0 else "all_pass")})
        pq.write_table(t.filter(pa.array([0 < p < 4 for p in pc])), out / "data" / shard.name, row_group_size=100)
    con = duckdb.connect(str(out / "catalog.duckdb"))
    con.register("d", pl.DataFrame(diff))
    con.execute("CREATE TABLE difficulty AS SELECT * FROM d")
    comps = pl.DataFrame([{"id": d["id"], "idx": i, "text": f"<think>try {i}</think><answer>{i}</answer>",
                           "n_tokens": 9, "finish_reason": "stop", "score": float(i < d["pass_count"]),
                           "accuracy": float(i < d["pass_count"]), "format": 1.0} for d in diff for i in range(4)])
    con.register("c", comps)
    con.execute("CREATE TABLE completions AS SELECT * FROM c")
    con.close()
    (out / "passk_report.json").write_text(json.dumps({"k": 4, "kept": sum(d["kept"] for d in diff)}))
    return out, diff


@pytest.fixture(scope="session")
def eval_run(tmp_path_factory):
    """A `vero eval`-shaped folder: results.json and one benchmark's scored samples (one with a JSON answer)."""
    out = tmp_path_factory.mktemp("browse-eval") / "run"
    (out / "samples").mkdir(parents=True)
    recs = [{"doc_id": f"d{i}", "benchmark": "synth_count", "prompt": f"How many? <{i}>",
             "response": f"<think>count</think><answer>\\boxed{{{i}}}</answer>", "extracted": str(i),
             "target": "3", "score": 1.0 if i == 3 else 0.0, "metrics": {"acc": 1.0 if i == 3 else 0.0}}
            for i in range(30)]
    (out / "samples" / "synth_count.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (out / "results.json").write_text(json.dumps({"veroeval": {"benchmarks": {"synth_count": 3.3}}}))
    return out
