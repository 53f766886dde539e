from __future__ import annotations

import pytest
import yaml

from vero_data.benchmarks import get_benchmark, get_suite, load_yaml_spec, suite_names
from vero_data.benchmarks.loader import build_turn, load_docs
from vero_data.benchmarks.registry import TASKS_DIR
from vero_data.benchmarks.spec import CATEGORIES
from vero_data.errors import ConfigError, RegistryError

from .conftest import png

PAPER_COUNTS = {"chart_ocr": 6, "stem": 4, "spatial_action": 5, "knowledge": 4, "grounding_counting_search": 8,
                "captioning_if": 3}


def test_veroeval30_has_thirty_in_six_categories():
    names = get_suite("veroeval30").benchmarks
    assert len(names) == len(set(names)) == 30
    counts = {c: 0 for c in CATEGORIES}
    for n in names:
        counts[get_benchmark(n).category] += 1
    assert counts == PAPER_COUNTS
    for c in CATEGORIES:
        assert len(get_suite(c).benchmarks) == PAPER_COUNTS[c]
    assert {"veroeval30", "synthetic", *CATEGORIES} <= set(suite_names())


def test_names_are_lmms_task_names_and_display_names_resolve():
    assert get_benchmark("ChartQA").name == "chartqa_reasoning"
    assert get_benchmark("mathvista_testmini_reasoning").display_name == "MathVista"
    assert get_benchmark("blink_art_style_reasoning").name == "blink_reasoning"
    assert get_benchmark("visual_probe_hard_reasoning").display_name == "VisualProbe"
    with pytest.raises(RegistryError, match="Did you mean"):
        get_benchmark("chartqa_reasonin")
    with pytest.raises(RegistryError):
        get_suite("veroeval31")


def test_every_yaml_validates_and_paper_decoding_defaults():
    for p in TASKS_DIR.glob("*.yaml"):
        spec = load_yaml_spec(p)
        if spec.category != "synthetic" and spec.synthetic is None:
            assert (spec.generation.max_new_tokens, spec.generation.temperature) == (16384, 0.6)


def test_extra_field_is_an_error_naming_file_and_field(tmp_path):
    data = yaml.safe_load((TASKS_DIR / "chartqa_reasoning.yaml").read_text())
    data["metrc"] = "x"
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"bad\.yaml.*metrc"):
        load_yaml_spec(p)


def test_prompt_building_images_and_options():
    spec = get_benchmark("MMMU-Pro Standard")
    doc = {"question": "<image 1> Which colour?", "options": "['red', 'green']", "image_1": {"bytes": png()},
           "image_2": {"bytes": png()}}
    msgs, imgs = build_turn(spec, doc)
    # the fork's construct_prompt with the reasoning task's empty post_prompt; only the images the text names
    assert len(imgs) == 1 and msgs[0]["content"][0] == {"type": "image"}
    assert msgs[0]["content"][-1]["text"] == "<image 1> Which colour?\nA. red\nB. green\n\n"


def test_loader_process_docs_and_ids():
    spec = get_benchmark("CountQA")
    rows = [{"id": "r0", "questions": ["How many cats?", "How many dogs?"], "answers": [2, 3], "image": None}]
    docs = list(load_docs(spec, rows=rows))
    assert [d["answer"] for d in docs] == ["2", "3"]
    assert [d["_id"] for d in docs] == ["countqa_reasoning:r0_0", "countqa_reasoning:r0_1"]
    assert len(list(load_docs(spec, limit=1, rows=rows))) == 1


def test_synthetic_docs_are_held_out():
    from vero_data.sources import generate
    from vero_data.sources.generators import check_disjoint

    spec = get_benchmark("synthetic_counting")
    docs = list(load_docs(spec, limit=3))
    assert len(docs) == 3 and all(d["_id"].startswith("synthetic_counting:counting-test-") for d in docs)
    train = [s for _, s in generate("counting", 3, 0, split="train")]
    test = [s for _, s in generate("counting", 3, 0, split="test")]
    check_disjoint(train, test, questions=False)
