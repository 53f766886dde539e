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

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from vero_data.manifest import Manifest
from vero_data.progress import progress_bar
from vero_data.schema import COLUMNS, arrow_schema_with_features
from vero_data.stages.ingest import part_dir

ROW_GROUP_ROWS = 100


def shard_name(split: str, shard: int, n_shards: int) -> str:
    return f"{split}-{shard:05d}-of-{n_shards:05d}.parquet"


def export_shards(run, cfg, manifests: list[Manifest], mixture: pl.DataFrame, progress: bool | None = None
                  ) -> list[Path]:
    """Write every shard of ``mixture`` (id, split, shard, position, n_shards) under ``cfg.out/data``."""
    data_dir = cfg.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    stage_dir = run.dir / "export"
    stage_dir.mkdir(parents=True, exist_ok=True)
    sel = mixture.select("id", "manifest", "part", "split", "shard", "position")
    index: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    index_file = stage_dir / "index.json"
    shard_list = mixture.select("split", "shard", "n_shards").unique().sort(["split", "shard"]).rows()
    expected = [data_dir / shard_name(s, k, n) for s, k, n in shard_list]
    with progress_bar(progress) as prog:
        if cfg.resume and run.done("export_pass1") and index_file.exists():
            for k, v in json.loads(index_file.read_text()).items():
                split, shard = k.rsplit("/", 1)
                index[(split, int(shard))] = [tuple(x) for x in v]
        else:
            files = [p for m in manifests for p in sorted(part_dir(run.dir, m.name).glob("rows-*.parquet"))]
            task = prog.add_task("export: select", total=len(files), rate="")
            for f in files:
                _select_part(f, sel, stage_dir, index)
                prog.advance(task)
            index_file.write_text(json.dumps({f"{s}/{k}": v for (s, k), v in sorted(index.items())}))
            run.mark("export_pass1", {"files": len(files)})
        task = prog.add_task("export: shards", total=len(shard_list), rate="")
        schema = arrow_schema_with_features()
        for (split, shard, n), path in zip(shard_list, expected, strict=True):
            marker = f"export_{split}_{shard:05d}"
            if not (cfg.resume and run.done(marker) and path.exists()):
                rows = _write_shard(index[(split, shard)], path, schema)
                run.mark(marker, {"rows": rows})
            prog.advance(task)
    # a previous run with another shard count may have left files: remove what is not part of this build
    for stale in set(data_dir.glob("*.parquet")) - set(expected):
        stale.unlink()
    return expected


def _select_part(rows_file: Path, sel: pl.DataFrame, stage_dir: Path, index) -> None:
    part = int(rows_file.stem.rsplit("-", 1)[1])
    hit = sel.filter((pl.col("manifest") == rows_file.parent.name) & (pl.col("part") == part)).drop("manifest", "part")
    if hit.height == 0:
        return
    pf = pq.ParquetFile(rows_file)
    table = pl.from_arrow(pf.read()).join(hit, on="id", how="inner").sort(["split", "shard", "position"])
    out = stage_dir / f"{rows_file.parent.name}--{rows_file.stem}.parquet"
    tmp = out.with_suffix(".tmp")
    rg = 0
    with pq.ParquetWriter(tmp, table.to_arrow().schema, compression="zstd") as w:
        for (split, shard), grp in table.group_by(["split", "shard"], maintain_order=True):
            w.write_table(grp.to_arrow())
            index[(split, int(shard))].append((out.name, rg))
            rg += 1
    os.replace(tmp, out)


def _write_shard(sources: list[tuple[str, int]], path: Path, schema: pa.Schema) -> int:
    stage_dir = path.parent.parent / ".run" / "export"
    frames = [pl.from_arrow(pq.ParquetFile(stage_dir / f).read_row_group(rg)) for f, rg in sources]
    df = pl.concat(frames, how="vertical_relaxed").sort("position") if frames else pl.DataFrame()
    table = df.select(COLUMNS).to_arrow().cast(schema) if frames else schema.empty_table()
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    os.replace(tmp, path)
    return table.num_rows


def iter_shard_rows(shards: list[Path], batch_size: int = 100):
    """Canonical rows (dicts, image bytes included) of exported shards, in order, a row group at a time."""
    for s in shards:
        for batch in pq.ParquetFile(s).iter_batches(batch_size=batch_size):
            yield from batch.to_pylist()


def export_verl_dir(out: Path, shards: list[Path]) -> list[Path]:
    """Also write Vero's veRL layout (JSONL + image files) under ``out/verl`` (see vero_data.verl)."""
    from vero_data.verl import export_verl

    written = []
    by_split: dict[str, list[Path]] = defaultdict(list)
    for s in shards:
        by_split[s.name.split("-", 1)[0]].append(s)
    for split, files in sorted(by_split.items()):
        res = export_verl(iter_shard_rows(files), out / "verl", split)
        written.extend(res if isinstance(res, list) else [res])
    return written
