"""Export: selected rows → ``data/<split>-NNNNN-of-MMMMM.parquet`` with images embedded as HF ``Image``.

Two passes keep memory flat in dataset size. Pass 1 reads each ingest part once and writes the part's selected
rows, sorted by (split, shard, position), one row group per shard; pass 2 assembles each shard from exactly its
row groups, sorts by position and writes it with the `huggingface` features metadata (so `datasets` decodes
`images` to PIL) in ~100-row row groups (datasets#5935). Each shard gets a marker, so `--resume` skips it.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from vero_data.errors import RowError, VeroError
from vero_data.layout import BuildDir, parse_shard_name, part_of, write_quarantine
from vero_data.manifest import Manifest
from vero_data.pipeline import BuildContext, Stage
from vero_data.progress import progress_bar
from vero_data.schema import ARROW_SCHEMA, COLUMNS, arrow_schema_with_features

ROW_GROUP_ROWS = 100


def export_shards(folder: BuildDir, cfg, manifests: list[Manifest], mixture: pl.DataFrame,
                  progress: bool | None = None) -> list[Path]:
    """Write every shard of ``mixture`` (id, manifest, part, split, shard, position, n_shards) under ``data/``."""
    data_dir = folder.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    stage_dir = folder.stage_dir("export")
    stage_dir.mkdir(parents=True, exist_ok=True)
    sel = mixture.select("id", "manifest", "part", "split", "shard", "position")
    index: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    index_file = stage_dir / "index.json"
    shard_list = mixture.select("split", "shard", "n_shards").unique().sort(["split", "shard"]).rows()
    expected = [folder.shard(s, k, n) for s, k, n in shard_list]
    pool = None
    if cfg.workers > 1:
        import multiprocessing as mp

        pool = mp.get_context("spawn").Pool(cfg.workers)
    try:
        with progress_bar(progress) as prog:
            if cfg.resume and folder.done("export_pass1") and index_file.exists():
                for k, v in json.loads(index_file.read_text()).items():
                    split, shard = k.rsplit("/", 1)
                    index[(split, int(shard))] = [tuple(x) for x in v]
            else:
                files = folder.part_files([m.name for m in manifests], "rows")
                task = prog.add_task("export: select", total=len(files), rate="")
                jobs = [(f, _part_selection(f, sel), stage_dir) for f in files]
                results = pool.imap(_select_part_job, jobs) if pool else map(_select_part_job, jobs)
                for entries in results:  # in file order: the index (and so each shard) is deterministic
                    for key, loc in entries:
                        index[key].append(loc)
                    prog.advance(task)
                index_file.write_text(json.dumps({f"{s}/{k}": v for (s, k), v in sorted(index.items())}))
                folder.mark("export_pass1", {"files": len(files)})
            task = prog.add_task("export: shards", total=len(shard_list), rate="")
            todo = [(index[(split, shard)], path, stage_dir) for (split, shard, _n), path in zip(shard_list, expected, strict=True)
                    if not (cfg.resume and folder.done(_marker(split, shard)) and path.exists())]
            results = pool.imap(_write_shard_job, todo) if pool else map(_write_shard_job, todo)
            for path, rows in results:
                split, shard, _n = parse_shard_name(path.name)
                folder.mark(_marker(split, shard), {"rows": rows})
                prog.advance(task)
    finally:
        if pool:
            pool.close()
            pool.join()
    # a previous run with another shard count may have left files: remove what is not part of this build
    for stale in set(data_dir.glob("*.parquet")) - set(expected):
        stale.unlink()
    # every shard is written: pass-1 files are a second copy of the dataset, free the disk (markers stay)
    for f in stage_dir.glob("*.parquet"):
        f.unlink()
    return expected


def _marker(split: str, shard: int) -> str:
    return f"export_{split}_{shard:05d}"


def _part_selection(rows_file: Path, sel: pl.DataFrame) -> pl.DataFrame:
    manifest, part = part_of(rows_file)
    return sel.filter((pl.col("manifest") == manifest) & (pl.col("part") == part)).drop("manifest", "part")


def _select_part_job(job) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """Pass 1 for one ingest part: its selected rows, sorted, one row group per (split, shard).

    Byte-heavy columns stay in Arrow (one `take`, zero-copy slices); only the small id/position columns go
    through polars.
    """
    rows_file, hit, stage_dir = job
    if hit.height == 0:
        return []
    table = _selected_row_groups(rows_file, hit)
    ids = pl.from_arrow(table.column("id")).alias("id").to_frame().with_row_index("_row")
    order = ids.join(hit, on="id", how="inner").sort(["split", "shard", "position"])
    picked = table.take(pa.array(order["_row"].to_numpy()))
    picked = picked.append_column("position", pa.array(order["position"].to_numpy()))
    out = stage_dir / f"{rows_file.parent.name}--{rows_file.stem}.parquet"
    tmp = out.with_suffix(".tmp")
    entries = []
    keys = order.select("split", "shard").with_row_index("_i")
    bounds = keys.group_by(["split", "shard"], maintain_order=True).agg(pl.col("_i").min().alias("a"),
                                                                        pl.len().alias("n"))
    with pq.ParquetWriter(tmp, picked.schema, compression="none", use_dictionary=False) as w:
        for rg, (split, shard, a, n) in enumerate(bounds.iter_rows()):
            w.write_table(picked.slice(a, n))
            entries.append(((split, int(shard)), (out.name, rg)))
    os.replace(tmp, out)
    return entries


def _selected_row_groups(rows_file: Path, hit: pl.DataFrame) -> pa.Table:
    """The row groups of an ingest part that hold a selected row (the id column is read first): a mixture that
    keeps a tenth of a source reads about a tenth of its image bytes, not the whole part."""
    pf = pq.ParquetFile(rows_file)
    wanted = set(hit["id"].to_list())
    groups = [rg for rg in range(pf.num_row_groups)
              if not wanted.isdisjoint(pf.read_row_group(rg, columns=["id"]).column(0).to_pylist())]
    return pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()


def _write_shard_job(job) -> tuple[Path, int]:
    sources, path, stage_dir = job
    return path, _write_shard(sources, path, stage_dir, arrow_schema_with_features())


def _shard_write_options(schema: pa.Schema) -> dict:
    """zstd for text columns; image bytes are already compressed and unique, so no codec and no dictionary."""
    leaves = [p for f in schema for p in _leaf_paths(f, f.name)]
    blobs = {p for p in leaves if p.startswith("images.")}
    return {"compression": {p: ("none" if p in blobs else "zstd") for p in leaves},
            "use_dictionary": [p for p in leaves if p not in blobs]}


def _leaf_paths(field: pa.Field, prefix: str) -> list[str]:
    t = field.type
    if pa.types.is_struct(t):
        return [p for c in t for p in _leaf_paths(c, f"{prefix}.{c.name}")]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _leaf_paths(t.value_field, f"{prefix}.list.element")  # parquet's 3-level list naming
    return [prefix]


def _write_shard(sources: list[tuple[str, int]], path: Path, stage_dir: Path, schema: pa.Schema) -> int:
    if sources:
        table = pa.concat_tables([pq.ParquetFile(stage_dir / f).read_row_group(rg) for f, rg in sources])
        order = pa.compute.sort_indices(table.column("position"))
        table = table.take(order).select(list(COLUMNS)).cast(schema)
    else:
        table = schema.empty_table()
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, **_shard_write_options(schema))
    os.replace(tmp, path)
    return table.num_rows


def iter_shard_rows(shards: list[Path], batch_size: int = 100):
    """Canonical rows (dicts, image bytes included) of exported shards, in order, a row group at a time."""
    for s in shards:
        for batch in pq.ParquetFile(s).iter_batches(batch_size=batch_size):
            yield from batch.to_pylist()


def check_shard(path: Path) -> None:
    """Refuse a file that is not readable Parquet with the canonical columns: other tables export as empty records.

    Raises:
        VeroError: naming the shard and what is wrong (unreadable, missing columns, an incompatible column type).
    """
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as e:
        raise VeroError(f"{path}: not a readable Parquet file ({_first_line(e)})") from None
    missing = [c for c in COLUMNS if c not in schema.names]
    if missing:
        found = ", ".join(schema.names[:10]) + (", …" if len(schema.names) > 10 else "")
        raise VeroError(f"{path}: not a vero shard (see docs/schema.md): missing column(s) {', '.join(missing)}; "
                        f"it has {found or 'no columns'}")
    for c in COLUMNS:
        if len(schema.get_all_field_indices(c)) > 1:
            raise VeroError(f"{path}: column {c} appears more than once")
        have, want = schema.field(c).type, ARROW_SCHEMA.field(c).type
        try:
            pa.compute.cast(pa.array([], type=have), want)
        except pa.ArrowException:
            raise VeroError(f"{path}: column {c} has type {have}, expected {want}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def _canonical_rows(path: Path, pos: dict, batch_size: int = 100):
    """Rows of one checked shard cast to the canonical types; ``pos`` names the shard and 1-based row for errors."""
    pos["shard"], pos["row"] = path, 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=list(COLUMNS)):
            for row in batch.cast(ARROW_SCHEMA).to_pylist():
                pos["row"] += 1
                yield row
    except (pa.ArrowException, OSError) as e:  # a corrupt page, a value that does not fit the column
        raise VeroError(f"{path}: unreadable after row {pos['row']} ({_first_line(e)})") from None


def export_verl_dir(shards: list[Path], dest: Path, *, file_format: str = "parquet",
                    image_root: str | os.PathLike | None = None) -> list[Path]:
    """Write exported shards in veRL's layout (one records file per split + image files) under ``dest``.

    Image paths are absolute (``image_root``, default ``dest``, resolved now), so veRL finds them from any working
    directory; grounding/clicking rows carry ``extra_info.image_sizes`` for their verifiers; ``verl_config.yaml``
    holds the veRL settings (data files, keys, Vero's reward with format_score 0.2). Every shard is checked first
    (:func:`check_shard`), so a wrong file fails before anything is written.

    Args:
        shards: canonical shards (``<split>-NNNNN-of-MMMMM.parquet``).
        dest: the export folder.
        file_format: ``parquet`` (what veRL's examples and every verl version read) or ``jsonl``.
        image_root: where ``dest`` will be on the training machine, if it is copied elsewhere.

    Raises:
        VeroError: a shard is not a canonical vero shard, or one of its rows cannot be exported (shard and row named).
    """
    from vero_data.verl import VERL_CONFIG_NAME, export_verl, verl_config

    for s in shards:
        check_shard(s)
    root = Path(dest).resolve() if image_root is None else Path(os.path.abspath(os.path.expanduser(image_root)))
    written = []
    records: dict[str, str] = {}
    by_split: dict[str, list[Path]] = defaultdict(list)
    for s in shards:
        by_split[s.name.removesuffix(".parquet").split("-", 1)[0]].append(s)
    pos: dict = {"shard": None, "row": 0}
    for split, files in sorted(by_split.items()):
        rows = (row for f in files for row in _canonical_rows(f, pos))
        try:
            res = export_verl(rows, dest, split, image_root=root, file_format=file_format, reward_inputs=True)
        except (ValueError, TypeError, KeyError, AttributeError, RowError) as e:  # one row cannot be exported
            raise VeroError(f"{pos['shard']}: row {pos['row']} cannot be exported to veRL: {_first_line(e)}") from None
        except OSError as e:
            raise VeroError(f"cannot write the veRL export under {dest}: {_first_line(e)}") from None
        written.extend(res)
        records[split] = str(root / res[0].name)
    config = Path(dest) / VERL_CONFIG_NAME
    try:
        config.write_text(verl_config(records))
    except OSError as e:
        raise VeroError(f"cannot write the veRL export under {dest}: {_first_line(e)}") from None
    return [*written, config]


class ExportStage(Stage):
    """``mixture`` → the shards under ``data/`` (resumable shard by shard) and ``quarantine.parquet`` with every row
    dropped so far; with ``--format verl`` also the veRL layout under ``verl/``."""

    name = "export"
    inputs = ("mixture",)
    outputs = ("shards", "quarantine")

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        shards = export_shards(ctx.dir, ctx.cfg, ctx.manifests, ctx["mixture"], progress=ctx.cfg.progress)
        quarantine = ctx.quarantine()
        write_quarantine(quarantine, ctx.dir.quarantine)
        if "verl" in ctx.cfg.formats:
            export_verl_dir(shards, ctx.dir.root / "verl")
        return {"shards": shards, "quarantine": quarantine}

    def counts(self, out: dict[str, Any]) -> dict[str, Any]:
        return {"shards": len(out["shards"]), "quarantined": out["quarantine"].height}
