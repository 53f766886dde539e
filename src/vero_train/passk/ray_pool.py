"""``--executor ray``: the chunks that need sampling go to a Ray actor pool, each actor holding one backend
replica, and come back in chunk order to the driver, which commits them to the cache as they arrive (so a killed run
resumes), scores nothing twice and writes the outputs exactly as the local executor does.

transformers (the tiny model included) and OpenAI-endpoint backends run as CPU actors (a ``ray.util.ActorPool``, one
chunk per call; chunks are read from the input as actors free up, so the driver holds a few chunks, not the input),
so their samples are those of the local executor: the same chunk, the same backend, the same per-batch seed. vLLM runs through ``ray.data.llm`` (one engine replica per
``tensor_parallel_size`` GPUs), which needs the ``ray[llm]`` extra; there each of a row's k samples is its own
request with its own seed, so its samples differ from the local vllm backend's ``SamplingParams(n=k)``.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import os
import pickle
from collections.abc import Iterator
from typing import Any

from vero_data.errors import MissingDependencyError
from vero_train.passk.config import PassAtKConfig
from vero_train.passk.inputs import Chunk
from vero_train.passk.sampling import ChunkSampler, ChunkSamples, backend_kind, requests_for
from vero_train.passk.scoring import score_completion

LLM_EXTRA = "pip install 'vero-toolkit[gpu]' (vLLM and ray[data,llm]; GPU machines)"


def require_ray_backend(cfg: PassAtKConfig) -> None:
    """Fail in one line, before OUT is touched, when Ray (or, for vLLM, ``ray.data.llm``) is not installed."""
    from vero_data.executors import require_ray

    require_ray()
    if cfg.backend == "vllm":
        _ray_llm()


def _ray_llm():
    try:
        import ray.data.llm as ray_llm
    except ImportError as e:
        raise MissingDependencyError(f"--executor ray with the vllm backend runs vLLM through ray.data.llm: "
                                     f"{LLM_EXTRA}") from e
    return ray_llm


class ChunkActor:
    """A Ray actor holding one backend replica, loaded on its first chunk; each call samples one chunk (its rows
    arrive pickled, its :class:`ChunkSamples` go back pickled)."""

    def __init__(self, cfg: PassAtKConfig, kind: str):
        self.sampler = ChunkSampler(cfg, kind)

    def sample(self, rows: bytes) -> bytes:
        return pickle.dumps(self.sampler.sample(pickle.loads(rows)))


def sample_on_ray(cfg: PassAtKConfig, chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, ChunkSamples | None]]:
    """Each chunk with the samples of its todo rows (None when all its rows are cached), in chunk order. Chunks are
    read as the cluster asks for them: the driver holds the chunks in flight, not the input."""
    from vero_data.executors import init_ray, quiet_ray_data, require_ray

    chunks = iter(chunks)
    head: list[Chunk] = []
    for ch in chunks:  # cached chunks ahead of the first one to sample: no cluster, no model for them
        head.append(ch)
        if ch.todo:
            break
    else:
        yield from ((ch, None) for ch in head)
        return
    ray = require_ray()
    started = init_ray(cfg.ray_address, os.cpu_count() or 1)
    quiet_ray_data(ray)
    try:
        resources = ray.cluster_resources()
        kind = backend_kind(cfg, gpus=resources.get("GPU", 0) > 0)
        stream = itertools.chain(head, chunks)
        if kind == "vllm":
            yield from _vllm_in_order(ray, cfg, list(stream), resources)
        else:
            yield from _actor_results(ray, cfg, kind, stream, resources)
    finally:
        if started:
            ray.shutdown()


def _vllm_in_order(ray, cfg: PassAtKConfig, chunks: list[Chunk], resources: dict
                   ) -> Iterator[tuple[Chunk, ChunkSamples | None]]:
    jobs = [ch for ch in chunks if ch.todo]
    results = _vllm_results(ray, cfg, jobs, resources)
    for ch in chunks:
        yield ch, next(results) if ch.todo else None


def _actor_results(ray, cfg: PassAtKConfig, kind: str, chunks: Iterator[Chunk], resources: dict
                   ) -> Iterator[tuple[Chunk, ChunkSamples | None]]:
    """Chunks sampled by a ``ray.util.ActorPool`` of CPU actors (one per cluster CPU, started as work arrives),
    yielded in chunk order. At most ``2 x actors`` chunks wait on the driver: one in flight per actor and as many
    queued so no actor idles between chunks."""
    from ray.util import ActorPool

    max_actors = max(1, int(resources.get("CPU", 1)))
    remote = ray.remote(num_cpus=1)(ChunkActor)
    pool, n_actors = ActorPool([]), 0
    window: collections.deque[Chunk] = collections.deque()

    def pop() -> tuple[Chunk, ChunkSamples | None]:
        ch = window.popleft()
        return ch, pickle.loads(pool.get_next()) if ch.todo else None  # results come in submission order

    for ch in chunks:
        if ch.todo:
            if not pool.has_free() and n_actors < max_actors:
                pool.push(remote.remote(cfg, kind))
                n_actors += 1
            pool.submit(lambda actor, rows: actor.sample.remote(rows), pickle.dumps(ch.todo))
        window.append(ch)
        while window and (not window[0].todo or len(window) > 2 * max_actors):
            yield pop()
    while window:
        yield pop()


def _sample_seed(seed: int, row_id: str, j: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\0{row_id}\0{j}".encode()).digest()[:4], "big")


def _llm_item(chunk: int, req, j: int, cfg: PassAtKConfig, specials: tuple[str, ...]) -> dict[str, Any]:
    """Sample ``j`` of a request as a ``ray.data.llm`` row: the messages in its image-part form (pickled, as Arrow
    cannot hold text and part-list contents in one column) and sampling parameters with the sample's own seed."""
    from vero_train.models.backends.vllm import vllm_messages

    messages = [{"role": m["role"], "content": [
        {"type": "image", "image": p["image_pil"]} if p.get("type") == "image_pil" else p for p in m["content"]]
        if isinstance(m["content"], list) else m["content"]} for m in vllm_messages(req, specials)]
    s = cfg.sampling
    params = {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens,
              "presence_penalty": s.presence_penalty, "seed": _sample_seed(s.seed, req.id, j),
              **({"top_k": s.top_k} if s.top_k else {})}
    return {"chunk": chunk, "row_id": req.id, "idx": j, "messages": pickle.dumps(messages), "sampling_params": params}


def _engine_kwargs(cfg: PassAtKConfig) -> dict[str, Any]:
    """The vllm backend's options (``--backend-opt``, ``--tensor-parallel-size``) as ``vllm.LLM`` engine kwargs."""
    kw = {"max_model_len": 8192, "gpu_memory_utilization": 0.85, **cfg.backend_kwargs}
    kw["limit_mm_per_prompt"] = {"image": kw.pop("max_images", 4), "video": 0}
    if max_pixels := kw.pop("max_pixels", None):
        kw["mm_processor_kwargs"] = {"size": {"shortest_edge": 28 * 28 * 4, "longest_edge": max_pixels}}
    kw.setdefault("seed", cfg.seed)
    return kw


def _vllm_results(ray, cfg: PassAtKConfig, jobs: list[Chunk], resources: dict) -> Iterator[ChunkSamples]:
    """The jobs' samples, in job order, from ``ray.data.llm``'s vLLM processor: one engine replica per
    ``tensor_parallel_size`` GPUs, one request per (row, sample): its vLLM stage returns only a request's first
    output, so ``n=k`` would lose samples. It reports no finish reason: a sample that used all ``max_tokens`` counts as
    truncated. Rows that cannot be asked are found here, on the driver, before any request is sent; each chunk goes
    back as soon as its samples are in, so a killed run keeps what it committed."""
    from transformers import AutoTokenizer

    from vero_train.models.prompts import special_tokens
    from vero_train.models.tiny import resolve_model

    ray_llm = _ray_llm()
    model = resolve_model(cfg.model)
    specials = special_tokens(AutoTokenizer.from_pretrained(model))
    engine = _engine_kwargs(cfg)
    replicas = max(1, int(resources.get("GPU", 1)) // int(engine.get("tensor_parallel_size", 1)))
    asked: dict[int, tuple[list[dict], dict]] = {}
    items = []
    for ch in jobs:
        reqs, rows, bad = requests_for(ch.todo, cfg.system_prompt)
        asked[ch.index] = (rows, bad)
        items += [_llm_item(ch.index, req, j, cfg, specials) for req in reqs for j in range(cfg.k)]
    processor = ray_llm.build_llm_processor(
        ray_llm.vLLMEngineProcessorConfig(model_source=model, engine_kwargs=engine, concurrency=replicas,
                                          batch_size=cfg.batch_size, has_image=True),
        preprocess=lambda row: {**row, "messages": pickle.loads(row["messages"])},
        postprocess=lambda row: {"chunk": row["chunk"], "row_id": row["row_id"], "idx": row["idx"],
                                 "text": row["generated_text"], "n_tokens": row["num_generated_tokens"]},
    )
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    stream = iter(processor(ray.data.from_items(items)).iter_rows() if items else ())
    got: dict[tuple[int, str], dict[int, tuple[str, int]]] = {}
    for ch in jobs:  # a chunk is yielded (and committed) as soon as its last sample is in
        rows, bad = asked[ch.index]
        while any(len(got.get((ch.index, r["id"]), ())) < cfg.k for r in rows):
            o = next(stream)
            got.setdefault((o["chunk"], o["row_id"]), {})[o["idx"]] = (o["text"], int(o["n_tokens"]))
        out = ChunkSamples(bad=bad)
        for row in rows:
            samples = []
            for j, (text, n) in sorted(got.pop((ch.index, row["id"])).items()):
                sc = score_completion(row, text, cfg.format_score)
                samples.append((j, text, n, "length" if n >= cfg.max_tokens else "stop", sc["score"], sc["accuracy"],
                                sc["format"]))
                out.tokens += n
            out.samples[row["id"]] = samples
        yield out
