"""The filter loop: claim OUT, walk the input chunk by chunk, take each chunk's samples from the cache or from
the executor, commit new ones to the cache, and hand every row's pass statistics to the outputs."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vero_data.errors import ConfigError
from vero_train.passk.cache import CACHE_DIR, CompletionCache
from vero_train.passk.config import PassAtKConfig
from vero_train.passk.data_parallel import CLAIMED_ENV, run_data_parallel
from vero_train.passk.inputs import Chunk, InputShard, input_shards, plan_chunks, read_rows
from vero_train.passk.outputs import is_filter_output, write_outputs
from vero_train.passk.ray_pool import require_ray_backend, sample_on_ray
from vero_train.passk.result import FilterResult
from vero_train.passk.sampling import ChunkSampler, ChunkSamples, backend_kind, default_max_tokens
from vero_train.passk.scoring import rescored, row_problem, row_stats, unsampled_stats


def filter_pass_at_k(config: PassAtKConfig | None = None, **kwargs: Any) -> FilterResult:
    """Run the pass@k filter (see :mod:`vero_train.passk`); ``kwargs`` build a :class:`PassAtKConfig`."""
    from vero_data.outdir import claim_output

    cfg = config or PassAtKConfig(**kwargs)
    if cfg.executor == "ray":
        require_ray_backend(cfg)
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
    helper = os.environ.get(CLAIMED_ENV) == str(cfg.out)
    claim = claim_output(cfg.out, "data filter", inputs=[cfg.data, src_dir], overwrite=cfg.overwrite,
                         resume=not cfg.overwrite, legacy=is_filter_output, lock=not helper,
                         shard=f"rank{cfg.shard_rank}" if cfg.num_shards > 1 and not helper else None)
    final_out, cfg = cfg.out, copy.copy(cfg)
    cfg.out, cfg.overwrite = claim.work, False
    with claim.guard():
        if cfg.data_parallel > 1 and cfg.num_shards == 1:
            run_data_parallel(cfg, filter_pass_at_k)
        result = _filter_in(cfg, shards, src_dir, t_start, final_out)
        claim.commit()
    result.out = final_out
    result.shards = [final_out / p.relative_to(claim.work) if p.is_relative_to(claim.work) else p
                     for p in result.shards] if claim.work != final_out else result.shards
    return result


def _chunks(cfg: PassAtKConfig, shards: list[InputShard], plan: list[tuple[int, int, int]], cache: CompletionCache,
            bad: dict[str, tuple[str, str]]) -> Iterator[Chunk]:
    """The plan's chunks, read and checked against the cache; rows that cannot be scored go into ``bad``."""
    for ci, (si, start, length) in enumerate(plan):
        rows = read_rows(shards[si], start, length).to_pylist()
        all_rows = {r["id"]: r for r in rows}
        for r in rows:
            if (problem := row_problem(r)) is not None:
                bad[r["id"]] = problem
        rows = [r for r in rows if r["id"] not in bad]
        hit = cache.lookup([r["id"] for r in rows], cfg.model, cfg.sampling.key(), cfg.k)
        todo = [r for r in rows if r["id"] not in hit]
        # a data-parallel rank that did not finish its chunk leaves it to the merging run
        mine = ci % cfg.num_shards == cfg.shard_rank or (bool(todo) and not cfg.generate_only)
        yield Chunk(ci, length, all_rows, rows, hit, todo, mine)


def _sample_local(cfg: PassAtKConfig, chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, ChunkSamples | None]]:
    """Each chunk with the samples of its todo rows (None when it has nothing to sample here), in this process."""
    sampler = ChunkSampler(cfg, backend_kind(cfg))
    try:
        for ch in chunks:
            yield ch, sampler.sample(ch.todo) if ch.todo and ch.mine else None
    finally:
        sampler.close()


def _filter_in(cfg: PassAtKConfig, shards: list[InputShard], src_dir: Path | None, t_start: float,
               final_out: Path) -> FilterResult:
    """The filter proper, writing into ``cfg.out`` (OUT, or its partial sibling under --overwrite)."""
    from vero_data.progress import progress_bar

    cache = CompletionCache(cfg.out / CACHE_DIR, cfg.shard_rank)
    if cfg.max_tokens is None:
        cfg.max_tokens = default_max_tokens(cfg.model)
    sampling_key = cfg.sampling.key()
    plan, total = plan_chunks(shards, cfg.batch_size, cfg.limit)

    load_s = gen_s = 0.0
    tokens = cached_rows = generated_rows = done_rows = 0
    per_row: dict[str, dict[str, Any]] = {}
    bad: dict[str, tuple[str, str]] = {}  # row id → (reason, detail): quarantined before sampling
    side: list[dict[str, Any]] = []
    chunks = _chunks(cfg, shards, plan, cache, bad)
    if cfg.executor == "ray":
        sampled = sample_on_ray(cfg, chunks)
    else:
        sampled = _sample_local(cfg, chunks)
    with progress_bar(cfg.progress) as prog:
        task = prog.add_task(f"pass@{cfg.k}", total=total, rate="")
        for ch, fresh in sampled:
            rows, hit, todo = ch.rows, ch.hit, ch.todo
            if fresh is not None:
                bad.update(fresh.bad)
                rows = [r for r in rows if r["id"] not in bad]
                todo = [r for r in todo if r["id"] not in bad]
                if todo:
                    hit.update(fresh.samples)
                    cache.put([(rid, cfg.model, sampling_key, *s) for rid, ss in fresh.samples.items() for s in ss])
                    generated_rows += len(todo)
                    tokens += fresh.tokens
                load_s += fresh.load_seconds
                gen_s += fresh.gen_seconds
            elif todo:
                continue  # generate-only worker: another rank's chunk
            cached_rows += len(rows) - len(todo)
            if cfg.rescore:
                for r in rows:
                    hit[r["id"]] = rescored(r, hit[r["id"]], cfg.format_score)
            stats = {r["id"]: row_stats(r, hit[r["id"]], cfg) for r in rows}
            if cfg.save_completions:
                side += [{"id": r["id"], "idx": s[0], "text": s[1], "n_tokens": s[2], "finish_reason": s[3],
                          "score": s[4], "accuracy": s[5], "format": s[6]} for r in rows for s in hit[r["id"]]]
            for rid, r in ch.all_rows.items():  # input order; quarantined rows are listed too, unsampled
                per_row[rid] = stats[rid] if rid in stats else unsampled_stats(rid, r, cfg.k)
            done_rows += ch.size
            el = max(time.perf_counter() - t_start, 1e-9)
            prog.update(task, advance=ch.size, rate=f"{done_rows / el:.2f} rows/s "
                                                    f"{tokens / max(gen_s, 1e-9):.0f} tok/s")
    cache.close()
    if cfg.generate_only:
        return FilterResult(cfg.out, done_rows, 0, cfg.k, {}, {}, {}, cached_rows, generated_rows, tokens,
                            time.perf_counter() - t_start, gen_s, load_s, [])
    written = write_outputs(cfg, shards, plan, per_row, side, src_dir, bad)
    result = FilterResult(
        cfg.out, len(per_row), written["kept"], cfg.k, written["histogram"], written["by_category"],
        written["dropped"], cached_rows, generated_rows, tokens, time.perf_counter() - t_start, gen_s, load_s,
        written["shards"],
    )
    from vero_data.secrets import redact  # keys, tokens and URL credentials in backend options are masked

    (cfg.out / "passk_report.json").write_text(json.dumps(
        {**result.as_dict(), "config": redact({k: v for k, v in asdict(cfg).items() if k != "out"})
         | {"out": str(final_out)}},
        indent=1, default=str))
    return result
