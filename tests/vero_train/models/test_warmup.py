from __future__ import annotations

import pytest


def test_warmup_examples_are_in_the_vero_format():
    from vero_data.rewards import format_score
    from vero_train.models.warmup import warmup_examples

    ex = warmup_examples(12, seed=0)
    assert len(ex) == 12
    boxed = 0
    for e in ex:
        text = e["completion"][0]["content"][0]["text"]
        assert text.startswith("<think>") and "</think><answer>" in text and text.endswith("</answer>")
        assert format_score(text, None) == 1.0
        boxed += "</think><answer>\\boxed{" in text
        n_img = sum(1 for m in e["prompt"] for p in m["content"] if p["type"] == "image")
        assert n_img == len(e["images"]) >= 1
    assert boxed >= 6


def test_warmup_targets_are_fully_correct():
    import json
    import tempfile
    from pathlib import Path

    import pyarrow.parquet as pq

    from vero_data.rewards import compute_score_from_data_source
    from vero_train.models.warmup import WARMUP_MIX, completion_for_row
    from vero_train.passk import make_demo_input

    with tempfile.TemporaryDirectory() as tmp:
        d = make_demo_input(Path(tmp), rows=len(WARMUP_MIX) * 2, seed=3, generators=tuple(WARMUP_MIX))
        rows = [r for f in sorted((d / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    for r in rows:
        if r["reward_type"] in ("llm_judge", "instruction_following_llm_judge"):
            continue
        extra = {**json.loads(r["extra_info"]), "reward_type": r["reward_type"]}
        s = compute_score_from_data_source(r["data_source"], completion_for_row(r), r["answer"], extra)
        assert s["accuracy"] == 1.0 and s["format"] == 1.0, (r["data_source"], completion_for_row(r))


@pytest.mark.slow
def test_warmup_sft_runs_with_trl(tmp_path):
    pytest.importorskip("trl")
    from vero_train.models.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "warm", seed=0, warmup_steps=2)
    assert (path / "model.safetensors").is_file()


def test_fit_images_match_the_processor_resize():
    """Images are resized once to what the image processor would resize them to: same image-token count."""
    from PIL import Image

    from vero_train.models.tiny import build_processor, train_tokenizer
    from vero_train.models.warmup import fit_images

    proc = build_processor(train_tokenizer(["a b c 0 1 2"]))
    big = Image.new("RGB", (640, 480), "red")
    rows = fit_images([{"prompt": [], "images": [big]}], proc)
    small = rows[0]["images"][0]
    assert small.size[0] * small.size[1] <= 28 * 28 * 64 and small.size[0] % 28 == 0 and small.size[1] % 28 == 0
    before = proc.image_processor(images=[big], return_tensors="pt")["image_grid_thw"]
    after = proc.image_processor(images=[small], return_tensors="pt")["image_grid_thw"]
    assert before.tolist() == after.tolist()
    assert fit_images([{"images": [small]}], proc)[0]["images"][0] is small  # already fitted: untouched
