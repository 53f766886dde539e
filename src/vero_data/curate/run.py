"""The curation run over an existing build: question filter, then answer canonicalisation (vero600k_format.md §7).

Rows are read in input order (cut at ``limit``) in chunks of ``batch_size``. Per chunk:

1. **Question filter** (not for captioning/IF rows, §7.2): each row goes to the judge with its domain's prompt, its
   images, question and reference answer; the reply must be a JSON object with the five boolean flags and a
   ``reason``. A row with any flag true is dropped as ``question_filter:<first true flag>``.
2. **Canonicalisation** (§7.3): the rule-based canonicaliser runs first; only answers it leaves unsettled go to
   the judge (text only). A reply marking the answer multi-valued drops the row (``canonicalise_multi_value``);
   otherwise the canonical answer replaces the answer and the original is kept in ``answer_raw``.

A reply that is not the expected JSON is asked again once (the retry names the problem); a second bad reply
quarantines the row as ``judge_unparseable``. Every reply is cached (see :mod:`vero_data.curate.cache`), so a rerun
into the same output resumes. The input build is never modified.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vero_data.chunking import chunk_plan
from vero_data.curate.cache import CACHE_DIR, ReplyCache, cache_key
from vero_data.curate.judge import CurateSampling, Judge, JudgeReply, JudgeRequest
from vero_data.curate.parse import (
    CANON_SCHEMA,
    QF_FLAGS,
    QF_SCHEMA,
    ReplyError,
    excerpt,
    parse_canonical,
    parse_question_filter,
)
from vero_data.curate.prompts import Prompt, canonicalise_prompt, load_prompts, question_filter_prompt
from vero_data.curate.rules import SKIP_CATEGORIES, check_llm_answer, settle
from vero_data.errors import ConfigError, RowError, VeroError
from vero_data.layout import find_input_parquet
from vero_data.run_timing import GenerationTiming
from vero_data.schema import IMAGE_PLACEHOLDER, loads_extra

log = logging.getLogger(__name__)

REPORT = "curate_report.json"
MAX_RETRY_ECHO_CHARS = 2_000  # how much of a bad reply the retry message quotes back


@dataclass
class CurateConfig:
    """Settings of one ``vero data curate`` run; field names are the CLI flags."""

    data: Path = field(metadata={"help": "a `vero data build` (or filter/curate) output folder: DIR/data/*.parquet"})
    out: Path | None = field(default=None, metadata={"help": "output folder (default: DIR-curated beside DIR)"})
    question_filter: bool = field(default=False, metadata={"help": "run the question filter (§7.2)"})
    canonicalise: bool = field(default=False, metadata={"help": "run the answer canonicaliser (§7.3)"})
    model: str = field(default="", metadata={"help": "the judge model (paper: Qwen3-VL-235B for the filter)"})
    prompts: Path | None = field(default=None, metadata={"help": "folder of prompt files overriding the built-in"})
    limit: int | None = field(default=None, metadata={"help": "curate only the first N rows"})
    batch_size: int = field(default=32, metadata={"help": "rows per chunk (paper rollout batch: 32, §7.2)"})
    sampling: CurateSampling = field(default_factory=CurateSampling, metadata={
        "help": "temperature 0.6, top_p 0.8, top_k 20, max 8096 tokens, seed 42 (§7.2)"})
    overwrite: bool = field(default=False, metadata={"help": "replace OUT, a previous curate output"})
    progress: bool | None = field(default=None, metadata={"help": "progress bar (default: on a terminal)"})

    def __post_init__(self):
        self.data = Path(self.data)
        if self.out is None:
            self.out = self.data.resolve().parent / f"{self.data.resolve().name}-curated"  # beside DIR, never in it
        self.out = Path(self.out)
        if not (self.question_filter or self.canonicalise):
            raise ConfigError("nothing to do: pass --question-filter and/or --canonicalise")
        if not self.model:
            raise ConfigError("--model is required (a judge model: HF id, path, `tiny`, or a served model name)")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {self.limit}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {self.batch_size}")
        s = self.sampling
        if s.temperature < 0:
            raise ConfigError(f"--temperature must be >= 0, got {s.temperature}")
        if not 0 < s.top_p <= 1:
            raise ConfigError(f"--top-p must be in (0, 1], got {s.top_p}")
        if s.max_tokens is not None and s.max_tokens < 1:
            raise ConfigError(f"--max-tokens must be >= 1, got {s.max_tokens}")


@dataclass
class CurateResult(GenerationTiming):
    out: Path
    rows_in: int
    rows_kept: int
    dropped: dict[str, int]
    flags: dict[str, int]  # rows with each question-filter flag true
    canonicalised_by: dict[str, int]  # rules / llm / skip (+ unchanged counts)
    answers_changed: int
    requests: int
    cached_replies: int
    retries: int
    tokens: int  # generated (completion) tokens of this run's requests
    prompt_tokens: int  # prompt tokens, of the requests whose backend reports them (prompt_tokens_requests)
    prompt_tokens_requests: int
    prompt_chars: int
    wall_seconds: float
    gen_seconds: float
    load_seconds: float
    guided: bool | None  # None when every reply came from the cache (no model was loaded)
    model: str
    prompt_versions: dict[str, str]
    shards: list[Path]

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "shards"}
        d.update(out=str(self.out), shards=[str(s) for s in self.shards], rows_per_s=round(self.rows_per_s, 4),
                 share_outside_generation=round(self.share_outside_generation, 4),
                 tokens_per_row=round(self.tokens / self.requests, 1) if self.requests else 0.0)
        return d


@dataclass
class Outcome:
    """What curation decided for one row."""

    id: str
    data_source: str
    category: str
    reward_type: str
    answer: str
    answer_raw: str | None = None
    flags: dict[str, bool] | None = None
    qf_reason: str | None = None
    canonicalised_by: str | None = None  # rules | llm | skip
    canon_reason: str | None = None
    changed: bool = False  # this run changed the answer
    drop_reason: str | None = None
    stage: str | None = None
    detail: str | None = None
    prior: dict | None = None  # the input row's own ``curation`` (an earlier run's steps)

    def curation(self, model: str) -> str:
        """The row's ``curation`` column as JSON text: per step, the model, its verdict and reason. A step this run
        did not do keeps what an earlier run (the input's ``curation``) recorded, so the question filter with a VLM
        and canonicalisation with a text LLM can run one after the other."""
        doc = {"question_filter": None, "canonicalise": None, **(self.prior or {})}
        if self.flags is not None:
            doc["question_filter"] = {"model": model, "flags": self.flags, "reason": self.qf_reason}
        if self.canonicalised_by is not None:
            doc["canonicalise"] = {"model": model if self.canonicalised_by == "llm" else None,
                                   "by": self.canonicalised_by, "reason": self.canon_reason}
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)


@dataclass
class _Stats:
    requests: int = 0
    cached: int = 0
    retries: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    prompt_tokens_requests: int = 0  # requests whose prompt tokens the backend reported
    prompt_chars: int = 0
    gen_s: float = 0.0
    load_s: float = 0.0


# ----------------------------------------------------------------------------------------------------- input
def input_shards(data: Path) -> list[Path]:
    """``DIR/data/*.parquet`` (or ``DIR/*.parquet``), every footer and column checked before anything runs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not data.is_dir():
        raise ConfigError(f"{data}: not a folder (expected a `vero data build` output with data/*.parquet)")
    files = find_input_parquet(data)
    if not files:
        raise ConfigError(f"no Parquet shards in {data}/data or {data}")
    need = ("id", "data_source", "category", "prompt", "images", "answer", "reward_type", "extra_info")
    for f in files:
        try:
            names = pq.read_schema(f).names
        except (OSError, ValueError, pa.ArrowException) as e:
            raise VeroError(f"{f}: not a readable Parquet file ({str(e).splitlines()[0] if str(e) else e})") from e
        missing = [c for c in need if c not in names]
        if missing:
            raise ConfigError(f"{f}: not a Vero dataset, missing column(s) {', '.join(missing)}")
    return files


def question_text(prompt: Any) -> str:
    """The user turns' text with ``<image>`` placeholders removed (the prompt adds its own)."""
    if isinstance(prompt, str):
        prompt = json.loads(prompt) if prompt.lstrip().startswith("[") else [{"role": "user", "content": prompt}]
    parts = [m.get("content") or "" for m in prompt or [] if isinstance(m, dict) and m.get("role") == "user"]
    return "\n".join(p.replace(IMAGE_PLACEHOLDER, "").strip() for p in parts if isinstance(p, str)).strip()


def _plain(text: str) -> str:
    """Row text as prompt text: a literal ``<image>`` in a question or answer must not become an image slot."""
    return text.replace(IMAGE_PLACEHOLDER, "[image]")


def _choices(extra: dict) -> str:
    ch = extra.get("choices")
    if not isinstance(ch, list) or not ch:
        return ""
    return "Options:\n" + "\n".join(f"{chr(ord('A') + i)}. {_plain(str(c))}" for i, c in enumerate(ch[:26])) + "\n"


def _messages(prompt: Prompt, user: str) -> list[dict]:
    from vero_data.curate.prompts import split_images

    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": split_images(user)}]


# ----------------------------------------------------------------------------------------------------- asking
@dataclass
class _Ask:
    """One question to the judge about one row."""

    row_id: str
    prompt: Prompt
    messages: list[dict]
    images: list
    content: str  # what the cache key hashes besides model, prompt version and sampling


class _Asker:
    """Sends batches to the judge through the cache, retries bad replies once, parses strictly."""

    def __init__(self, judge_factory: Callable[[], Judge], model: str, cache: ReplyCache, sampling: CurateSampling,
                 stats: _Stats):
        self.factory, self.model, self.cache, self.sampling, self.stats = judge_factory, model, cache, sampling, stats
        self.judge: Judge | None = None
        self.skey = sampling.key()

    def _judge(self) -> Judge:
        if self.judge is None:
            t0 = time.perf_counter()
            self.judge = self.factory()
            self.stats.load_s += time.perf_counter() - t0
        return self.judge

    def _replies(self, kind: str, asks: list[_Ask], attempt: int, schema: dict) -> list[JudgeReply]:
        keys = [cache_key(self.model, a.prompt.version, self.skey, a.content, attempt) for a in asks]
        hit = self.cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in hit]
        self.stats.cached += len(asks) - len(todo)
        if todo:
            judge = self._judge()
            reqs = [JudgeRequest(f"{asks[i].row_id}:{kind}:{attempt}", asks[i].messages, asks[i].images,
                                 schema if judge.guided else None) for i in todo]
            t0 = time.perf_counter()
            got = judge.complete(reqs, self.sampling)
            self.stats.gen_s += time.perf_counter() - t0
            if len(got) != len(reqs):
                raise VeroError(f"the judge returned {len(got)} replies for {len(reqs)} requests")
            self.stats.requests += len(reqs)
            self.stats.tokens += sum(r.n_tokens for r in got)
            counted = [r.prompt_tokens for r in got if r.prompt_tokens is not None]
            self.stats.prompt_tokens += sum(counted)
            self.stats.prompt_tokens_requests += len(counted)
            self.stats.prompt_chars += sum(len(json.dumps(r.messages)) for r in reqs)
            self.cache.put_many([(keys[i], kind, asks[i].row_id, r.text, int(r.n_tokens), r.finish_reason)
                                 for i, r in zip(todo, got, strict=True)])
            for i, r in zip(todo, got, strict=True):
                hit[keys[i]] = (r.text, r.n_tokens, r.finish_reason)
        return [JudgeReply(*hit[k]) for k in keys]

    def ask(self, kind: str, asks: list[_Ask], parser: Callable[[str], dict], schema: dict
            ) -> dict[str, dict | tuple[str, str]]:
        """``row id → parsed reply`` or ``row id → (why, reply excerpt)`` after the retry also failed."""
        out: dict[str, dict | tuple[str, str]] = {}
        bad: list[tuple[_Ask, str, str]] = []
        for a, r in zip(asks, self._replies(kind, asks, 0, schema), strict=True):
            try:
                out[a.row_id] = parser(r.text)
            except ReplyError as e:
                bad.append((a, _why(e, r), r.text))
        if not bad:
            return out
        self.stats.retries += len(bad)
        retry = [_Ask(a.row_id, a.prompt, [*a.messages, {"role": "assistant", "content": text[:MAX_RETRY_ECHO_CHARS]},
                                           {"role": "user", "content": f"That reply is not valid ({why}). Reply "
                                            "with only the JSON object, with exactly the keys asked for."}],
                      a.images, a.content) for a, why, text in bad]
        for (a, why0, _), r in zip(bad, self._replies(kind, retry, 1, schema), strict=True):
            try:
                out[a.row_id] = parser(r.text)
            except ReplyError as e:
                out[a.row_id] = (f"{why0}; retry: {_why(e, r)}", excerpt(r.text))
        return out


def _why(e: ReplyError, reply: JudgeReply) -> str:
    """Why a reply was refused; a reply the token limit cut off says so (raise --max-tokens)."""
    return f"{e} (cut at --max-tokens)" if reply.finish_reason == "length" else str(e)


def _image_digest(images: list[Any]) -> list[str]:
    from vero_data.images import to_bytes_and_path

    out = []
    for im in images:
        try:
            data, _ = to_bytes_and_path(im)
        except Exception:  # hashed for the cache key only; decoding reports the real problem
            data = repr(im).encode()
        out.append(hashlib.sha256(data).hexdigest()[:16])
    return out


# ----------------------------------------------------------------------------------------------------- main
def curate(config: CurateConfig, judge: Judge | Callable[[], Judge]) -> CurateResult:
    """Curate ``config.data`` into ``config.out`` with ``judge`` (a judge, or a function that makes one, called
    only when a reply is not cached). See the module docstring.

    Args:
        config: the run's settings.
        judge: the model to ask; ``config.model`` names it in the cache keys.
    """
    from vero_data.outdir import claim_output

    cfg = config
    t_start = time.perf_counter()
    shards = input_shards(cfg.data)
    prompts = load_prompts(cfg.prompts)
    if cfg.out.resolve() == cfg.data.resolve():
        raise ConfigError("--out must differ from the input folder (the input build is never modified)")
    if not _plan(shards, cfg.limit, cfg.batch_size):
        raise VeroError(f"{cfg.data}: its shards hold no rows; nothing to curate")
    claim = claim_output(cfg.out, "data curate", inputs=[cfg.data], overwrite=cfg.overwrite,
                         resume=not cfg.overwrite, legacy=lambda p: (p / REPORT).is_file())
    final_out, work = cfg.out, copy.copy(cfg)
    work.out, work.overwrite = claim.work, False
    factory = judge if callable(judge) and not hasattr(judge, "complete") else (lambda: judge)
    with claim.guard():
        result = _curate_in(work, shards, prompts, factory, t_start, final_out)
        claim.commit()
    result.out = final_out
    result.shards = [final_out / p.relative_to(claim.work) for p in result.shards] if claim.work != final_out \
        else result.shards
    return result


def _plan(shards: list[Path], limit: int | None, batch_size: int) -> list[tuple[int, int, int]]:
    import pyarrow.parquet as pq

    return chunk_plan((pq.ParquetFile(f).metadata.num_rows for f in shards), batch_size, limit)[0]


def _curate_in(cfg: CurateConfig, shards: list[Path], prompts: dict[str, Prompt],
               factory: Callable[[], Judge], t_start: float, final_out: Path) -> CurateResult:
    import pyarrow.parquet as pq

    from vero_data.progress import progress_bar

    stats = _Stats()
    cache = ReplyCache(cfg.out / CACHE_DIR)
    asker = _Asker(factory, cfg.model, cache, cfg.sampling, stats)
    plan = _plan(shards, cfg.limit, cfg.batch_size)
    total = sum(n for _, _, n in plan)
    outcomes: dict[str, Outcome] = {}
    tables: dict[int, Any] = {}

    def load(step: tuple[int, int, int]) -> _Prepared:
        si, start, length = step
        if si not in tables:
            tables.clear()  # one shard in memory at a time
            tables[si] = pq.read_table(shards[si])
        return _prepare(cfg, tables[si].slice(start, length).to_pylist(), prompts)

    # Reading the next chunk and decoding its images (PIL releases the GIL) overlaps the judge's work on this one;
    # one chunk ahead bounds the memory held.
    from concurrent.futures import ThreadPoolExecutor

    try:
        with progress_bar(cfg.progress) as prog, ThreadPoolExecutor(max_workers=1) as pool:
            task = prog.add_task("curate", total=total, rate="")
            done = 0
            nxt = pool.submit(load, plan[0]) if plan else None
            for i in range(len(plan)):
                prep = nxt.result()
                nxt = pool.submit(load, plan[i + 1]) if i + 1 < len(plan) else None
                for o in _finish(cfg, prep, prompts, asker):
                    outcomes[o.id] = o
                done += len(prep.outs)
                el = max(time.perf_counter() - t_start, 1e-9)
                prog.update(task, advance=len(prep.outs), rate=f"{done / el:.2f} rows/s")
    finally:
        cache.close()
        j = asker.judge
        if j is not None and hasattr(j, "close"):
            j.close()
    tables.clear()
    from vero_data.curate.write import write_outputs

    model = cfg.model  # as the cache keys name it, so a rerun from the cache writes the same output
    written = write_outputs(cfg, shards, plan, outcomes, prompts, final_out, model)
    wall = time.perf_counter() - t_start
    dropped = Counter(o.drop_reason for o in outcomes.values() if o.drop_reason)
    flags = Counter(f for o in outcomes.values() if o.flags for f in QF_FLAGS if o.flags[f])
    by = Counter(o.canonicalised_by for o in outcomes.values() if o.canonicalised_by)
    guided = None if asker.judge is None else bool(asker.judge.guided)  # None: no model loaded, all cached
    res = CurateResult(
        out=cfg.out, rows_in=len(outcomes), rows_kept=sum(1 for o in outcomes.values() if not o.drop_reason),
        dropped=dict(sorted(dropped.items())), flags=dict(sorted(flags.items())), canonicalised_by=dict(by),
        answers_changed=sum(1 for o in outcomes.values() if o.changed and not o.drop_reason),
        requests=stats.requests, cached_replies=stats.cached, retries=stats.retries, tokens=stats.tokens,
        prompt_tokens=stats.prompt_tokens, prompt_tokens_requests=stats.prompt_tokens_requests,
        prompt_chars=stats.prompt_chars, wall_seconds=wall, gen_seconds=stats.gen_s, load_seconds=stats.load_s,
        guided=guided, model=model, prompt_versions={k: p.version for k, p in prompts.items()}, shards=written,
    )
    from vero_data.secrets import redact

    cfg_doc = redact({k: v for k, v in asdict(cfg).items() if k not in ("out", "progress")})
    (cfg.out / REPORT).write_text(json.dumps({**res.as_dict(), "out": str(final_out), "config": cfg_doc},
                                             indent=1, default=str))
    return res


@dataclass
class _Prepared:
    """A chunk read and made ready for the judge: outcomes, extras and the question-filter requests."""

    rows: list[dict]
    outs: list[Outcome]
    extras: dict[str, dict]
    qf_asks: list[_Ask]


def _prepare(cfg: CurateConfig, rows: list[dict], prompts: dict[str, Prompt]) -> _Prepared:
    """Everything about a chunk that needs no model: checks, image decoding, question-filter prompts."""
    from vero_data.images import decode_rgb

    outs = [Outcome(r["id"], r["data_source"], r["category"], r["reward_type"], r["answer"] or "",
                    answer_raw=r.get("answer_raw"),  # a curated input keeps its first original
                    prior=_prior(r.get("curation"))) for r in rows]
    extras: dict[str, dict] = {}
    for r, o in zip(rows, outs, strict=True):
        try:
            extras[o.id] = loads_extra(r.get("extra_info"))
        except ValueError as e:
            _drop(o, "input", "bad_extra_info", f"extra_info is not JSON ({e})")
        if not (r.get("answer") or "").strip():
            _drop(o, "input", "missing_answer", "answer is empty")
    asks = []
    if cfg.question_filter:
        for r, o in zip(rows, outs, strict=True):
            if o.drop_reason or o.category in SKIP_CATEGORIES:
                continue
            prompt = question_filter_prompt(prompts, o.category)
            if prompt is None:  # a category with no domain prompt is a config problem, not a row problem
                raise ConfigError(f"row {o.id}: no question-filter prompt for category {o.category!r}")
            try:
                images = [decode_rgb(x) for x in (r.get("images") or [])]
            except RowError as e:
                _drop(o, "question_filter", "bad_image", f"{e.reason}: {e.detail}")
                continue
            user = prompt.render(images="\n".join([IMAGE_PLACEHOLDER] * len(images)),
                                 question=_plain(question_text(r.get("prompt"))), answer=_plain(o.answer),
                                 reward_type=o.reward_type, choices=_choices(extras.get(o.id, {})))
            content = json.dumps([user, _image_digest(r.get("images") or [])])
            asks.append(_Ask(o.id, prompt, _messages(prompt, user), images, content))
    return _Prepared(rows, outs, extras, asks)


def _finish(cfg: CurateConfig, prep: _Prepared, prompts: dict[str, Prompt], asker: _Asker) -> list[Outcome]:
    """Ask the judge about a prepared chunk; returns an outcome per row, in order."""
    rows, outs, extras = prep.rows, prep.outs, prep.extras
    by_id = {o.id: o for o in outs}
    if cfg.question_filter:
        for rid, v in asker.ask("question_filter", prep.qf_asks, parse_question_filter, QF_SCHEMA).items():
            o = by_id[rid]
            if isinstance(v, tuple):
                _drop(o, "question_filter", "judge_unparseable", f"{v[0]}; reply: {v[1]}")
                continue
            o.flags = {f: v[f] for f in QF_FLAGS}
            o.qf_reason = v["reason"]
            first = next((f for f in QF_FLAGS if v[f]), None)
            if first is not None:
                true = ", ".join(f for f in QF_FLAGS if v[f])
                _drop(o, "question_filter", f"question_filter:{first}", f"{true}: {excerpt(v['reason'], 500)}")

    if cfg.canonicalise:
        asks = []
        for r, o in zip(rows, outs, strict=True):
            if o.drop_reason:
                continue
            extra = extras.get(o.id, {})
            s = settle(o.answer, o.reward_type, o.category, extra)
            o.canonicalised_by = s.status
            if s.status == "skip":
                o.canon_reason = s.why
                continue
            if s.status == "rules":
                _set_answer(o, s.answer)
                continue
            o.canon_reason = s.why
            prompt = canonicalise_prompt(prompts, o.category)
            user = prompt.render(images="", question=_plain(question_text(r.get("prompt"))), answer=_plain(o.answer),
                                 reward_type=o.reward_type, choices=_choices(extra))
            asks.append(_Ask(o.id, prompt, _messages(prompt, user), [], json.dumps([user])))
        for rid, v in asker.ask("canonicalise", asks, parse_canonical, CANON_SCHEMA).items():
            o = by_id[rid]
            if isinstance(v, tuple):
                _drop(o, "canonicalise", "judge_unparseable", f"{v[0]}; reply: {v[1]}")
                continue
            o.canon_reason = v["reason"]
            if v["multi_value"]:
                _drop(o, "canonicalise", "canonicalise_multi_value",
                      f"answer {excerpt(o.answer, 120)!r}: {excerpt(v['reason'], 400)}")
                continue
            new, why = check_llm_answer(v["answer"], o.reward_type, extras.get(o.id, {}))
            if new is None:
                _drop(o, "canonicalise", "canonicalise_invalid", f"answer {excerpt(o.answer, 120)!r} → "
                      f"{excerpt(v['answer'], 120)!r}: {why}")
                continue
            _set_answer(o, new)
    return outs


def _prior(value: Any) -> dict | None:
    """An input row's ``curation`` JSON (from an earlier ``vero data curate``), steps only."""
    if not isinstance(value, str) or not value:
        return None
    try:
        d = json.loads(value)
    except ValueError:
        return None
    return {k: d[k] for k in ("question_filter", "canonicalise") if isinstance(d, dict) and isinstance(d.get(k), dict)}


def _set_answer(o: Outcome, new: str) -> None:
    if new != o.answer:
        o.changed = True
        o.answer_raw = o.answer_raw if o.answer_raw is not None else o.answer
        o.answer = new


def _drop(o: Outcome, stage: str, reason: str, detail: str) -> None:
    if o.drop_reason is None:
        o.drop_reason, o.stage, o.detail = reason, stage, detail


def is_curate_output(folder: Path) -> bool:
    return (folder / REPORT).is_file() or (folder / CACHE_DIR).is_dir()


__all__ = ["CurateConfig", "CurateResult", "CurateSampling", "Outcome", "curate", "input_shards"]
