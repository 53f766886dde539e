"""VeroEval benchmarks: one YAML per benchmark (lmms-eval task names), suites, scorers and reports.

Pure Python (no torch). ``vero_train.evaluate`` adds generation on top of this package.

>>> get_benchmark("ChartQA").name
'chartqa_reasoning'
"""

from __future__ import annotations

from vero_data.benchmarks.registry import (
    benchmark_names,
    get_benchmark,
    get_suite,
    load_yaml_spec,
    suite_names,
)
from vero_data.benchmarks.scoring import SCORERS, ScoreContext
from vero_data.benchmarks.spec import CATEGORIES, BenchmarkSpec, SuiteSpec

__all__ = [
    "CATEGORIES",
    "SCORERS",
    "BenchmarkSpec",
    "ScoreContext",
    "SuiteSpec",
    "benchmark_names",
    "get_benchmark",
    "get_suite",
    "load_yaml_spec",
    "score_sample",
    "suite_names",
]


def score_sample(benchmark: str | BenchmarkSpec, doc: dict, response: str, ctx: ScoreContext | None = None) -> dict:
    """All metric values of one response; ``result[spec.metric]`` is the headline per-sample score."""
    from vero_data.benchmarks.score import score_record

    spec = benchmark if isinstance(benchmark, BenchmarkSpec) else get_benchmark(benchmark)
    return score_record(spec, doc, response, ctx or ScoreContext())["metrics"]
