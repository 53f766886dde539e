"""Shards → TRL rows, validation before training, and the category-balanced sampler."""

from __future__ import annotations

import json
from collections import Counter

import pytest

pytest.importorskip("torch")

from vero_train.data import (  # noqa: E402
    CategoryBalancedSampler,
    TrainDataError,
    category_quotas,
    load_shards,
    prepare_train_dataset,
    prompt_to_messages,
    validate_rows,
    with_box_info,
)


def test_placeholders_become_image_blocks_in_place():
    msgs = prompt_to_messages([{"role": "user", "content": "Compare <image> and <image>\nWhich is bigger?"}], 2,
                              system_prompt="SYS")
    assert msgs[0] == {"role": "system", "content": [{"type": "text", "text": "SYS"}]}
    assert [b["type"] for b in msgs[1]["content"]] == ["text", "image", "text", "image", "text"]
    assert msgs[1]["content"][-1]["text"] == "Which is bigger?"


def test_prompt_without_placeholders_gets_images_first():
    msgs = prompt_to_messages([{"role": "user", "content": "How many?"}], 1)
    assert [b["type"] for b in msgs[0]["content"]] == ["image", "text"]


def test_box_rows_carry_sizes_and_convention():
    info = json.loads(with_box_info("{}", "grounding", [[640, 480]], None))
    assert info == {"image_sizes": [[640, 480]], "normalize_bbox_to_1000": False}
    kept = json.loads(with_box_info('{"image_sizes": [[10, 20]]}', "clicking", [[640, 480]], True))
    assert kept == {"image_sizes": [[10, 20]], "normalize_bbox_to_1000": True}
    assert json.loads(with_box_info('{"a": 1}', "numeric", [[1, 1]], True)) == {"a": 1}


def test_prepare_converts_every_row(vero_shards):
    ds, info = prepare_train_dataset(vero_shards, system_prompt="SYS")
    assert info["rows"] == len(ds) > 0 and len(info["categories"]) == 6
    row = ds[0]
    n_blocks = sum(b["type"] == "image" for m in row["prompt"] for b in m["content"])
    assert n_blocks == len(row["images"]) and hasattr(row["images"][0], "size")  # PIL
    for r in ds.select_columns(["reward_type", "extra_info"]):
        if r["reward_type"] in ("grounding", "clicking"):
            assert json.loads(r["extra_info"])["image_sizes"]


def test_unknown_reward_type_fails_naming_row_and_source(vero_shards):
    ds = load_shards(vero_shards)
    bad = ds.map(lambda rt, i: {"reward_type": "exact_match" if i == 3 else rt}, input_columns=["reward_type"],
                 with_indices=True)
    rid, src = bad[3]["id"], bad[3]["data_source"]
    with pytest.raises(TrainDataError, match=rf"row {rid} \(source {src}\).*unknown reward_type 'exact_match'"):
        validate_rows(bad, source="shards")


def test_image_less_and_mismatched_rows_are_quarantined_not_fatal(vero_shards, tmp_path):
    """One bad row never ends a run (issue 19): it is left out with its reason, the others train."""
    ds = load_shards(vero_shards).select(range(3))
    ds = ds.map(lambda p, i: {"prompt": [{"role": "user", "content": "no image"}] if i == 0 else
                              [{"role": "user", "content": "<image><image> two?"}] if i == 1 else p},
                input_columns=["prompt"], with_indices=True)
    ds = ds.map(lambda im, i: {"images": [] if i == 0 else im}, input_columns=["images"], with_indices=True)
    bad = validate_rows(ds)
    assert [(r["id"], r["reason"]) for r in bad] == [(ds[0]["id"], "missing_image"),
                                                      (ds[1]["id"], "image_count_mismatch")]
    ds.to_parquet(str(tmp_path / "data" / "train-00000-of-00001.parquet"))
    out, info = prepare_train_dataset(tmp_path)
    assert len(out) == 1 and {r["reason"] for r in info["quarantine"]} == {"missing_image", "image_count_mismatch"}


def test_quotas_sum_and_rotate():
    w = {c: 1.0 for c in "abcdef"}
    assert sum(category_quotas(256, w).values()) == 256
    totals = Counter()
    for b in range(6):
        totals.update(category_quotas(256, w, b))
    assert set(totals.values()) == {256}  # the 4 extra rows rotate: equal over 6 batches


def test_sampler_balances_wraps_and_repeats():
    cats = ["a"] * 3 + ["b"] * 20 + ["c"] * 7
    s = CategoryBalancedSampler(cats, batch_size=6, seed=18, mini_repeat_count=2, repeat_count=3,
                                batches_per_epoch=5)
    idx = list(s)
    assert len(idx) == len(s) == 5 * 6 * 2 * 3
    chunk = 6 * 2 * 3
    for b in range(5):
        block = idx[b * chunk:(b + 1) * chunk]
        assert block[:12] == block[12:24] == block[24:]  # repeated for each update
        assert block[0:12:2] == block[1:12:2]  # each prompt twice in a row (its rollouts)
        assert Counter(cats[i] for i in block[0:12:2]) == {"a": 2, "b": 2, "c": 2}
    seen_a = [i for i in idx[::2] if cats[i] == "a"]
    assert set(seen_a) == {0, 1, 2}  # the 3-row category wrapped around


def test_sampler_is_deterministic_per_epoch_and_weighted():
    cats = ["a"] * 50 + ["b"] * 50
    s1 = CategoryBalancedSampler(cats, batch_size=10, weights={"a": 3, "b": 1}, seed=18, batches_per_epoch=4)
    s2 = CategoryBalancedSampler(cats, batch_size=10, weights={"a": 3, "b": 1}, seed=18, batches_per_epoch=4)
    s1.set_epoch(2)
    s2.set_epoch(2)
    e1 = list(s1)
    assert e1 == list(s2)
    assert Counter(cats[i] for i in e1[:10]) in ({"a": 8, "b": 2}, {"a": 7, "b": 3})
    s2.set_epoch(3)
    assert list(s2) != e1
