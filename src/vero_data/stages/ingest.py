"""Ingest one part of one source: read → adapt → normalise → canonicalise → validate, then write.

A part is ``part_rows`` consecutive upstream rows. Each finished part leaves three files and a marker:
``rows-NNNNN.parquet`` (canonical rows with image bytes), ``meta-NNNNN.parquet`` (no bytes: ids, hashes,
sizes, normalised text, for the global stages), ``quarantine-NNNNN.parquet`` and ``part-NNNNN.done``
(counts, JSON). Files are written under a temporary name and renamed, so a killed run leaves no torn part.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from vero_data.errors import RowError, SourceUnavailableError
from vero_data.executors import run_tasks
from vero_data.image_paths import DEFAULT_MAX_IMAGE_BYTES, ImagePathPolicy, resolve_row_image
from vero_data.layout import QUARANTINE_SCHEMA, BuildDir, quarantine_frame
from vero_data.manifest import Manifest
from vero_data.pipeline import BuildContext, Stage, quarantine_from
from vero_data.schema import ARROW_SCHEMA, COLUMNS, RawSample
from vero_data.stages.base import quarantine_record
from vero_data.stages.canonicalise import CanonicaliseStage
from vero_data.stages.normalise import normalise_sample
from vero_data.stages.validate import ValidateStage

log = logging.getLogger(__name__)

META_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "data_source": pl.String,
    "category": pl.String,
    "reward_type": pl.String,
    "split": pl.String,
    "license": pl.String,
    "manifest": pl.String,
    "upstream_id": pl.String,
    "upstream_index": pl.Int64,
    "question": pl.String,
    "answer": pl.String,
    "n_images": pl.Int32,
    "img_sha": pl.List(pl.String),
    "phash": pl.List(pl.UInt64),
    "dhash": pl.List(pl.UInt64),
    "cphash": pl.List(pl.UInt64),  # content-box pHash (image_match.content_crops)
    "xphash": pl.List(pl.UInt64),  # centre-of-content pHash
    "lossy": pl.List(pl.Boolean),
    "content_pixels": pl.Int64,  # pixels inside the images' content boxes: which copy dedup keeps
    "border_levels": pl.Int8,  # uniform border levels around the content (most of any image): letterbox bars
    "lowvar": pl.List(pl.Boolean),
    "width": pl.List(pl.Int32),
    "height": pl.List(pl.Int32),
    "pixels": pl.Int64,
    "part": pl.Int64,
    "question_norm": pl.String,
    "answer_norm": pl.String,
}


@dataclass
class IngestSettings:
    max_pixels: int
    max_answer_chars: int
    canonicaliser: str = "rules"
    max_question_chars: int = 32_768
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES


def image_policy(manifest: Manifest, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> ImagePathPolicy:
    """The folders a source's rows may name images in: the manifest's, the ``files:`` base_dir and the adapter's
    ``image_root`` (the data file's own folder is added per row). See :mod:`vero_data.image_paths`."""
    manifest_dir = Path(manifest.path).parent if manifest.path else None
    roots: list = [manifest_dir]
    files = getattr(manifest.source, "files", None)
    if files is not None and files.base_dir:
        roots.append(files.base_dir)
    root = manifest.adapter_params.get("image_root") if isinstance(manifest.adapter_params, dict) else None
    if isinstance(root, str) and root:
        roots.append(root)
        if manifest_dir is not None and not os.path.isabs(os.path.expanduser(root)):
            roots.append(manifest_dir / root)
    from vero_data.image_archives import archives_of

    return ImagePathPolicy.for_roots(roots, allow_outside=manifest.allow_absolute_paths, max_bytes=max_bytes,
                                     archives=archives_of(manifest))


@dataclass
class PartResult:
    manifest: str
    part: int
    upstream_rows: int = 0
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    exhausted: bool = False

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def read_marker(path: Path) -> PartResult:
    return PartResult(**json.loads(path.read_text()))


def part_is_stale(folder: BuildDir, manifest: str, part: int) -> str | None:
    """The image file that changed since the part was ingested, or None (also None for parts without a record)."""
    from vero_data.image_paths import files_changed

    try:
        stats = json.loads(folder.part_images(manifest, part).read_text())
    except (OSError, ValueError):
        return None
    return files_changed(stats) if isinstance(stats, list) else None


def _write_parquet_atomic(table: pa.Table, path: Path, row_group_size: int | None = None) -> None:
    tmp = path.with_suffix(".tmp")
    # intermediate files: image bytes are already compressed, so no codec (it only costs time)
    blobs = {"images"}  # unique encoded bytes: dictionary encoding would only cost time
    pq.write_table(table, tmp, row_group_size=row_group_size, compression="none",
                   use_dictionary=[c for c in table.column_names if c not in blobs])
    os.replace(tmp, path)


def ingest_part(manifest: Manifest, part: int, part_rows: int, build_dir: BuildDir, settings: IngestSettings
                ) -> PartResult:
    """Process upstream rows ``[part*part_rows, (part+1)*part_rows)`` of one source and write its files."""
    from vero_data.sources import ADAPTERS, AdapterContext, load_plugins
    from vero_data.sources.builtin_adapters import mapped
    from vero_data.sources.readers import FILE_KEY, iter_source

    load_plugins()
    start, stop = part * part_rows, (part + 1) * part_rows
    res = PartResult(manifest.name, part)
    drops: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    adapter = None if not isinstance(manifest.adapter, str) else ADAPTERS.get(manifest.adapter)
    base = {"manifest": manifest.name, "data_source": manifest.source_name, "category": manifest.category}
    manifest_dir = Path(manifest.path).parent if manifest.path else None
    # An explicit `split:` sets every row's split; otherwise the adapter's (canonical rows keep theirs).
    split = manifest.split if "split" in manifest.model_fields_set else None
    policy = image_policy(manifest, settings.max_image_bytes)
    image_files: list[list] = []
    row_policies: dict[str, ImagePathPolicy] = {}  # per data-file folder
    for idx, raw in iter_source(manifest, start, stop):
        res.upstream_rows += 1
        if isinstance(raw, RowError):  # the reader could not parse this row (a bad JSONL line)
            res.read += 1
            drops.append(quarantine_record({**base, "upstream_index": idx}, "read", raw))
            continue
        src_file = raw.pop(FILE_KEY, None) if isinstance(raw, dict) else None
        image_dirs = [d for d in (Path(src_file).parent if src_file else None, manifest_dir) if d is not None]
        folder = str(Path(src_file).parent) if src_file else ""
        if folder not in row_policies:
            row_policies[folder] = ImagePathPolicy.for_roots([*policy.roots, folder or None],
                                                             allow_outside=policy.allow_outside,
                                                             max_bytes=policy.max_bytes, archives=policy.archives)
        row_policy = row_policies[folder]
        ctx = AdapterContext(manifest, idx, dict(manifest.adapter_params))
        samples: list[RawSample] = []
        shown = _mapped_fields(raw, manifest)  # question/answer for the quarantine excerpt of a rejected row
        try:
            out = adapter(raw, ctx) if adapter else mapped(raw, ctx, manifest.adapter)
            for s in [out] if isinstance(out, RawSample) else out:
                if isinstance(s, RowError):  # a multi-sample adapter reports one bad turn without losing the rest
                    res.read += 1
                    drops.append(quarantine_record({**base, "upstream_index": idx}, "adapt", s))
                else:
                    samples.append(s)
        except RowError as e:
            res.read += 1
            drops.append(quarantine_record({**base, "upstream_index": idx, **shown}, "adapt", e))
        except Exception as e:  # an adapter bug must not kill the build: quarantine with the exception
            res.read += 1
            err = RowError("adapter_error", f"{type(e).__name__}: {e}")
            drops.append(quarantine_record({**base, "upstream_index": idx, **shown}, "adapt", err))
        for s in samples:
            res.read += 1
            if s.reward_type is None or s.reward_type == "":
                s.reward_type = manifest.reward_type or ""
            if split is not None:
                s.split = split
            where = {**base, "upstream_index": idx, "upstream_id": s.upstream_id,
                     "question": s.question if isinstance(s.question, str) else None}
            try:
                if isinstance(s, RawSample):
                    s.images = [resolve_row_image(im, image_dirs, row_policy, image_files) for im in (s.images or [])]
                row = normalise_sample(
                    s, data_source=manifest.source_name, category=manifest.category, license=manifest.license,
                    manifest=manifest.name, manifest_version=manifest.version, upstream_index=idx,
                )
            except RowError as e:
                drops.append(quarantine_record(where, "normalise", e))
                continue
            except Exception as e:  # an odd value an adapter let through (say bytes as the answer): quarantine it
                drops.append(quarantine_record(where, "normalise", RowError("normalise_error",
                                                                            f"{type(e).__name__}: {e}")))
                continue
            rows.append(row)
    res.exhausted = res.upstream_rows < part_rows
    validate = ValidateStage(settings.max_pixels, settings.max_answer_chars, settings.max_question_chars)
    d1: list[dict[str, Any]] = []
    if manifest.canonicalise:
        rows, d1 = CanonicaliseStage(settings.canonicaliser).process_rows(rows)
    rows, d2 = validate.process_rows(rows)
    drops += d1 + d2
    # Two upstream rows may normalise to the same content (same id) inside one part: keep the first.
    seen: set[str] = set()
    unique = []
    for r in rows:
        if r["id"] in seen:
            drops.append(quarantine_record(r, "dedup", reason="dup_exact", detail="same content (same id) as an "
                                           "earlier row", dup_of=r["id"]))
            continue
        seen.add(r["id"])
        unique.append(r)
    rows = unique
    res.kept = len(rows)
    res.dropped = dict(sorted(Counter(d["reason"] for d in drops).items()))
    _write_part(build_dir, manifest.name, part, rows, drops)
    if image_files:
        side = build_dir.part_images(manifest.name, part)
        tmp = side.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted({tuple(f) for f in image_files})))
        os.replace(tmp, side)
    marker = build_dir.part_marker(manifest.name, part)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(res.to_json())
    os.replace(tmp, marker)
    return res


def _mapped_fields(raw: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    """The upstream question and answer of a row, when a column mapping says where they are (else {})."""
    from vero_data.sources.builtin_adapters import get_path

    if isinstance(manifest.adapter, str):
        return {}
    return {"question": get_path(raw, manifest.adapter.question), "answer": get_path(raw, manifest.adapter.answer)}


# Rows per row group of an ingested part. Dedup reads the images of scattered rows (the candidates of a pixel check),
# and a read costs its whole row group: at 10 rows a batch of 128 scattered images reads 3.6x faster than at 100
# (9,200-row planted set), while export still reads the parts in order.
ROWS_GROUP = 10


def _write_part(folder: BuildDir, manifest: str, part: int, rows: list[dict[str, Any]], drops: list[dict]) -> None:
    folder.part_dir(manifest).mkdir(parents=True, exist_ok=True)
    canonical = pa.Table.from_pylist([{c: r[c] for c in COLUMNS} for r in rows], schema=ARROW_SCHEMA)
    _write_parquet_atomic(canonical, folder.part_file(manifest, "rows", part), row_group_size=ROWS_GROUP)
    meta = pl.DataFrame(
        [
            {
                "id": r["id"],
                "data_source": r["data_source"],
                "category": r["category"],
                "reward_type": r["reward_type"],
                "split": r["split"],
                "license": r["license"],
                "manifest": r["lineage"]["manifest"],
                "upstream_id": r["lineage"]["upstream_id"],
                "upstream_index": r["lineage"]["upstream_index"],
                "question": r["_question_text"][:2000],
                "answer": r["answer"][:2000],
                "n_images": len(r["images"]),
                "img_sha": r["_img_sha"],
                "phash": r["_phash"],
                "dhash": r["_dhash"],
                "cphash": r["_cphash"],
                "xphash": r["_xphash"],
                "lossy": r["_lossy"],
                "content_pixels": r["_content_pixels"],
                "border_levels": r["_border_levels"],
                "lowvar": r["_lowvar"],
                "width": r["_width"],
                "height": r["_height"],
                "pixels": r["_pixels"],
                "part": part,
                "question_norm": r["_question"],
                "answer_norm": r["_answer_norm"],
            }
            for r in rows
        ],
        schema=META_SCHEMA,
    )
    _write_parquet_atomic(meta.to_arrow(), folder.part_file(manifest, "meta", part))
    _write_parquet_atomic(quarantine_frame(drops).to_arrow(), folder.part_file(manifest, "quarantine", part))


# ------------------------------------------------------------------------------------------------ the build stage
def ingest_task(args: tuple) -> PartResult | SourceUnavailableError:
    """One part as a picklable task (process pool, Ray): its result, or the error saying the source is unreadable."""
    manifest, part, part_rows, folder, settings = args
    try:
        return ingest_part(manifest, part, part_rows, folder, settings)
    except SourceUnavailableError as e:
        return e


class _Parts:
    """Part results of one build: a finished part's marker is read back under --resume unless one of its image
    files changed since (then it is ingested again and the change recorded)."""

    def __init__(self, folder: BuildDir, resume: bool):
        self.folder, self.resume = folder, resume
        self.stale: list[str] = []

    def finished(self, manifest: str, part: int) -> PartResult | None:
        mk = self.folder.part_marker(manifest, part)
        if not (self.resume and mk.exists()):
            return None
        changed = part_is_stale(self.folder, manifest, part)
        if changed is not None:
            self.stale.append(f"{manifest} part {part}: {changed}")
            return None
        return read_marker(mk)


def run_ingest(cfg, folder: BuildDir, manifests: list[Manifest], settings: IngestSettings
               ) -> tuple[dict[str, list[PartResult]], dict[str, str], list[str]]:
    """Ingest every part of every source on ``cfg.executor``: per-source part results (in part order), the sources
    that could not be read, and the parts redone because their image files changed."""
    from vero_data.progress import progress_bar
    from vero_data.sources.readers import known_length

    results: dict[str, list[PartResult]] = defaultdict(list)
    unavailable: dict[str, str] = {}
    parts = _Parts(folder, cfg.resume)
    tasks, streams = [], []
    for m in manifests:
        if m.source.kind == "unavailable":
            unavailable[m.name] = (f"{m.name}: no public copy is known ({m.source.unavailable}); use the released "
                                   "Vero-600K (`source: {vero600k: ...}`) for this source")
            continue
        try:
            n = known_length(m)
        except SourceUnavailableError as e:
            unavailable[m.name] = str(e)
            continue
        if n is None:  # a stream: parts in sequence until it ends
            streams.append(m)
            continue
        for part in range(max(1, math.ceil(n / cfg.part_rows))):
            done = parts.finished(m.name, part)
            if done is not None:
                results[m.name].append(done)
            else:
                tasks.append((m, part, cfg.part_rows, folder, settings))
    with progress_bar(cfg.progress) as prog:
        bar = prog.add_task("ingest parts", total=len(tasks) + len(streams), rate="")
        t0, rows_done = time.perf_counter(), 0

        def add(r: PartResult | SourceUnavailableError) -> bool:
            """Record one result; False when the source turned out unreadable."""
            nonlocal rows_done
            if isinstance(r, SourceUnavailableError):
                unavailable[str(r).split(":", 1)[0]] = str(r)
                return False
            results[r.manifest].append(r)
            rows_done += r.read
            return True

        # a local Ray cluster gets every core unless --workers says otherwise; `local` keeps --workers as given
        workers = (cfg.workers if cfg.workers > 1 else (os.cpu_count() or 1)) if cfg.executor == "ray" else cfg.workers
        for r in run_tasks(tasks, ingest_task, executor=cfg.executor, workers=workers, ray_address=cfg.ray_address):
            add(r)
            prog.update(bar, advance=1, rate=f"{rows_done / max(time.perf_counter() - t0, 1e-9):,.0f} rows/s")
        for m in streams:
            part = 0
            while True:
                r = parts.finished(m.name, part) or ingest_task((m, part, cfg.part_rows, folder, settings))
                if not add(r) or r.exhausted:
                    break
                part += 1
            prog.update(bar, advance=1)
    for v in results.values():
        v.sort(key=lambda r: r.part)
    return dict(results), unavailable, parts.stale


def read_part_frames(folder: BuildDir, kind: str, manifests: list[Manifest], schema: dict) -> pl.DataFrame:
    """Every part's ``meta`` or ``quarantine`` file of ``manifests`` as one frame (in manifest, part order)."""
    files = folder.part_files([m.name for m in manifests], kind)
    if not files:
        return pl.DataFrame(schema=schema)
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")


class IngestStage(Stage):
    """Every source's parts (parallel, resumable part by part) → ``meta`` (ranked in manifest, upstream order) and
    ``kept``; the parts' dropped rows and copies sharing an id across parts go to quarantine."""

    name = "ingest"
    outputs = ("parts", "unavailable", "meta", "kept")

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        cfg, recipe = ctx.cfg, ctx.recipe
        settings = IngestSettings(cfg.max_pixels, recipe.filters.max_answer_chars,
                                  max_question_chars=recipe.filters.max_question_chars,
                                  max_image_bytes=cfg.max_image_bytes)
        parts, unavailable, stale = run_ingest(cfg, ctx.dir, ctx.manifests, settings)
        if stale:  # what was computed from the old images (dedup, shards, report) is computed again
            log.warning("re-ingested %d part(s) whose image files changed since the interrupted build (first: %s)",
                        len(stale), stale[0])
            ctx.dir.clear_markers()
        if unavailable and not cfg.skip_unavailable:
            msg = "\n".join(f"  - {v}" for _, v in sorted(unavailable.items()))
            raise SourceUnavailableError(f"{len(unavailable)} source(s) unavailable (pass --skip-unavailable to "
                                         f"build without them):\n{msg}")
        ctx.manifests = [m for m in ctx.manifests if m.name not in unavailable]
        order = {m.name: i for i, m in enumerate(ctx.manifests)}
        meta = read_part_frames(ctx.dir, "meta", ctx.manifests, META_SCHEMA)
        ctx.drop(read_part_frames(ctx.dir, "quarantine", ctx.manifests, QUARANTINE_SCHEMA))
        meta = meta.with_columns(
            pl.col("manifest").replace_strict(order, return_dtype=pl.Int64).alias("_mo"),
        ).sort(["_mo", "upstream_index", "id"]).with_columns(pl.int_range(pl.len()).alias("rank")).drop("_mo")
        # Identical content in two parts of one source gives one id twice: keep the first, the rest are exact dups.
        dup_ids = meta.filter(pl.col("id").is_duplicated() & (pl.col("rank") != pl.col("rank").min().over("id")))
        ctx.drop(quarantine_from(dup_ids, "dedup", pl.lit("dup_exact"), "same content (same id) as an earlier row",
                                 pl.col("id")))
        # every later stage (filters, mixture's part lookup, catalog) sees one row per id
        meta = meta.join(dup_ids.select("id", "manifest", "part"), on=["id", "manifest", "part"], how="anti")
        return {"parts": parts, "unavailable": unavailable, "meta": meta, "kept": meta}

    def counts(self, out: dict[str, Any]) -> dict[str, Any]:
        return {"parts": sum(len(v) for v in out["parts"].values()), "rows": out["meta"].height,
                "unavailable": sorted(out["unavailable"])}
