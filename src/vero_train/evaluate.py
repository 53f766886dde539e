"""``vero eval``: generate on a benchmark suite, score as the paper does, aggregate and report.

Per-sample records are appended to ``OUT/samples/<task>.jsonl`` after every batch, so an interrupted run resumes
where it stopped. ``OUT/samples/<task>.fingerprint.json`` records the model and the generation settings that wrote
them: a rerun with other ones is refused rather than scoring the old responses under the new model's name.
Scoring, aggregation and reports are pure Python in :mod:`vero_data.benchmarks`.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vero_data.benchmarks import BenchmarkSpec, ScoreContext, get_benchmark, get_suite
from vero_data.benchmarks.extract import final_answer, strip_reasoning
from vero_data.benchmarks.registry import scorer_for
from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_data.secrets import redact

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


def _fingerprint(c: dict[str, Any], spec: BenchmarkSpec) -> dict[str, Any]:
    """What decides a benchmark's responses: model, backend and the effective generation settings.

    ``c`` holds EvalConfig's fields (a live config, or the ``config`` block of an older run's results.json).
    """
    from vero_train.models.prompts import VERO_SYSTEM_PROMPT

    g = spec.generation
    model = str(c.get("model"))
    if Path(model).exists():  # the same local model however it is spelled
        model = str(Path(model).resolve())
    return {"model": model, "backend": c.get("backend"),
            "temperature": g.temperature if c.get("temperature") is None else c["temperature"],
            "top_p": g.top_p if c.get("top_p") is None else c["top_p"],
            "max_new_tokens": c.get("max_new_tokens") or g.max_new_tokens, "seed": c.get("seed"),
            "system_prompt": VERO_SYSTEM_PROMPT if c.get("system_prompt", True) else None,
            "backend_kwargs": redact(json.loads(json.dumps(c.get("backend_kwargs") or {}, sort_keys=True,
                                                           default=str))),
            "benchmark_version": spec.version}


def check_samples(spec: BenchmarkSpec, cfg: EvalConfig) -> None:
    """Refuse to resume ``spec``'s samples in ``cfg.out`` unless the same model and settings wrote them; record the
    fingerprint when there are none yet."""
    samples = cfg.out / "samples" / f"{spec.name}.jsonl"
    fp_file = samples.with_suffix(".fingerprint.json")
    new = _fingerprint(asdict(cfg), spec)
    if not samples.exists() or samples.stat().st_size == 0:
        fp_file.parent.mkdir(parents=True, exist_ok=True)
        fp_file.write_text(json.dumps(new, indent=1, ensure_ascii=False))
        return
    old = None
    try:
        old = json.loads(fp_file.read_text()) if fp_file.exists() else None
    except ValueError:
        pass
    if not isinstance(old, dict):  # written before fingerprints: the run's results.json says what made it
        try:
            conf = json.loads((cfg.out / "results.json").read_text()).get("config")
        except (OSError, ValueError, AttributeError):
            conf = None
        if not isinstance(conf, dict) or "model" not in conf:
            raise ConfigError(f"{samples} does not record which model and settings wrote it; use another --out or "
                              "--overwrite")
        old = _fingerprint(conf, spec)
    if old != new:
        diff = ", ".join(f"{k} {old.get(k)!r} (now {new[k]!r})" for k in new if k not in ("model", "system_prompt")
                         and old.get(k) != new[k])
        if old.get("system_prompt") != new["system_prompt"]:
            diff = ", ".join(x for x in (diff, "another system prompt") if x)
        if old.get("model") != new["model"]:
            what = f"model {old.get('model')!r} (this run: {new['model']!r})" + (f" with {diff}" if diff else "")
        else:
            what = f"model {old.get('model')!r} with {diff}"
        raise ConfigError(f"{cfg.out} holds {spec.name} samples of {what}; use another --out or --overwrite")
    if not fp_file.exists():
        fp_file.write_text(json.dumps(new, indent=1, ensure_ascii=False))


def _read_jsonl(path: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
                done[r["doc_id"]] = r
            except (ValueError, KeyError):
                continue  # a line cut by an interruption
    return done


def _target(doc: dict) -> Any:
    for k in ("answer", "Answer", "answers", "label", "number", "bbox", "reasoning_a"):
        if k in doc:
            v = doc[k]
            return v if isinstance(v, str | int | float | list) else str(v)
    return None


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


def _score(spec: BenchmarkSpec, doc: dict, response: str, judge, key: str) -> dict:
    return scorer_for(spec)(doc, response, ScoreContext(judge=judge, key=key))


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
    with path.open("a") as f:
        for d, prompt, comps in zip(chunk, prompts, outs, strict=True):
            c = comps[0]
            rec = {"doc_id": d["_id"], "benchmark": spec.name, "sub_task": d.get("sub_task"), "category": d.get("category"),
                   "prompt": prompt, "response": c.text, "n_tokens": c.n_tokens,
                   "finish_reason": c.finish_reason, "target": _target(d), "score": None, "metrics": {}}
            done[d["_id"]] = rec
            f.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def evaluate_benchmark(spec: BenchmarkSpec, cfg: EvalConfig, gen: _Generator, judge=None,
                       rows: list[dict] | None = None) -> list[dict]:
    """Generate (resuming from the sample file) and score one benchmark; returns its sample records."""
    from vero_data.benchmarks.loader import load_docs

    path = cfg.out / "samples" / f"{spec.name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    check_samples(spec, cfg)
    done = _read_jsonl(path)
    docs = list(load_docs(spec, cfg.limit, rows, cfg.synthetic_n))
    todo = [d for d in docs if d["_id"] not in done]
    if todo:
        from vero_data.progress import progress_bar
        from vero_train.models.backends import VERO_SYSTEM_PROMPT

        system = [{"role": "system", "content": VERO_SYSTEM_PROMPT}] if cfg.system_prompt else []
        with progress_bar() as prog:
            task = prog.add_task(f"eval {spec.name}", total=len(todo), rate="")
            t_gen = time.perf_counter()
            for start in range(0, len(todo), cfg.batch_size):
                _generate_chunk(spec, todo[start : start + cfg.batch_size], system, gen, done, path)
                n = min(start + cfg.batch_size, len(todo))
                prog.update(task, completed=n, rate=f"{n / max(time.perf_counter() - t_gen, 1e-9):.2f} samples/s")
    _generate_aux(spec, cfg, gen, docs, done, path)

    by_id = {d["_id"]: _with_aux(d, done[d["_id"]]) for d in docs}
    records = [done[d["_id"]] for d in docs]

    # judged scores carry the judge that gave them: another judge (or none) rescores rather than reusing its verdicts
    judge_id = getattr(judge, "identity", type(judge).__name__) if spec.needs_judge and judge is not None else None

    def score(rec: dict) -> dict:
        if rec.get("score") is not None and (not spec.needs_judge or rec.get("judge") == judge_id):
            return rec
        m = _score(spec, by_id[rec["doc_id"]], rec["response"], judge, rec["doc_id"])
        extract = strip_reasoning if spec.answer_extraction != "fae" else final_answer
        out = {**rec, "extracted": extract(rec["response"]), "score": m.get(spec.metric),
               "metrics": {k: v for k, v in m.items() if v is not None}}
        if spec.needs_judge:
            out["judge"] = judge_id
        return out

    if spec.needs_judge and judge is not None and len(records) > 1:
        with ThreadPoolExecutor(max(1, judge.concurrency)) as ex:
            records = list(ex.map(score, records))
    else:
        records = [score(r) for r in records]
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
    tmp.replace(path)
    return records


def _aux_key(doc_id: str, key: str) -> str:
    return f"{doc_id}#aux:{key}"


def _generate_aux(spec: BenchmarkSpec, cfg: EvalConfig, gen: _Generator, docs: list[dict], done: dict[str, dict],
                  path: Path) -> None:
    """Extra generations a scorer compares against: a doc's ``aux_prompts`` {key: user text} (MM-IFEval's
    ``aux_cmp_gpt`` questions, one constraint removed) are generated with the doc's images, and each response is
    kept in the doc's record under ``aux_responses[key]`` (appended to the sample file, so reruns resume)."""
    from vero_data.benchmarks.loader import build_turn

    todo = [(d, k, t) for d in docs if isinstance(d.get("aux_prompts"), dict)
            for k, t in d["aux_prompts"].items() if k not in (done[d["_id"]].get("aux_responses") or {})]
    if not todo:
        return
    from vero_train.models.backends import VERO_SYSTEM_PROMPT, ChatRequest

    system = [{"role": "system", "content": VERO_SYSTEM_PROMPT}] if cfg.system_prompt else []
    for start in range(0, len(todo), cfg.batch_size):
        chunk = todo[start : start + cfg.batch_size]
        reqs = []
        for d, k, text in chunk:
            msgs, imgs = build_turn(spec, d)
            content = [p for p in msgs[0]["content"] if p.get("type") == "image"] + [{"type": "text", "text": text}]
            reqs.append(ChatRequest(id=_aux_key(d["_id"], k), messages=system + [{"role": "user", "content": content}],
                                    images=imgs))
        outs = gen(spec, reqs)
        with path.open("a") as f:
            for (d, k, _), comps in zip(chunk, outs, strict=True):
                rec = done[d["_id"]]
                rec["aux_responses"] = {**(rec.get("aux_responses") or {}), k: comps[0].text}
                rec["score"] = None  # rescored with the new aux response
                f.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")


def _with_aux(doc: dict, rec: dict) -> dict:
    """The doc as its scorer sees it: generated aux responses as ``aux_predictions`` (kept if the doc has them)."""
    if not rec.get("aux_responses"):
        return doc
    return {**doc, "aux_predictions": {**rec["aux_responses"], **(doc.get("aux_predictions") or {})}}


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

    suite = get_suite(cfg.suite)
    names = suite.benchmarks
    if cfg.benchmarks:
        from vero_data.benchmarks.registry import resolve_benchmarks

        asked = [part.strip() for n in cfg.benchmarks for part in n.split(",") if part.strip()]
        wanted = {a: resolve_benchmarks([a]) for a in asked}  # as the user wrote it → ours (aliases, groups)
        outside = [a for a, ns in wanted.items() if not set(ns) & set(names)]
        if outside:
            raise ConfigError(f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in suite "
                              f"'{cfg.suite}' (its benchmarks: {', '.join(names)}); --benchmark picks from the suite")
        names = [n for n in names if any(n in ns for ns in wanted.values())]
    if cfg.synthetic_n and not any(get_benchmark(n).synthetic for n in names):
        raise ConfigError(f"--synthetic-n sizes generated benchmarks (suite 'synthetic'); suite '{cfg.suite}' "
                          f"runs none ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
    # A plain rerun resumes (also a killed --overwrite run's samples, kept beside OUT); see vero_data.outdir.
    claim = claim_output(cfg.out, "eval", inputs=[cfg.model], overwrite=cfg.overwrite, resume=not cfg.overwrite,
                         legacy=is_eval_output)
    final_out, cfg = cfg.out, copy.copy(cfg)
    cfg.out, cfg.overwrite = claim.work, False
    with claim.guard():
        res = _run_eval_in(cfg, names, rows, final_out)
        claim.commit()
    return res


def is_eval_output(folder: Path) -> bool:
    """An eval folder written before output markers existed."""
    return (folder / "results.json").is_file() or (folder / "samples").is_dir()


def _run_eval_in(cfg: EvalConfig, names: list[str], rows: dict[str, list[dict]] | None,
                 final_out: Path) -> dict[str, Any]:
    """The suite proper, writing into ``cfg.out`` (OUT, or its partial sibling under --overwrite)."""
    from vero_data.benchmarks.aggregate import benchmark_score, match_published, published_scores, results_json
    from vero_data.benchmarks.judge import BenchmarkJudge
    from vero_data.benchmarks.report import html_report, markdown_report

    for name in names:  # before any generation: one refusal, not a half-run
        check_samples(get_benchmark(name), cfg)
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
    (cfg.out / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str))
    (cfg.out / "report.md").write_text(markdown_report(res))
    (cfg.out / "report.html").write_text(html_report(res))
    # lmms-eval's layout as well: OUT/<sanitised model name>/results.json (+ the report beside it)
    tag = cfg.out / ("".join(c if c.isalnum() or c in "-_." else "__" for c in cfg.model.strip("/")) or "model")
    tag.mkdir(exist_ok=True)
    (tag / "results.json").write_text((cfg.out / "results.json").read_text())
    (tag / "report.html").write_text((cfg.out / "report.html").read_text())
    return res
