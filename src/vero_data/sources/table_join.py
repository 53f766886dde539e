"""Join a second table onto a source's rows (``adapter_params.join``), for upstreams split over two files.

PopVQA (idoco/PopVQA) is the case: ``questions.csv`` holds the question and its answers, ``entities.csv`` holds the
entity's image path, and the two meet on the subject's Wikidata URI (``s_uri``). A manifest says::

    adapter_params:
      join: {table: entities.csv, on: s_uri, columns: [path, type]}

The side table is read once (from the same hub repo and revision as the rows, or next to a ``files:`` source) into
polars; each batch of rows is matched by one polars left join on its keys, so the cost is one hash join per batch,
not a scan of the side table per row. A row whose key has no match, or that has no key, becomes a ``RowError``
(quarantined with its reason), never a silently dropped row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vero_data.errors import ConfigError, RowError, SourceUnavailableError
from vero_data.manifest import Manifest

log = logging.getLogger(__name__)

BATCH_ROWS = 2048  # rows matched per polars join: large enough to amortise the join, small enough to stream
_POS = "__row_pos__"


@dataclass(frozen=True)
class JoinSpec:
    """``table`` (a file in the hub repo, or a path next to the ``files:`` source), ``on`` (the row's key column),
    ``right_on`` (the table's key column, default ``on``) and ``columns`` (what to bring over; default all)."""

    table: str
    on: str
    right_on: str
    columns: tuple[str, ...] | None

    @classmethod
    def of(cls, manifest: Manifest) -> JoinSpec | None:
        raw = manifest.adapter_params.get("join") if isinstance(manifest.adapter_params, dict) else None
        if raw is None:
            return None
        where = f"{manifest.path or manifest.name}: adapter_params.join"
        if isinstance(raw, dict) and True in raw:  # YAML 1.1 reads a bare `on:` key as the boolean true
            raw = {("on" if k is True else k): v for k, v in raw.items()}
        if not isinstance(raw, dict) or not isinstance(raw.get("table"), str) or not isinstance(raw.get("on"), str):
            raise ConfigError(f"{where} must be a mapping with string 'table' and 'on' (got {raw!r})")
        unknown = sorted(set(raw) - {"table", "on", "right_on", "columns"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known: table, on, right_on, columns")
        cols = raw.get("columns")
        if cols is not None and (not isinstance(cols, list) or not all(isinstance(c, str) for c in cols)):
            raise ConfigError(f"{where}.columns must be a list of column names (got {cols!r})")
        if manifest.source.kind not in ("hub", "files"):
            raise ConfigError(f"{where}: joins apply to hub and files sources, not {manifest.source.kind}")
        return cls(raw["table"], raw["on"], raw.get("right_on") or raw["on"], tuple(cols) if cols else None)


def _read_local_table(path: str):
    import polars as pl

    suffix = Path(path).suffix.lower()
    readers = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".jsonl": pl.read_ndjson, ".json": pl.read_json}
    if suffix not in readers:
        raise ConfigError(f"join table {path}: unsupported format {suffix or '(none)'}; use csv, parquet, jsonl or json")
    return readers[suffix](path)


def _read_hub_table(manifest: Manifest, table: str):
    from datasets import load_dataset

    from vero_data.hub import require_hub

    h = manifest.source.hub
    require_hub(h.path, f"{manifest.name}: join table {table} of hub dataset {h.path}")
    ds = load_dataset(h.path, data_files=table, split="train", revision=h.revision)
    return ds.to_polars()


def side_table(manifest: Manifest, spec: JoinSpec):
    """The join table as a polars frame with a string key, one row per key (the first of duplicates)."""
    import polars as pl

    try:
        if manifest.source.kind == "hub":
            df = _read_hub_table(manifest, spec.table)
            where = f"{manifest.source.hub.path}:{spec.table}"
        else:
            f = manifest.source.files
            base = Path(f.base_dir) if f.base_dir else (Path(manifest.path).parent if manifest.path else Path.cwd())
            path = spec.table if os.path.isabs(spec.table) else str(base / spec.table)
            df = _read_local_table(path)
            where = path
    except (ConfigError, SourceUnavailableError):
        raise
    except Exception as e:  # datasets / polars raise many types for a missing or malformed table
        msg = str(e).splitlines()[0][:200] if str(e) else ""
        raise SourceUnavailableError(f"{manifest.name}: cannot read join table {spec.table}: {type(e).__name__}"
                                     f"{': ' + msg if msg else ''}") from None
    if spec.right_on not in df.columns:
        raise SourceUnavailableError(f"{manifest.name}: join table {where} has no key column {spec.right_on!r} "
                                     f"(columns: {', '.join(df.columns)})")
    cols = list(spec.columns) if spec.columns else [c for c in df.columns if c != spec.right_on]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SourceUnavailableError(f"{manifest.name}: join table {where} has no column(s) {missing} "
                                     f"(columns: {', '.join(df.columns)})")
    df = df.select(pl.col(spec.right_on).cast(pl.String).alias(_key(spec)), *cols).drop_nulls(_key(spec))
    n = df.height
    df = df.unique(subset=[_key(spec)], keep="first", maintain_order=True)
    if df.height < n:
        log.warning("%s: join table %s repeats %d key(s) of %r; the first row of each is used",
                    manifest.name, where, n - df.height, spec.right_on)
    return df.with_columns(pl.lit(True).alias("__matched__"))


def _key(spec: JoinSpec) -> str:
    return f"__join_key_{spec.right_on}__"


def joined(manifest: Manifest, rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """``rows`` with the join table's columns added (order and indices kept); unmatched rows become RowErrors."""
    spec = JoinSpec.of(manifest)
    if spec is None:
        yield from rows
        return
    table = side_table(manifest, spec)
    batch: list[tuple[int, Any]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            yield from _match(batch, table, spec)
            batch = []
    if batch:
        yield from _match(batch, table, spec)


def _match(batch: list[tuple[int, Any]], table, spec: JoinSpec) -> Iterator[tuple[int, Any]]:
    import polars as pl

    keys = [_row_key(row, spec.on) for _, row in batch]
    left = pl.DataFrame({_POS: list(range(len(batch))), _key(spec): keys}, schema={_POS: pl.Int64, _key(spec): pl.String})
    hits = left.join(table, on=_key(spec), how="left").sort(_POS)
    extra_cols = [c for c in hits.columns if c not in (_POS, _key(spec), "__matched__")]
    for (idx, row), key, hit in zip(batch, keys, hits.iter_rows(named=True), strict=True):
        if isinstance(row, RowError):
            yield idx, row
        elif key is None:
            yield idx, RowError("join_key_missing", f"row has no value in '{spec.on}' to join {spec.table} on",
                                spec.on)
        elif not hit["__matched__"]:
            yield idx, RowError("join_no_match", f"no row of {spec.table} has {spec.right_on} = {key[:120]!r}",
                                spec.on)
        else:
            added = {c: hit[c] for c in extra_cols}
            keep = set(spec.columns or ())  # listed columns win over the row's; unlisted ones never overwrite it
            yield idx, {**added, **{k: v for k, v in row.items() if k not in keep}}


def _row_key(row: Any, on: str) -> str | None:
    if not isinstance(row, dict):
        return None
    v = row.get(on)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return str(v)
