"""`vero data export` on files that are not canonical vero shards: one line naming the shard, nothing half-written."""

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.helpers import png_bytes
from vero_data.errors import VeroError
from vero_data.schema import ARROW_SCHEMA, dumps_extra
from vero_data.stages.export import export_verl_dir


def _row(i, image=None):
    return {"id": f"id{i}", "data_source": "src", "category": "grounding_counting_search",
            "prompt": [{"role": "user", "content": f"<image>\nHow many dogs? ({i})"}],
            "images": [image or {"bytes": png_bytes(Image.new("RGB", (8, 8), (i, 0, 0))), "path": f"{i}.png"}],
            "answer": str(i), "reward_type": "counting", "extra_info": dumps_extra({"question": "How many dogs?"}),
            "split": "train", "license": "x",
            "lineage": {"manifest": "m", "manifest_version": "1", "upstream_id": str(i), "upstream_index": i},
            "pass_count": None, "k": None}


def _shard(tmp_path, table=None, raw=None, name="train-00000-of-00001.parquet"):
    data = tmp_path / "build" / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / name
    if raw is not None:
        path.write_bytes(raw)
    else:
        pq.write_table(table, path)
    return path


def test_canonical_shard_exports(tmp_path):
    shard = _shard(tmp_path, pa.Table.from_pylist([_row(1), _row(2)], schema=ARROW_SCHEMA))
    export_verl_dir([shard], tmp_path / "out", file_format="jsonl")
    recs = [json.loads(x) for x in (tmp_path / "out" / "vero_600k_train.verl.jsonl").read_text().splitlines()]
    assert [r["reward_model"]["ground_truth"] for r in recs] == ["1", "2"]
    assert recs[0]["prompt"][0]["content"].startswith("<image>") and len(recs[0]["images"]) == 1


def test_arbitrary_columns_are_refused_naming_shard_and_missing_columns(tmp_path):
    shard = _shard(tmp_path, pa.table({"q": ["how many?"], "a": ["3"], "image": [b"x"]}))
    with pytest.raises(VeroError, match=r"train-00000-of-00001\.parquet: not a vero shard .*missing column\(s\) "
                                        r"id, data_source, category, prompt.*; it has q, a, image"):
        export_verl_dir([shard], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_a_missing_canonical_column_is_named(tmp_path):
    shard = _shard(tmp_path, pa.Table.from_pylist([_row(1)], schema=ARROW_SCHEMA).drop_columns(["answer"]))
    with pytest.raises(VeroError, match=r"missing column\(s\) answer;"):
        export_verl_dir([shard], tmp_path / "out")


def test_incompatible_column_type_is_named(tmp_path):
    t = pa.Table.from_pylist([_row(1)], schema=ARROW_SCHEMA)
    t = t.set_column(t.schema.get_field_index("prompt"), "prompt", pa.array(["just a string"]))
    shard = _shard(tmp_path, t)
    with pytest.raises(VeroError, match=r"column prompt has type string, expected list<"):
        export_verl_dir([shard], tmp_path / "out")


def test_corrupt_shard_is_one_line_naming_it(tmp_path):
    good = _shard(tmp_path, pa.Table.from_pylist([_row(1)], schema=ARROW_SCHEMA))
    bad = _shard(tmp_path, raw=b"junk!", name="train-00001-of-00002.parquet")
    with pytest.raises(VeroError, match=r"train-00001-of-00002\.parquet: not a readable Parquet file"):
        export_verl_dir([good, bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_row_that_cannot_be_exported_names_shard_and_row_and_leaves_no_jsonl(tmp_path):
    rows = [_row(1), _row(2, image={"bytes": None, "path": str(tmp_path / "gone.png")})]
    shard = _shard(tmp_path, pa.Table.from_pylist(rows, schema=ARROW_SCHEMA))
    with pytest.raises(VeroError, match=r"train-00000-of-00001\.parquet: row 2 cannot be exported to veRL: image has"):
        export_verl_dir([shard], tmp_path / "out")
    assert not list((tmp_path / "out").glob("vero_600k_*"))  # no truncated file that looks like a finished export


def test_cli_prints_one_line_and_exits_1(tmp_path):
    _shard(tmp_path, pa.table({"q": ["how many?"], "a": ["3"]}))
    res = subprocess.run([sys.executable, "-m", "vero_data.cli", "data", "export", "--data", str(tmp_path / "build"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "1000"})
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "not a vero shard" in lines[0] and "missing column(s) id" in lines[0], res.stderr
