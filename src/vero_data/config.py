"""Build configuration: a dataclass whose fields are the CLI flags (`max_pixels` ↔ `--max-pixels`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vero_data.errors import ConfigError
from vero_data.executors import check_executor
from vero_data.image_paths import DEFAULT_MAX_IMAGE_BYTES
from vero_data.images import DEFAULT_MAX_PIXELS


@dataclass
class BuildConfig:
    """Settings of one `vero data build` run; recipe settings (mixture, filters, dedup) come from the recipe."""

    out: Path = field(metadata={"help": "output directory (shards, card, report, catalog, .run/)"})
    recipe: str | None = field(default=None, metadata={"help": "recipe name (demo, vero600k) or path"})
    manifests: list[str] = field(default_factory=list, metadata={"help": "manifest files (instead of a recipe)"})
    seed: int = field(default=0, metadata={"help": "mixture seed: same seed, same shards"})
    resume: bool = field(default=False, metadata={"help": "continue a killed build from its markers"})
    overwrite: bool = field(default=False, metadata={"help": "delete an existing output directory first"})
    workers: int = field(default=1, metadata={"help": "processes for ingest (decode, hash, validate)"})
    executor: str = field(default="local", metadata={
        "help": "where ingest parts run: local (this machine) or ray (a Ray cluster; same shards)"})
    ray_address: str | None = field(default=None, metadata={
        "help": "Ray cluster to join (auto, ray://host:10001; default RAY_ADDRESS, else a local cluster)"})
    part_rows: int = field(default=1000, metadata={"help": "upstream rows per ingest part (unit of resume)"})
    rows_per_shard: int | None = field(default=None, metadata={"help": "rows per Parquet shard (recipe default)"})
    total: int | None = field(default=None, metadata={"help": "override the recipe's target size"})
    max_pixels: int = field(default=DEFAULT_MAX_PIXELS, metadata={"help": "decompression-bomb cap per image"})
    max_image_bytes: int = field(default=DEFAULT_MAX_IMAGE_BYTES, metadata={
        "help": "largest image file a row may name (checked before reading)"})
    limit: int | None = field(default=None, metadata={"help": "read at most N upstream rows per source"})
    dry_run: bool = field(default=False, metadata={"help": "resolve sources and print the plan; read nothing"})
    skip_unavailable: bool = field(default=False, metadata={"help": "build without sources that cannot be read"})
    formats: list[str] = field(default_factory=lambda: ["parquet"], metadata={"help": "parquet and/or verl"})
    progress: bool | None = field(default=None, metadata={"help": "progress bars (default: on a terminal)"})
    stop_after: str | None = field(default=None, metadata={"help": "stop after this stage (debugging, tests)"})
    dedup_config: str | None = field(default=None, metadata={
        "help": "a YAML with a `dedup:` block (a recipe works) for --manifest builds"})
    no_dedup: bool = field(default=False, metadata={"help": "skip deduplication"})
    phash_threshold: int | None = field(default=None, metadata={"help": "whole-image pHash bits of a candidate"})
    content_threshold: int | None = field(default=None, metadata={"help": "content/centre pHash bits of a candidate"})
    match_threshold: float | None = field(default=None, metadata={"help": "pixel-check distance of a copy"})
    detail_threshold: float | None = field(default=None, metadata={"help": "full-resolution distance of a copy"})
    question_threshold: float | None = field(default=None, metadata={"help": "MiniLM cosine of paraphrases"})

    def __post_init__(self):
        self.out = Path(self.out)
        if bool(self.recipe) == bool(self.manifests):
            raise ConfigError("give either --recipe NAME or --manifest FILE (one or more), not both/neither")
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")
        check_executor(self.executor)
        if self.ray_address and self.executor != "ray":
            raise ConfigError("--ray-address is for --executor ray")
        # the same bounds a recipe has (mixture.total > 0, rows_per_shard > 0, max_samples > 0)
        for flag, v in (("--part-rows", self.part_rows), ("--total", self.total), ("--limit", self.limit),
                        ("--rows-per-shard", self.rows_per_shard), ("--max-pixels", self.max_pixels),
                        ("--max-image-bytes", self.max_image_bytes)):
            if v is not None and v < 1:
                raise ConfigError(f"{flag} must be >= 1, got {v}")
        bad = [f for f in self.formats if f not in ("parquet", "verl")]
        if bad:
            raise ConfigError(f"unknown --format {bad}; use parquet and/or verl")
        if self.resume and self.overwrite:
            raise ConfigError("--resume and --overwrite contradict each other")
