"""Aggregation math, published comparison, reports and run comparison."""

from __future__ import annotations

import pytest

from vero_data.benchmarks import get_benchmark, get_suite
from vero_data.benchmarks.aggregate import (
    benchmark_score,
    compare_runs,
    match_published,
    published_scores,
    results_json,
    summarize,
)
from vero_data.benchmarks.report import html_report, markdown_report


def recs(scores, sub=None):
    return [{"score": s, "sub_task": sub, "metrics": {}} for s in scores]


def test_benchmark_mean_and_unscored():
    r = benchmark_score(get_benchmark("ChartQA"), recs([1, 0, 1, None]))
    assert r["score"] == pytest.approx(100 * 2 / 3) and (r["n"], r["n_scored"]) == (4, 3)


def test_blink_is_macro_over_subtasks():
    spec = get_benchmark("BLINK")
    r = benchmark_score(spec, recs([1, 1, 1, 1], "blink_a") + recs([0, 1], "blink_b"))
    assert r["score"] == pytest.approx((100 + 50) / 2)  # micro would be 83.3
    assert r["subtasks"] == {"blink_a": 100.0, "blink_b": 50.0}


def test_overall_is_mean_of_benchmarks_not_of_categories():
    per = {"chartqa_reasoning": {"score": 90.0}, "infovqa_val_reasoning": {"score": 70.0},
           "mathvista_testmini_reasoning": {"score": 20.0}}
    s = summarize(per)
    assert s["categories"] == {"chart_ocr": 80.0, "stem": 20.0}
    assert s["overall"] == pytest.approx(60.0)  # mean of categories would be 50


def test_published_columns_reproduce_the_paper_overall():
    for model in ("Vero-Qwen3I-8B", "Qwen3-VL-8B-Instruct", "Qwen2.5-VL-7B-Instruct"):
        p = published_scores(model)
        assert len(p["benchmarks"]) == 30
        per = {k: {"score": v} for k, v in p["benchmarks"].items()}
        s = summarize(per)
        assert round(s["overall"], 1) == p["overall"]
        for c, v in s["categories"].items():
            assert abs(v - p["categories"][c]) <= 0.051


def test_match_published_and_official_report_cells():
    assert match_published("Qwen/Qwen3-VL-8B-Instruct") == "Qwen3-VL-8B-Instruct"
    assert match_published("/models/my-model") is None
    p = published_scores("Qwen3-VL-8B-Instruct")
    assert "chartqa_reasoning" in p["official"] and "chartqa_pro_reasoning" not in p["official"]
    assert published_scores("Vero-Qwen3I-8B")["official"] == []


def _run(scores: dict[str, float], model="Qwen/Qwen3-VL-8B-Instruct"):
    per = {k: {"score": v, "n": 2, "n_scored": 2, "metrics": {}} for k, v in scores.items()}
    return results_json(per, {"model": model, "suite": "veroeval30"}, published_scores(match_published(model)))


def test_results_shape_and_reports():
    res = _run({"chartqa_reasoning": 80.0, "blink_reasoning": 50.0})
    assert res["results"]["chartqa_reasoning"]["relaxed_overall,none"] == 0.8
    assert res["versions"]["chartqa_reasoning"] == 1 and "blink_reasoning" in res["groups"]
    md = markdown_report(res)
    assert "Overall = plain mean of all benchmark scores" in md
    assert "| ChartQA | `chartqa_reasoning` | chart_ocr | relaxed_overall | 2 | 80.0 | 89.6 | -9.6 |" in md
    assert "official report" in md
    html = html_report(res)
    assert html.startswith("<!doctype html>") and "<svg" in html and "<script" not in html and "http://" not in \
        html.replace("http://www.w3.org/2000/svg", "")


def test_compare_deltas():
    a = _run({"chartqa_reasoning": 80.0, "infovqa_val_reasoning": 60.0})
    b = _run({"chartqa_reasoning": 85.0, "infovqa_val_reasoning": 58.0})
    rows = {r["benchmark"]: r for r in compare_runs(a, b)}
    assert rows["ChartQA"]["delta"] == 5.0 and rows["InfoVQA"]["delta"] == -2.0
    assert rows["Overall"]["delta"] == pytest.approx(1.5)


def test_suite_categories_ordered():
    assert [get_benchmark(n).category for n in get_suite("synthetic").benchmarks][0] == "chart_ocr"
