"""``vero reward score|check|bench``: a thin typer skin over the rewards API (heavy imports inside commands)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vero_data.cli_common import emit_json, print_table
from vero_data.cli_common import fail as _fail
from vero_data.constants import REWARD_TYPES
from vero_data.errors import VeroError

app = typer.Typer(help="Score responses with Vero's task-routed rewards.", no_args_is_help=True)


# `--reward-type fallback` asks for Vero's generic comparison explicitly; any other unknown name is a typo.
FALLBACK = "fallback"
SHOW_BAD = 20  # bad lines listed one by one; the rest are counted


def _warn(msg: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[yellow]warning:[/] {escape(msg)}", highlight=False, soft_wrap=True)


def _reward_type_flag(value: str) -> str:
    """Vero routes on the stripped, lower-cased name; an unknown one would silently use the fallback, so refuse it.

    ``fallback`` is offered beside the registered types.
    """
    from vero_data.registry import suggest
    from vero_data.rewards.base import REWARDS, reward_types

    rt = value.strip().lower()
    if rt in REWARDS or rt == FALLBACK:
        return rt
    raise typer.BadParameter(f"unknown reward type {value!r}. {suggest(rt, [*reward_types(), FALLBACK])} "
                             f"({FALLBACK!r}: Vero's generic comparison of unrecognised types)")


@app.command()
def score(
    reward_type: str = typer.Option(..., "--reward-type", callback=_reward_type_flag,
                                    help=f"Which verifier scores the response: one of Vero's types ({', '.join(REWARD_TYPES)})"
                                         f", or '{FALLBACK}' for the generic math-verify comparison Vero applies to "
                                         "unrecognised types."),
    response: str = typer.Option(..., "--response", help="The model response (<think>…</think><answer>…</answer>)."),
    answer: str = typer.Option(..., "--answer", help="The ground truth."),
    extra_info: str = typer.Option("{}", "--extra-info", help="JSON object with verifier inputs (tolerance, …)."),
    format_score: float = typer.Option(0.2, "--format-score", min=0.0, max=1.0,
                                       help="Format weight in [0, 1] (Vero trains with 0.2)."),
    lenient: bool = typer.Option(False, "--lenient", help="Opt in to the documented fixes of Vero's quirks."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON document."),
) -> None:
    """Score one response and print score, accuracy and format."""
    from rich.table import Table

    from vero_data.rewards.core import score_response

    try:
        info = json.loads(extra_info) if extra_info else {}
    except ValueError as e:
        raise typer.BadParameter(f"--extra-info is not JSON: {e}") from e
    if not isinstance(info, dict):
        raise typer.BadParameter("--extra-info must be a JSON object")
    info["reward_type"] = reward_type  # "fallback" is no recognised type, so it routes to the fallback
    s = score_response(response, answer, info, format_score, lenient)
    if as_json:
        emit_json({"reward_type": reward_type, "score": s.score, "accuracy": s.accuracy, "format": s.format,
                   "reason": s.reason})
        return
    table = Table(title=f"reward: {reward_type}")
    for col in ("score", "accuracy", "format", "reason"):
        table.add_column(col)
    table.add_row(f"{s.score:.4f}", f"{s.accuracy:.4f}", f"{s.format:.2f}", s.reason or "-")
    print_table(table)


def _read_cases(file: Path) -> tuple[list[tuple[int, dict]], list[tuple[int, str, str]]]:
    """(line number, case) for every usable line and (line number, kind, why) for the others.

    A bad line is left out rather than scored 0: a 0 from a broken case would pull its type's mean down.
    """
    from vero_data.rewards.batch import case_problem

    cases: list[tuple[int, dict]] = []
    bad: list[tuple[int, str, str]] = []
    try:
        with file.open("rb") as fh:
            for n, raw in enumerate(fh, 1):  # bytes split on \n only, so line numbers match an editor's
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    bad.append((n, "unreadable", f"not UTF-8 text (byte {e.start + 1} of the line)"))
                    continue
                if n == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    bad.append((n, "unreadable", f"not JSON ({getattr(e, 'msg', e)})"))
                    continue
                except RecursionError:
                    bad.append((n, "unreadable", "not JSON (nested too deeply)"))
                    continue
                if not isinstance(row, dict):
                    bad.append((n, "unreadable", f"not a JSON object ({type(row).__name__})"))
                    continue
                problem = case_problem(row)
                if problem:
                    bad.append((n, "invalid", problem))
                else:
                    cases.append((n, row))
    except OSError as e:
        _fail(VeroError(f"{file}: cannot read: {e.strerror or e}"))
    return cases, bad


@app.command()
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL of {reward_type, response, answer, extra_info?}."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes to score with."),
    format_score: float = typer.Option(0.2, "--format-score", min=0.0, max=1.0,
                                       help="Format weight in [0, 1] (Vero trains with 0.2)."),
    lenient: bool = typer.Option(False, "--lenient", help="Opt in to the documented fixes of Vero's quirks."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any line is left out or has an unknown reward_type."),
    as_json: bool = typer.Option(False, "--json", help="Print the means per reward type as one JSON document."),
) -> None:
    """Score a JSONL of cases and print mean score/accuracy/format and count per reward type.

    Bad lines (not UTF-8/JSON/an object, no string response, no answer, bad extra_info) are listed with their line
    numbers and left out of the means; cases with an unknown or missing reward_type are listed and scored by Vero's
    fallback. Exit 1 when no line is usable, or with --strict when any line is bad or unknown.
    """
    from collections import defaultdict

    from rich.table import Table

    from vero_data.rewards.batch import case_reward_type, score_batch

    numbered, bad = _read_cases(file)
    if bad:
        _warn(f"{file}: {len(bad)} bad line(s) left out of the means:")
        for n, _kind, why in bad[:SHOW_BAD]:
            _warn(f"{file}:{n}: {why}")
        if len(bad) > SHOW_BAD:
            _warn(f"{file}: … and {len(bad) - SHOW_BAD} more bad line(s)")
    if not numbered:
        _fail(VeroError(f"{file}: no usable case" + (f" ({len(bad)} bad line(s); line {bad[0][0]}: {bad[0][2]})"
                                                       if bad else " (the file is empty)")))
    labels, unknown = [], []
    for n, case in numbered:
        raw, routed = case_reward_type(case)
        labels.append(str(raw) if raw is not None else "(missing)")
        if routed is None:
            unknown.append(f"{n} ({raw!r})" if raw is not None else f"{n} (missing)")
    if unknown:
        more = f" and {len(unknown) - SHOW_BAD} more" if len(unknown) > SHOW_BAD else ""
        _warn(f"{file}: {len(unknown)} case(s) with an unknown or missing reward_type, scored by Vero's generic "
              f"fallback: line(s) {', '.join(unknown[:SHOW_BAD])}{more}")
    results = score_batch([c for _, c in numbered], workers=workers, format_score=format_score, lenient=lenient)
    groups: dict[str, list[dict]] = defaultdict(list)
    for label, r in zip(labels, results, strict=True):
        groups[label].append(r)
    n_unreadable = sum(1 for b in bad if b[1] == "unreadable")
    left_out = [f"{n_unreadable} unreadable lines"] if n_unreadable else []
    left_out += [f"{len(bad) - n_unreadable} invalid cases"] if len(bad) > n_unreadable else []
    means = {rt: {"count": len(rs), **{k: sum(r[k] for r in rs) / len(rs) for k in ("score", "accuracy", "format")}}
             for rt, rs in sorted(groups.items())}
    if as_json:
        emit_json({"file": str(file), "cases": len(numbered), "per_type": means,
                   "left_out": [{"line": n, "kind": kind, "why": why} for n, kind, why in bad],
                   "unknown_reward_type": unknown})
    else:
        table = Table(title=f"{file.name}: {len(numbered)} cases"
                      + (f" ({', '.join(left_out)} left out)" if left_out else ""))
        for col in ("reward_type", "count", "score", "accuracy", "format"):
            table.add_column(col, justify="right" if col != "reward_type" else "left")
        for rt, m in means.items():
            table.add_row(rt, str(m["count"]), *(f"{m[k]:.4f}" for k in ("score", "accuracy", "format")))
        print_table(table)
    if strict and (bad or unknown):
        _fail(VeroError(f"{file}: --strict: {len(bad)} bad line(s), {len(unknown)} unknown reward_type(s)"))


@app.command()
def bench(
    n_cases: int = typer.Option(20000, "--n-cases", "--n", help="Cases in the mixed set."),
    workers: int = typer.Option(0, "--workers", help="Processes for the parallel run (0 = all cores)."),
    seed: int = typer.Option(0, "--seed", help="Case-set seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the result dict as JSON."),
) -> None:
    """Measure reward throughput per type (one process and all cores) and worst-case latency."""
    from rich.table import Table

    from vero_data.rewards.bench import run_rewards_bench

    result = run_rewards_bench(n_cases=n_cases, workers=workers or None, seed=seed)
    if as_json:
        emit_json(result)
        return
    table = Table(title=(f"{result['n_cases']} cases: {result['single_process_cases_per_s']} cases/s in one process, "
                         f"{result['parallel_cases_per_s']} with {result['workers']} workers"))
    for col in ("reward_type", "cases", "cases/s", "mean score", "worst latency on a thread (s)"):
        table.add_column(col)
    table.add_column("slowest answer", no_wrap=True, overflow="ellipsis", max_width=28)
    worst, answers = result["worst_case_latency_s"], result.get("worst_case_answer", {})
    for rt in sorted(set(result["per_type"]) | set(worst)):
        row = result["per_type"].get(rt, {})
        table.add_row(rt, str(row.get("cases", "-")), str(row.get("cases_per_s", "-")), str(row.get("mean_score", "-")),
                      str(worst.get(rt, "-")), repr(answers.get(rt, ""))[:28])
    print_table(table)
