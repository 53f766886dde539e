"""The build-folder layout: shard names, finding shards one way, the one quarantine schema."""

from __future__ import annotations

import polars as pl
import pytest

from vero_data.layout import (
    QUARANTINE_SCHEMA,
    BuildDir,
    find_input_parquet,
    find_shards,
    parse_shard_name,
    quarantine_frame,
    shard_name,
    write_quarantine,
)


def _touch(p):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"")
    return p


def test_shard_names_round_trip_and_other_files_are_not_shards():
    assert shard_name("train", 3, 10) == "train-00003-of-00010.parquet"
    assert parse_shard_name("train-00003-of-00010.parquet") == ("train", 3, 10)
    for other in ("quarantine.parquet", "train-3-of-10.parquet", "train-00000-of-00001-abc.parquet", "x.parquet"):
        assert parse_shard_name(other) is None


def test_find_shards_in_a_build_and_in_a_generate_folder(tmp_path):
    build = tmp_path / "b"
    want = [_touch(build / "data" / shard_name(s, i, 2)) for s in ("test", "train") for i in range(2)]
    _touch(build / "data" / "notes.parquet")
    _touch(build / "quarantine.parquet")
    assert find_shards(build) == want
    assert find_shards(build, "train") == want[2:]
    assert BuildDir(build).shards() == want
    gen = tmp_path / "g"
    shard = _touch(gen / shard_name("train", 0, 1))
    _touch(gen / "quarantine.parquet")
    _touch(gen / "completions.parquet")
    assert find_shards(gen) == [shard]


def test_input_parquet_of_a_foreign_folder_skips_side_files_and_run_state(tmp_path):
    snap = tmp_path / "snap"
    hub = _touch(snap / "data" / "train-00000-of-00001-5d2a.parquet")  # a hub snapshot's naming
    _touch(snap / "quarantine.parquet")
    assert find_input_parquet(snap) == [hub]
    empty_build = tmp_path / "b"
    _touch(empty_build / ".run" / "ingest" / "m" / "rows-00000.parquet")
    assert find_input_parquet(empty_build) == []


def test_quarantine_frame_fills_missing_columns_and_refuses_unknown_ones(tmp_path):
    q = quarantine_frame([{"id": "a", "stage": "train", "reason": "bad_image"}])
    assert q.columns == list(QUARANTINE_SCHEMA) and q.row(0, named=True)["manifest"] is None
    assert quarantine_frame([]).schema == pl.Schema(QUARANTINE_SCHEMA)
    with pytest.raises(ValueError, match="unknown columns"):
        quarantine_frame(pl.DataFrame({"id": ["a"], "judge_reason": ["x"]}))
    path = write_quarantine([{"id": "a", "stage": "train", "reason": "r"}], tmp_path / "quarantine.parquet")
    assert pl.read_parquet(path).schema == pl.Schema(QUARANTINE_SCHEMA)
    assert not list(tmp_path.glob("*.tmp"))


def test_build_dir_names_every_part_file(tmp_path):
    d = BuildDir(tmp_path)
    assert d.part_file("m", "rows", 7) == tmp_path / ".run" / "ingest" / "m" / "rows-00007.parquet"
    assert d.part_marker("m", 7).name == "part-00007.done"
    _touch(d.part_file("b", "meta", 1))
    _touch(d.part_file("a", "meta", 0))
    _touch(d.part_file("b", "meta", 0))
    assert [(p.parent.name, p.name) for p in d.part_files(["b", "a"], "meta")] == [
        ("b", "meta-00000.parquet"), ("b", "meta-00001.parquet"), ("a", "meta-00000.parquet")]
    d.mark("dedup", {"removed": 3})
    assert d.done("dedup") and d.marker_info("dedup") == {"removed": 3}
    d.clear_markers()
    assert not d.done("dedup")
