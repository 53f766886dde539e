"""Manifest and recipe models (pydantic, ``extra="forbid"``), loading and validation.

A manifest describes one source: where rows come from (hub, files, generator or the released Vero-600K),
which adapter maps them to the canonical schema, and per-source settings. A recipe names manifests, a
mixture and a target size. Errors name the file, the field and the offending value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vero_data.errors import ConfigError
from vero_data.paths import manifests_dir, recipes_dir
from vero_data.schema import CATEGORIES, REWARD_TYPES, SPLITS
from vero_data.yaml_file import load_yaml_file

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubSource(_Model):
    """A dataset on the Hugging Face Hub, read with ``datasets.load_dataset(..., streaming=True)``."""

    path: str
    config: str | None = None
    split: str = "train"
    revision: str | None = None
    data_files: str | list[str] | dict[str, Any] | None = None
    streaming: bool = True
    alternatives: list[dict[str, Any]] = Field(default_factory=list, description="other known copies (id/config)")


class FilesSource(_Model):
    """Local files: parquet / jsonl / json / csv read with `datasets`, or an image folder."""

    format: Literal["parquet", "jsonl", "json", "csv", "imagefolder"]
    globs: list[str]
    base_dir: str | None = Field(None, description="globs are relative to this (default: the manifest's folder)")


class GeneratorSource(_Model):
    """A registered procedural generator (vero_data.sources.generators)."""

    name: str
    n: int = Field(100, gt=0, description="rows to generate")
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)


class Vero600kSource(_Model):
    """The released Vero-600K in veRL layout (zlab-princeton/Vero-600k, fallback gsarch/Vero-600k)."""

    config: str | None = None
    split: str = "train"
    repo_ids: list[str] = Field(default_factory=lambda: ["zlab-princeton/Vero-600k", "gsarch/Vero-600k"])
    revision: str | None = None


class ImageArchive(_Model):
    """An archive (zip, tar, tar.gz) whose members the rows' relative image paths name; read without extracting
    (vero_data.image_archives). Give ``path`` or ``hub_file``."""

    path: str | None = Field(None, description="a local archive (relative paths start at the manifest's folder)")
    hub_file: str | None = Field(None, description="a file of a hub dataset repo, fetched with hf_hub_download")
    repo: str | None = Field(None, description="the dataset repo of hub_file (default: source.hub.path)")
    revision: str | None = Field(None, description="the repo revision (default: source.hub.revision)")
    member_prefix: str = Field("", description="prepended to a row's path to name its member, e.g. 'imgs/' "
                               "(an archive with one top folder is also searched with and without it)")

    @model_validator(mode="after")
    def _one_place(self):
        if (self.path is None) == (self.hub_file is None):
            raise ValueError("give exactly one of path / hub_file")
        return self


# the keys of `source:`; exactly one is given, and vero_data.sources.readers has a reader for each
SOURCE_KINDS = ("hub", "files", "generator", "vero600k", "unavailable")


class SourceSpec(_Model):
    hub: HubSource | None = None
    files: FilesSource | None = None
    generator: GeneratorSource | None = None
    vero600k: Vero600kSource | None = None
    unavailable: str | None = Field(None, description="no public copy is known: why, and what to use instead")
    image_archive: ImageArchive | list[ImageArchive] | None = Field(
        None, description="archive(s) holding the images the rows name by relative path (hub or files sources)")

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [k for k in SOURCE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of hub / files / generator / vero600k / unavailable, got {given or 'none'}")
        if self.image_archives and given[0] not in ("hub", "files"):
            raise ValueError(f"image_archive needs a hub or files source, not {given[0]}")
        if any(a.hub_file and not a.repo for a in self.image_archives) and self.hub is None:
            raise ValueError("image_archive.hub_file needs `repo:` when the source is not a hub dataset")
        return self

    @property
    def image_archives(self) -> list[ImageArchive]:
        a = self.image_archive
        return [] if a is None else a if isinstance(a, list) else [a]

    @property
    def kind(self) -> str:
        for k in SOURCE_KINDS:
            if getattr(self, k) is not None:
                return k
        raise AssertionError


class ColumnMapping(_Model):
    """Declarative adapter: dotted paths (``label[0]``, ``qa.answer``) into the upstream row."""

    question: str
    answer: str
    images: str | list[str] = "image"
    choices: str | None = None
    id: str | None = None
    reward_type: str | None = None
    extra: dict[str, str] = Field(default_factory=dict, description="extra_info key → upstream path")


class FilterOverrides(_Model):
    """Per-source overrides of the heuristic source filters (paper §A.1: <1K rows, <200K px, only yes/no)."""

    min_rows: int | None = None
    min_avg_pixels: int | None = None
    drop_binary_only: bool | None = None
    max_answer_chars: int | None = None


class Provenance(_Model):
    """Where a source's id and row layout come from, and how far that was checked against the real upstream."""

    status: Literal["verified", "guess", "unavailable", "generated", "local"] = "guess"
    notes: str = ""
    paper_name: str | None = Field(None, description="the source's name in the paper's Table A1")
    evidence: list[str] = Field(default_factory=list, description="where the layout was read: dataset card URL, "
                                "loader file, authors' script (repo:path), each a URL or a path")
    layout_checked: bool | None = Field(None, description="yes: the configs/splits/columns the manifest and adapter "
                                        "read were seen in the evidence; no: some are inferred (see unverified)")
    unverified: str = Field("", description="what of the layout the evidence does not show (required when "
                            "layout_checked is no)")

    @model_validator(mode="after")
    def _checked_needs_evidence(self):
        if self.layout_checked and not self.evidence:
            raise ValueError("layout_checked: yes needs at least one evidence URL or path")
        if self.layout_checked is False and not self.unverified.strip():
            raise ValueError("layout_checked: no needs `unverified:` saying what the evidence does not show")
        return self


class Manifest(_Model):
    """One source. See docs/manifests.md."""

    name: str
    version: str = "1"
    category: str
    description: str = ""
    data_source: str | None = Field(None, description="value of the `data_source` column (default: name)")
    source: SourceSpec
    adapter: str | ColumnMapping = "canonical"
    adapter_params: dict[str, Any] = Field(default_factory=dict)
    reward_type: str | None = Field(None, description="default reward type for rows that do not set one")
    reward_types: list[str] = Field(default_factory=list, description="every reward type this source emits")
    license: str = "unknown"
    filters: FilterOverrides = Field(default_factory=FilterOverrides)
    max_samples: int | None = Field(None, gt=0, description="read at most this many upstream rows")
    target: int | None = Field(None, ge=0, description="rows to keep after curation (paper Table A1 count)")
    canonicalise: bool = True
    split: str = Field("train", description="the `split` column of this source's rows (given: overrides the adapter's)")
    allow_absolute_paths: bool = Field(False, description="read image paths that lead outside the source's folders "
                                       "(absolute or ../); off: such rows are quarantined as image_outside_root")
    provenance: Provenance = Field(default_factory=Provenance)
    tags: list[str] = Field(default_factory=list)

    # set by the loader, not by the YAML
    path: str | None = Field(None, exclude=True)

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        # The name becomes a folder of the build (OUT/.run/ingest/<name>): no separators, no '..', no hidden names.
        if not _NAME.fullmatch(v or ""):
            raise ValueError(f"name must be an identifier of letters, digits, '_', '.', '-' (not starting with '.' "
                             f"or '-', at most 128 characters), got {v!r}")
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"unknown category {v!r}; one of {', '.join(CATEGORIES)}")
        return v

    @field_validator("reward_type")
    @classmethod
    def _reward(cls, v: str | None) -> str | None:
        if v is not None and v not in REWARD_TYPES:
            raise ValueError(f"unknown reward_type {v!r}; one of {', '.join(REWARD_TYPES)}")
        return v

    @field_validator("reward_types")
    @classmethod
    def _rewards(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if r not in REWARD_TYPES]
        if bad:
            raise ValueError(f"unknown reward_types {bad}; each one of {', '.join(REWARD_TYPES)}")
        return v

    @field_validator("split")
    @classmethod
    def _split(cls, v: str) -> str:
        # The output split column, not the upstream split to read (that is source.hub.split / source.vero600k.split).
        if v not in SPLITS:
            raise ValueError(f"unknown split {v!r}; one of {', '.join(SPLITS)} (the rows' split column; the upstream "
                             "split to read is source.hub.split or source.vero600k.split)")
        return v

    @model_validator(mode="after")
    def _released_rows_are_canonical(self):
        # Released Vero-600K rows are already canonical: rewriting them would break a byte-exact veRL re-export.
        if self.source.vero600k is not None and "canonicalise" not in self.model_fields_set:
            self.canonicalise = False
        return self

    @property
    def source_name(self) -> str:
        return self.data_source or self.name


class Mixture(_Model):
    """How categories are mixed: uniform by default (paper: +5.8 over other mixes, vero600k_format.md §6)."""

    weights: Literal["uniform"] | dict[str, float] = "uniform"
    total: int | None = Field(None, gt=0, description="target rows in all (None: keep everything after curation)")

    @field_validator("weights")
    @classmethod
    def _weights(cls, v):
        if isinstance(v, dict):
            bad = [k for k in v if k not in CATEGORIES]
            if bad:
                raise ValueError(f"unknown categories in weights: {bad}")
            if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
                raise ValueError("weights must be non-negative and sum to > 0")
        return v

    def category_weights(self) -> dict[str, float]:
        w = {c: 1.0 for c in CATEGORIES} if self.weights == "uniform" else {c: 0.0 for c in CATEGORIES} | self.weights
        s = sum(w.values())
        return {c: x / s for c, x in w.items()}


class FilterThresholds(_Model):
    """Heuristic source filters; defaults from the paper (vero600k_format.md §7.1)."""

    min_rows: int = 1000
    min_avg_pixels: int = 200_000
    drop_binary_only: bool = True
    max_answer_chars: int = 4096
    # 32K characters ≈ 8K tokens, the paper's longest training prompts plus room (vero600k_format.md §8)
    max_question_chars: int = Field(32_768, gt=0, description="longer prompts are quarantined as question_too_long")


class DedupSettings(_Model):
    """Dedup levels and thresholds (stages/dedup.py); the defaults are calibrated on `vero bench dedup`."""

    exact: bool = True
    phash: bool = True
    phash_threshold: int = Field(8, ge=0, le=32, description="whole-image pHash bits for a candidate pair")
    content_threshold: int = Field(10, ge=0, le=32, description="content-box / centre pHash bits for a candidate")
    dhash_threshold: int | None = Field(None, ge=0, le=64, description="extra dHash gate on candidates (off)")
    match_threshold: float = Field(0.65, gt=0, description="thumbnail distance that sends a candidate to the "
                                   "detail check (0.45 with detail_threshold: null)")
    detail_threshold: float | None = Field(0.4, gt=0, description="full-resolution distance of a confirmed copy "
                                           "(null: no detail check)")
    upscale_ratio: float | None = Field(0.63, gt=0, description="image_match.upscale_ratio below which the larger "
                                        "copy is an upscale of the smaller and loses to it (null: largest wins)")
    questions: bool = True
    question_threshold: float = Field(0.95, gt=0, le=1, description="MiniLM cosine: paraphrases on its own")
    keyterm_question_threshold: float = Field(0.35, gt=0, le=1, description="MiniLM cosine for paraphrases "
                                              "naming the same numbers, names, colours and positions")
    plain_question_threshold: float = Field(0.6, gt=0, le=1, description="MiniLM cosine for paraphrases naming "
                                            "none of them")
    embedder: str = Field("sentence-transformers/all-MiniLM-L6-v2", description="sentence-transformers model")
    require_same_answer: bool = True


class PassAtKStep(_Model):
    k: int = 8
    min_pass: int = 1
    max_pass: int | None = None


class CurateJudge(_Model):
    """The model one LLM curation step asks (docs/curation.md)."""

    model: str = Field(description="HF id or path, or the served model's name (with endpoint)")
    backend: str = Field("vllm", description="vllm | openai | transformers, or pkg.module:Factory")
    endpoint: str | None = Field(None, description="OpenAI-compatible server URL incl. /v1 (implies openai)")
    prompts: str | None = Field(None, description="folder of prompt files replacing built-in ones")
    guided: bool = True
    options: dict[str, Any] = Field(default_factory=dict, description="backend options (concurrency, device…)")


class CurateStep(_Model):
    """The paper's LLM curation (vero600k_format.md §7.2-7.3), run on the exported rows: the question filter, then
    the answer canonicaliser, each with its own model. Sampling defaults are the paper's (§7.2)."""

    question_filter: CurateJudge | None = None
    canonicalise: CurateJudge | None = None
    batch_size: int = Field(32, gt=0)
    temperature: float = Field(0.6, ge=0)
    top_p: float = Field(0.8, gt=0, le=1)
    top_k: int | None = 20
    max_tokens: int | None = Field(None, gt=0, description="default: the model's generation_config, else 8096")
    seed: int = 42

    @model_validator(mode="after")
    def _some_step(self):
        if self.question_filter is None and self.canonicalise is None:
            raise ValueError("curate: needs question_filter and/or canonicalise")
        return self


class Recipe(_Model):
    """A set of manifests + mixture + target size. See docs/manifests.md#recipes."""

    name: str
    version: str = "1"
    description: str = ""
    manifests: list[str] = Field(description="manifest names or paths (relative to the manifests dir)")
    mixture: Mixture = Field(default_factory=Mixture)
    filters: FilterThresholds = Field(default_factory=FilterThresholds)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    rows_per_shard: int = Field(5000, gt=0)
    pass_at_k: PassAtKStep | None = None
    curate: CurateStep | None = None
    path: str | None = Field(None, exclude=True)


def _fmt_validation(path: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        val = e.get("input")
        sval = repr(val)
        if len(sval) > 80:
            sval = sval[:77] + "..."
        lines.append(f"{path}: field '{loc}': {e['msg']} (value: {sval})")
    return "\n".join(lines)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def is_recipe_file(path: str | Path) -> bool:
    """A recipe has a top-level `manifests:` list (a manifest never does), wherever the file lives."""
    return "manifests" in _read_yaml(Path(path))


def load_manifest(path: str | Path) -> Manifest:
    """Load and validate one manifest file."""
    path = Path(path)
    data = _read_yaml(path)
    try:
        m = Manifest.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_fmt_validation(path, e)) from None
    m.path = str(path)
    return m


def load_recipe(name_or_path: str | Path) -> Recipe:
    """Load a recipe by name (``demo``, ``vero600k``) or path."""
    p = Path(name_or_path)
    if not p.suffix:
        p = recipes_dir() / f"{name_or_path}.yaml"
        if not p.exists():
            avail = ", ".join(sorted(x.stem for x in recipes_dir().glob("*.yaml")))
            raise ConfigError(f"unknown recipe '{name_or_path}'; available: {avail}")
    data = _read_yaml(p)
    try:
        r = Recipe.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_fmt_validation(p, e)) from None
    r.path = str(p)
    return r


def load_dedup_settings(path: str | Path) -> DedupSettings:
    """The ``dedup:`` block of a YAML file (a recipe, or a file holding just that block), for builds from
    ``--manifest`` files, which have no recipe of their own."""
    p = Path(path)
    data = _read_yaml(p)
    block = data.get("dedup") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        raise ConfigError(f"{p}: no `dedup:` mapping (expected a recipe or a file with a `dedup:` block)")
    try:
        return DedupSettings.model_validate(block)
    except ValidationError as e:
        raise ConfigError(_fmt_validation(p, e).replace("field '", "field 'dedup.")) from None


def all_manifest_paths(root: Path | None = None) -> list[Path]:
    root = root or manifests_dir()
    return sorted(p for p in root.rglob("*.yaml") if "recipes" not in p.relative_to(root).parts)


def resolve_manifest(ref: str, root: Path | None = None, recipe_path: str | Path | None = None) -> Path:
    """A manifest reference in a recipe: a path (``stem/geo170k.yaml``) or a bare name (``geo170k``).

    Looked up next to the recipe file first (so a recipe and its manifests can move together), then the working
    directory, then the manifests dir."""
    root = root or manifests_dir()
    p = Path(ref)
    here = Path(recipe_path).parent if recipe_path else None
    cands = [*([here / p, here / f"{ref}.yaml"] if here else []), p, root / p, root / f"{ref}.yaml"]
    for cand in cands:
        if cand.suffix == ".yaml" and cand.is_file():
            return cand
    matches = [q for q in all_manifest_paths(root) if q.stem == ref]
    if len(matches) == 1:
        return matches[0]
    who = f"{recipe_path}: " if recipe_path else ""
    if len(matches) > 1:
        raise ConfigError(f"{who}manifest name '{ref}' is ambiguous: {[str(m) for m in matches]}")
    dirs = ", ".join(str(d) for d in dict.fromkeys([*([here.resolve()] if here else []), Path.cwd(), root]))
    raise ConfigError(f"{who}manifest '{ref}' not found (looked in {dirs})")


def recipe_manifests(recipe: Recipe) -> list[Manifest]:
    out, seen = [], set()
    for ref in recipe.manifests:
        m = load_manifest(resolve_manifest(ref, recipe_path=recipe.path))
        if m.name in seen:
            raise ConfigError(f"{recipe.path}: manifest '{m.name}' listed twice")
        seen.add(m.name)
        out.append(m)
    return out
