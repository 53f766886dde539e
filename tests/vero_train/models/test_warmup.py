from __future__ import annotations

import pytest


def test_warmup_examples_are_in_the_vero_format():
    from vero_train.models.warmup import warmup_examples

    ex = warmup_examples(4, seed=0)
    assert len(ex) == 4
    for e in ex:
        text = e["completion"][0]["content"][0]["text"]
        assert text.startswith("<think>") and "</think><answer>\\boxed{" in text and text.endswith("</answer>")
        n_img = sum(1 for m in e["prompt"] for p in m["content"] if p["type"] == "image")
        assert n_img == len(e["images"]) >= 1


@pytest.mark.slow
def test_warmup_sft_runs_with_trl(tmp_path):
    pytest.importorskip("trl")
    from vero_train.models.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "warm", seed=0, warmup_steps=2)
    assert (path / "model.safetensors").is_file()
