"""Session fixtures for model tests: the tiny model is built once (a few seconds) and shared by every test."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """Path to a tiny Qwen2.5-VL model (random weights, seed 0) saved with save_pretrained."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from vero_train.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-0", seed=0)


@pytest.fixture(scope="session")
def vero_cache(tmp_path_factory, tiny_model_dir):
    """$VERO_CACHE pointing at a directory where `tiny` resolves to the session's tiny model (no rebuild)."""
    root = tmp_path_factory.mktemp("vero-cache")
    (root / "tiny-0").symlink_to(tiny_model_dir, target_is_directory=True)
    old = os.environ.get("VERO_CACHE")
    os.environ["VERO_CACHE"] = str(root)
    yield root
    if old is None:
        os.environ.pop("VERO_CACHE", None)
    else:
        os.environ["VERO_CACHE"] = old
