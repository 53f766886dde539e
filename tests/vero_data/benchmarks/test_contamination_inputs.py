import pyarrow as pa
import pyarrow.parquet as pq

from vero_data.benchmarks.contamination import iter_training_rows


def test_a_build_directory_is_read_through_its_shards_only(tmp_path):
    for rel, n in (("data/train-00000-of-00001.parquet", 3), (".run/ingest/x/rows-00000.parquet", 5),
                   ("quarantine.parquet", 2)):
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"id": [f"{rel}-{i}" for i in range(n)]}), f)
    ids = [r["id"] for r in iter_training_rows([tmp_path])]
    assert len(ids) == 3 and all(i.startswith("data/") for i in ids)


def test_unreadable_training_files_are_one_line(tmp_path):
    from typer.testing import CliRunner

    from vero_data.cli import app

    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("hello")
    bad_jsonl = tmp_path / "rows.jsonl"
    bad_jsonl.write_text('{"id": 1}\nnot json\n')
    docs = tmp_path / "docs.jsonl"
    docs.write_text("")
    for data, expect in ((not_parquet, "not a readable Parquet file"), (bad_jsonl, "rows.jsonl:2: not JSON"),
                         (tmp_path / "missing", "no such file or folder")):
        r = CliRunner().invoke(app, ["eval", "contamination", "--data", str(data), "--bench-docs", str(docs)])
        assert r.exit_code == 1 and expect in r.output and "Traceback" not in r.output, r.output
