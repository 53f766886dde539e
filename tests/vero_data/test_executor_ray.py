"""`--executor ray`: the ingest parts run as a Ray Data map on a local cluster and the build's shards are
byte-identical to the local executor's; bad executor flags are one-line errors."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

from vero_data.api import build, generate_to_dir
from vero_data.cli import app
from vero_data.errors import ConfigError


def _digest(shards) -> str:
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in shards)).hexdigest()


def _manifests(write_manifest, tmp_path):
    generate_to_dir("counting", 30, 1, tmp_path / "a")
    generate_to_dir("bar_chart", 30, 2, tmp_path / "b")
    return [str(write_manifest(name, category=cat, adapter="canonical",
                               source={"files": {"format": "parquet", "globs": [f"{d}/*.parquet"]}}))
            for name, cat, d in (("counts", "grounding_counting_search", "a"), ("bars", "chart_ocr", "b"))]


def test_ray_build_is_byte_identical_to_local(write_manifest, tmp_path):
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    ms = _manifests(write_manifest, tmp_path)
    local = build(out=tmp_path / "local", manifests=ms, part_rows=8, workers=1)
    on_ray = build(out=tmp_path / "ray", manifests=ms, part_rows=8, workers=2, executor="ray")
    assert local.rows == on_ray.rows > 0
    assert _digest(local.shards) == _digest(on_ray.shards)
    parts = sorted((tmp_path / "ray" / ".run" / "ingest").glob("*/part-*.done"))
    assert len(parts) == 8  # 2 sources × 30 rows in parts of 8: eight tasks


def test_bad_executor_flags_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="unknown --executor 'spark'; use one of: local, ray"):
        build(out=tmp_path / "o", recipe="demo", executor="spark")
    r = CliRunner().invoke(app, ["data", "build", "--recipe", "demo", "--out", str(tmp_path / "o"),
                                 "--ray-address", "auto"])
    assert r.exit_code == 1 and "--ray-address is for --executor ray" in r.output


def test_missing_ray_names_the_extra(monkeypatch):
    import builtins

    from vero_data import executors
    from vero_data.errors import MissingDependencyError

    real = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(MissingDependencyError, match=r"pip install 'vero-toolkit\[ray\]'"):
        executors.require_ray()
