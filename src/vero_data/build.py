"""`vero data build`: settings → recipe and manifests → a claimed output folder → the build's stages.

    ingest (per source part; local processes or Ray) → source filters (DuckDB) → dedup → mixture (DuckDB)
    → export (Parquet shards, quarantine) → catalog (DuckDB) → report and card

Each stage lives in :mod:`vero_data.stages` and runs under :func:`vero_data.pipeline.run_stages`, which owns
resume markers, timings and the quarantine accounting; :mod:`vero_data.layout` names every file of the output.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vero_data.config import BuildConfig
from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_data.layout import BuildDir
from vero_data.manifest import Manifest, Recipe, load_manifest, load_recipe, recipe_manifests
from vero_data.pipeline import BuildContext, Stage, run_stages
from vero_data.sources.checks import check_manifest

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


def is_build_output(folder: Path) -> bool:
    """A build folder written before output markers existed (``.run/fingerprint``)."""
    return BuildDir(folder).fingerprint.is_file()


def prepare_out(cfg: BuildConfig, fingerprint: str) -> BuildDir:
    """Check ``cfg.out`` (the claimed work folder) against the flags: a fresh folder gets the fingerprint, a
    ``--resume`` must match it, anything else that is not empty is refused."""
    from vero_data.outdir import MARKER

    out = cfg.out
    folder = BuildDir(out)
    fp_file = folder.fingerprint
    if out.exists() and any(p.name != MARKER for p in out.iterdir()):
        if cfg.resume:
            if not fp_file.exists():
                raise VeroError(f"{out} exists but is not a vero build (no .run/fingerprint); cannot --resume")
            if fp_file.read_text().strip() != fingerprint:
                raise VeroError(f"{out}: recipe, manifests, their local source files or settings changed since the "
                                "interrupted build; rerun with --overwrite to start over")
            return folder
        raise VeroError(f"{out} already exists and is not empty; pass --resume to continue it or --overwrite")
    folder.run_dir.mkdir(parents=True, exist_ok=True)
    fp_file.write_text(fingerprint)
    return folder


def build_inputs(manifests: list[Manifest]) -> list[str]:
    """The local paths a build reads (manifests and ``files:`` sources): OUT may not be one nor hold one."""
    paths = [str(m.path) for m in manifests if getattr(m, "path", None)]
    for files in _local_files(manifests).values():
        paths += [f[0] for f in files]
    return paths


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


def build_stages() -> list[Stage]:
    """The stages of a build, in order (see the module docstring)."""
    from vero_data.stages.dedup import DedupStage
    from vero_data.stages.export import ExportStage
    from vero_data.stages.ingest import IngestStage
    from vero_data.stages.mixture import MixtureStage
    from vero_data.stages.publish import CatalogStage, ReportStage
    from vero_data.stages.source_filter import SourceFilterStage

    return [IngestStage(), SourceFilterStage(), DedupStage(), MixtureStage(), ExportStage(), CatalogStage(),
            ReportStage()]


def _build_in(cfg: BuildConfig, recipe: Recipe, manifests: list[Manifest], fingerprint: str) -> BuildResult:
    """The pipeline, writing into ``cfg.out`` (the claimed folder: OUT, or its partial sibling under --overwrite)."""
    ctx = BuildContext(cfg, recipe, manifests, prepare_out(cfg, fingerprint))
    stopped = run_stages(build_stages(), ctx, stop_after=cfg.stop_after)
    if stopped is not None and stopped != "report":
        return BuildResult(cfg.out, [], 0, {"stopped_after": stopped})
    return BuildResult(cfg.out, ctx["shards"], ctx["mixture"].height, ctx["report"], ctx["report_html"], ctx["card"])
