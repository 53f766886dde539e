"""The build report and gallery say "none" instead of an empty heading, and show answers whole (an
instruction-following answer is JSON: never cut mid-JSON)."""

from __future__ import annotations

import html
import json

import pyarrow.parquet as pq

from vero_data.api import build, generate_to_dir
from vero_data.report import _pretty_answer


def test_empty_sections_say_none_and_answers_are_whole(write_manifest, tmp_path):
    generate_to_dir("constrained_description", 6, 3, tmp_path / "src")
    m = write_manifest("ifrows", category="captioning_if", adapter="canonical",
                       source={"files": {"format": "parquet", "globs": ["src/*.parquet"]}})
    res = build(out=tmp_path / "out", manifests=[str(m)])
    page = (tmp_path / "out" / "report.html").read_text()
    if not res.report["dropped_by_reason"]:
        assert "none: every row read was exported or not selected" in page
    if not res.report["dedup"]["removed"]:
        assert "No duplicates found" in page and "0 rows removed" not in page
    gallery = (tmp_path / "out" / "gallery.html").read_text()
    answers = [r["answer"] for f in res.shards for r in pq.read_table(f, columns=["answer"]).to_pylist()]
    assert answers and any(len(a) > 120 for a in answers)  # long enough that the old 120-char cut would show
    shown = [a for a in answers if html.escape(_pretty_answer(a)) in gallery]
    assert shown, "no answer appears whole in the gallery"


def test_pretty_answer_indents_json_and_keeps_text():
    assert json.loads(_pretty_answer('{"a": [1, 2]}')) == {"a": [1, 2]} and "\n" in _pretty_answer('{"a": 1}')
    assert _pretty_answer("{not json") == "{not json" and _pretty_answer("12") == "12"
