"""``vero eval``: run a suite (no subcommand), ``ls``, ``score``, ``compare``, ``contamination``.

Only typer is imported at module level; each command imports what it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import emit_json, print_table
from vero_data.cli_common import fail as _fail

_KEY_ENV_HELP = ("NAME of the environment variable holding the judge's key (default: $OPENAI_API_KEY, sent over "
                 "https or to a loopback host only; user:pass@ in --judge-url is sent as Basic auth)")

eval_app = typer.Typer(help="VeroEval: run, rescore, list and compare benchmark suites.", invoke_without_command=True,
                       no_args_is_help=False)


@eval_app.callback()
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
    judge_api_key_env: Annotated[str | None, typer.Option(help=_KEY_ENV_HELP)] = None,
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
    if not suite and benchmark:  # `--tasks` alone names what to run
        suite = _suite_holding(benchmark)
    if not suite or not model:
        _console().print(ctx.get_help())
        if suite or model:
            _fail(ValueError("vero eval needs both --suite and --model"))
        raise typer.Exit(0)
    from vero_data.errors import VeroError

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


def _suite_holding(benchmarks: list[str]) -> str:
    """The first of veroeval30, synthetic that holds every named benchmark (the run's results sit in one suite)."""
    from vero_data.benchmarks import get_suite
    from vero_data.benchmarks.registry import resolve_benchmarks
    from vero_data.errors import VeroError

    try:
        names = set(resolve_benchmarks(benchmarks))
        for s in ("veroeval30", "synthetic"):
            if names <= set(get_suite(s).benchmarks):
                return s
    except VeroError as e:
        _fail(e)
    _fail(ValueError(f"{', '.join(sorted(names))} are not all in one suite: pass --suite"))


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


@eval_app.command("ls")
def eval_ls(
    suite: Annotated[str | None, typer.Option(help="list this suite's benchmarks")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List benchmarks (lmms-eval task names, category, hub id, metric, judge) and suites."""
    from vero_data.benchmarks import benchmark_names, get_benchmark, get_suite, suite_names
    from vero_data.errors import VeroError

    try:
        names = get_suite(suite).benchmarks if suite else benchmark_names()
        specs = [get_benchmark(n) for n in names]
    except VeroError as e:
        _fail(e)
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in specs], indent=1))
        return
    import sys

    if not sys.stdout.isatty():  # pipes and scripts: one plain line per benchmark, nothing wrapped
        for s in specs:
            typer.echo(f"{s.name}\t{s.display_name}\t{s.category}\t{s.hub_id or '-'}\t{s.split}\t{s.metric}\t"
                       f"{s.judge.model if s.judge else '-'}\tv{s.version}")
        return
    from rich.table import Table

    t = Table(title=f"suite {suite}" if suite else f"{len(specs)} benchmarks; suites: {', '.join(suite_names())}")
    for c in ("task", "benchmark", "category", "hub id", "split", "metric", "judge", "v"):
        t.add_column(c, overflow="fold")
    for s in specs:
        hub = s.hub_id or (", ".join(st.hub_id or "" for st in s.subtasks) if s.subtasks else "(generated)")
        t.add_row(s.name, s.display_name, s.category, hub, s.split, s.metric, s.judge.model if s.judge else "",
                  str(s.version))
    print_table(t)


@eval_app.command("score")
def eval_score(
    cases: Annotated[Path, typer.Option(help='JSONL of {"benchmark", "doc", "response"}')],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL: each input line plus \"score\"")],
    judge_url: Annotated[str | None, typer.Option(help="judge endpoint for LLM-judged benchmarks")] = None,
    judge_model: Annotated[str, typer.Option(help="judge model name")] = "Qwen3-32B",
    judge_api_key_env: Annotated[str | None, typer.Option(help=_KEY_ENV_HELP)] = None,
    judge_concurrency: Annotated[int, typer.Option(help="judge requests in flight", min=1)] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON document")] = False,
) -> None:
    """Rescore saved responses without a model; "score" is the headline metric per sample (0..1).

    Each line is appended to OUT as soon as it is scored; rerun the same command to resume an interrupted run.
    """
    from vero_data.benchmarks.rescore import score_cases
    from vero_data.errors import VeroError
    from vero_data.secrets import redact_text

    try:
        judge = None
        if judge_url:
            from vero_data.benchmarks.judge import BenchmarkJudge

            judge = BenchmarkJudge(base_url=judge_url, model=judge_model, concurrency=judge_concurrency,
                                   cache_dir=out.parent / ".judge_cache", api_key_env=judge_api_key_env)
        summary = score_cases(cases, out, judge)
    except (VeroError, OSError) as e:
        _fail(redact_text(str(e)))
    if as_json:
        emit_json({**summary, "out": str(out)})
        return
    if summary["resumed"]:
        _console().print(f"kept {summary['resumed']} lines already scored in {out}")
    _console().print(f"scored {summary['scored']}/{summary['n']} lines → {out}")
    for k, v in summary["mean"].items():
        _console().print(f"  {k}: {100 * v:.1f}")


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="run directory or results.json")],
    run_b: Annotated[Path, typer.Argument(help="run directory or results.json")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Side-by-side table of two runs with per-benchmark, per-category and overall deltas (B − A).

    Category and overall deltas cover only the benchmarks both runs scored on the same samples (same limit,
    benchmark version and judge); stderr lists the ones left out and why.
    """
    from vero_data.benchmarks.aggregate import compare, load_run
    from vero_data.errors import VeroError

    try:
        cmp = compare(load_run(run_a), load_run(run_b))
    except VeroError as e:
        _fail(e)
    rows = cmp["rows"]
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        for line in cmp["notes"]:
            typer.echo(line, err=True)
        return
    from rich.markup import escape
    from rich.table import Table

    fmt = lambda x, s=False: "–" if x is None else (f"{x:+.1f}" if s else f"{x:.1f}")  # noqa: E731
    t = Table(title=f"A = {run_a}   B = {run_b}")
    for c in ("benchmark", "category", "A", "B", "Δ (B−A)", "note"):
        t.add_column(c, justify="left" if c in ("benchmark", "category", "note") else "right")
    for r in rows:
        t.add_row(escape(r["benchmark"]), r["category"], fmt(r["a"]), fmt(r["b"]), fmt(r["delta"], True),
                  escape(r.get("note", "")))
    print_table(t)
    for line in cmp["notes"]:  # after the table, where they are read
        typer.echo(line, err=True)


@eval_app.command("contamination")
def eval_contamination(
    data: Annotated[list[Path], typer.Option(help="training shards: Parquet/JSONL files or folders")],
    suite: Annotated[str, typer.Option(help="benchmarks to check against")] = "veroeval30",
    benchmark: Annotated[list[str] | None, typer.Option(help="only these benchmarks")] = None,
    bench_docs: Annotated[Path | None, typer.Option(help='JSONL of {"benchmark", "doc"} instead of the Hub')] = None,
    limit: Annotated[int | None, typer.Option(help="benchmark docs per benchmark")] = None,
    ngram: Annotated[int, typer.Option(help="question n-gram size")] = 8,
    min_overlap: Annotated[float, typer.Option(help="share of a question's n-grams that must match")] = 0.5,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write flagged rows as JSONL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print counts and flagged rows as one JSON document")]
    = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="exit 0 even when no benchmark item or no "
                                              "training row was checked")] = False,
) -> None:
    """Flag training rows whose image hash or question n-grams match a benchmark item.

    A question that matches only on template boilerplate (n-grams shared by 3+ benchmark items or 3+ training
    rows) is not flagged unless its image matches too; those rows are counted as template-only.
    """
    import logging

    from vero_data.benchmarks import get_benchmark, get_suite
    from vero_data.benchmarks.contamination import find_contamination, iter_training_rows
    from vero_data.benchmarks.loader import load_docs
    from vero_data.errors import SourceUnavailableError, VeroError

    try:
        docs: dict[str, list] = {}
        skipped: dict[str, str] = {}
        if bench_docs:
            for line in bench_docs.read_text().splitlines():
                if line.strip():
                    c = json.loads(line)
                    docs.setdefault(get_benchmark(c["benchmark"]).name, []).append(c["doc"])
        else:
            names = [get_benchmark(b).name for b in benchmark] if benchmark else get_suite(suite).benchmarks
            for n in names:
                try:
                    docs[n] = list(load_docs(get_benchmark(n), limit))
                except SourceUnavailableError as e:
                    skipped[n] = str(e)
                    logging.getLogger(__name__).warning("skipping %s: %s", n, e)
        res = find_contamination(iter_training_rows(data), docs, ngram, min_overlap)
    except VeroError as e:
        _fail(e)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(f, default=str) + "\n" for f in res["flagged"]))
    if as_json:
        emit_json({**res, "benchmarks": sorted(docs), "skipped": skipped})
    else:
        _console().print(f"checked {res['checked']} training rows against {res['benchmark_items']} benchmark items "
                         f"({len(docs)} benchmarks): {len(res['flagged'])} flagged"
                         + (f"; {res['template_only']} matched on template questions only (not flagged)"
                            if res["template_only"] else ""))
        for f in res["flagged"][:20]:
            _console().print(f"  {f['id']} ({f.get('source')}): "
                             + ", ".join(k for k in ("image", "question") if k in f))
    if allow_empty:
        return
    if not res["benchmark_items"]:  # "0 flagged" against nothing is not a clean bill of health
        why = (f"{len(skipped)} benchmark(s) could not be loaded (first: {next(iter(skipped.values()))})" if skipped
               else "the benchmark docs are empty")
        _fail(f"checked against 0 benchmark items: {why}; pass --bench-docs JSONL offline, or --allow-empty")
    if not res["checked"]:
        _fail(f"no training row read from {', '.join(map(str, data))}; pass --allow-empty to accept")


def register(app, data_app, bench_app) -> None:
    """Mount ``vero eval`` on the root app."""
    app.add_typer(eval_app, name="eval")
