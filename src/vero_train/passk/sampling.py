"""Sampling one chunk: its rows become chat requests, the backend gives k completions each, and every completion
is scored. The local executor calls this in the driver; the Ray executor in each actor, so both give the same
samples for the same chunk (the backends seed per batch from the seed and the row ids)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from vero_data.errors import RowError, VeroError
from vero_train.passk.config import PassAtKConfig
from vero_train.passk.scoring import score_completion

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 2048


@dataclass
class ChunkSamples:
    """What sampling a chunk gives back: the k scored samples of each row it could ask, the rows it could not
    (row id → ``(reason, detail)``), and what it cost."""

    samples: dict[str, list[tuple]] = field(default_factory=dict)  # (idx, text, n_tokens, finish, score, acc, fmt)
    bad: dict[str, tuple[str, str]] = field(default_factory=dict)
    tokens: int = 0
    gen_seconds: float = 0.0
    load_seconds: float = 0.0


def default_max_tokens(model: str) -> int:
    """The model's own ``generation_config.max_new_tokens`` when it sets one (the tiny model does: a random
    policy never stops, so 2048 tokens per sample would only burn CPU), else 2048."""
    from vero_train.models.tiny import generation_max_new_tokens

    return generation_max_new_tokens(model) or DEFAULT_MAX_TOKENS


def backend_kind(cfg: PassAtKConfig, gpus: bool | None = None) -> str:
    """``cfg.backend``, with ``auto`` resolved: vllm when it is importable and there is a GPU (``gpus``: whether
    the cluster has one; default: whether this machine has), else transformers."""
    if cfg.backend != "auto":
        return cfg.backend
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "transformers"
    if gpus is None:
        try:
            import torch
        except ImportError:
            return "transformers"
        gpus = torch.cuda.is_available()
    return "vllm" if gpus else "transformers"


def make_backend(cfg: PassAtKConfig, kind: str):
    """One replica of the ``kind`` backend for ``cfg.model``."""
    from vero_train.models.backends import get_backend

    kwargs = dict(cfg.backend_kwargs)
    if kind == "vllm":
        kwargs.setdefault("seed", cfg.seed)
    log.info("pass@%d: %s backend, model %s", cfg.k, kind, cfg.model)
    return get_backend(kind, cfg.model, **kwargs)


def requests_for(rows: list[dict], system_prompt: str | None) -> tuple[list, list[dict], dict[str, tuple[str, str]]]:
    """Chat requests for ``rows``, the rows they were made from, and the rows that cannot be asked (a corrupt
    image or prompt quarantines its row, not the run)."""
    from vero_train.models.backends import request_from_row

    reqs, asked, bad = [], [], {}
    for r in rows:
        try:
            reqs.append(request_from_row(r, system_prompt))
            asked.append(r)
        except RowError as e:
            bad[r["id"]] = (e.reason, e.detail)
    return reqs, asked, bad


def generate_and_score(backend, reqs: list, rows: list[dict], cfg: PassAtKConfig) -> ChunkSamples:
    """k completions per request from ``backend``, each scored against its row."""
    t0 = time.perf_counter()
    comps = backend.generate(reqs, cfg.k, cfg.sampling)
    out = ChunkSamples(gen_seconds=time.perf_counter() - t0)
    for r, cs in zip(rows, comps, strict=True):
        if len(cs) != cfg.k:
            raise VeroError(f"backend returned {len(cs)} completions for {r['id']}, expected {cfg.k}")
        samples = []
        for j, c in enumerate(cs):
            s = score_completion(r, c.text, cfg.format_score)
            samples.append((j, c.text, c.n_tokens, c.finish_reason, s["score"], s["accuracy"], s["format"]))
            out.tokens += c.n_tokens
        out.samples[r["id"]] = samples
    return out


class ChunkSampler:
    """Samples chunks with one backend replica, loaded on the first chunk that has a row to ask (a run whose
    chunks are all cached never loads a model)."""

    def __init__(self, cfg: PassAtKConfig, kind: str):
        self.cfg, self.kind, self.backend = cfg, kind, None

    def sample(self, rows: list[dict]) -> ChunkSamples:
        reqs, asked, bad = requests_for(rows, self.cfg.system_prompt)
        if not reqs:
            return ChunkSamples(bad=bad)
        load_s = 0.0
        if self.backend is None:
            t0 = time.perf_counter()
            self.backend = make_backend(self.cfg, self.kind)
            load_s = time.perf_counter() - t0
        out = generate_and_score(self.backend, reqs, asked, self.cfg)
        out.bad, out.load_seconds = bad, load_s
        return out

    def close(self) -> None:
        if self.backend is not None and hasattr(self.backend, "close"):
            self.backend.close()

