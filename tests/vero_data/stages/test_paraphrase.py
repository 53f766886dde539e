"""The paraphrase rule of question dedup: what a rewording keeps, and the cosines it needs (issue 12)."""

from __future__ import annotations

import pytest

from vero_data.stages.dedup import DedupConfig, is_paraphrase, specifics

CFG = DedupConfig()


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the value of Books in 2009?", {"books", "2009"}),
    ("Name the final word of line 3.", {"3", "last"}),
    ("Which word ends line 3?", {"3", "last"}),  # a verb of position says the same as "last"
    ("What word does the third line begin with?", {"3", "1"}),
    ("What colour is the Gray square?", {"grey"}),
    ('What does the button "Save as" do?', {"save", "save as"}),  # the quoted string, and its capital word
])
def test_specifics(question, expected):
    assert specifics(question) == frozenset(expected)


def test_same_specifics_need_a_moderate_cosine():
    assert is_paraphrase("What is the last word on line 2?", "Which word ends line 2?", 0.887, CFG)
    assert is_paraphrase("How high is the Online bar?", "What is the value of Online?", 0.452, CFG)
    assert not is_paraphrase("How high is the Online bar?", "What is the value of Online?", 0.30, CFG)


def test_questions_naming_nothing_need_more():
    assert is_paraphrase("How many objects can you see?", "Count the shapes in the picture.", 0.62, CFG)
    assert not is_paraphrase("How many triangles are there?", "How many star shapes can you see?", 0.57, CFG)


def test_other_specifics_are_never_merged_even_at_a_high_cosine():
    assert not is_paraphrase("Which word starts line 1?", "Which word starts line 2?", 0.953, CFG)
    assert not is_paraphrase("What is the value of Books?", "What is the value of Games?", 0.80, CFG)
    # one names something the other leaves implicit: the cosine alone decides
    assert is_paraphrase("What is the value of the bar?", "What is the value of the Online bar?", 0.96, CFG)


def test_question_dedup_embeds_only_rows_that_share_an_image_and_an_answer():
    """One image with many questions of their own answers (a VQA source) needs no embedding at all; a paraphrase
    with the same answer is embedded and removed."""
    import numpy as np
    import polars as pl

    from vero_data.stages.dedup import deduplicate

    def meta(rows):
        return pl.DataFrame({
            "id": [r[0] for r in rows], "img_sha": [["s1"] for _ in rows], "phash": [[1] for _ in rows],
            "dhash": [[1] for _ in rows], "lowvar": [[False] for _ in rows], "question": [r[1] for r in rows],
            "question_norm": [r[1].lower() for r in rows], "answer_norm": [r[2] for r in rows],
            "rank": list(range(len(rows))),
        })

    seen: list[list[str]] = []

    def embed(texts):
        seen.append(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2  # every pair at cosine 1

    cfg = DedupConfig(phash=False)
    vqa = meta([("a", "How many cats?", "2"), ("b", "What colour is the car?", "red"), ("c", "Is it day?", "yes")])
    assert deduplicate(vqa, cfg, embed).height == 0 and seen == []
    para = meta([("a", "How many cats?", "2"), ("b", "What colour is the car?", "red"),
                 ("c", "Count the cats.", "2")])
    out = deduplicate(para, cfg, embed)
    assert seen == [["How many cats?", "Count the cats."]]
    assert out.select("id", "dup_of", "rule").rows() == [("c", "a", "near_question")]

