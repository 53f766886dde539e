"""Random access to a few ingested rows (image bytes included) by id, reading only the part files that hold them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from vero_data.layout import BuildDir


class RowStore:
    """Rows of a build's ingest parts, looked up by id via the metadata's (manifest, part) columns."""

    def __init__(self, folder: BuildDir, meta: pl.DataFrame):
        self.folder = folder
        self.where = {i: (m, p) for i, m, p in meta.select("id", "manifest", "part").iter_rows()}

    def rows(self, ids: set[str] | list[str], columns: list[str] | None = None) -> dict[str, dict[str, Any]]:
        by_file: dict[tuple[str, int], set[str]] = defaultdict(set)
        for i in ids:
            if i in self.where:
                by_file[self.where[i]].add(i)
        found: dict[str, dict[str, Any]] = {}
        for (manifest, part), wanted in sorted(by_file.items()):
            path = self.folder.part_file(manifest, "rows", part)
            pf = pq.ParquetFile(path)
            for rg in range(pf.num_row_groups):  # read the id column first, then only the matching row groups
                got = set(pf.read_row_group(rg, columns=["id"]).column(0).to_pylist()) & wanted
                if got:
                    for row in pf.read_row_group(rg, columns=columns).to_pylist():
                        if row["id"] in got:
                            found[row["id"]] = row
        return found

    def images(self, wanted: list[tuple[str, int]]) -> list[bytes]:
        """Image bytes for ``(row id, image index)`` pairs (the dedup pixel check's loader)."""
        rows = self.rows({i for i, _ in wanted}, columns=["id", "images"])
        return [rows[i]["images"][pos]["bytes"] for i, pos in wanted]
