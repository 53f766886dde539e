"""`--data-parallel N`: fill the completion cache with N local worker processes, one per GPU, then merge."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from vero_data.errors import VeroError
from vero_train.passk.config import PassAtKConfig

CLAIMED_ENV = "VERO_FILTER_CLAIMED_OUT"  # set for data-parallel workers: their parent holds OUT's lock


def _dp_worker(run: Callable[[PassAtKConfig], Any], cfg_dict: dict[str, Any], rank: int, gpus: list[str]) -> None:
    # must happen before anything imports torch/vllm in this (spawned) process
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[rank] if rank < len(gpus) else str(rank)
    os.environ[CLAIMED_ENV] = str(cfg_dict["out"])
    cfg = PassAtKConfig(**{**cfg_dict, "shard_rank": rank, "generate_only": True, "data_parallel": 1,
                           "progress": False, "overwrite": False})
    run(cfg)


def run_data_parallel(cfg: PassAtKConfig, run: Callable[[PassAtKConfig], Any]) -> None:
    """Fill the cache with ``cfg.data_parallel`` local workers, one per GPU, each taking every N-th chunk, by calling
    ``run`` (the filter itself, a module-level function the spawned worker imports by name) with its shard.

    Each worker is a fresh (spawned) process with ``CUDA_VISIBLE_DEVICES`` set before vLLM is imported. The caller
    then merges by row id from the cache. Across nodes, start one ``--num-shards N --shard-rank R
    --generate-only`` process per GPU yourself on a shared OUT, then run once without ``--generate-only`` to merge.
    """
    import multiprocessing as mp

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(cfg.data_parallel)]
    base = {**asdict(cfg), "num_shards": cfg.data_parallel}
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_dp_worker, args=(run, base, r, gpus)) for r in range(cfg.data_parallel)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [r for r, p in enumerate(procs) if p.exitcode != 0]
    if bad:
        raise VeroError(f"data-parallel workers {bad} failed; rerun to resume from the cache")

