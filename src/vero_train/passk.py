"""Pass@k difficulty filter: sample k responses per prompt, score them with the task-routed rewards, keep the rows
the policy solves sometimes but not always (Vero keeps 0 < passes < k).

A sample *passes* when its reward accuracy is >= ``pass_threshold`` (default 1.0: fully correct). Accuracy is the
verifier's answer score with the format gate applied (``compute_score_from_data_source``: accuracy is 0 when the
response lacks ``<think>…</think><answer>…</answer>``), so a model that never follows the format passes nothing.

Rows are processed in fixed chunks of ``batch_size`` rows (by position in the input); each chunk's completions and
scores are committed to a SQLite cache under ``OUT/.passk-cache`` in one transaction, keyed by (row id, model, sampling
parameters, sample index). A killed run resumes chunk by chunk and gives the same result: a chunk is either fully
cached or regenerated with the same composition and seed.

Outputs under ``OUT``: ``data/*.parquet`` (same schema as the input, ``pass_count``/``k`` filled), ``README.md``
(input card + a pass@k section), ``catalog.duckdb`` (input catalog + ``difficulty`` table; see
``sql/difficulty.sql``), ``quarantine.parquet`` (dropped rows with their reason), ``passk_report.json`` and,
with ``save_completions``, ``completions.parquet``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vero_data.errors import ConfigError, VeroError
from vero_data.hub import require_hub
from vero_train.models.backends import SamplingConfig
from vero_train.models.prompts import VERO_SYSTEM_PROMPT

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen3-VL-8B-Instruct"
# Rewards that cannot be computed offline (the judge score replaces accuracy at manager level): annotated, never
# dropped by the bounds, since their pass count says nothing about difficulty.
UNSCORED_REWARD_TYPES = ("llm_judge", "instruction_following_llm_judge")


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
        if self.backend not in ("auto", "vllm", "openai", "transformers"):
            from vero_train.models.backends import get_backend  # raises with a did-you-mean

            get_backend(self.backend, self.model)

    @property
    def sampling(self) -> SamplingConfig:
        return SamplingConfig(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
                              max_tokens=self.max_tokens, seed=self.seed)


@dataclass
class FilterResult:
    out: Path
    rows_in: int
    rows_kept: int
    k: int
    histogram: dict[int, int]
    by_category: dict[str, dict[int, int]]
    dropped: dict[str, int]
    cached_rows: int
    generated_rows: int
    tokens: int
    wall_seconds: float
    gen_seconds: float
    load_seconds: float
    shards: list[Path]

    @property
    def rows_per_s(self) -> float:
        return self.rows_in / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.gen_seconds if self.gen_seconds else 0.0

    @property
    def share_outside_generation(self) -> float:
        """Share of wall time not spent in ``backend.generate`` (model loading excluded)."""
        busy = self.wall_seconds - self.load_seconds
        return max(0.0, busy - self.gen_seconds) / busy if busy > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "shards"}
        d.update(out=str(self.out), shards=[str(s) for s in self.shards], rows_per_s=round(self.rows_per_s, 3),
                 tokens_per_s=round(self.tokens_per_s, 1),
                 share_outside_generation=round(self.share_outside_generation, 4))
        return d


# ----------------------------------------------------------------------------------------------------- input
@dataclass
class InputShard:
    name: str  # output file name
    table: Any  # pyarrow.Table (lazily read)
    path: Path | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else self.name


# Columns the filter reads or writes back; `pass_count`/`k` are added when missing.
REQUIRED_COLUMNS = ("id", "data_source", "category", "prompt", "images", "answer", "reward_type", "extra_info",
                    "split", "license", "lineage")


def _check_columns(label: str, names: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ConfigError(f"{label}: not a Vero dataset, missing column(s) {', '.join(missing)} "
                          f"(has: {', '.join(names[:12]) or 'none'})")


def _unreadable(label: str, e: Exception) -> VeroError:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return VeroError(f"{label}: not a readable Parquet file ({first})")


_NOT_SHARDS = {"quarantine.parquet", "completions.parquet"}  # written beside shards, never rows to sample


def input_shards(data: str, split: str = "train") -> tuple[list[InputShard], Path | None]:
    """Input shards and the source directory (for its card and catalog), from a path or a hub id."""
    p = Path(data)
    if p.is_file() or p.is_dir():
        if p.is_file():
            shards, src = [InputShard(p.name, None, p)], None
        else:
            files = sorted((p / "data").glob("*.parquet")) or [  # a `vero data generate` folder: shards at the top
                f for f in sorted(p.glob("*.parquet")) if f.name not in _NOT_SHARDS]
            if not files:
                raise ConfigError(f"no Parquet shards in {p}/data or {p}")
            shards, src = [InputShard(f.name, None, f) for f in files], p
        import pyarrow as pa
        import pyarrow.parquet as pq

        for sh in shards:  # every shard's footer and columns before any model is loaded
            try:
                names = pq.read_schema(sh.path).names
            except (OSError, ValueError, pa.ArrowException) as e:
                raise _unreadable(sh.label, e) from e
            _check_columns(sh.label, names)
        return shards, src
    if p.is_absolute() or data.startswith("."):
        raise ConfigError(f"{data} does not exist")
    try:
        import datasets
    except ImportError as e:  # pragma: no cover
        raise VeroError("reading a hub dataset needs `datasets`") from e
    require_hub(data, f"dataset {data!r} (no such local path, so a hub id)")
    try:
        ds = datasets.load_dataset(data, split=split)
    except Exception as e:
        raise VeroError(f"cannot load dataset {data!r} (split {split}): {e}") from e
    from vero_data.layout import shard_name

    _check_columns(f"dataset {data} ({split})", ds.column_names)
    return [InputShard(shard_name(split, 0, 1), ds.data.table)], None


def _read(shard: InputShard):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if shard.table is None:
        try:
            shard.table = pq.read_table(shard.path)
        except (OSError, ValueError, pa.ArrowException) as e:  # a footer can be fine and a page corrupt
            raise _unreadable(shard.label, e) from e
    return shard.table


# ----------------------------------------------------------------------------------------------------- cache
CACHE_DIR = ".passk-cache"  # not ".cache": the Hub client refuses any path through a .cache folder
LEGACY_CACHE_DIR = ".cache"  # outputs written before the rename: still read on resume, never written


def cache_files(out: Path) -> list[Path]:
    """Every rank's cache file of a filter output, the legacy ``.cache/`` ones included."""
    return [f for d in (CACHE_DIR, LEGACY_CACHE_DIR) for f in sorted((out / d).glob("passk-rank*.sqlite"))]


class CompletionCache:
    """SQLite files under ``OUT/.passk-cache``: completions + scores by (row id, model, sampling key, sample index).

    Each data-parallel rank writes its own file (no cross-process write locks); lookups read all of them, and the
    files of an output written before the rename (``OUT/.cache``, read only), so such a run resumes too.
    """

    SCHEMA = ("CREATE TABLE IF NOT EXISTS samples (row_id TEXT, model TEXT, sampling TEXT, idx INTEGER, text TEXT, "
              "n_tokens INTEGER, finish_reason TEXT, score REAL, accuracy REAL, format REAL, "
              "PRIMARY KEY (row_id, model, sampling, idx))")

    def __init__(self, root: Path, rank: int = 0):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"passk-rank{rank:03d}.sqlite"
        self.con = sqlite3.connect(self.path, timeout=60)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(self.SCHEMA)
        self.con.commit()
        self._others = [sqlite3.connect(f, timeout=60) for f in sorted(root.glob("passk-rank*.sqlite"))
                        if f != self.path]
        legacy = root.parent / LEGACY_CACHE_DIR
        self._others += [sqlite3.connect(f"{f.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
                         for f in sorted(legacy.glob("passk-rank*.sqlite"))]

    def lookup(self, ids: list[str], model: str, sampling: str, k: int) -> dict[str, list[tuple]]:
        """Rows with all k samples cached → [(idx, text, n_tokens, finish, score, accuracy, format)]."""
        found: dict[str, dict[int, tuple]] = defaultdict(dict)
        q = ("SELECT row_id, idx, text, n_tokens, finish_reason, score, accuracy, format FROM samples "
             "WHERE model = ? AND sampling = ? AND idx < ? AND row_id IN (SELECT value FROM json_each(?))")
        for con in [self.con, *self._others]:
            for r in con.execute(q, (model, sampling, k, json.dumps(ids))):
                found[r[0]][r[1]] = r[1:]
        return {rid: [s[i] for i in range(k)] for rid, s in found.items() if len(s) == k}

    def put(self, rows: list[tuple]) -> None:
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def close(self) -> None:
        for c in [self.con, *self._others]:
            c.close()


# ----------------------------------------------------------------------------------------------------- scoring
def score_completion(row: dict, text: str, format_score: float = 0.2) -> dict[str, float]:
    """Vero's task-routed reward for one response: ``{"score", "accuracy", "format"}``."""
    from vero_data.rewards import compute_score_from_data_source

    try:
        extra = json.loads(row.get("extra_info") or "{}")
    except ValueError:
        extra = {}
    extra = {**extra, "reward_type": row["reward_type"]}
    try:
        return compute_score_from_data_source(row["data_source"], text, row["answer"], extra,
                                              format_score=format_score)
    except Exception as e:  # a verifier bug must not kill a long run: count the sample as failed
        log.warning("scoring %s failed: %s", row.get("id"), e)
        return {"score": 0.0, "accuracy": 0.0, "format": 0.0}


def row_problem(row: dict) -> tuple[str, str] | None:
    """``(reason, detail)`` when a row cannot be scored, found before any generation is spent on it: a reward
    type no verifier handles would be scored by the fallback, an empty answer against the text "None"."""
    from vero_data.schema import REWARD_TYPES

    rt = row.get("reward_type")
    if rt not in REWARD_TYPES:
        return "unknown_reward_type", f"row {row['id']}: reward_type {rt!r} is not one of {', '.join(REWARD_TYPES)}"
    ans = row.get("answer")
    if ans is None or not str(ans).strip():
        return "missing_answer", f"row {row['id']}: answer is {'null' if ans is None else 'empty'}"
    n = prompt_chars(row.get("prompt"))
    if n > MAX_PROMPT_CHARS:  # a 5 MB question from an older build must not take the run down with it
        return "question_too_long", f"row {row['id']}: prompt of {n:,} chars > {MAX_PROMPT_CHARS:,}"
    return None


# The build's default cap (recipe filters.max_question_chars): rows over it never reach a model.
MAX_PROMPT_CHARS = 32_768


def prompt_chars(prompt: Any) -> int:
    """Characters of text in a prompt (a list of messages, their JSON text, or a string)."""
    if isinstance(prompt, str):
        return len(prompt)
    if isinstance(prompt, list):
        return sum(prompt_chars(m.get("content")) if isinstance(m, dict) else prompt_chars(m) for m in prompt)
    return 0


DEFAULT_MAX_TOKENS = 2048


def default_max_tokens(model: str) -> int:
    """The model's own ``generation_config.max_new_tokens`` when it sets one (the tiny model does: a random
    policy never stops, so 2048 tokens per sample would only burn CPU), else 2048."""
    from vero_train.models.tiny import generation_max_new_tokens

    return generation_max_new_tokens(model) or DEFAULT_MAX_TOKENS


# ----------------------------------------------------------------------------------------------------- main
def filter_pass_at_k(config: PassAtKConfig | None = None, **kwargs: Any) -> FilterResult:
    """Run the pass@k filter (see the module docstring); ``kwargs`` build a :class:`PassAtKConfig`."""
    import copy

    from vero_data.outdir import claim_output

    cfg = config or PassAtKConfig(**kwargs)
    if cfg.out.exists() and not cfg.out.is_dir():
        raise ConfigError(f"--out {cfg.out} is an existing file; give a directory")
    t_start = time.perf_counter()
    shards, src_dir = input_shards(cfg.data, cfg.split)  # every input check before OUT is touched
    if src_dir is not None and src_dir.resolve() == cfg.out.resolve():
        raise ConfigError("--out must differ from the input directory")
    if cfg.overwrite and cfg.num_shards > 1:
        raise ConfigError("--overwrite with --num-shards > 1 would delete what the other ranks write; clear OUT "
                          "once before starting the ranks")
    # A plain rerun resumes from the cache (also the cache of a killed --overwrite run, left beside OUT).
    # Data-parallel workers write into the folder their parent claimed and locked.
    helper = os.environ.get(_CLAIMED_ENV) == str(cfg.out)
    claim = claim_output(cfg.out, "data filter", inputs=[cfg.data, src_dir], overwrite=cfg.overwrite,
                         resume=not cfg.overwrite, legacy=is_filter_output, lock=not helper,
                         shard=f"rank{cfg.shard_rank}" if cfg.num_shards > 1 and not helper else None)
    final_out, cfg = cfg.out, copy.copy(cfg)
    cfg.out, cfg.overwrite = claim.work, False
    with claim.guard():
        if cfg.data_parallel > 1 and cfg.num_shards == 1:
            run_data_parallel(cfg)
        result = _filter_in(cfg, shards, src_dir, t_start, final_out)
        claim.commit()
    result.out = final_out
    result.shards = [final_out / p.relative_to(claim.work) if p.is_relative_to(claim.work) else p
                     for p in result.shards] if claim.work != final_out else result.shards
    return result


_CLAIMED_ENV = "VERO_FILTER_CLAIMED_OUT"  # set for data-parallel workers: their parent holds OUT's lock


def is_filter_output(folder: Path) -> bool:
    """A filter folder written before output markers existed."""
    return (folder / "passk_report.json").is_file() or bool(cache_files(folder))


def _filter_in(cfg: PassAtKConfig, shards: list[InputShard], src_dir: Path | None, t_start: float,
               final_out: Path) -> FilterResult:
    """The filter proper, writing into ``cfg.out`` (OUT, or its partial sibling under --overwrite)."""
    cache = CompletionCache(cfg.out / CACHE_DIR, cfg.shard_rank)
    if cfg.max_tokens is None:
        cfg.max_tokens = default_max_tokens(cfg.model)
    sampling_key = cfg.sampling.key()
    model_key = cfg.model

    # rows in input order, cut at --limit; chunks of batch_size rows are the unit of generation and resume
    plan: list[tuple[int, int, int]] = []  # (shard index, start, length) per chunk
    total = 0
    for si, sh in enumerate(shards):
        n = _read(sh).num_rows
        if cfg.limit is not None:
            n = min(n, cfg.limit - total)
        for start in range(0, n, cfg.batch_size):
            plan.append((si, start, min(cfg.batch_size, n - start)))
        total += max(n, 0)
        if cfg.limit is not None and total >= cfg.limit:
            break

    backend = None
    load_s = gen_s = 0.0
    tokens = cached_rows = generated_rows = 0
    per_row: dict[str, dict[str, Any]] = {}
    bad: dict[str, tuple[str, str]] = {}  # row id → (reason, detail): quarantined before sampling
    side: list[dict[str, Any]] = []
    from vero_data.progress import progress_bar

    with progress_bar(cfg.progress) as prog:
        task = prog.add_task(f"pass@{cfg.k}", total=total, rate="")
        done_rows = 0
        for ci, (si, start, length) in enumerate(plan):
            rows = _read(shards[si]).slice(start, length).to_pylist()
            chunk_rows = {r["id"]: r for r in rows}
            for r in rows:
                if (problem := row_problem(r)) is not None:
                    bad[r["id"]] = problem
            rows = [r for r in rows if r["id"] not in bad]
            ids = [r["id"] for r in rows]
            hit = cache.lookup(ids, model_key, sampling_key, cfg.k)
            mine = ci % cfg.num_shards == cfg.shard_rank
            todo = [r for r in rows if r["id"] not in hit]
            if todo and not mine and not cfg.generate_only:
                # a data-parallel rank did not finish this chunk: generate it here
                mine = True
            if todo and mine:
                from vero_data.errors import RowError
                from vero_train.models.backends import request_from_row

                reqs = []
                for r in todo:  # a corrupt image or prompt quarantines its row, not the run
                    try:
                        reqs.append(request_from_row(r, cfg.system_prompt))
                    except RowError as e:
                        bad[r["id"]] = (e.reason, e.detail)
                rows = [r for r in rows if r["id"] not in bad]
                todo = [r for r in todo if r["id"] not in bad]
            if todo and mine:
                if backend is None:
                    t0 = time.perf_counter()
                    backend = _make_backend(cfg)
                    load_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                comps = backend.generate(reqs, cfg.k, cfg.sampling)
                gen_s += time.perf_counter() - t0
                entries = []
                for r, cs in zip(todo, comps, strict=True):
                    if len(cs) != cfg.k:
                        raise VeroError(f"backend returned {len(cs)} completions for {r['id']}, expected {cfg.k}")
                    samples = []
                    for j, c in enumerate(cs):
                        s = score_completion(r, c.text, cfg.format_score)
                        samples.append((j, c.text, c.n_tokens, c.finish_reason, s["score"], s["accuracy"],
                                        s["format"]))
                        tokens += c.n_tokens
                    hit[r["id"]] = samples
                    entries += [(r["id"], model_key, sampling_key, *x) for x in samples]
                cache.put(entries)
                generated_rows += len(todo)
            elif todo:
                continue  # generate-only worker: another rank's chunk
            cached_rows += len(rows) - len(todo)
            if cfg.rescore:
                for r in rows:
                    hit[r["id"]] = [(j, t, nt, f, *_score_tuple(r, t, cfg.format_score))
                                    for j, t, nt, f, *_ in hit[r["id"]]]
            stats: dict[str, dict[str, Any]] = {}
            for r in rows:
                samples = hit[r["id"]]
                passes = sum(1 for s in samples if s[5] >= cfg.pass_threshold)
                stats[r["id"]] = {
                    "id": r["id"], "data_source": r["data_source"], "category": r["category"],
                    "reward_type": r["reward_type"], "split": r["split"], "k": cfg.k, "pass_count": passes,
                    "pass_rate": passes / cfg.k, "mean_reward": sum(s[4] for s in samples) / cfg.k,
                    "mean_accuracy": sum(s[5] for s in samples) / cfg.k,
                    "format_rate": sum(1 for s in samples if s[6] > 0) / cfg.k,
                    "mean_tokens": sum(s[2] for s in samples) / cfg.k,
                    "truncated": sum(1 for s in samples if s[3] == "length"),
                }
                if cfg.save_completions:
                    side += [{"id": r["id"], "idx": s[0], "text": s[1], "n_tokens": s[2], "finish_reason": s[3],
                              "score": s[4], "accuracy": s[5], "format": s[6]} for s in samples]
            for rid, r in chunk_rows.items():  # input order; quarantined rows are listed too, unsampled
                per_row[rid] = stats[rid] if rid in stats else _unsampled(rid, r, cfg.k)
            done_rows += length
            el = max(time.perf_counter() - t_start, 1e-9)
            prog.update(task, advance=length, rate=f"{done_rows / el:.2f} rows/s "
                                                      f"{tokens / max(gen_s, 1e-9):.0f} tok/s")
    cache.close()
    if backend is not None and hasattr(backend, "close"):
        backend.close()
    if cfg.generate_only:
        return FilterResult(cfg.out, done_rows, 0, cfg.k, {}, {}, {}, cached_rows, generated_rows, tokens,
                            time.perf_counter() - t_start, gen_s, load_s, [])
    result = _write_outputs(cfg, shards, plan, per_row, side, src_dir, bad)
    wall = time.perf_counter() - t_start
    result = FilterResult(
        cfg.out, len(per_row), result["kept"], cfg.k, result["histogram"], result["by_category"], result["dropped"],
        cached_rows, generated_rows, tokens, wall, gen_s, load_s, result["shards"],
    )
    from vero_data.secrets import redact  # keys, tokens and URL credentials in backend options are masked

    (cfg.out / "passk_report.json").write_text(json.dumps(
        {**result.as_dict(), "config": redact({k: v for k, v in asdict(cfg).items() if k != "out"})
         | {"out": str(final_out)}},
        indent=1, default=str))
    return result


def _unsampled(rid: str, row: dict, k: int) -> dict[str, Any]:
    """A ``difficulty`` row for a row quarantined before sampling: no pass count (null), not a 0 of k."""
    return {"id": rid, "data_source": row.get("data_source"), "category": row.get("category"),
            "reward_type": row.get("reward_type"), "split": row.get("split"), "k": k, "pass_count": None,
            "pass_rate": None, "mean_reward": None, "mean_accuracy": None, "format_rate": None, "mean_tokens": None,
            "truncated": None}


def _score_tuple(row: dict, text: str, format_score: float) -> tuple[float, float, float]:
    s = score_completion(row, text, format_score)
    return s["score"], s["accuracy"], s["format"]


def _make_backend(cfg: PassAtKConfig):
    from vero_train.models.backends import get_backend

    kind = cfg.backend
    if kind == "auto":
        kind = "transformers"
        try:
            import importlib.util

            import torch

            if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available():
                kind = "vllm"
        except ImportError:
            pass
    kwargs = dict(cfg.backend_kwargs)
    if kind == "vllm":
        kwargs.setdefault("seed", cfg.seed)
    log.info("pass@%d: %s backend, model %s", cfg.k, kind, cfg.model)
    return get_backend(kind, cfg.model, **kwargs)


def keep_reason(stats: dict[str, Any], cfg: PassAtKConfig) -> str | None:
    """None when the row is kept, else the quarantine reason."""
    if cfg.keep_all or stats["reward_type"] in UNSCORED_REWARD_TYPES:
        return None
    if stats["pass_count"] < cfg.min_pass:
        return "pass_count_below_min" if cfg.min_pass > 1 else "never_solved"
    if stats["pass_count"] > cfg.max_pass:
        return "pass_count_above_max" if cfg.max_pass < cfg.k - 1 else "always_solved"
    return None


def _write_outputs(cfg: PassAtKConfig, shards: list[InputShard], plan, per_row: dict[str, dict], side: list[dict],
                   src_dir: Path | None, bad: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from vero_data.schema import COLUMNS, arrow_schema_with_features

    schema = arrow_schema_with_features()
    data_dir = cfg.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    bad = bad or {}
    reasons = {rid: bad[rid][0] if rid in bad else keep_reason(s, cfg) for rid, s in per_row.items()}
    written: list[Path] = []
    quarantine: list[pa.Table] = []
    used = sorted({si for si, _, _ in plan})
    for si in used:
        sh = shards[si]
        n = sum(length for s, _, length in plan if s == si)
        t = _read(sh).slice(0, n)
        ids = t.column("id").to_pylist()
        pcount = pa.array([per_row[i]["pass_count"] for i in ids], pa.int32())
        for name, col in (("pass_count", pcount), ("k", pa.array([cfg.k] * len(ids), pa.int32()))):
            j = t.schema.get_field_index(name)
            t = t.set_column(j, name, col) if j >= 0 else t.append_column(name, col)
        keep = pa.array([reasons[i] is None for i in ids])
        kept = t.filter(keep).select(list(COLUMNS)).cast(schema)
        path = data_dir / sh.name
        tmp = path.with_suffix(".tmp")
        pq.write_table(kept, tmp, row_group_size=100, compression="zstd")
        os.replace(tmp, path)
        written.append(path)
        dropped = t.filter(pc.invert(keep))
        if dropped.num_rows:
            quarantine.append(pa.table({
                "id": dropped.column("id"), "manifest": dropped.column("data_source"), "stage": ["pass_at_k"] *
                dropped.num_rows, "reason": [reasons[i] for i in dropped.column("id").to_pylist()],
                "detail": [bad[i][1] if i in bad else f"pass_count={per_row[i]['pass_count']}/{cfg.k}"
                           for i in dropped.column("id").to_pylist()],
            }))
    for stale in set(data_dir.glob("*.parquet")) - set(written):
        stale.unlink()
    q_path = cfg.out / "quarantine.parquet"
    if quarantine:
        pq.write_table(pa.concat_tables(quarantine), q_path)
    elif q_path.exists():
        q_path.unlink()

    diff = pl.DataFrame(list(per_row.values()), schema={
        "id": pl.String, "data_source": pl.String, "category": pl.String, "reward_type": pl.String,
        "split": pl.String, "k": pl.Int32, "pass_count": pl.Int32, "pass_rate": pl.Float64,
        "mean_reward": pl.Float64, "mean_accuracy": pl.Float64, "format_rate": pl.Float64,
        "mean_tokens": pl.Float64, "truncated": pl.Int32,
    }).with_columns(
        pl.col("id").replace_strict(reasons, default=None, return_dtype=pl.String).alias("drop_reason"),
        pl.lit(cfg.model).alias("model"),
    ).with_columns(pl.col("drop_reason").is_null().alias("kept"))
    comps = pl.DataFrame(side) if side else None
    if comps is not None:
        comps.write_parquet(cfg.out / "completions.parquet")
    _write_catalog(cfg, diff, comps, src_dir)
    hist = Counter(diff["pass_count"].to_list())
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for c, p in diff.select("category", "pass_count").iter_rows():
        if p is not None:
            by_cat[c][p] += 1
    _write_card(cfg, diff, src_dir, Counter(r for r, _ in bad.values()))
    return {
        "kept": int(diff["kept"].sum()), "shards": written,
        "histogram": {i: hist.get(i, 0) for i in range(cfg.k + 1)},
        "by_category": {c: {i: v.get(i, 0) for i in range(cfg.k + 1)} for c, v in sorted(by_cat.items())},
        "dropped": dict(Counter(r for r in reasons.values() if r)),
    }


def _write_catalog(cfg: PassAtKConfig, diff, comps, src_dir: Path | None) -> Path:
    from vero_data.catalog import derived_catalog

    path = cfg.out / "catalog.duckdb"
    with derived_catalog(path, src_dir / "catalog.duckdb" if src_dir else None) as con:
        con.register("diff_in", diff)
        con.execute("CREATE OR REPLACE TABLE difficulty AS SELECT * FROM diff_in")
        if comps is not None:
            con.register("comps_in", comps)
            con.execute("CREATE OR REPLACE TABLE completions AS SELECT * FROM comps_in")
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "samples" in tables:
            # exported rows the filter dropped get their own status
            con.execute("UPDATE samples SET status = 'passk_dropped' FROM difficulty "
                        "WHERE samples.id = difficulty.id AND NOT difficulty.kept")
    return path


def _write_card(cfg: PassAtKConfig, diff, src_dir: Path | None, unsampled: Counter | None = None) -> Path:
    """OUT's dataset card, rewritten for OUT's rows: counts, categories, sources and sizes from its shards, the
    input card's licence and tags, the pass@k section, and links only to files OUT has."""
    import duckdb

    from vero_data.card import card_title, write_filtered_card
    from vero_data.sql import load_sql

    src_card = src_dir / "README.md" if src_dir else None
    input_card = src_card.read_text() if src_card is not None and src_card.is_file() else None
    con = duckdb.connect()
    con.register("difficulty", diff)
    hist = con.execute(load_sql("difficulty")).fetchall()
    con.close()
    lines = ["", f"## pass@{cfg.k} filter", "",
             f"Sampled {cfg.k} responses per prompt from `{cfg.model}` (temperature {cfg.temperature}, top_p "
             f"{cfg.top_p}, max {cfg.max_tokens} tokens) and scored them with the task-routed rewards; a sample "
             f"passes when accuracy >= {cfg.pass_threshold}. "
             + ("All rows kept (annotated only)." if cfg.keep_all else
                f"Kept rows with {cfg.min_pass} <= passes <= {cfg.max_pass}.")
             + f" {int(diff['kept'].sum()):,} of {diff.height:,} rows kept; `pass_count` and `k` are set on each row."
             + (" Quarantined before sampling (not scorable): "
                + ", ".join(f"{n} {r}" for r, n in sorted(unsampled.items())) + "." if unsampled else ""),
             "", "| category | passes | rows | share of category |", "|---|---|---|---|"]
    lines += [f"| {c} | {'not sampled' if p is None else p} | {n} | {s:.1%} |" for c, p, n, s in hist]
    links = ["Filter report: passk_report.json."]  # written right after the card, in the same run
    if (cfg.out / "quarantine.parquet").is_file():
        links.append("Dropped rows and their reasons: quarantine.parquet.")
    title = f"{card_title(input_card) or cfg.data}, pass@{cfg.k} filtered"
    shards = sorted((cfg.out / "data").glob("*.parquet"))
    return write_filtered_card(cfg.out, shards, input_card=input_card, title=title, source=str(cfg.data),
                               section=lines, links=links)


# ----------------------------------------------------------------------------------------------------- data parallel
def _dp_worker(cfg_dict: dict[str, Any], rank: int, gpus: list[str]) -> None:
    # must happen before anything imports torch/vllm in this (spawned) process
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[rank] if rank < len(gpus) else str(rank)
    os.environ[_CLAIMED_ENV] = str(cfg_dict["out"])
    cfg = PassAtKConfig(**{**cfg_dict, "shard_rank": rank, "generate_only": True, "data_parallel": 1,
                           "progress": False, "overwrite": False})
    filter_pass_at_k(cfg)


def run_data_parallel(cfg: PassAtKConfig) -> None:
    """Fill the cache with ``cfg.data_parallel`` local workers, one per GPU, each taking every N-th chunk.

    Each worker is a fresh (spawned) process with ``CUDA_VISIBLE_DEVICES`` set before vLLM is imported. The caller
    then merges by row id from the cache. Across nodes, start one ``--num-shards N --shard-rank R
    --generate-only`` process per GPU yourself on a shared OUT, then run once without ``--generate-only`` to merge.
    """
    import multiprocessing as mp

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(cfg.data_parallel)]
    base = {**asdict(cfg), "num_shards": cfg.data_parallel}
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_dp_worker, args=(base, r, gpus)) for r in range(cfg.data_parallel)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [r for r, p in enumerate(procs) if p.exitcode != 0]
    if bad:
        raise VeroError(f"data-parallel workers {bad} failed; rerun to resume from the cache")


# ----------------------------------------------------------------------------------------------------- demo + bench
DEMO_GENERATORS = ("relative_position", "shape_colour", "counting", "equation", "bar_chart", "text_reading")


def make_demo_input(out: str | Path, rows: int = 12, seed: int = 0, generators: tuple[str, ...] = DEMO_GENERATORS,
                    split: str = "train") -> Path:
    """A small input for the filter without a full build: ``OUT/data/<split>-NNNNN-of-MMMMM.parquet``, one shard
    per generator (rows spread evenly), in the canonical schema."""
    import tempfile

    from vero_data.api import generate_to_dir
    from vero_data.layout import shard_name

    out = Path(out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    gens = generators[:max(1, min(len(generators), rows))]
    per = [rows // len(gens) + (1 if i < rows % len(gens) else 0) for i in range(len(gens))]
    for i, (g, n) in enumerate(zip(gens, per, strict=True)):
        with tempfile.TemporaryDirectory() as tmp:
            res = generate_to_dir(g, n, seed, Path(tmp) / g, split=split)
            shutil.move(res["path"], out / "data" / shard_name(split, i, len(gens)))
    return out


def bench(rows: int = 24, k: int = 8, max_tokens: int = 64, batch_size: int = 8, model: str = "tiny",
          backend: str = "transformers", seed: int = 0) -> dict[str, Any]:
    """Time the filter end to end on generated rows (fresh cache): rows/s, tokens/s, share outside generation."""
    import tempfile

    from vero_train.models.tiny import resolve_model

    path = resolve_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        data = make_demo_input(Path(tmp) / "in", rows=rows, seed=seed)
        res = filter_pass_at_k(PassAtKConfig(data=str(data), out=Path(tmp) / "out", model=path, k=k,
                                             backend=backend, max_tokens=max_tokens, batch_size=batch_size,
                                             keep_all=True, seed=seed, progress=False))
    busy = res.wall_seconds - res.load_seconds
    return {
        "model": model, "backend": backend, "rows": res.rows_in, "k": k, "max_tokens": max_tokens,
        "batch_size": batch_size, "wall_s": round(res.wall_seconds, 2), "model_load_s": round(res.load_seconds, 2),
        "generation_s": round(res.gen_seconds, 2), "rows_per_s": round(res.rows_per_s, 3),
        "tokens_per_s": round(res.tokens_per_s, 1), "tokens": res.tokens,
        "share_outside_generation": round(res.share_outside_generation, 4),
        "outside_generation_s": round(busy - res.gen_seconds, 2),
        "pass_histogram": res.histogram,
    }
