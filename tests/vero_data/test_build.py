"""End-to-end builds on generated sources: HF-loadable output, reconciliation, resume, determinism, mixture."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from vero_data.api import build
from vero_data.errors import VeroError


def _sha(paths) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def two_sources(write_manifest):
    return [
        write_manifest("bars", category="chart_ocr", adapter="generated",
                       source={"generator": {"name": "bar_chart", "n": 24, "seed": 1}}),
        write_manifest("shapes", category="knowledge", adapter="generated",
                       source={"generator": {"name": "shape_colour", "n": 30, "seed": 1}}),
    ]


def test_build_is_loadable_with_datasets(two_sources, tmp_path):
    from datasets import load_dataset

    res = build(out=tmp_path / "o", manifests=[str(p) for p in two_sources], rows_per_shard=20, part_rows=10)
    assert res.report["reconciled"]
    assert len(res.shards) == -(-res.rows // 20)
    ds = load_dataset(str(tmp_path / "o"), split="train")
    assert len(ds) == res.rows > 0
    row = ds[0]
    assert row["images"][0].size[0] > 0 and row["prompt"][0]["content"].startswith("<image>")
    assert set(ds["category"]) == {"chart_ocr", "knowledge"}
    for f in ("quarantine.parquet", "report.json", "report.html", "gallery.html", "catalog.duckdb", "README.md"):
        assert (tmp_path / "o" / f).exists(), f


def test_same_seed_same_shards_and_resume_after_kill(two_sources, tmp_path):
    kw = dict(manifests=[str(p) for p in two_sources], rows_per_shard=16, part_rows=8, seed=3)
    a = build(out=tmp_path / "a", **kw)
    b = build(out=tmp_path / "b", **kw)
    assert _sha(a.shards) == _sha(b.shards)
    # "kill" a build after ingest, lose a part mid-write, then resume
    build(out=tmp_path / "c", stop_after="ingest", **kw)
    part = tmp_path / "c" / ".run" / "ingest" / "bars"
    (part / "part-00001.done").unlink()
    (part / "rows-00001.parquet").unlink()
    with pytest.raises(VeroError, match="--resume"):
        build(out=tmp_path / "c", **kw)
    c = build(out=tmp_path / "c", resume=True, **kw)
    assert _sha(c.shards) == _sha(a.shards)
    # a different seed changes the order
    d = build(out=tmp_path / "d", **{**kw, "seed": 4})
    assert _sha(d.shards) != _sha(a.shards)


def test_resume_refuses_changed_settings(two_sources, tmp_path):
    kw = dict(manifests=[str(p) for p in two_sources], part_rows=8)
    build(out=tmp_path / "a", stop_after="ingest", **kw)
    with pytest.raises(VeroError, match="changed"):
        build(out=tmp_path / "a", resume=True, seed=9, **kw)


def test_uniform_mixture_and_shortfall(write_manifest, tmp_path):
    ms = [
        write_manifest("bars", category="chart_ocr", adapter="generated",
                       source={"generator": {"name": "bar_chart", "n": 30, "seed": 1}}),
        write_manifest("shapes", category="knowledge", adapter="generated",
                       source={"generator": {"name": "shape_colour", "n": 6, "seed": 1}}),
    ]
    res = build(out=tmp_path / "o", manifests=[str(p) for p in ms], total=60)
    cats = {c["category"]: c for c in res.report["categories"]}
    assert cats["chart_ocr"]["quota"] == 10 and cats["chart_ocr"]["exported"] == 10
    assert cats["knowledge"]["exported"] <= 6 and cats["knowledge"]["shortfall"] >= 4
    assert res.report["reconciled"]
    assert sum(s["not_selected"] for s in res.report["sources"]) >= 20


def test_source_filter_quarantines_small_sources(write_manifest, tmp_path):
    m = write_manifest("tiny", category="chart_ocr", adapter="generated", filters={"min_rows": 1000},
                       source={"generator": {"name": "bar_chart", "n": 5, "seed": 1}})
    res = build(out=tmp_path / "o", manifests=[str(m)])
    assert res.rows == 0 and res.report["reconciled"]
    q = pl.read_parquet(tmp_path / "o" / "quarantine.parquet")
    assert set(q["reason"]) == {"source_too_small"} and q.height == 5


def test_catalog_is_queryable(two_sources, tmp_path):
    import duckdb

    build(out=tmp_path / "o", manifests=[str(p) for p in two_sources])
    con = duckdb.connect(str(tmp_path / "o" / "catalog.duckdb"), read_only=True)
    rows = con.sql("SELECT category, subtag, count(*) FROM samples WHERE status = 'exported' GROUP BY ALL").fetchall()
    assert {r[0] for r in rows} == {"chart_ocr", "knowledge"}
    assert con.execute("SELECT count(*) FROM mixture").fetchone()[0] > 0
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert rep["rows"] == con.execute("SELECT count(*) FROM samples WHERE status = 'exported'").fetchone()[0]


def test_unavailable_source_fails_fast_or_is_skipped(write_manifest, two_sources, tmp_path):
    gone = write_manifest("gone", category="stem", source={"unavailable": "no public copy"}, adapter="vqa")
    with pytest.raises(VeroError, match="gone"):
        build(out=tmp_path / "a", manifests=[str(gone), str(two_sources[0])])
    shutil.rmtree(tmp_path / "a", ignore_errors=True)
    res = build(out=tmp_path / "b", manifests=[str(gone), str(two_sources[0])], skip_unavailable=True)
    assert "gone" in res.report["unavailable"] and res.rows > 0


def test_workers_do_not_change_the_output(two_sources, tmp_path):
    kw = dict(manifests=[str(p) for p in two_sources], rows_per_shard=16, part_rows=8)
    one = build(out=tmp_path / "one", **kw)
    two = build(out=tmp_path / "two", workers=2, **kw)
    assert _sha(one.shards) == _sha(two.shards)


def test_verl_format_is_written_beside_the_shards(two_sources, tmp_path):
    res = build(out=tmp_path / "o", manifests=[str(p) for p in two_sources], formats=["parquet", "verl"])
    import pyarrow.parquet as pq

    recs = pq.read_table(tmp_path / "o" / "verl" / "vero_600k_train.verl.parquet").to_pylist()
    assert len(recs) == res.rows
    rec = recs[0]
    assert rec["ability"] in {"chart_ocr", "knowledge_recognition"} and rec["images"]
    image = rec["images"][0]
    path = Path(image["image"] if isinstance(image, dict) else image)
    assert path.is_absolute() and path.is_file() and (tmp_path / "o" / "verl") in path.parents


def test_resume_refuses_edited_local_source_files(write_manifest, tmp_path):
    """A `files:` source cut between a killed run and --resume must not reuse the stale ingested parts."""
    import pyarrow.parquet as pq

    from vero_data.api import generate_to_dir

    generate_to_dir("counting", 20, 1, tmp_path / "src")
    m = write_manifest("counts", category="grounding_counting_search", adapter="canonical",
                       source={"files": {"format": "parquet", "globs": ["src/*.parquet"]}})
    kw = dict(manifests=[str(m)], part_rows=8)
    build(out=tmp_path / "a", stop_after="ingest", **kw)
    build(out=tmp_path / "a", resume=True, stop_after="ingest", **kw)  # untouched files: resumes
    f = next((tmp_path / "src").glob("*.parquet"))
    pq.write_table(pq.read_table(f).slice(0, 10), f)
    with pytest.raises(VeroError, match="local source files"):
        build(out=tmp_path / "a", resume=True, **kw)


def test_cli_exits_1_when_counts_do_not_reconcile(two_sources, tmp_path, monkeypatch):
    """A build whose report does not reconcile is printed, then fails: a lost row is never a silent success."""
    from typer.testing import CliRunner

    import vero_data.api as api
    from vero_data.cli import app

    real = api.build

    def lossy(cfg):
        res = real(cfg)
        res.report["reconciled"] = False
        res.report["sources"][0]["reconciled"] = False
        return res

    monkeypatch.setattr(api, "build", lossy)
    r = CliRunner().invoke(app, ["data", "build", "--manifest", str(two_sources[0]), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "do not reconcile" in r.output and "bars" in r.output, r.output


@pytest.mark.parametrize("part_rows", [8, 100])  # the copies across two parts, and inside one part
def test_same_content_twice_is_one_duplicate_and_the_kept_copy_is_not(write_manifest, tmp_path, part_rows):
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.api import generate_to_dir

    res = generate_to_dir("counting", 8, 1, tmp_path / "gen")
    t = pq.read_table(res["path"])
    (tmp_path / "src").mkdir()
    pq.write_table(pa.concat_tables([t, t]), tmp_path / "src" / "train-00000-of-00001.parquet")
    m = write_manifest("twice", category="grounding_counting_search", adapter="canonical",
                       source={"files": {"format": "parquet", "globs": ["src/*.parquet"]}})
    b = build(out=tmp_path / "o", manifests=[str(m)], part_rows=part_rows)
    assert b.report["dedup"]["removed"] == 8 and b.report["dedup"]["by_rule"].get("dup_exact") == 8
    con = duckdb.connect(str(tmp_path / "o" / "catalog.duckdb"), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM samples GROUP BY ALL").fetchall())
    assert statuses.get("duplicate", 0) == 0 and statuses.get("exported") == 8, statuses


def test_load_dataset_after_a_rebuild_reads_the_new_rows(write_manifest, tmp_path):
    """datasets caches a local folder with a ``configs:`` card under a hash of the card alone: without the card's
    dataset_info (rows, bytes), ``load_dataset(OUT)`` after a rebuild returned the previous build's rows."""
    from datasets import load_dataset

    out = tmp_path / "rebuilt"
    sizes = []
    for n in (6, 9):
        m = write_manifest("bars", category="chart_ocr", adapter="generated",
                           source={"generator": {"name": "bar_chart", "n": n, "seed": 1}})
        res = build(out=out, manifests=[str(m)], overwrite=True)
        sizes.append((res.rows, len(load_dataset(str(out), split="train"))))
    assert sizes[0][0] != sizes[1][0] and all(rows == loaded for rows, loaded in sizes), sizes
