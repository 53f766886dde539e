"""Which answers the rules settle, and the prompt files (overrides, versions, rendering)."""

from __future__ import annotations

from importlib import resources

import pytest

from vero_data.curate.prompts import QF_DOMAINS, load_prompts, question_filter_prompt, split_images
from vero_data.curate.rules import check_llm_answer, settle
from vero_data.errors import ConfigError


@pytest.mark.parametrize("answer, rtype, category, status, out", [
    ("12", "numeric", "stem", "rules", "12"),
    ("$1,234.50", "numeric", "chart_ocr", "rules", "1234.5"),
    ("five", "counting", "grounding_counting_search", "rules", "5"),
    ("\\frac{3}{4}", "numeric", "stem", "llm", "\\frac{3}{4}"),
    ("2*3+1", "numeric", "stem", "llm", "2*3+1"),
    ("(b) blue", "multiple_choice", "knowledge", "rules", "B"),
    ("the blue one", "multiple_choice", "knowledge", "llm", "the blue one"),
    ('["gray", "grey"]', "string_match", "spatial_action", "rules", '["gray", "grey"]'),
    ("Paris.", "string_match", "knowledge", "rules", "Paris"),
    ("red or blue", "string_match", "chart_ocr", "llm", "red or blue"),
    ("[1, 2]", "number_list", "chart_ocr", "skip", "[1, 2]"),
    ("a caption", "llm_judge", "captioning_if", "skip", "a caption"),
    ("7", "numeric", "captioning_if", "skip", "7"),
])
def test_settle(answer, rtype, category, status, out):
    s = settle(answer, rtype, category, {"choices": ["red", "blue"]} if rtype == "multiple_choice" else {})
    assert (s.status, s.answer) == (status, out)


@pytest.mark.parametrize("answer, rtype, out", [
    ("0.75", "numeric", "0.75"), ("1,000 m", "numeric", "1000"), ("about 3", "numeric", None),
    ("B", "multiple_choice", "B"), ("both", "multiple_choice", None), ("", "string_match", None),
])
def test_llm_answers_are_checked(answer, rtype, out):
    assert check_llm_answer(answer, rtype, {"choices": ["x", "y"]})[0] == out


def test_every_domain_has_a_prompt_and_captioning_none():
    p = load_prompts()
    for d in QF_DOMAINS:
        assert "number_precision_filter" in p[f"question_filter/{d}"].system  # the shared rules are appended
    assert question_filter_prompt(p, "knowledge").name == "question_filter/knowledge_recognition"
    assert question_filter_prompt(p, "captioning_if") is None


def test_override_changes_only_that_prompt_and_its_version(tmp_path):
    base = load_prompts()
    src = resources.files("vero_data") / "_resources" / "curate_prompts" / "canonicalise_default.yaml"
    (tmp_path / "canonicalise_default.yaml").write_text(src.read_text().replace("version: 1", "version: 2"))
    p = load_prompts(tmp_path)
    assert p["canonicalise/default"].version.startswith("v2-")
    assert p["question_filter/stem"].version == base["question_filter/stem"].version
    (tmp_path / "question_filter_typo.yaml").write_text("version: 1\n")
    with pytest.raises(ConfigError, match="unknown prompt file"):
        load_prompts(tmp_path)


def test_bad_override_is_one_line(tmp_path):
    (tmp_path / "question_filter_stem.yaml").write_text("version: 1\nsystem: ''\nuser: x\n")
    with pytest.raises(ConfigError, match="question_filter_stem.yaml: field 'system'"):
        load_prompts(tmp_path)


def test_render_is_one_pass():
    p = load_prompts()["question_filter/stem"]
    text = p.render(images="<image>", question="What is {answer}?", answer="42")
    assert "What is {answer}?" in text and "42" in text
    assert split_images(text)[0] == {"type": "image"}
    assert split_images("no image here") == "no image here"


def test_an_override_must_place_the_images_and_the_answer(tmp_path):
    (tmp_path / "question_filter_stem.yaml").write_text("version: 1\nsystem: judge\nuser: '{question} {answer}'\n")
    with pytest.raises(ConfigError, match=r"question_filter_stem.yaml: the user template lacks \{images\}"):
        load_prompts(tmp_path)
