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
