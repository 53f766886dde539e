"""``vero eval``: generate on a benchmark suite, score as the paper does, aggregate and report.

This module generates; everything that needs no model is in :mod:`vero_data.benchmarks`: the sample files that
make a run resumable (``samples``), the fingerprint that refuses another model's samples (``fingerprint``), aux
generations (``aux_responses``), scoring (``score``), aggregation and reports.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vero_data.benchmarks import BenchmarkSpec, get_benchmark
from vero_data.benchmarks.aux_responses import aux_request_id, aux_turn, doc_with_aux, pending_aux, store_aux
from vero_data.benchmarks.fingerprint import check_samples
from vero_data.benchmarks.samples import (
    append_samples,
    is_eval_output,
    new_sample,
    read_samples,
    replace_samples,
    samples_path,
    score_samples,
)
from vero_data.benchmarks.selection import run_benchmarks
from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_data.secrets import redact
from vero_train.models.backends import check_backend_installed
from vero_train.models.prompts import VERO_SYSTEM_PROMPT

log = logging.getLogger(__name__)


@dataclass
class EvalConfig:
    """Settings of one ``vero eval`` run; flags share these names (``max_new_tokens`` ↔ ``--max-new-tokens``)."""

    suite: str = field(metadata={"help": "suite name (veroeval30, a category, synthetic) or YAML path"})
    model: str = field(metadata={"help": "hub id, local path, or 'tiny'"})
    out: Path = field(metadata={"help": "run directory"})
    backend: str = field(default="transformers", metadata={"help": "vllm | openai | transformers"})
    limit: int | None = field(default=None, metadata={"help": "at most N docs per benchmark (per subtask)"})
    synthetic_n: int | None = field(default=None, metadata={
        "help": "held-out rows per generated benchmark (default: its YAML's synthetic.n, 8)"})
    benchmarks: list[str] | None = field(default=None, metadata={"help": "run only these benchmarks of the suite"})
    judge_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible judge root (…/v1)"})
    judge_model: str = field(default="Qwen3-32B", metadata={"help": "judge model (paper: Qwen3-32B, vLLM)"})
    judge_api_key_env: str | None = field(default=None, metadata={
        "help": "NAME of the environment variable holding the judge's key (default: $OPENAI_API_KEY, sent over "
                "https or to a loopback host only)"})
    judge_concurrency: int = field(default=8, metadata={"help": "judge requests in flight"})
    max_new_tokens: int | None = field(default=None, metadata={"help": "override (paper: 16384)"})
    temperature: float | None = field(default=None, metadata={"help": "override (paper: 0.6)"})
    top_p: float | None = field(default=None, metadata={"help": "override (paper: 1.0)"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    batch_size: int = field(default=16, metadata={"help": "requests per generate call (one resume checkpoint)"})
    base_url: str | None = field(default=None, metadata={"help": "server for --backend openai"})
    system_prompt: bool = field(default=True, metadata={"help": "prepend the Vero reasoning system prompt"})
    published: str | None = field(default=None, metadata={"help": "published column to compare with"})
    overwrite: bool = field(default=False, metadata={"help": "replace OUT, a previous eval (another model's samples included), when this run succeeds"})
    backend_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.backend not in ("vllm", "openai", "transformers"):
            raise ConfigError(f"--backend must be vllm, openai or transformers, got {self.backend!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be ≥ 1, got {self.limit}")
        if self.synthetic_n is not None and self.synthetic_n < 1:
            raise ConfigError(f"--synthetic-n must be ≥ 1, got {self.synthetic_n}")


class ModelLoadError(VeroError):
    """The model cannot be loaded: the whole run stops (it is not a per-benchmark problem to skip)."""


def _check_samples(spec: BenchmarkSpec, cfg: EvalConfig) -> None:
    """:func:`vero_data.benchmarks.fingerprint.check_samples` for this run's settings and system prompt."""
    check_samples(spec, cfg.out, asdict(cfg), VERO_SYSTEM_PROMPT)


def _system_turn(cfg: EvalConfig) -> list[dict]:
    return [{"role": "system", "content": VERO_SYSTEM_PROMPT}] if cfg.system_prompt else []


class _Generator:
    """Builds the backend on first use, so a fully cached run never loads the model."""

    def __init__(self, cfg: EvalConfig):
        self.cfg = cfg
        self._backend = None

    def __call__(self, spec: BenchmarkSpec, requests: list) -> list:
        from vero_train.models.backends import SamplingConfig, get_backend

        if self._backend is None:
            kw = dict(self.cfg.backend_kwargs)
            if self.cfg.backend == "openai" and self.cfg.base_url:
                kw.setdefault("base_url", self.cfg.base_url)
            try:
                self._backend = get_backend(self.cfg.backend, self.cfg.model, **kw)
            except SourceUnavailableError as e:  # run_eval skips benchmarks on those; a model failure ends the run
                raise ModelLoadError(str(e)) from e
            except (OSError, ValueError) as e:  # transformers: not a model folder, no processor, bad config
                raise ModelLoadError(f"cannot load model {self.cfg.model}: {' '.join(str(e).split())}") from e
        g = spec.generation
        sampling = SamplingConfig(
            temperature=self.cfg.temperature if self.cfg.temperature is not None else g.temperature,
            top_p=self.cfg.top_p if self.cfg.top_p is not None else g.top_p,
            max_tokens=self.cfg.max_new_tokens or g.max_new_tokens,
            seed=self.cfg.seed,
        )
        return self._backend.generate(requests, 1, sampling)


def _generate_chunk(spec: BenchmarkSpec, chunk: list[dict], system: list[dict], gen: _Generator, done: dict,
                    path: Path) -> None:
    """Generate one batch of docs and append their records to the sample file (the unit of resume)."""
    from vero_data.benchmarks.loader import build_turn, prompt_text
    from vero_train.models.backends import ChatRequest

    reqs, prompts = [], []
    for d in chunk:
        msgs, imgs = build_turn(spec, d)
        prompts.append(prompt_text(msgs))
        reqs.append(ChatRequest(id=d["_id"], messages=system + msgs, images=imgs))
    outs = gen(spec, reqs)
    recs = [new_sample(spec, d, prompt, comps[0].text, comps[0].n_tokens, comps[0].finish_reason)
            for d, prompt, comps in zip(chunk, prompts, outs, strict=True)]
    done.update((r["doc_id"], r) for r in recs)
    append_samples(path, recs)


def evaluate_benchmark(spec: BenchmarkSpec, cfg: EvalConfig, gen: _Generator, judge=None,
                       rows: list[dict] | None = None) -> list[dict]:
    """Generate (resuming from the sample file) and score one benchmark; returns its sample records."""
    from vero_data.benchmarks.loader import load_docs

    path = samples_path(cfg.out, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_samples(spec, cfg)
    done = read_samples(path)
    docs = list(load_docs(spec, cfg.limit, rows, cfg.synthetic_n))
    todo = [d for d in docs if d["_id"] not in done]
    if todo:
        from vero_data.progress import progress_bar

        system = _system_turn(cfg)
        with progress_bar() as prog:
            task = prog.add_task(f"eval {spec.name}", total=len(todo), rate="")
            t_gen = time.perf_counter()
            for start in range(0, len(todo), cfg.batch_size):
                _generate_chunk(spec, todo[start : start + cfg.batch_size], system, gen, done, path)
                n = min(start + cfg.batch_size, len(todo))
                prog.update(task, completed=n, rate=f"{n / max(time.perf_counter() - t_gen, 1e-9):.2f} samples/s")
    _generate_aux(spec, cfg, gen, docs, done, path)

    records = score_samples(spec, [done[d["_id"]] for d in docs],
                            {d["_id"]: doc_with_aux(d, done[d["_id"]]) for d in docs}, judge)
    replace_samples(path, records)
    return records


def _generate_aux(spec: BenchmarkSpec, cfg: EvalConfig, gen: _Generator, docs: list[dict], done: dict[str, dict],
                  path: Path) -> None:
    """Generate the docs' aux prompts not answered yet (:mod:`vero_data.benchmarks.aux_responses`), appending each
    updated record to the sample file."""
    from vero_data.benchmarks.loader import build_turn

    todo = pending_aux(docs, done)
    if not todo:
        return
    from vero_train.models.backends import ChatRequest

    system = _system_turn(cfg)
    for start in range(0, len(todo), cfg.batch_size):
        chunk = todo[start : start + cfg.batch_size]
        reqs = []
        for d, k, text in chunk:
            msgs, imgs = build_turn(spec, d)
            reqs.append(ChatRequest(id=aux_request_id(d["_id"], k), messages=system + aux_turn(msgs, text),
                                    images=imgs))
        outs = gen(spec, reqs)
        recs = []
        for (d, k, _), comps in zip(chunk, outs, strict=True):
            store_aux(done[d["_id"]], k, comps[0].text)
            recs.append({**done[d["_id"]]})  # as it is now: a later key of the same doc adds to the record
        append_samples(path, recs)


def run_eval(cfg: EvalConfig, rows: dict[str, list[dict]] | None = None) -> dict[str, Any]:
    """Run a suite; writes ``results.json`` (lmms-eval shape), ``report.md`` and ``report.html`` under ``cfg.out``.

    Args:
        cfg: the run settings.
        rows: per-benchmark rows to use instead of the Hub (tests).

    Returns:
        the results document.
    """
    import copy

    from vero_data.outdir import claim_output

    names = run_benchmarks(cfg.suite, cfg.benchmarks, cfg.synthetic_n)
    check_backend_installed(cfg.backend)  # before OUT is touched
    # A plain rerun resumes (also a killed --overwrite run's samples, kept beside OUT); see vero_data.outdir.
    claim = claim_output(cfg.out, "eval", inputs=[cfg.model], overwrite=cfg.overwrite, resume=not cfg.overwrite,
                         legacy=is_eval_output)
    final_out, cfg = cfg.out, copy.copy(cfg)
    cfg.out, cfg.overwrite = claim.work, False
    with claim.guard():
        res = _run_eval_in(cfg, names, rows, final_out)
        claim.commit()
    return res


def _run_eval_in(cfg: EvalConfig, names: list[str], rows: dict[str, list[dict]] | None,
                 final_out: Path) -> dict[str, Any]:
    """The suite proper, writing into ``cfg.out`` (OUT, or its partial sibling under --overwrite)."""
    from vero_data.benchmarks.aggregate import benchmark_score, match_published, published_scores, results_json
    from vero_data.benchmarks.judge_client import BenchmarkJudge
    from vero_data.benchmarks.report import write_run_reports

    for name in names:  # before any generation: one refusal, not a half-run
        _check_samples(get_benchmark(name), cfg)
    judge = None
    if cfg.judge_url:
        judge = BenchmarkJudge(base_url=cfg.judge_url, model=cfg.judge_model, cache_dir=cfg.out / "judge_cache",
                               concurrency=cfg.judge_concurrency, api_key_env=cfg.judge_api_key_env)
    gen = _Generator(cfg)
    per: dict[str, dict] = {}
    errors: dict[str, str] = {}
    t0 = time.time()
    for name in names:
        spec = get_benchmark(name)
        if spec.needs_judge and judge is None:
            log.warning("%s needs an LLM judge (--judge-url); its samples stay unscored", name)
        try:
            recs = evaluate_benchmark(spec, cfg, gen, judge, (rows or {}).get(name))
        except SourceUnavailableError as e:
            log.warning("skipping %s: %s", name, e)
            errors[name] = str(e)
            continue
        per[name] = benchmark_score(spec, recs)
    if not per:
        first = next(iter(errors.items()), ("", "no benchmarks selected"))
        raise SourceUnavailableError(f"none of the {len(names)} benchmarks of suite '{cfg.suite}' could be loaded "
                                     f"(each is named above); the first, {first[0]}: {first[1]}")
    pub_name = cfg.published or match_published(cfg.model)
    published = published_scores(pub_name) if pub_name else None
    g = get_benchmark(names[0]).generation
    conf = {**{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}, "out": str(final_out),
            "generation": {"max_new_tokens": cfg.max_new_tokens or g.max_new_tokens,
                           "temperature": g.temperature if cfg.temperature is None else cfg.temperature,
                           "top_p": g.top_p if cfg.top_p is None else cfg.top_p},
            "skipped": errors, "seconds": round(time.time() - t0, 1), "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    res = results_json(per, redact(conf), published)  # URL credentials and keys never reach results or reports
    write_run_reports(cfg.out, res, cfg.model)
    return res
