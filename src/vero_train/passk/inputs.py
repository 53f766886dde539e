"""Finding, checking and reading the filter's input shards, and cutting them into the chunks it samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vero_data.chunking import chunk_plan
from vero_data.errors import ConfigError, VeroError
from vero_data.hub import require_hub


@dataclass
class InputShard:
    """One input shard: a Parquet file read a few row groups at a time (so the filter holds about one chunk of a
    600K-row input in memory, not the input), or a table already in memory (a hub dataset's Arrow table)."""

    name: str  # output file name
    table: Any  # pyarrow.Table for an in-memory shard; None for a file
    path: Path | None = None
    _groups: tuple[int, int, Any] | None = field(default=None, repr=False)  # the last row groups read: (first, last, table)

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else self.name


# Columns the filter reads or writes back; `pass_count`/`k` are added when missing.
REQUIRED_COLUMNS = ("id", "data_source", "category", "prompt", "images", "answer", "reward_type", "extra_info",
                    "split", "license", "lineage")


def _check_columns(label: str, names: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ConfigError(f"{label}: not a Vero dataset, missing column(s) {', '.join(missing)} "
                          f"(has: {', '.join(names[:12]) or 'none'})")


def _unreadable(label: str, e: Exception) -> VeroError:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return VeroError(f"{label}: not a readable Parquet file ({first})")


def input_shards(data: str, split: str = "train") -> tuple[list[InputShard], Path | None]:
    """Input shards and the source directory (for its card and catalog), from a path or a hub id."""
    p = Path(data)
    if p.is_file() or p.is_dir():
        if p.is_file():
            shards, src = [InputShard(p.name, None, p)], None
        else:
            from vero_data.layout import find_input_parquet

            files = find_input_parquet(p)  # a build's data/, a `vero data generate` folder, or a foreign snapshot
            if not files:
                raise ConfigError(f"no Parquet shards in {p}/data or {p}")
            shards, src = [InputShard(f.name, None, f) for f in files], p
        import pyarrow as pa
        import pyarrow.parquet as pq

        for sh in shards:  # every shard's footer and columns before any model is loaded
            try:
                names = pq.read_schema(sh.path).names
            except (OSError, ValueError, pa.ArrowException) as e:
                raise _unreadable(sh.label, e) from e
            _check_columns(sh.label, names)
        return shards, src
    if p.is_absolute() or data.startswith("."):
        raise ConfigError(f"{data} does not exist")
    try:
        import datasets
    except ImportError as e:  # pragma: no cover
        raise VeroError("reading a hub dataset needs `datasets`") from e
    require_hub(data, f"dataset {data!r} (no such local path, so a hub id)")
    try:
        ds = datasets.load_dataset(data, split=split)
    except Exception as e:
        raise VeroError(f"cannot load dataset {data!r} (split {split}): {e}") from e
    from vero_data.layout import shard_name

    _check_columns(f"dataset {data} ({split})", ds.column_names)
    return [InputShard(shard_name(split, 0, 1), ds.data.table)], None


def _parquet(shard: InputShard):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(shard.path)
    except (OSError, ValueError, pa.ArrowException) as e:
        raise _unreadable(shard.label, e) from e


def shard_rows(shard: InputShard) -> int:
    """The shard's row count, from the Parquet footer (nothing else is read)."""
    return shard.table.num_rows if shard.table is not None else _parquet(shard).metadata.num_rows


def read_rows(shard: InputShard, start: int, length: int):
    """Rows ``[start, start + length)`` as a pyarrow Table, reading only the row groups that hold them; the last
    row groups read are kept, so consecutive chunks of one row group read it once."""
    import pyarrow as pa

    if shard.table is not None:
        return shard.table.slice(start, length)
    pf = _parquet(shard)
    meta = pf.metadata
    offsets, first, last, at = [], None, None, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if first is None and at + n > start:
            first = g
        if at < start + length:
            last = g
        offsets.append(at)
        at += n
    if first is None or length <= 0:
        return pf.schema_arrow.empty_table().slice(0, 0)
    if shard._groups is None or shard._groups[:2] != (first, last):
        try:
            shard._groups = (first, last, pf.read_row_groups(range(first, last + 1)))
        except (OSError, ValueError, pa.ArrowException) as e:  # a footer can be fine and a page corrupt
            raise _unreadable(shard.label, e) from e
    return shard._groups[2].slice(start - offsets[first], length)


def read_shard(shard: InputShard):
    """The whole shard as a pyarrow Table (read now, not kept: the outputs are written one shard at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if shard.table is not None:
        return shard.table
    shard._groups = None  # its rows are all sampled: free the last chunk's row groups
    try:
        return pq.read_table(shard.path)
    except (OSError, ValueError, pa.ArrowException) as e:  # a footer can be fine and a page corrupt
        raise _unreadable(shard.label, e) from e


def plan_chunks(shards: list[InputShard], batch_size: int, limit: int | None) -> tuple[list[tuple[int, int, int]], int]:
    """The shards' chunks (:func:`vero_data.chunking.chunk_plan`), counted from their footers."""
    return chunk_plan((shard_rows(sh) for sh in shards), batch_size, limit)


@dataclass
class Chunk:
    """One chunk of input rows before sampling: which are scorable, which the cache holds, which to sample."""

    index: int
    size: int  # rows in the chunk
    all_rows: dict[str, dict]  # every row of the chunk by id, in input order (quarantined ones too)
    rows: list[dict]  # the scorable rows
    hit: dict[str, list[tuple]]  # row id → its k cached samples
    todo: list[dict]  # scorable rows without cached samples
    mine: bool  # this rank samples the chunk
