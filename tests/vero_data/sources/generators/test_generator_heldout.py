"""Held-out split check and the corruption helpers used by build tests."""

from __future__ import annotations

import io

import imagehash
import pytest
from PIL import Image

import vero_data.sources.generators  # noqa: F401
from vero_data.sources import GENERATORS, generate
from vero_data.sources.generators import (
    HeldOutLeak,
    check_disjoint,
    near_duplicates,
    truncated_image_bytes,
)
from vero_data.sources.generators.corrupt import png_bytes


def test_test_split_rows_share_no_image_with_train_rows():
    for name in GENERATORS.names():
        train = [s for _, s in generate(name, 6, seed=0, split="train")]
        test = [s for _, s in generate(name, 6, seed=0, split="test")]
        assert all(s.split == "test" for s in test)
        counts = check_disjoint(train, test, questions=False)
        assert counts == {"train": 6, "eval": 6, "shared_images": 0, "shared_questions": 0}


def test_question_check_on_generators_with_row_specific_questions():
    # web tasks name a concrete goal (query, e-mail, product) so their questions rarely repeat across splits
    train = [s for _, s in generate("web_action", 10, seed=0)]
    test = [s for _, s in generate("web_action", 10, seed=1, split="test")]
    check_disjoint(train, test, questions=False)
    with pytest.raises(HeldOutLeak, match="shared_questions"):
        check_disjoint(train, train[:1] + test)


def test_leaked_image_is_reported_for_canonical_rows():
    _, a = next(generate("counting", 1, seed=0))
    _, b = next(generate("counting", 1, seed=0, split="test"))
    row = {"images": [{"bytes": png_bytes(a.images[0]), "path": None}], "prompt": [], "extra_info": "{}"}
    leak = {"images": [{"bytes": png_bytes(a.images[0]), "path": None}],
            "prompt": [{"role": "user", "content": "<image>\nA different question?"}], "extra_info": "{}"}
    other = {"images": [{"bytes": png_bytes(b.images[0]), "path": None}],
             "prompt": [{"role": "user", "content": "<image>\nAnother question."}], "extra_info": "{}"}
    assert check_disjoint([row], [other])["shared_images"] == 0
    with pytest.raises(HeldOutLeak, match="shared_images"):
        check_disjoint([row], [other, leak])


def test_question_normalisation_ignores_case_punctuation_and_spacing():
    _, a = next(generate("counting", 1, seed=0))
    _, b = next(generate("counting", 1, seed=0, split="test"))
    b.question = "  " + a.question.upper().replace("?", " ?!") + " "
    with pytest.raises(HeldOutLeak):
        check_disjoint([a], [b])


def test_truncated_bytes_do_not_decode():
    _, s = next(generate("bar_chart", 1, seed=0))
    data = truncated_image_bytes(s.images[0])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data)).load()


@pytest.mark.parametrize("name", ["bar_chart", "counting", "table_lookup", "visual_search"])
def test_near_duplicates_stay_within_phash_distance(name):
    _, s = next(generate(name, 1, seed=0))
    base = imagehash.phash(s.images[0])
    variants = near_duplicates(s.images[0])
    assert set(variants) == {"jpeg", "resize", "brightness"}
    for kind, img in variants.items():
        assert png_bytes(img) != png_bytes(s.images[0]), kind
        assert base - imagehash.phash(img) <= 6, kind
