"""Shared fixtures: tiny generated data, written to tmp_path; nothing touches the network."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def write_manifest(tmp_path):
    """Write a manifest YAML into tmp_path and return its path."""
    import yaml

    def _write(name: str, **fields):
        data = {"name": name, "license": "apache-2.0", "filters": {"min_rows": 1, "min_avg_pixels": 0}, **fields}
        p = tmp_path / f"{name}.yaml"
        p.write_text(yaml.safe_dump(data))
        return p

    return _write
