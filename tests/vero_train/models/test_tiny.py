from __future__ import annotations

import json

import pytest

from vero_train.models import TINY_ALIASES, resolve_model
from vero_train.models.backends import SamplingConfig, get_backend, messages_from_row, request_from_row


def test_tiny_model_loads_with_auto_classes(tiny_model_dir):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    proc = AutoProcessor.from_pretrained(tiny_model_dir)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(proc).__name__ == "Qwen2_5_VLProcessor"
    toks = proc.tokenizer.tokenize("<think>1+2</think><answer>\\boxed{3}</answer>")
    assert {"<think>", "</think>", "<answer>", "</answer>"} <= set(toks)
    info = json.loads((tiny_model_dir / "vero_tiny.json").read_text())
    assert info["params"] < 5_000_000


def test_build_is_deterministic(tiny_model_dir, tmp_path):
    from vero_train.models.tiny import build_fingerprint, build_tiny_model

    again = build_tiny_model(tmp_path / "again", seed=0)
    assert build_fingerprint(again) == build_fingerprint(tiny_model_dir)


def test_resolve_model(vero_cache, tiny_model_dir):
    assert "tiny" in TINY_ALIASES
    assert resolve_model("Qwen/Qwen3-VL-8B-Instruct") == "Qwen/Qwen3-VL-8B-Instruct"
    assert resolve_model("tiny") == str(vero_cache / "tiny-0")


def test_messages_from_row_splits_placeholders():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, format="PNG")
    row = {"id": "r", "prompt": [{"role": "user", "content": "<image>What colour?"}],
           "images": [{"bytes": buf.getvalue(), "path": None}]}
    msgs, images = messages_from_row(row, "SYS")
    assert msgs[0] == {"role": "system", "content": "SYS"}
    assert msgs[1]["content"] == [{"type": "image"}, {"type": "text", "text": "What colour?"}]
    assert images[0].size == (32, 32)
    msgs, _ = messages_from_row(row, None)
    assert msgs[0]["role"] == "user"


def test_transformers_backend_n_completions_deterministic(tiny_model_dir):
    from PIL import Image

    row = {"id": "a", "prompt": [{"role": "user", "content": "<image>How many?"}],
           "images": [Image.new("RGB", (64, 48), "blue")]}
    text_only = {"id": "b", "prompt": [{"role": "user", "content": "2+2?"}], "images": []}
    backend = get_backend("transformers", str(tiny_model_dir), batch_size=2)
    reqs = [request_from_row(row), request_from_row(text_only)]
    s = SamplingConfig(max_tokens=6, seed=1)
    out = backend.generate(reqs, 3, s)
    assert [len(c) for c in out] == [3, 3]
    assert all(0 < c.n_tokens <= 6 and c.finish_reason in ("stop", "length") for cs in out for c in cs)
    assert [c.text for c in backend.generate(reqs, 3, s)[0]] == [c.text for c in out[0]]


def test_unknown_backend_suggests():
    from vero_data.errors import ConfigError

    with pytest.raises(ConfigError, match="Did you mean 'vllm'"):
        get_backend("vlm", "tiny")
