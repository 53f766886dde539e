"""``vero reward score|check|bench``: a thin typer skin over the rewards API (heavy imports inside commands)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Score responses with Vero's task-routed rewards.", no_args_is_help=True)


@app.command()
def score(
    reward_type: str = typer.Option(..., "--reward-type", help="Which verifier scores the response."),
    response: str = typer.Option(..., "--response", help="The model response (<think>…</think><answer>…</answer>)."),
    answer: str = typer.Option(..., "--answer", help="The ground truth."),
    extra_info: str = typer.Option("{}", "--extra-info", help="JSON object with verifier inputs (tolerance, …)."),
    format_score: float = typer.Option(0.2, "--format-score", help="Format weight (Vero trains with 0.2)."),
    lenient: bool = typer.Option(False, "--lenient", help="Opt in to the documented fixes of Vero's quirks."),
) -> None:
    """Score one response and print score, accuracy and format."""
    from rich.console import Console
    from rich.table import Table

    from vero_data.rewards.core import score_response

    try:
        info = json.loads(extra_info) if extra_info else {}
    except ValueError as e:
        raise typer.BadParameter(f"--extra-info is not JSON: {e}") from e
    if not isinstance(info, dict):
        raise typer.BadParameter("--extra-info must be a JSON object")
    info["reward_type"] = reward_type
    s = score_response(response, answer, info, format_score, lenient)
    table = Table(title=f"reward: {reward_type}")
    for col in ("score", "accuracy", "format", "reason"):
        table.add_column(col)
    table.add_row(f"{s.score:.4f}", f"{s.accuracy:.4f}", f"{s.format:.2f}", s.reason or "-")
    Console().print(table)


@app.command()
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL of {reward_type, response, answer, extra_info?}."),
    workers: int = typer.Option(1, "--workers", help="Processes to score with."),
    format_score: float = typer.Option(0.2, "--format-score", help="Format weight (Vero trains with 0.2)."),
    lenient: bool = typer.Option(False, "--lenient", help="Opt in to the documented fixes of Vero's quirks."),
) -> None:
    """Score a JSONL of cases and print mean score/accuracy/format and count per reward type."""
    from collections import defaultdict

    from rich.console import Console
    from rich.table import Table

    from vero_data.rewards.batch import score_batch

    cases, bad = [], 0
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(row, dict):
            cases.append(row)
        else:
            bad += 1
    results = score_batch(cases, workers=workers, format_score=format_score, lenient=lenient)
    groups: dict[str, list[dict]] = defaultdict(list)
    for case, r in zip(cases, results, strict=True):
        groups[str(case.get("reward_type"))].append(r)
    table = Table(title=f"{file.name}: {len(cases)} cases" + (f", {bad} unreadable lines" if bad else ""))
    for col in ("reward_type", "count", "score", "accuracy", "format"):
        table.add_column(col, justify="right" if col != "reward_type" else "left")
    for rt, rs in sorted(groups.items()):
        n = len(rs)
        table.add_row(rt, str(n), *(f"{sum(r[k] for r in rs) / n:.4f}" for k in ("score", "accuracy", "format")))
    Console().print(table)


@app.command()
def bench(
    n_cases: int = typer.Option(20000, "--n-cases", help="Cases in the mixed set."),
    workers: int = typer.Option(0, "--workers", help="Processes for the parallel run (0 = all cores)."),
    seed: int = typer.Option(0, "--seed", help="Case-set seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the result dict as JSON."),
) -> None:
    """Measure reward throughput per type (one process and all cores) and worst-case latency."""
    from rich.console import Console
    from rich.table import Table

    from vero_data.rewards.bench import run_rewards_bench

    result = run_rewards_bench(n_cases=n_cases, workers=workers or None, seed=seed)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table(title=(f"{result['n_cases']} cases: {result['single_process_cases_per_s']} cases/s in one process, "
                         f"{result['parallel_cases_per_s']} with {result['workers']} workers"))
    for col in ("reward_type", "cases", "cases/s", "mean score", "worst latency (s)"):
        table.add_column(col)
    for rt, row in result["per_type"].items():
        table.add_row(rt, str(row["cases"]), str(row["cases_per_s"]), str(row["mean_score"]),
                      str(result["worst_case_latency_s"].get(rt, "-")))
    Console().print(table)
