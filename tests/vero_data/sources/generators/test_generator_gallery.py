"""generator_table, render_gallery and bench_generators."""

from __future__ import annotations

import json

from vero_data.schema import CATEGORIES
from vero_data.sources.generators import bench_generators, gallery_examples, generator_table, render_gallery


def test_generator_table_is_json_with_the_cli_fields():
    table = json.loads(json.dumps(generator_table()))
    assert len(table) >= 12
    assert {t["category"] for t in table} == set(CATEGORIES)
    for t in table:
        assert t["name"] and t["reward_types"] and t["description"]
        assert t["difficulty"] == ["mixed", "easy", "medium", "hard"] and t["knobs"]


def test_gallery_is_self_contained_html():
    examples = gallery_examples(per_generator=1, names=["bar_chart", "referring_boxes"])
    page = render_gallery(examples)
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") == 2
    assert "bar_chart" in page and "grounding" in page and "http" not in page


def test_gallery_accepts_encoded_rows_and_escapes_text():
    from vero_data.sources.generators.corrupt import png_bytes

    examples = gallery_examples(per_generator=1, names=["counting"])
    row = examples["counting"][0]
    page = render_gallery({"x<y": [{"image": {"bytes": png_bytes(row["images"][0])}, "question": "<b>?",
                                    "answer": ["a"], "reward_type": "list_string_match"}]})
    assert "x&lt;y" in page and "&lt;b&gt;?" in page and "data:image/png" in page


def test_bench_reports_rows_per_second():
    out = bench_generators(n=2, names=["equation", "maze_route"])
    assert set(out) == {"equation", "maze_route"} and all(v > 0 for v in out.values())


def test_demo_recipe_lists_one_manifest_per_generator():
    from vero_data.manifest import load_recipe, recipe_manifests
    from vero_data.sources import GENERATORS

    recipe = load_recipe("demo")
    manifests = recipe_manifests(recipe)
    assert sorted(m.source.generator.name for m in manifests) == GENERATORS.names()
    for m in manifests:
        info = GENERATORS.get(m.source.generator.name)
        assert m.category == info.category and set(m.reward_types) == set(info.reward_types)
        assert m.adapter == "generated" and m.provenance.status == "generated"
    assert {m.category for m in manifests} == set(CATEGORIES)
    assert recipe.filters.min_rows <= min(m.source.generator.n for m in manifests)
