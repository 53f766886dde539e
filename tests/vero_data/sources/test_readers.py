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


def test_every_source_kind_has_a_reader():
    from vero_data.manifest import SOURCE_KINDS
    from vero_data.sources.readers import SOURCE_READERS

    assert SOURCE_READERS.names() == sorted(SOURCE_KINDS)


def test_unavailable_source_fails_on_first_row_naming_the_release():
    from vero_data.errors import SourceUnavailableError

    m = Manifest.model_validate({"name": "gone", "category": "stem", "source": {"unavailable": "private"}})
    rows = iter_source(m)  # nothing is read until the first row is asked for
    with pytest.raises(SourceUnavailableError, match=r"gone: no public copy is known \(private\).*vero600k"):
        next(rows)
