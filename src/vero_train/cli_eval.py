"""``vero eval`` with a model: run a suite, the callback of the ``vero eval`` group.

The group and its model-free subcommands (``ls``, ``score``, ``compare``, ``contamination``) live in
:mod:`vero_data.cli_eval`; :func:`register` attaches this run to it. Only typer is imported at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import emit_json, print_table
from vero_data.cli_common import fail as _fail
from vero_data.cli_eval import JUDGE_KEY_ENV_HELP, eval_app


def eval_run(
    ctx: typer.Context,
    suite: Annotated[str | None, typer.Option(help="suite: veroeval30, a category name, synthetic, or a YAML")] = None,
    model: Annotated[str | None, typer.Option(help="hub id, local path, or 'tiny'")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", "--output_path", help="run directory (resumable with the "
                                             "same model and settings); --output_path as in lmms-eval")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT (say, another model's samples) "
                                            "when this run succeeds")] = False,
    backend: Annotated[str, typer.Option(help="vllm | openai | transformers")] = "transformers",
    limit: Annotated[int | None, typer.Option(help="at most N docs per benchmark (per subtask)")] = None,
    synthetic_n: Annotated[int | None, typer.Option(help="held-out rows each generated benchmark makes (suite "
                                                    "synthetic; default its YAML's n, 8): more rows, less noise",
                                                    min=1)] = None,
    benchmark: Annotated[list[str] | None, typer.Option("--benchmark", "--tasks", help="only these benchmarks of the "
                                                        "suite: ours or lmms-eval task/group names, repeated or "
                                                        "comma-separated (--tasks a,b)")] = None,
    judge_url: Annotated[str | None, typer.Option(help="OpenAI-compatible judge endpoint (…/v1)")] = None,
    judge_model: Annotated[str, typer.Option(help="judge model name (paper: Qwen3-32B)")] = "Qwen3-32B",
    judge_api_key_env: Annotated[str | None, typer.Option(help=JUDGE_KEY_ENV_HELP)] = None,
    judge_concurrency: Annotated[int, typer.Option(help="judge requests in flight", min=1)] = 8,
    max_new_tokens: Annotated[int | None, typer.Option(help="override the paper's 16384")] = None,
    temperature: Annotated[float | None, typer.Option(help="override the paper's 0.6")] = None,
    top_p: Annotated[float | None, typer.Option(help="override the paper's 1.0")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    batch_size: Annotated[int, typer.Option(help="requests per generate call", min=1)] = 16,
    base_url: Annotated[str | None, typer.Option(help="server root for --backend openai")] = None,
    published: Annotated[str | None, typer.Option(help="published column to compare with (default: by model)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print results.json's content as one JSON document")] = False,
) -> None:
    """Run SUITE with MODEL: generate, score as the paper does, and write results.json + report.md/.html."""
    if ctx.invoked_subcommand is not None:
        return
    if benchmark:  # lmms-eval habit: `--tasks a,b`
        benchmark = [part.strip() for b in benchmark for part in b.split(",") if part.strip()]
    from vero_data.errors import VeroError

    if not suite and benchmark:  # `--tasks` alone names what to run
        from vero_data.benchmarks.selection import suite_holding

        try:
            suite = suite_holding(benchmark)
        except VeroError as e:
            _fail(e)
    if not suite or not model:
        _console().print(ctx.get_help())
        if suite or model:
            _fail(ValueError("vero eval needs both --suite and --model"))
        raise typer.Exit(0)
    try:
        from vero_train.evaluate import EvalConfig, run_eval

        cfg = EvalConfig(suite=suite, model=model, out=out or Path("eval_runs") / Path(model).name, backend=backend,
                         limit=limit, synthetic_n=synthetic_n, benchmarks=benchmark, judge_url=judge_url,
                         judge_model=judge_model, judge_api_key_env=judge_api_key_env,
                         judge_concurrency=judge_concurrency, max_new_tokens=max_new_tokens, temperature=temperature,
                         top_p=top_p, seed=seed, batch_size=batch_size, base_url=base_url, published=published,
                         overwrite=overwrite)
        res = run_eval(cfg)
    except VeroError as e:
        from vero_data.secrets import redact_text

        _fail(redact_text(str(e)))
    if as_json:
        emit_json(res)
    else:
        _print_summary(res, cfg.out)


def _print_summary(res: dict, out: Path) -> None:
    from rich.table import Table

    from vero_data.benchmarks.report import report_rows

    v = res["veroeval"]
    pub = (v.get("published") or {}).get("model", "published")
    t = Table(title=f"{res['config']['model']} on {res['config']['suite']}")
    for c in ("benchmark", "category", "n", "ours", pub, "Δ"):
        t.add_column(c, justify="left" if c in ("benchmark", "category") else "right")
    fmt = lambda x, s=False: "–" if x is None else (f"{x:+.1f}" if s else f"{x:.1f}")  # noqa: E731
    for r in report_rows(res):
        t.add_row(r["benchmark"], r["category"], str(r["n"]), fmt(r["ours"]), fmt(r["published"]),
                  fmt(r["delta"], True))
    for c, s in v["categories"].items():
        t.add_row(f"[bold]{c}[/]", "", "", fmt(s), "", "")
    t.add_row("[bold]Overall[/]", "", "", fmt(v.get("overall")), "", "")
    con = _console()
    print_table(t)
    con.print(f"wrote {out / 'results.json'}, {out / 'report.md'}, {out / 'report.html'}")


def register(app, data_app, bench_app) -> None:
    """Make ``vero eval`` run a suite with a model (vero_data mounts the group itself)."""
    eval_app.callback()(eval_run)
