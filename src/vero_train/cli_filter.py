"""`vero data filter --pass-at-k K`, `vero model tiny|serve` and `vero bench filter`.

Flags map onto :class:`vero_train.passk.PassAtKConfig` fields; heavy imports stay inside the command bodies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import fail as _fail
from vero_data.cli_common import print_table

model_app = typer.Typer(help="Models: build the tiny offline model, serve one over HTTP.", no_args_is_help=True)


def _kv(items: list[str] | None, flag: str) -> dict:
    """``KEY=VALUE`` items → dict (values parsed as JSON when they are JSON, else kept as text)."""
    from vero_data.errors import ConfigError

    out = {}
    for p in items or []:
        k, eq, v = p.partition("=")
        if not eq or not k.strip():
            raise ConfigError(f"{flag} {p!r}: expected KEY=VALUE")
        k = k.strip()
        try:
            out[k.replace("-", "_")] = json.loads(v)
        except json.JSONDecodeError:
            out[k.replace("-", "_")] = v
    return out


def data_filter(
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory")],
    data: Annotated[str, typer.Option(help="`vero data build` directory, Parquet file/dir or hub dataset id")],
    k: Annotated[int, typer.Option("--pass-at-k", "-k", min=1, help="samples per prompt (paper: 8)")] = 8,
    model: Annotated[str, typer.Option(
        help="policy: HF id, path, `tiny` (offline tiny model, random weights) or `tiny-warm` (after warm-up SFT)")
                     ] = "Qwen/Qwen3-VL-8B-Instruct",
    backend: Annotated[str, typer.Option(help="vllm | openai | transformers | auto")] = "auto",
    limit: Annotated[int | None, typer.Option(min=1, help="process only the first N rows")] = None,
    min_pass: Annotated[int | None, typer.Option(help="keep rows with passes >= this (default 1)")] = None,
    max_pass: Annotated[int | None, typer.Option(help="keep rows with passes <= this (default k-1)")] = None,
    keep_all: Annotated[bool, typer.Option("--keep-all", help="annotate pass_count/k, drop nothing")] = False,
    split: Annotated[str, typer.Option(help="split of a hub dataset")] = "train",
    temperature: Annotated[float, typer.Option(min=0.0, help="sampling temperature (paper: 1.0; 0 = greedy)")] = 1.0,
    top_p: Annotated[float, typer.Option(help="nucleus sampling (paper: 1.0)")] = 1.0,
    top_k: Annotated[int | None, typer.Option(help="top-k sampling")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        min=1, help="max new tokens per sample (default: the model's generation_config, else 2048)")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    pass_threshold: Annotated[float, typer.Option(help="a sample passes when accuracy >= this, in (0, 1]")] = 1.0,
    format_score: Annotated[float, typer.Option(help="format weight in the reward (Vero: 0.2)")] = 0.2,
    system_prompt: Annotated[str | None, typer.Option(
        help="system prompt text; `model` = the chat template's default (default: the Vero prompt)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="rows per chunk (one generate call, one cache commit)")
                          ] = 32,
    save_completions: Annotated[bool, typer.Option("--save-completions", help="write completions.parquet")
                                ] = False,
    rescore: Annotated[bool, typer.Option("--rescore", help="recompute rewards of cached completions")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT, a previous filter output (cache included), when this run succeeds")] = False,
    tensor_parallel_size: Annotated[int | None, typer.Option(min=1, help="vllm: GPUs per model replica")] = None,
    data_parallel: Annotated[int, typer.Option(min=1, help="vllm: local workers, one per GPU")] = 1,
    num_shards: Annotated[int, typer.Option(min=1, help="multi-node: total data-parallel workers")] = 1,
    shard_rank: Annotated[int, typer.Option(min=0, help="multi-node: this worker's rank")] = 0,
    generate_only: Annotated[bool, typer.Option("--generate-only", help="fill the cache only (DP workers)")
                             ] = False,
    executor: Annotated[str, typer.Option(
        help="local (this process) | ray (chunks sampled by a Ray actor pool, one model replica each)")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="ray: cluster address (auto, HOST:PORT, ray://HOST:10001); default $RAY_ADDRESS, else a local one")
                           ] = None,
    base_url: Annotated[str | None, typer.Option(help="openai: server URL incl. /v1 ($OPENAI_BASE_URL)")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="openai: requests in flight")] = None,
    device: Annotated[str | None, typer.Option(help="transformers: cpu, cuda…")] = None,
    backend_opt: Annotated[list[str] | None, typer.Option(
        "--backend-opt", help="extra backend option KEY=VALUE (JSON values), e.g. max_model_len=16384")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Keep rows the policy solves sometimes: sample k responses per prompt, score them, store pass counts."""
    from vero_data.errors import VeroError
    from vero_train.models.prompts import VERO_SYSTEM_PROMPT
    from vero_train.passk import PassAtKConfig, filter_pass_at_k

    sp = VERO_SYSTEM_PROMPT if system_prompt is None else (None if system_prompt == "model" else system_prompt)
    try:
        bk = _kv(backend_opt, "--backend-opt")
        for name, v in (("tensor_parallel_size", tensor_parallel_size), ("base_url", base_url),
                        ("concurrency", concurrency), ("device", device)):
            if v is not None:
                bk[name] = v
        cfg = PassAtKConfig(
            data=data, out=out, model=model, k=k, backend=backend, min_pass=min_pass, max_pass=max_pass,
            keep_all=keep_all, limit=limit, split=split, temperature=temperature, top_p=top_p, top_k=top_k,
            max_tokens=max_tokens, seed=seed, pass_threshold=pass_threshold, format_score=format_score,
            system_prompt=sp, batch_size=batch_size, save_completions=save_completions, rescore=rescore,
            overwrite=overwrite, num_shards=num_shards, shard_rank=shard_rank, generate_only=generate_only,
            data_parallel=data_parallel, backend_kwargs=bk, executor=executor, ray_address=ray_address,
        )
        res = filter_pass_at_k(cfg)
    except VeroError as e:
        _fail(e)
    if json_out:
        print(json.dumps(res.as_dict(), default=str))
        return
    _print_result(res, generate_only, model)


def _print_result(res, generate_only: bool = False, model: str = "") -> None:
    from rich.table import Table

    con = _console()
    if generate_only:
        con.print(f"cached {res.generated_rows} rows ({res.tokens:,} tokens) in {res.wall_seconds:.1f}s")
        return
    t = Table(title=f"pass@{res.k}: rows per pass count")
    t.add_column("category")
    for i in range(res.k + 1):
        t.add_column(str(i), justify="right")
    for cat, h in res.by_category.items():
        t.add_row(cat, *[str(h.get(i, 0)) for i in range(res.k + 1)])
    t.add_row("[bold]all", *[f"[bold]{res.histogram.get(i, 0)}" for i in range(res.k + 1)])
    print_table(t)
    drops = ", ".join(f"{k}: {v}" for k, v in sorted(res.dropped.items())) or "none"
    con.print(f"kept {res.rows_kept} of {res.rows_in} rows (dropped: {drops}); cached {res.cached_rows}, "
              f"generated {res.generated_rows}")
    con.print(f"{res.rows_per_s:.2f} rows/s, {res.tokens_per_s:.0f} tokens/s, "
              f"{res.share_outside_generation:.0%} of wall time outside generation")
    con.print(f"shards: {res.out / 'data'}  catalog: {res.out / 'catalog.duckdb'} (table difficulty)")
    sampled = sum(res.histogram.values())  # rows quarantined before sampling have no pass count
    if sampled and res.histogram.get(0, 0) == sampled:
        hint = (" The random `tiny` model never does; `--model tiny-warm` is the tiny model after a short warm-up SFT."
                if model == "tiny" else "")
        con.print("[yellow]no row was solved in any of its samples[/]: the model does not produce answers the rewards "
                  "accept (format `<think>…</think><answer>…</answer>`)." + hint)


@model_app.command("tiny")
def model_tiny(
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory")],
    seed: Annotated[int, typer.Option(help="seed: same seed, same files")] = 0,
    warmup_steps: Annotated[int, typer.Option(min=0, help="SFT steps on generated tasks (0 = random weights)")] = 0,
    override: Annotated[list[str] | None, typer.Option(
        help="config override KEY=VALUE, e.g. num_hidden_layers=4 or vision_depth=1")] = None,
) -> None:
    """Build the tiny Qwen2.5-VL-family model (tokenizer trained locally) and save it with save_pretrained."""
    import time

    from vero_data.errors import VeroError
    from vero_train.models.tiny import build_tiny_model

    t0 = time.perf_counter()
    try:
        path = build_tiny_model(out, seed=seed, warmup_steps=warmup_steps, **_kv(override, "--override"))
    except VeroError as e:
        _fail(e)
    info = json.loads((path / "vero_tiny.json").read_text())
    _console().print(f"tiny model ({info['params']:,} parameters) → {path} in {time.perf_counter() - t0:.1f}s")


@model_app.command("serve")
def model_serve(
    model: Annotated[str, typer.Option(help="model path or `tiny`")] = "tiny",
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port")] = 8000,
    max_body_mb: Annotated[float, typer.Option(min=0.001, help="largest request body (larger: 413)")] = 32.0,
    max_pixels: Annotated[int | None, typer.Option(min=1, help="per-image pixel cap, from the header before "
                                                   "decoding (default: the build's)")] = None,
) -> None:
    """Serve a model over an OpenAI-compatible /v1/chat/completions endpoint (transformers, for tests/demos)."""
    from vero_data.errors import VeroError
    from vero_train.models.serve import serve

    try:
        serve(model, host, port, max_body_bytes=int(max_body_mb * 1024 * 1024), max_pixels=max_pixels)
    except VeroError as e:
        _fail(e)


def bench_filter(
    rows: Annotated[int, typer.Option(min=1, help="rows to filter")] = 24,
    k: Annotated[int, typer.Option("--pass-at-k", "-k", min=1, help="samples per prompt")] = 8,
    max_tokens: Annotated[int, typer.Option(min=1, help="max new tokens per sample")] = 64,
    batch_size: Annotated[int, typer.Option(min=1, help="rows per chunk")] = 8,
    model: Annotated[str, typer.Option(help="model (default: the tiny model)")] = "tiny",
    backend: Annotated[str, typer.Option(help="backend")] = "transformers",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """pass@k filter speed on generated rows: rows/s, tokens/s, share of wall time outside generation."""
    from vero_data.errors import VeroError
    from vero_train.passk import bench

    try:
        res = bench(rows=rows, k=k, max_tokens=max_tokens, batch_size=batch_size, model=model, backend=backend)
    except VeroError as e:
        _fail(e)
    if json_out:
        print(json.dumps(res))
        return
    con = _console()
    for key, v in res.items():
        con.print(f"{key:28s} {v}")


def register(app, data_app, bench_app) -> None:
    data_app.command("filter")(data_filter)
    app.add_typer(model_app, name="model")
    bench_app.command("filter")(bench_filter)
