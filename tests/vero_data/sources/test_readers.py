import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vero_data.manifest import Manifest
from vero_data.sources.readers import iter_source


@pytest.mark.parametrize(("start", "stop"), [(0, 10), (95, 105), (240, 260), (700, 900), (0, None), (749, None)])
def test_parquet_parts_seek_by_row_group(tmp_path, start, stop):
    for k in range(3):
        pq.write_table(pa.table({"x": list(range(k * 250, (k + 1) * 250))}), tmp_path / f"f{k}.parquet",
                       row_group_size=100)
    m = Manifest.model_validate({"name": "t", "category": "stem", "adapter": "canonical",
                                 "source": {"files": {"format": "parquet", "globs": [str(tmp_path / "*.parquet")]}}})
    got = [(i, r["x"]) for i, r in iter_source(m, start, stop)]
    assert got == [(i, i) for i in range(start, min(stop or 750, 750))]
