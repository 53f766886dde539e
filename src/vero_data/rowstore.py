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
        # per part file: id → (row group, row within it), read once
        self._row_group: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}

    def _groups(self, key: tuple[str, int], pf: pq.ParquetFile) -> dict[str, tuple[int, int]]:
        if key not in self._row_group:
            index: dict[str, tuple[int, int]] = {}
            for rg in range(pf.num_row_groups):
                ids = pf.read_row_group(rg, columns=["id"]).column(0).to_pylist()
                index.update((i, (rg, k)) for k, i in enumerate(ids))
            self._row_group[key] = index
        return self._row_group[key]

    def rows(self, ids: set[str] | list[str], columns: list[str] | None = None) -> dict[str, dict[str, Any]]:
        by_file: dict[tuple[str, int], set[str]] = defaultdict(set)
        for i in ids:
            if i in self.where:
                by_file[self.where[i]].add(i)
        found: dict[str, dict[str, Any]] = {}
        for key, wanted in sorted(by_file.items()):
            pf = pq.ParquetFile(self.folder.part_file(key[0], "rows", key[1]))
            index = self._groups(key, pf)
            by_group: dict[int, list[int]] = defaultdict(list)
            for i in wanted:
                if i in index:
                    by_group[index[i][0]].append(index[i][1])
            for rg, at in sorted(by_group.items()):  # only the row groups that hold them, only their rows to Python
                for row in pf.read_row_group(rg, columns=columns).take(sorted(at)).to_pylist():
                    found[row["id"]] = row
        return found

    def images(self, wanted: list[tuple[str, int]]) -> list[bytes]:
        """Image bytes for ``(row id, image index)`` pairs (the dedup pixel check's loader)."""
        rows = self.rows({i for i, _ in wanted}, columns=["id", "images"])
        return [rows[i]["images"][pos]["bytes"] for i, pos in wanted]
