"""``vero eval``'s model-free subcommands: ``ls``, ``score``, ``compare``, ``contamination``.

They need only the base install. Running a suite with a model (``vero eval --suite … --model …``) is the group's
callback, which ``vero_train.cli_eval`` attaches when it is mounted. Only typer is imported at module level; each
command imports what it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import emit_json, print_table
from vero_data.cli_common import fail as _fail

JUDGE_KEY_ENV_HELP = ("NAME of the environment variable holding the judge's key (default: $OPENAI_API_KEY, sent "
                      "over https or to a loopback host only; user:pass@ in --judge-url is sent as Basic auth)")

eval_app = typer.Typer(help="VeroEval: run, rescore, list and compare benchmark suites.", invoke_without_command=True,
                       no_args_is_help=False)


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
    judge_api_key_env: Annotated[str | None, typer.Option(help=JUDGE_KEY_ENV_HELP)] = None,
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
            from vero_data.benchmarks.judge_client import BenchmarkJudge

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
