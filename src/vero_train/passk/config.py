"""The settings of one ``vero data filter`` run: a dataclass whose fields are the CLI flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vero_data.errors import ConfigError
from vero_data.executors import check_executor
from vero_train.models.backends import SamplingConfig
from vero_train.models.prompts import VERO_SYSTEM_PROMPT

DEFAULT_MODEL = "Qwen/Qwen3-VL-8B-Instruct"


@dataclass
class PassAtKConfig:
    """Settings of one ``vero data filter`` run; field names are the CLI flags (``max_pass`` ↔ ``--max-pass``)."""

    data: str = field(metadata={"help": "a `vero data build` directory (DIR/data/*.parquet), a Parquet file or "
                                        "directory, or a hub dataset id"})
    out: Path = field(metadata={"help": "output directory (shards, card, catalog, report, .passk-cache/)"})
    model: str = field(default=DEFAULT_MODEL, metadata={
        "help": "policy to sample (paper: Qwen/Qwen3-VL-8B-Instruct); `tiny` = the offline tiny model"})
    k: int = field(default=8, metadata={"help": "samples per prompt (paper: 8)"})
    backend: str = field(default="auto", metadata={
        "help": "vllm, openai or transformers; auto = vllm if importable with a GPU, else transformers"})
    min_pass: int | None = field(default=None, metadata={"help": "keep rows with pass_count >= this (default 1)"})
    max_pass: int | None = field(default=None, metadata={"help": "keep rows with pass_count <= this (default k-1)"})
    keep_all: bool = field(default=False, metadata={"help": "annotate pass_count/k but drop nothing"})
    limit: int | None = field(default=None, metadata={"help": "process only the first N rows"})
    split: str = field(default="train", metadata={"help": "split to read from a hub dataset"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature (paper rollouts: 1.0)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling (paper rollouts: 1.0)"})
    top_k: int | None = field(default=None, metadata={"help": "top-k sampling (off by default)"})
    max_tokens: int | None = field(default=None, metadata={
        "help": "max new tokens per sample (default: the model's generation_config max_new_tokens, else 2048)"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    pass_threshold: float = field(default=1.0, metadata={"help": "a sample passes when accuracy >= this"})
    format_score: float = field(default=0.2, metadata={"help": "format weight in the reward (Vero training: 0.2)"})
    system_prompt: str | None = field(default=VERO_SYSTEM_PROMPT, metadata={
        "help": "system prompt (default: the Vero prompt); None = the chat template's default"})
    batch_size: int = field(default=32, metadata={"help": "rows per chunk: one generate call, one cache commit"})
    save_completions: bool = field(default=False, metadata={"help": "also write completions.parquet + catalog table"})
    rescore: bool = field(default=False, metadata={"help": "recompute rewards of cached completions"})
    overwrite: bool = field(default=False, metadata={"help": "replace OUT, a previous filter output, when this run succeeds"})
    num_shards: int = field(default=1, metadata={"help": "data-parallel workers in total (one per GPU)"})
    shard_rank: int = field(default=0, metadata={"help": "this worker's rank: generates chunks c with c % N == rank"})
    generate_only: bool = field(default=False, metadata={"help": "fill the cache only (data-parallel workers)"})
    data_parallel: int = field(default=1, metadata={
        "help": "spawn this many local workers, one per GPU (CUDA_VISIBLE_DEVICES=rank), then merge"})
    backend_kwargs: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "backend options (tensor_parallel_size, base_url, concurrency, device, batch_size…)"})
    progress: bool | None = field(default=None, metadata={"help": "progress bar (default: on a terminal)"})
    executor: str = field(default="local", metadata={
        "help": "where chunks are sampled: local (this process) or ray (an actor pool, one model replica each)"})
    ray_address: str | None = field(default=None, metadata={
        "help": "ray: cluster address (auto, HOST:PORT, ray://HOST:10001; default $RAY_ADDRESS, else a local one)"})

    def __post_init__(self):
        self.out = Path(self.out)
        if self.k < 1:
            raise ConfigError(f"--pass-at-k must be >= 1, got {self.k}")
        if self.keep_all and (self.min_pass is not None or self.max_pass is not None):
            raise ConfigError("--keep-all contradicts --min-pass/--max-pass")
        if self.min_pass is None:
            self.min_pass = 0 if self.keep_all else 1
        if self.max_pass is None:
            self.max_pass = self.k if self.keep_all else self.k - 1
        if not 0 <= self.min_pass <= self.max_pass <= self.k:
            raise ConfigError(f"need 0 <= --min-pass <= --max-pass <= k, got {self.min_pass}, {self.max_pass}, "
                              f"k={self.k}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"--max-tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"--temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p must be in (0, 1], got {self.top_p}")
        if not 0 < self.pass_threshold <= 1:
            # accuracy lies in [0, 1]: above 1 no sample can pass, at 0 every sample does
            raise ConfigError(f"--pass-threshold must be in (0, 1], got {self.pass_threshold}")
        if not 0 <= self.shard_rank < self.num_shards:
            raise ConfigError(f"need 0 <= --shard-rank < --num-shards, got {self.shard_rank}/{self.num_shards}")
        check_executor(self.executor)
        if self.ray_address is not None and self.executor != "ray":
            raise ConfigError("--ray-address is for --executor ray")
        if self.executor == "ray" and (self.data_parallel > 1 or self.num_shards > 1 or self.generate_only):
            raise ConfigError("--executor ray spreads chunks over the cluster itself; drop --data-parallel, "
                              "--num-shards and --generate-only")
        if self.backend not in ("auto", "vllm", "openai", "transformers"):
            from vero_train.models.backends import get_backend  # raises with a did-you-mean

            get_backend(self.backend, self.model)

    @property
    def sampling(self) -> SamplingConfig:
        return SamplingConfig(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
                              max_tokens=self.max_tokens, seed=self.seed)

