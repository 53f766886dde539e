"""`vero data build`: the whole pipeline, resumable stage by stage.

    ingest (per source part, parallel) → source filters (DuckDB) → dedup → catalog & tags (DuckDB)
    → mixture (DuckDB) → export (Parquet shards + card) → report

Layout of the output directory::

    OUT/README.md                       dataset card (YAML front matter: configs → data/*.parquet)
    OUT/data/<split>-NNNNN-of-MMMMM.parquet
    OUT/quarantine.parquet              every dropped row with manifest, upstream index, stage, reason
    OUT/catalog.duckdb                  samples, tags, dedup, quarantine, sources, mixture tables
    OUT/report.json, OUT/report.html    counts that reconcile, plots, dedup examples, generator gallery
    OUT/.run/                           per-part and per-stage markers, intermediate files (hidden from datasets)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from vero_data.config import BuildConfig
from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_data.manifest import Manifest, Recipe, load_manifest, load_recipe, recipe_manifests
from vero_data.progress import progress_bar
from vero_data.rowstore import RowStore
from vero_data.schema import CATEGORIES
from vero_data.sources.checks import check_manifest
from vero_data.sql import load_sql
from vero_data.stages.base import QUARANTINE_SCHEMA
from vero_data.stages.ingest import (
    META_SCHEMA,
    IngestSettings,
    PartResult,
    ingest_part,
    marker_path,
    part_dir,
    part_is_stale,
    read_marker,
)

log = logging.getLogger(__name__)

@dataclass
class BuildResult:
    out: Path
    shards: list[Path]
    rows: int
    report: dict[str, Any]
    report_html: Path | None = None
    card: Path | None = None
    plan: list[dict[str, Any]] = field(default_factory=list)


def recipe_from_config(cfg: BuildConfig) -> tuple[Recipe, list[Manifest]]:
    if cfg.recipe:
        recipe = load_recipe(cfg.recipe)
        manifests = recipe_manifests(recipe)
    else:
        manifests = [load_manifest(p) for p in cfg.manifests]
        names = [m.name for m in manifests]
        if len(set(names)) != len(names):
            raise ConfigError(f"two manifests share a name: {names}")
        recipe = Recipe(name="custom", manifests=[m.path for m in manifests])
    for m in manifests if not cfg.dry_run else []:  # (a dry run lists these in its plan instead)
        check_manifest(m)  # adapter/generator names and params: fail now, naming the file, not mid-ingest
    _apply_dedup_flags(cfg, recipe)
    if cfg.total is not None:
        recipe.mixture.total = cfg.total
    if cfg.rows_per_shard:
        recipe.rows_per_shard = cfg.rows_per_shard
    if cfg.limit is not None:
        for m in manifests:
            m.max_samples = min(m.max_samples or cfg.limit, cfg.limit)
    return recipe, manifests


def _apply_dedup_flags(cfg: BuildConfig, recipe: Recipe) -> None:
    """``--dedup-config`` (a recipe's ``dedup:`` block, for --manifest builds), then the threshold flags, then
    ``--no-dedup``: flags override files, as everywhere in the CLI."""
    from vero_data.manifest import DedupSettings, load_dedup_settings

    if cfg.dedup_config:
        recipe.dedup = load_dedup_settings(cfg.dedup_config)
    over = {k: getattr(cfg, k) for k in ("phash_threshold", "content_threshold", "match_threshold",
                                         "detail_threshold", "question_threshold") if getattr(cfg, k) is not None}
    if cfg.no_dedup:
        over.update(exact=False, phash=False, questions=False)
    if over:
        try:
            recipe.dedup = DedupSettings.model_validate({**recipe.dedup.model_dump(), **over})
        except ValueError as e:
            bad = ", ".join(f"--{'-'.join(str(x) for x in err['loc']).replace('_', '-')}: {err['msg']}"
                            for err in getattr(e, "errors", lambda: [])())
            raise ConfigError(bad or str(e)) from None


def _local_files(manifests: list[Manifest]) -> dict[str, list]:
    """Per ``files:`` manifest, each file it reads with its size and mtime: a source file edited, cut or replaced
    between a killed run and its --resume must not leave stale ingested parts (make/ninja's rule; no content hash,
    which would mean reading every file at every start)."""
    from vero_data.sources.readers import file_paths

    out: dict[str, list] = {}
    for m in manifests:
        if getattr(m.source, "files", None) is None:
            continue
        try:
            paths = file_paths(m)
        except SourceUnavailableError:
            paths = []  # reported when the source is read
        stats = []
        for p in paths:
            try:
                st = os.stat(p)
                stats.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
            except OSError:
                stats.append([os.path.abspath(p), None, None])
        out[m.name] = stats
    return out


def _fingerprint(cfg: BuildConfig, recipe: Recipe, manifests: list[Manifest]) -> str:
    """What must not change between a killed run and its --resume."""
    from vero_data.images import IMAGE_STORAGE_RULE

    d = {
        "recipe": recipe.model_dump(mode="json"),
        "manifests": [m.model_dump(mode="json") for m in manifests],
        "local_files": _local_files(manifests),
        "seed": cfg.seed,
        "part_rows": cfg.part_rows,
        "max_pixels": cfg.max_pixels,
        "max_image_bytes": cfg.max_image_bytes,
        "image_storage": IMAGE_STORAGE_RULE,  # which images keep their source bytes (vero_data.images)
        "formats": sorted(cfg.formats),
    }
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


class Run:
    """The `.run/` directory: markers per stage, fingerprint of the settings."""

    def __init__(self, out: Path):
        self.out = out
        self.dir = out / ".run"

    def done(self, stage: str) -> bool:
        return (self.dir / "markers" / f"{stage}.done").exists()

    def mark(self, stage: str, info: dict[str, Any] | None = None) -> None:
        p = self.dir / "markers" / f"{stage}.done"
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(info or {}, sort_keys=True, default=str))
        os.replace(tmp, p)


def is_build_output(folder: Path) -> bool:
    """A build folder written before output markers existed (``.run/fingerprint``)."""
    return (folder / ".run" / "fingerprint").is_file()


def prepare_out(cfg: BuildConfig, fingerprint: str) -> Run:
    """Check ``cfg.out`` (the claimed work folder) against the flags: a fresh folder gets the fingerprint, a
    ``--resume`` must match it, anything else that is not empty is refused."""
    from vero_data.outdir import MARKER

    out = cfg.out
    run = Run(out)
    fp_file = run.dir / "fingerprint"
    if out.exists() and any(p.name != MARKER for p in out.iterdir()):
        if cfg.resume:
            if not fp_file.exists():
                raise VeroError(f"{out} exists but is not a vero build (no .run/fingerprint); cannot --resume")
            if fp_file.read_text().strip() != fingerprint:
                raise VeroError(f"{out}: recipe, manifests, their local source files or settings changed since the "
                                "interrupted build; rerun with --overwrite to start over")
            return run
        raise VeroError(f"{out} already exists and is not empty; pass --resume to continue it or --overwrite")
    run.dir.mkdir(parents=True, exist_ok=True)
    fp_file.write_text(fingerprint)
    return run


def build_inputs(manifests: list[Manifest]) -> list[str]:
    """The local paths a build reads (manifests and ``files:`` sources): OUT may not be one nor hold one."""
    paths = [str(m.path) for m in manifests if getattr(m, "path", None)]
    for files in _local_files(manifests).values():
        paths += [f[0] for f in files]
    return paths


# ---------------------------------------------------------------------------------------------------- ingest
def _ingest_task(args):
    manifest, part, part_rows, run_dir, settings = args
    try:
        return ingest_part(manifest, part, part_rows, Path(run_dir), settings)
    except SourceUnavailableError as e:
        return e


def run_ingest(cfg: BuildConfig, run: Run, manifests: list[Manifest], settings: IngestSettings
               ) -> tuple[dict[str, list[PartResult]], dict[str, str]]:
    """Ingest every part of every source; returns per-source part results and unavailable sources."""
    from vero_data.sources.readers import known_length

    results: dict[str, list[PartResult]] = defaultdict(list)
    unavailable: dict[str, str] = {}
    tasks, streams = [], []
    stale: list[str] = []  # parts whose image files changed since the interrupted run
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
        if n is None:
            streams.append(m)
            continue
        for part in range(max(1, math.ceil(n / cfg.part_rows))):
            mk = marker_path(run.dir, m.name, part)
            if cfg.resume and mk.exists() and not _stale(run, m.name, part, stale):
                results[m.name].append(read_marker(mk))
            else:
                tasks.append((m, part, cfg.part_rows, str(run.dir), settings))
    with progress_bar(cfg.progress) as prog:
        t_ing = prog.add_task("ingest parts", total=len(tasks) + len(streams), rate="")
        t0, rows_done = time.perf_counter(), 0

        def _done(r):
            nonlocal rows_done
            if isinstance(r, SourceUnavailableError):
                name = str(r).split(":", 1)[0]
                unavailable[name] = str(r)
            else:
                results[r.manifest].append(r)
                rows_done += r.read
            rate = rows_done / max(time.perf_counter() - t0, 1e-9)
            prog.update(t_ing, advance=1, rate=f"{rate:,.0f} rows/s")

        from vero_data.executors import run_tasks

        # a local Ray cluster gets every core unless --workers says otherwise; `local` keeps --workers as given
        ray_cpus = cfg.workers if cfg.workers > 1 else (os.cpu_count() or 1)
        for r in run_tasks(tasks, _ingest_task, executor=cfg.executor,
                           workers=ray_cpus if cfg.executor == "ray" else cfg.workers, ray_address=cfg.ray_address):
            _done(r)
        for m in streams:  # streamed sources: parts in sequence until the stream ends
            part = 0
            while True:
                mk = marker_path(run.dir, m.name, part)
                if cfg.resume and mk.exists() and not _stale(run, m.name, part, stale):
                    r = read_marker(mk)
                else:
                    r = _ingest_task((m, part, cfg.part_rows, str(run.dir), settings))
                    if isinstance(r, SourceUnavailableError):
                        _done(r)
                        break
                results[m.name].append(r)
                rows_done += r.read
                if r.exhausted:
                    break
                part += 1
            prog.update(t_ing, advance=1)
    for v in results.values():
        v.sort(key=lambda r: r.part)
    if stale:  # what was computed from the old images (dedup, shards, report) is computed again
        log.warning("re-ingested %d part(s) whose image files changed since the interrupted build (first: %s)",
                    len(stale), stale[0])
        for mk in (run.dir / "markers").glob("*.done"):
            mk.unlink()
    return dict(results), unavailable


def _stale(run: Run, manifest: str, part: int, stale: list[str]) -> bool:
    changed = part_is_stale(run.dir, manifest, part)
    if changed:
        stale.append(f"{manifest} part {part}: {changed}")
    return changed is not None


def _scan(run: Run, kind: str, manifests: list[Manifest], schema: dict) -> pl.DataFrame:
    files = [p for m in manifests for p in sorted(part_dir(run.dir, m.name).glob(f"{kind}-*.parquet"))]
    if not files:
        return pl.DataFrame(schema=schema)
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")


# ---------------------------------------------------------------------------------------------------- helpers
def _quarantine_from(meta: pl.DataFrame, stage: str, reason_col: str | pl.Expr, detail: str | pl.Expr = "",
                     dup_of: pl.Expr | None = None) -> pl.DataFrame:
    r = pl.col(reason_col) if isinstance(reason_col, str) else reason_col
    d = pl.lit(detail) if isinstance(detail, str) else detail
    return meta.select(
        pl.col("id"), pl.col("manifest"), pl.col("data_source"), pl.col("category"), pl.col("upstream_index"),
        pl.col("upstream_id"), pl.lit(stage).alias("stage"), r.alias("reason"), pl.lit(None, pl.String).alias("field"),
        d.alias("detail"), (dup_of if dup_of is not None else pl.lit(None, pl.String)).alias("dup_of"),
        pl.format('{{"question": {}, "answer": {}}}', pl.col("question").str.slice(0, 200).map_elements(
            json.dumps, return_dtype=pl.String), pl.col("answer").str.slice(0, 200).map_elements(
            json.dumps, return_dtype=pl.String)).alias("excerpt"),
    ).cast(QUARANTINE_SCHEMA)


def mix_keys(ids: pl.Series, seed: int) -> pl.Series:
    """Unsigned 64-bit sort key sha256(seed:id): deterministic, stable across library versions."""
    return pl.Series(
        "mix_key",
        [int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") for i in ids.to_list()],
        dtype=pl.UInt64,
    )


def _embedder(recipe: Recipe):
    from vero_data.stages.dedup import MiniLMEmbedder

    return MiniLMEmbedder(recipe.dedup.embedder)


# ---------------------------------------------------------------------------------------------------- build
def build(cfg: BuildConfig) -> BuildResult:
    """Run (or resume) a build; see the module docstring for the output layout."""
    from vero_data.sources import load_plugins

    load_plugins()
    recipe, manifests = recipe_from_config(cfg)
    if cfg.dry_run:
        from vero_data.sources.listing import plan

        return BuildResult(cfg.out, [], 0, {}, plan=plan(recipe))
    from vero_data.outdir import claim_output

    fingerprint = _fingerprint(cfg, recipe, manifests)
    claim = claim_output(cfg.out, "data build", inputs=build_inputs(manifests), overwrite=cfg.overwrite,
                         resume=cfg.resume, legacy=is_build_output)
    with claim.guard():
        res = _build_in(replace(cfg, out=claim.work), recipe, manifests, fingerprint)
        if recipe.curate is not None and "stopped_after" not in res.report:  # the LLM curation (docs/curation.md)
            from vero_data.curate.stage import curate_build

            res = curate_build(res, recipe, progress=cfg.progress)
        if "stopped_after" not in res.report:  # a debugging stop is not an output to swap in
            claim.commit()
    if claim.committed and res.out != cfg.out:  # name the output as the user did (it may have been staged)
        res = _moved(res, res.out, cfg.out)
    return res


def _moved(res: BuildResult, old: Path, new: Path) -> BuildResult:
    def mv(p: Path | None) -> Path | None:
        return None if p is None else new / Path(p).relative_to(old)

    return replace(res, out=new, shards=[mv(s) for s in res.shards], report_html=mv(res.report_html),
                   card=mv(res.card))


def _build_in(cfg: BuildConfig, recipe: Recipe, manifests: list[Manifest], fingerprint: str) -> BuildResult:
    """The pipeline, writing into ``cfg.out`` (the claimed folder: OUT, or its partial sibling under --overwrite)."""
    import duckdb

    run = prepare_out(cfg, fingerprint)
    order = {m.name: i for i, m in enumerate(manifests)}
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    # 1. ingest
    t = time.perf_counter()
    settings = IngestSettings(cfg.max_pixels, recipe.filters.max_answer_chars,
                              max_question_chars=recipe.filters.max_question_chars, max_image_bytes=cfg.max_image_bytes)
    parts, unavailable = run_ingest(cfg, run, manifests, settings)
    if unavailable and not cfg.skip_unavailable:
        msg = "\n".join(f"  - {v}" for _, v in sorted(unavailable.items()))
        raise SourceUnavailableError(f"{len(unavailable)} source(s) unavailable (pass --skip-unavailable to build "
                                     f"without them):\n{msg}")
    manifests = [m for m in manifests if m.name not in unavailable]
    timings["ingest"] = time.perf_counter() - t
    if cfg.stop_after == "ingest":
        return BuildResult(cfg.out, [], 0, {"stopped_after": "ingest"})

    meta = _scan(run, "meta", manifests, META_SCHEMA)
    quarantine_parts = _scan(run, "quarantine", manifests, QUARANTINE_SCHEMA)
    meta = meta.with_columns(
        pl.col("manifest").replace_strict(order, return_dtype=pl.Int64).alias("_mo"),
    ).sort(["_mo", "upstream_index", "id"]).with_columns(pl.int_range(pl.len()).alias("rank")).drop("_mo")
    # Identical content in two parts of one source gives one id twice: keep the first, the rest are exact dups.
    dup_ids = meta.filter(pl.col("id").is_duplicated() & (pl.col("rank") != pl.col("rank").min().over("id")))
    q_same_id = _quarantine_from(dup_ids, "dedup", pl.lit("dup_exact"), "same content (same id) as an earlier row",
                                 pl.col("id"))
    meta = meta.join(dup_ids.select("id", "manifest", "part"), on=["id", "manifest", "part"], how="anti")

    # 2. source filters (DuckDB)
    t = time.perf_counter()
    con = duckdb.connect()
    thresholds = pl.DataFrame(
        [
            {
                "manifest": m.name,
                "min_rows": m.filters.min_rows if m.filters.min_rows is not None else recipe.filters.min_rows,
                "min_avg_pixels": m.filters.min_avg_pixels if m.filters.min_avg_pixels is not None
                else recipe.filters.min_avg_pixels,
                "drop_binary_only": m.filters.drop_binary_only if m.filters.drop_binary_only is not None
                else recipe.filters.drop_binary_only,
            }
            for m in manifests
        ],
        schema={"manifest": pl.String, "min_rows": pl.Int64, "min_avg_pixels": pl.Int64, "drop_binary_only": pl.Boolean},
    )
    con.register("meta", meta.select("manifest", "pixels", "answer"))
    con.register("thresholds", thresholds)
    source_stats = con.sql(load_sql("source_filters")).pl()
    dropped_sources = source_stats.filter(pl.col("reason").is_not_null())
    q_filter = _quarantine_from(
        meta.join(dropped_sources.select("manifest", "reason"), on="manifest"), "source_filter", "reason",
        "source-level heuristic filter (see report: sources)",
    )
    kept = meta.join(dropped_sources.select("manifest"), on="manifest", how="anti")
    timings["filter"] = time.perf_counter() - t

    # 3. dedup
    t = time.perf_counter()
    from vero_data.stages.dedup import DedupConfig, deduplicate

    dd = recipe.dedup
    dcfg = DedupConfig(**dd.model_dump(exclude={"embedder"}), workers=cfg.workers)
    dedup_file = run.dir / "dedup.parquet"
    store = RowStore(run.dir, meta)  # image bytes on demand: dedup's pixel check, the report's examples
    if cfg.resume and run.done("dedup") and dedup_file.exists():
        removed = pl.read_parquet(dedup_file)
    else:
        removed = deduplicate(kept, dcfg, _embedder(recipe) if dd.questions else None,
                              load_images=store.images)
        removed.write_parquet(dedup_file)
        run.mark("dedup", {"removed": removed.height})
    q_dedup = _quarantine_from(
        kept.join(removed, on="id"), "dedup", pl.format("dup_{}", pl.col("rule")),
        pl.format("duplicate of {} (score {})", pl.col("dup_of"), pl.col("score").round(4).cast(pl.String)),
        pl.col("dup_of"),
    )
    kept = kept.join(removed.select("id"), on="id", how="anti")
    timings["dedup"] = time.perf_counter() - t
    if cfg.stop_after == "dedup":
        return BuildResult(cfg.out, [], 0, {"stopped_after": "dedup"})

    # 4. mixture (DuckDB); 5. catalog is written after export with every table
    t = time.perf_counter()
    weights = recipe.mixture.category_weights()
    total = recipe.mixture.total
    quotas = pl.DataFrame(
        {"category": list(CATEGORIES),
         "quota": [None if total is None else int(round(total * weights[c])) for c in CATEGORIES]},
        schema={"category": pl.String, "quota": pl.Int64},
    )
    targets = {m.name: m.target for m in manifests}
    candidates = kept.select("id", "manifest", "category", "split").with_columns(
        pl.col("manifest").replace_strict(targets, return_dtype=pl.Int64, default=None).alias("target"),
        mix_keys(kept["id"], cfg.seed),
    )
    con.register("candidates", candidates)
    con.register("quotas", quotas)
    mixture = con.sql(load_sql("mixture")).pl().join(meta.select("id", "part"), on="id", how="left")
    rps = recipe.rows_per_shard
    mixture = mixture.with_columns(pl.int_range(pl.len()).over("split").alias("position"))
    mixture = mixture.with_columns((pl.col("position") // rps).cast(pl.Int64).alias("shard"))
    n_shards = mixture.group_by("split").agg((pl.col("shard").max() + 1).alias("n_shards"))
    mixture = mixture.join(n_shards, on="split")
    timings["mix"] = time.perf_counter() - t

    # 6. export
    t = time.perf_counter()
    from vero_data.stages.export import export_shards

    shards = export_shards(run, cfg, manifests, mixture, progress=cfg.progress)
    quarantine = pl.concat([quarantine_parts, q_same_id, q_filter, q_dedup], how="vertical_relaxed")
    _write_table(quarantine.sort(["manifest", "upstream_index", "stage", "id"], nulls_last=True),
                 cfg.out / "quarantine.parquet")
    timings["export"] = time.perf_counter() - t
    if "verl" in cfg.formats:
        from vero_data.stages.export import export_verl_dir

        export_verl_dir(shards, cfg.out / "verl")

    # 7. catalog, report, card
    t = time.perf_counter()
    from vero_data.catalog import write_catalog
    from vero_data.report import build_report, write_report

    not_selected = kept.join(mixture.select("id"), on="id", how="anti").select("id", "manifest")
    catalog_path = write_catalog(cfg.out / "catalog.duckdb", meta=meta, quarantine=quarantine, dedup=removed,
                                 source_stats=source_stats, mixture=mixture, manifests=manifests)
    report = build_report(
        recipe=recipe, manifests=manifests, parts=parts, unavailable=unavailable, meta=meta, quarantine=quarantine,
        source_stats=source_stats, removed=removed, mixture=mixture, not_selected=not_selected, quotas=quotas,
        shards=shards, out=cfg.out, seed=cfg.seed, timings=timings,
    )
    from vero_data.card import write_card

    card = write_card(cfg.out, recipe, manifests, report, shards)
    timings["report"] = time.perf_counter() - t
    report["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    report["wall_s"] = round(time.perf_counter() - t_start, 3)
    report["catalog"] = catalog_path.name  # relative, as the shards are: the folder may be moved
    html = write_report(cfg.out, report, run=run, manifests=manifests, store=store)
    run.mark("report", {"rows": mixture.height})
    return BuildResult(cfg.out, shards, mixture.height, report, html, card)


def _write_table(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    pq.write_table(df.to_arrow(), tmp, compression="zstd")
    os.replace(tmp, path)

