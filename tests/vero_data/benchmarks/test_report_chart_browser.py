"""The eval report's category chart, rendered in headless Chromium: every label and value lies inside the SVG
(none clipped), full category names, and the axis scales to the run (a 3-point run is not a flat line)."""

from __future__ import annotations

import html

import pytest

from tests.vero_data.browse.cdp import Browser, find_chromium
from vero_data.benchmarks.aggregate import match_published, published_scores, results_json
from vero_data.benchmarks.report import CATEGORY_TITLES, _bar_chart, html_report


def _res(scores: dict[str, float], model="Qwen/Qwen3-VL-8B-Instruct"):
    per = {k: {"score": v, "n": 2, "n_scored": 2, "metrics": {}} for k, v in scores.items()}
    return results_json(per, {"model": model, "suite": "veroeval30"}, published_scores(match_published(model)))


def test_axis_scales_to_the_values():
    low = _bar_chart({"chart_ocr": 3.0, "stem": 1.5}, {})
    assert ">10</text>" in low and ">100</text>" not in low  # 0–10 axis for a 3-point run
    high = _bar_chart({"chart_ocr": 80.0}, {"chart_ocr": 89.6})
    assert ">100</text>" in high and "score (%)" in high
    assert html.escape(CATEGORY_TITLES["captioning_if"]) in _bar_chart({"captioning_if": 5.0}, {})  # the longest, whole


def test_chart_fits_in_a_real_browser(tmp_path):
    exe = find_chromium()
    if exe is None:
        pytest.skip("no chromium on PATH (apt-get install chromium): the rendered chart is not checked")
    res = _res({"chartqa_reasoning": 80.0, "blink_reasoning": 50.0, "mathvista_testmini_reasoning": 61.2})
    page = tmp_path / "report.html"
    page.write_text(html_report(res))
    b = Browser(exe, tmp_path / "profile")
    try:
        b.goto(page.as_uri())
        got = b.run("""(() => {
          const svg = document.querySelector('svg'); const box = svg.getBoundingClientRect();
          const texts = [...svg.querySelectorAll('text')].map(t => {
            const r = t.getBoundingClientRect();
            return {text: t.textContent, inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5
                    && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5};
          });
          return {texts, bars: svg.querySelectorAll('rect[fill="#3b6ea8"]').length};
        })()""")
        b.screenshot(tmp_path / "chart.png")
    finally:
        b.close()
    outside = [t["text"] for t in got["texts"] if not t["inside"]]
    assert not outside, f"clipped: {outside}"
    shown = {t["text"] for t in got["texts"]}
    for cat in res["veroeval"]["categories"]:
        assert CATEGORY_TITLES.get(cat, cat) in shown  # the full name, not cut
    assert got["bars"] >= 3  # this run's bars plus the legend swatch
