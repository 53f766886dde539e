"""Which benchmarks a ``vero eval`` run covers: a suite, narrowed by ``--benchmark`` names (ours, lmms-eval task or
group names)."""

from __future__ import annotations

from vero_data.benchmarks.registry import get_benchmark, get_suite, resolve_benchmarks
from vero_data.errors import ConfigError


def suite_holding(benchmarks: list[str]) -> str:
    """The first of veroeval30, synthetic that holds every named benchmark (a run's results sit in one suite)."""
    names = set(resolve_benchmarks(benchmarks))
    for s in ("veroeval30", "synthetic"):
        if names <= set(get_suite(s).benchmarks):
            return s
    raise ConfigError(f"{', '.join(sorted(names))} are not all in one suite: pass --suite")


def run_benchmarks(suite: str, asked: list[str] | None = None, synthetic_n: int | None = None) -> list[str]:
    """The benchmarks of ``suite`` a run covers, in the suite's order.

    Args:
        suite: suite name or YAML path.
        asked: ``--benchmark`` values, repeated or comma-separated; all of the suite when empty. A name outside the
            suite is refused: ``--benchmark`` picks from the suite.
        synthetic_n: ``--synthetic-n``, refused when the run covers no generated benchmark.
    """
    names = get_suite(suite).benchmarks
    if asked:
        parts = [part.strip() for n in asked for part in n.split(",") if part.strip()]
        wanted = {a: resolve_benchmarks([a]) for a in parts}  # as the user wrote it → ours (aliases, groups)
        outside = [a for a, ns in wanted.items() if not set(ns) & set(names)]
        if outside:
            raise ConfigError(f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in suite "
                              f"'{suite}' (its benchmarks: {', '.join(names)}); --benchmark picks from the suite")
        names = [n for n in names if any(n in ns for ns in wanted.values())]
    if synthetic_n and not any(get_benchmark(n).synthetic for n in names):
        raise ConfigError(f"--synthetic-n sizes generated benchmarks (suite 'synthetic'); suite '{suite}' "
                          f"runs none ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
    return names
