"""`vero data curate DIR`: the paper's LLM curation steps (question filter, answer canonicaliser) over a build.

Flags map onto :class:`vero_data.curate.CurateConfig`; the judge is one of vero_train's generation backends
(:mod:`vero_train.curate_judge`). Heavy imports stay inside the command body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import fail as _fail
from vero_data.cli_common import print_table


def data_curate(
    data: Annotated[Path, typer.Argument(help="a `vero data build` (or filter) output folder")],
    question_filter: Annotated[bool, typer.Option("--question-filter", help="judge each non-captioning row with "
                                                  "its domain prompt; drop it if any of the five flags is true")
                               ] = False,
    canonicalise: Annotated[bool, typer.Option("--canonicalise", help="canonicalise answers: rules first, the "
                                               "model for what they cannot settle; drop multi-value answers")
                            ] = False,
    model: Annotated[str, typer.Option(help="judge: HF id or path (transformers, vllm), the served model name "
                                       "(openai), or `tiny` (offline, random weights: verdicts are noise)")] = "",
    backend: Annotated[str, typer.Option(help="vllm | openai | transformers, or pkg.module:Factory (your own "
                                         "judge)")] = "vllm",
    endpoint: Annotated[str | None, typer.Option(help="openai: server URL incl. /v1 ($OPENAI_BASE_URL); "
                                                 "implies --backend openai")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: DIR-curated)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="curate only the first N rows")] = None,
    prompts: Annotated[Path | None, typer.Option(help="folder of prompt YAML files replacing built-in ones of "
                                                 "the same name (see docs/curation.md)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="rows per chunk: one batch to the judge, one cache "
                                            "commit (paper: 32)")] = 32,
    concurrency: Annotated[int | None, typer.Option(min=1, help="openai: requests in flight (default 8)")] = None,
    temperature: Annotated[float, typer.Option(min=0.0, help="sampling temperature (paper: 0.6)")] = 0.6,
    top_p: Annotated[float, typer.Option(help="nucleus sampling (paper: 0.8)")] = 0.8,
    top_k: Annotated[int | None, typer.Option(help="top-k sampling (paper: 20)")] = 20,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="max new tokens per reply (default: the "
                                                   "model's generation_config, else the paper's 8096)")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed (paper: 42)")] = 42,
    guided: Annotated[bool, typer.Option("--guided/--no-guided", help="constrain replies to the JSON schema "
                                         "(vllm, openai)")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT, a previous curate output "
                                            "(a plain rerun resumes from its cache)")] = False,
    device: Annotated[str | None, typer.Option(help="transformers: cpu, cuda…")] = None,
    backend_opt: Annotated[list[str] | None, typer.Option(
        "--backend-opt", help="extra backend option KEY=VALUE (JSON values), e.g. max_model_len=16384")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Curate a build with an LLM judge: the question filter and answer canonicaliser of Vero-600K (§7)."""
    from vero_data.curate import CurateConfig, CurateSampling, curate
    from vero_data.errors import VeroError
    from vero_train.cli_filter import _kv

    try:
        bk = _kv(backend_opt, "--backend-opt")
        for name, v in (("concurrency", concurrency), ("device", device)):
            if v is not None:
                bk[name] = v
        from vero_data.curate.judges import judge_factory

        factory = judge_factory(backend, model, endpoint=endpoint, guided=guided, **bk)
        cfg = CurateConfig(data=data, out=out, question_filter=question_filter, canonicalise=canonicalise,
                           model=model, prompts=prompts, limit=limit, batch_size=batch_size,
                           sampling=CurateSampling(temperature=temperature, top_p=top_p, top_k=top_k,
                                                   max_tokens=max_tokens, seed=seed),
                           overwrite=overwrite)
        res = curate(cfg, factory)
    except VeroError as e:
        _fail(e)
    if json_out:
        print(json.dumps(res.as_dict(), default=str))
        return
    _print_result(res)


def _print_result(res) -> None:
    from rich.table import Table

    con = _console()
    t = Table(title=f"curate: {res.rows_kept} of {res.rows_in} rows kept")
    t.add_column("outcome")
    t.add_column("rows", justify="right")
    t.add_row("kept", str(res.rows_kept))
    for reason, n in res.dropped.items():
        t.add_row(f"dropped: {reason}", str(n))
    for who, n in sorted(res.canonicalised_by.items()):
        t.add_row(f"answer settled by {who}", str(n))
    t.add_row("answers rewritten", str(res.answers_changed))
    print_table(t)
    con.print(f"{res.rows_per_s:.2f} rows/s, {res.share_outside_generation:.0%} of wall time outside generation "
              f"(model load {res.load_seconds:.1f}s not counted); {res.requests} requests ({res.cached_replies} "
              f"replies from the cache, {res.retries} retried), {res.tokens:,} tokens generated"
              + (f", {res.prompt_tokens:,} prompt tokens ({res.prompt_tokens_requests} requests reporting them)"
                 if res.prompt_tokens_requests else "") + "; "
              f"guided decoding: {_guided(res.guided)}", soft_wrap=True)
    con.print(f"shards: {res.out / 'data'}  quarantine: {res.out / 'quarantine.parquet'}  report: "
              f"{res.out / 'curate_report.json'}", soft_wrap=True)
    unparseable = res.dropped.get("judge_unparseable", 0)
    if res.rows_in and unparseable == res.rows_in:
        con.print(f"[yellow]every row's verdict was unparseable[/]: {res.model} does not answer with the JSON "
                  "object the prompts ask for (the random `tiny` model never does); rows are quarantined as "
                  "judge_unparseable, never kept unjudged.", soft_wrap=True)


def _guided(g: bool | None) -> str:
    return "n/a (every reply from the cache)" if g is None else "yes" if g else "no"


def register(app, data_app, bench_app) -> None:
    data_app.command("curate")(data_curate)
