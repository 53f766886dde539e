"""The Python API behind `vero data …`: what the CLI calls and notebooks import."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vero_data.build import BuildResult
from vero_data.build import build as _build
from vero_data.config import BuildConfig
from vero_data.errors import ConfigError, VeroError
from vero_data.manifest import (
    GeneratorSource,
    Manifest,
    SourceSpec,
    all_manifest_paths,
    is_recipe_file,
    load_manifest,
    load_recipe,
    resolve_manifest,
)
from vero_data.paths import manifests_dir, recipes_dir
from vero_data.sources.checks import check_manifest


def build(config: BuildConfig | None = None, **kwargs: Any) -> BuildResult:
    """Build a dataset. ``build(out="demo", recipe="demo")`` or ``build(BuildConfig(...))``."""
    return _build(config or BuildConfig(**kwargs))


@dataclass
class ValidationResult:
    path: str
    kind: str  # manifest | recipe
    ok: bool
    error: str = ""
    name: str = ""


def validate(paths: list[str | Path] | None = None) -> list[ValidationResult]:
    """Validate manifests and recipes (all shipped ones by default): schema, adapter/generator names and params,
    that `files:` globs match, manifest references. A file with a top-level `manifests:` list is a recipe."""
    from vero_data.sources import load_plugins

    load_plugins()
    if paths:
        files = []
        for p in map(Path, paths):
            if p.is_dir():
                found = sorted(p.rglob("*.yaml"))
                if not found:
                    raise ConfigError(f"{p}: no *.yaml manifest or recipe in this folder")
                files.extend(found)
            else:
                files.append(p)
    else:
        files = all_manifest_paths() + sorted(recipes_dir().glob("*.yaml"))
    out = []
    for f in files:
        is_recipe = "recipes" in f.parts  # the kind shown if the file cannot even be read
        try:
            is_recipe = is_recipe_file(f)
            if is_recipe:
                r = load_recipe(f)
                for ref in r.manifests:
                    resolve_manifest(ref, recipe_path=f)
                name = r.name
            else:
                m = load_manifest(f)
                check_manifest(m, files=True)
                name = m.name
            out.append(ValidationResult(str(f), "recipe" if is_recipe else "manifest", True, name=name))
        except VeroError as e:
            out.append(ValidationResult(str(f), "recipe" if is_recipe else "manifest", False, str(e)))
    return out


def list_manifests() -> list[dict[str, Any]]:
    """Every shipped manifest, one dict each (name, category, source kind, reward types, licence, status)."""
    rows = []
    for p in all_manifest_paths():
        try:
            m = load_manifest(p)
        except VeroError as e:
            rows.append({"name": p.stem, "path": str(p.relative_to(manifests_dir())), "error": str(e)})
            continue
        rows.append({
            "name": m.name, "category": m.category, "source": m.source.kind,
            "reward_types": m.reward_types or ([m.reward_type] if m.reward_type else []),
            "license": m.license, "status": m.provenance.status, "target": m.target,
            "path": str(p.relative_to(manifests_dir())),
        })
    return rows


def list_recipes() -> list[dict[str, Any]]:
    out = []
    for p in sorted(recipes_dir().glob("*.yaml")):
        r = load_recipe(p)
        out.append({"name": r.name, "manifests": len(r.manifests), "total": r.mixture.total,
                    "description": r.description})
    return out


def generate_to_dir(name: str, n: int, seed: int, out: str | Path, params: dict[str, Any] | None = None,
                    split: str = "train", max_pixels: int | None = None) -> dict[str, Any]:
    """Write ``n`` rows of generator ``name`` as a source: canonical Parquet (HF-loadable) + quarantine."""
    import polars as pl
    import pyarrow.parquet as pq

    from vero_data.images import DEFAULT_MAX_PIXELS
    from vero_data.layout import BuildDir, shard_name, write_quarantine
    from vero_data.schema import arrow_schema_with_features
    from vero_data.sources import GENERATORS, load_plugins
    from vero_data.sources.base import check_generator_params
    from vero_data.stages.ingest import IngestSettings, ingest_part

    load_plugins()
    info = GENERATORS.get(name)
    if n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    check_generator_params(name, params or {}, where="--param")
    try:
        m = Manifest(name=name, category=info.category, source=SourceSpec(
            generator=GeneratorSource(name=name, n=n, seed=seed, params=params or {})), adapter="generated",
            license="apache-2.0", split=split, reward_types=list(info.reward_types))
    except ValidationError as e:  # e.g. --split validation: name the flag, not a pydantic dump
        err = e.errors()[0]
        raise ConfigError(f"--{err['loc'][-1]}: {err['msg']} (value: {err.get('input')!r})") from None
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory")
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} already exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = BuildDir(Path(tmp))
        res = ingest_part(m, 0, n, work, IngestSettings(max_pixels or DEFAULT_MAX_PIXELS, 100_000))
        table = pq.read_table(work.part_file(name, "rows", 0)).cast(arrow_schema_with_features())
        data = out / shard_name(split, 0, 1)
        pq.write_table(table, data, row_group_size=100)
        q = pl.read_parquet(work.part_file(name, "quarantine", 0))
        if q.height:
            write_quarantine(q, out / "quarantine.parquet")
    return {"name": name, "rows": res.kept, "dropped": res.dropped, "path": str(data),
            "quarantine": str(out / "quarantine.parquet") if q.height else None}


