"""Every path of a run folder, in one place: a build, and the files a filter, curation or training run shares with it.

Readers and writers ask :class:`BuildDir` (or the module functions) instead of joining names themselves, so the
layout is written down once::

    OUT/README.md                        dataset card (YAML front matter: configs → data/*.parquet)
    OUT/data/<split>-NNNNN-of-MMMMM.parquet
    OUT/quarantine.parquet               every dropped row: QUARANTINE_SCHEMA
    OUT/catalog.duckdb                   samples, tags, dedup, quarantine, sources, mixture tables
    OUT/report.json, report.html, gallery.html
    OUT/.run/fingerprint                 what a --resume must match
    OUT/.run/markers/<stage>.done        one per finished stage (JSON: its counts)
    OUT/.run/ingest/<manifest>/{rows,meta,quarantine}-NNNNN.parquet, part-NNNNN.done, images-NNNNN.json
    OUT/.run/<stage>/                    a stage's intermediate files (export pass 1, dedup decisions)

`vero data generate` writes the same shard names at the top of its folder; :func:`find_shards` finds both.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import polars as pl

SHARD_PATTERN = re.compile(r"^(?P<split>[a-z]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")
SHARD_TEMPLATE = "<split>-NNNNN-of-MMMMM.parquet"

# Columns every quarantine record has (quarantine.parquet of a build, a filter, a curation or a training run). No
# image bytes: manifest + upstream index identify the row.
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "manifest": pl.String,
    "data_source": pl.String,
    "category": pl.String,
    "upstream_index": pl.Int64,
    "upstream_id": pl.String,
    "stage": pl.String,
    "reason": pl.String,
    "field": pl.String,
    "detail": pl.String,
    "dup_of": pl.String,
    "excerpt": pl.String,
}

PART_KINDS = ("rows", "meta", "quarantine")


def shard_name(split: str, index: int, count: int) -> str:
    """``train-00003-of-00010.parquet``: the HF ``datasets`` shard naming the card's ``configs`` glob matches."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def parse_shard_name(name: str) -> tuple[str, int, int] | None:
    """``(split, index, count)`` of a shard file name, or None for any other file."""
    m = SHARD_PATTERN.match(name)
    return (m["split"], int(m["index"]), int(m["count"])) if m else None


def shard_folder(folder: Path) -> Path:
    """Where ``folder``'s shards are: ``data/`` of a build or filter output, else the folder itself (generate)."""
    return folder / "data" if (folder / "data").is_dir() else folder


def find_shards(folder: Path, split: str | None = None) -> list[Path]:
    """The shards of a build, filter or generate output, in (split, index) order; only shard names count, so a
    ``quarantine.parquet`` or ``completions.parquet`` beside them is never read as rows."""
    found = [(parse_shard_name(p.name), p) for p in shard_folder(folder).glob("*.parquet")]
    return [p for key, p in sorted((k, p) for k, p in found if k and (split is None or k[0] == split))]


SIDE_FILES = frozenset({"quarantine.parquet", "completions.parquet"})  # written beside shards, never rows to read


def find_input_parquet(folder: Path) -> list[Path]:
    """The row files of a folder a command reads (filter, curate, train): its shards (:func:`find_shards`), else —
    a folder vero did not write, say a hub snapshot with ``train-00000-of-00001-<hash>.parquet`` — every Parquet
    file below it but the side files (quarantine, completions)."""
    shards = find_shards(folder)
    if shards:
        return shards
    for pattern in ("data/*.parquet", "*.parquet", "**/*.parquet"):
        files = sorted(p for p in folder.glob(pattern) if p.name not in SIDE_FILES  # never a hidden .run/ part
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        if files:
            return files
    return []


def quarantine_frame(records: list[dict[str, Any]] | pl.DataFrame) -> pl.DataFrame:
    """Quarantine records in :data:`QUARANTINE_SCHEMA` (columns a record lacks are null; extra ones are refused)."""
    df = records if isinstance(records, pl.DataFrame) else pl.DataFrame(
        records, schema={k: v for k, v in QUARANTINE_SCHEMA.items() if not records or k in records[0]})
    extra = set(df.columns) - set(QUARANTINE_SCHEMA)
    if extra:
        raise ValueError(f"quarantine records with unknown columns: {sorted(extra)}")
    return df.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in QUARANTINE_SCHEMA.items()
                           if c not in df.columns).select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA)


def write_quarantine(records: list[dict[str, Any]] | pl.DataFrame, path: Path) -> Path:
    """Write ``records`` as a ``quarantine.parquet`` (atomically: a killed run leaves the old file or the new)."""
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(quarantine_frame(records).to_arrow(), tmp, compression="zstd")
    os.replace(tmp, path)
    return path


class BuildDir:
    """The paths of one build folder (the claimed work folder: OUT, or its partial sibling under --overwrite)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # --- outputs
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def shard(self, split: str, index: int, count: int) -> Path:
        return self.data_dir / shard_name(split, index, count)

    def shards(self, split: str | None = None) -> list[Path]:
        return find_shards(self.root, split)

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine.parquet"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def card(self) -> Path:
        return self.root / "README.md"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def gallery(self) -> Path:
        return self.root / "gallery.html"

    # --- the hidden run state
    @property
    def run_dir(self) -> Path:
        return self.root / ".run"

    @property
    def fingerprint(self) -> Path:
        return self.run_dir / "fingerprint"

    def stage_dir(self, stage: str) -> Path:
        """A stage's intermediate files (``.run/<stage>/``)."""
        return self.run_dir / stage

    def marker(self, stage: str) -> Path:
        return self.run_dir / "markers" / f"{stage}.done"

    def done(self, stage: str) -> bool:
        return self.marker(stage).exists()

    def marker_info(self, stage: str) -> dict[str, Any]:
        return json.loads(self.marker(stage).read_text())

    def mark(self, stage: str, info: dict[str, Any] | None = None) -> None:
        """Record ``stage`` as finished (atomically, after its outputs are in place)."""
        p = self.marker(stage)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(info or {}, sort_keys=True, default=str))
        os.replace(tmp, p)

    def clear_markers(self) -> None:
        """Forget every finished stage (ingested parts keep theirs): what they computed is computed again."""
        for mk in (self.run_dir / "markers").glob("*.done"):
            mk.unlink()

    # --- ingest parts
    def part_dir(self, manifest: str) -> Path:
        return self.run_dir / "ingest" / manifest

    def part_file(self, manifest: str, kind: str, part: int) -> Path:
        """``rows`` (canonical rows with image bytes), ``meta`` (no bytes) or ``quarantine`` file of one part."""
        return self.part_dir(manifest) / f"{kind}-{part:05d}.parquet"

    def part_marker(self, manifest: str, part: int) -> Path:
        return self.part_dir(manifest) / f"part-{part:05d}.done"

    def part_images(self, manifest: str, part: int) -> Path:
        """``[path, size, mtime_ns]`` of every image file a part read: a replaced file makes --resume redo it."""
        return self.part_dir(manifest) / f"images-{part:05d}.json"

    def part_files(self, manifests: list[str], kind: str) -> list[Path]:
        """Every ``kind`` part file of ``manifests``, in manifest then part order (the order rows are exported in)."""
        return [p for m in manifests for p in sorted(self.part_dir(m).glob(f"{kind}-*.parquet"))]


def part_of(path: Path) -> tuple[str, int]:
    """``(manifest, part)`` of an ingest part file."""
    return path.parent.name, int(path.stem.rsplit("-", 1)[1])
