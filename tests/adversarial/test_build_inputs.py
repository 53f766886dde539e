"""Adversarial rows and manifests on the build side: nothing read outside the source's folders, nothing written
outside --out, one bad row never ends a build (issue 19). Inputs are generated here."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers import chart_image, png_bytes
from vero_data.cli import app
from vero_data.config import BuildConfig
from vero_data.errors import ConfigError
from vero_data.manifest import load_manifest

runner = CliRunner()


def _manifest(d: Path, rows: list[dict | str], name: str = "src", **fields) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (d / "rows.jsonl").write_text("\n".join(lines) + "\n")
    m = {"name": name, "category": "knowledge", "license": "mit", "reward_type": "string_match",
         "source": {"files": {"format": "jsonl", "globs": ["rows.jsonl"]}},
         "adapter": {"question": "q", "answer": "a", "images": "img", "id": "id"},
         "filters": {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False}, **fields}
    p = d / f"{name}.yaml"
    p.write_text(yaml.safe_dump(m))
    return p


def _png(p: Path, seed: int = 1) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(png_bytes(chart_image([10, 20, 30 + seed], seed=seed)))
    return p


def _build(manifest: Path, out: Path, **kw):
    from vero_data.build import build

    return build(BuildConfig(out=out, manifests=[str(manifest)], progress=False, **kw))


def _quarantine(out: Path) -> dict[str, str]:
    q = pl.read_parquet(out / "quarantine.parquet")
    return dict(zip(q["upstream_id"].to_list(), q["reason"].to_list(), strict=True))


def _exported_ids(out: Path) -> set[str]:
    return {r["lineage"]["upstream_id"] for f in (out / "data").glob("*.parquet") for r in pl.read_parquet(f).to_dicts()}


# ----------------------------------------------------------------------------------------------- paths
def test_image_paths_outside_the_source_folder_are_quarantined_not_read(tmp_path):
    _png(tmp_path / "d" / "img" / "ok.png")
    secret = _png(tmp_path / "secret" / "private.png", seed=2)
    rows = [{"id": "ok", "img": "img/ok.png", "q": "What colour?", "a": "red"},
            {"id": "abs", "img": str(secret), "q": "Which colour is it?", "a": "red"},
            {"id": "rel", "img": "../secret/private.png", "q": "Which colour here?", "a": "red"},
            {"id": "passwd", "img": "/etc/passwd", "q": "What is this?", "a": "red"}]
    out = tmp_path / "out"
    _build(_manifest(tmp_path / "d", rows), out)
    assert _exported_ids(out) == {"ok"}
    q = _quarantine(out)
    assert q["abs"] == q["rel"] == q["passwd"] == "image_outside_root"


def test_allow_absolute_paths_opts_in(tmp_path):
    secret = _png(tmp_path / "elsewhere" / "x.png", seed=3)
    out = tmp_path / "out"
    _build(_manifest(tmp_path / "d", [{"id": "abs", "img": str(secret), "q": "What colour?", "a": "red"}],
                     allow_absolute_paths=True), out)
    assert _exported_ids(out) == {"abs"}


def test_image_root_of_the_manifest_is_a_root(tmp_path):
    _png(tmp_path / "images" / "a.png", seed=4)
    m = _manifest(tmp_path / "d", [{"id": "a", "img": "a.png", "q": "What colour?", "a": "red"},
                                  {"id": "esc", "img": "../../secret.png", "q": "What colour is it?", "a": "red"}],
                  adapter="vqa", adapter_params={"image_root": str(tmp_path / "images"), "question": "q",
                                                 "answer": "a", "image": "img", "id": "id"})
    _png(tmp_path / "secret.png", seed=5)
    out = tmp_path / "out"
    _build(m, out)
    assert "a" in _exported_ids(out)
    assert _quarantine(out).get("esc") == "image_outside_root"


def test_fifo_device_and_directory_are_not_read(tmp_path):
    d = tmp_path / "d"
    _png(d / "ok.png")
    os.mkfifo(d / "pipe.png")
    (d / "folder.png").mkdir()
    rows = [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"},
            {"id": "fifo", "img": "pipe.png", "q": "What colour is the pipe?", "a": "red"},
            {"id": "dir", "img": "folder.png", "q": "What colour is the folder?", "a": "red"},
            {"id": "zero", "img": "/dev/zero", "q": "What colour is zero?", "a": "red"}]
    out = tmp_path / "out"
    done: list = []
    t = threading.Thread(target=lambda: done.append(_build(_manifest(d, rows, allow_absolute_paths=True), out)),
                         daemon=True)
    t.start()
    t.join(120)
    assert done, "the build hung on a FIFO or /dev/zero"
    q = _quarantine(out)
    assert q["fifo"] == q["dir"] == q["zero"] == "not_a_regular_file"
    assert _exported_ids(out) == {"ok"}


def test_image_file_over_the_size_cap_is_quarantined_before_reading(tmp_path):
    d = tmp_path / "d"
    _png(d / "ok.png")
    (d / "big.png").write_bytes(png_bytes(chart_image([1, 2, 3], seed=9)) + b"\0" * 200_000)
    out = tmp_path / "out"
    _build(_manifest(d, [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"},
                         {"id": "big", "img": "big.png", "q": "What colour is big?", "a": "red"}]), out,
           max_image_bytes=100_000)
    assert _quarantine(out)["big"] == "image_too_large"


# ----------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../../escape", "/abs/dir", "a/b", "..", ".", ".hidden", "a\\b", "", "x" * 200,
                                  "new\nline"])
def test_manifest_name_must_be_an_identifier(tmp_path, name):
    m = _manifest(tmp_path / "d", [{"id": "x", "img": "x.png", "q": "q?", "a": "a"}])
    doc = yaml.safe_load(m.read_text())
    doc["name"] = name
    m.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="name must be an identifier"):
        load_manifest(m)
    res = runner.invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "out")])
    assert res.exit_code == 1 and "name must be an identifier" in " ".join(res.output.split())
    assert not (tmp_path / "escape").exists() and not Path("/abs/dir").exists()


@pytest.mark.parametrize("name", ["chartqa", "geo170k", "VQA-v2", "mmk12.v2", "_private"])
def test_real_names_pass(tmp_path, name):
    m = _manifest(tmp_path / "d", [{"id": "x", "img": "x.png", "q": "q?", "a": "a"}], name=name)
    assert load_manifest(m).name == name


def test_validate_cli_rejects_an_escaping_name(tmp_path):
    m = _manifest(tmp_path / "d", [{"id": "x", "img": "x.png", "q": "q?", "a": "a"}])
    m.write_text(m.read_text().replace("name: src", "name: ../../x"))
    res = runner.invoke(app, ["data", "validate", str(m)])
    assert res.exit_code != 0


# ----------------------------------------------------------------------------------------------- text
@pytest.mark.parametrize("field", ["q", "a", "id"])
def test_lone_surrogate_is_quarantined_as_bad_text(tmp_path, field):
    d = tmp_path / "d"
    _png(d / "ok.png")
    bad = {"id": "sur", "img": "ok.png", "q": "Which colour?", "a": "red"}
    line = json.dumps(bad).replace(json.dumps(bad[field]), json.dumps(bad[field])[:-1] + '\\ud800"', 1)
    rows = [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"}, line]
    out = tmp_path / "out"
    res = runner.invoke(app, ["data", "build", "--manifest", str(_manifest(d, rows)), "--out", str(out)])
    assert res.exit_code == 0, res.output
    q = pl.read_parquet(out / "quarantine.parquet")
    assert q.filter(pl.col("reason") == "bad_text").height == 1
    assert "U+D800" in q.filter(pl.col("reason") == "bad_text")["detail"][0]
    assert _exported_ids(out) == {"ok"}


def test_a_huge_question_is_quarantined_not_exported(tmp_path):
    d = tmp_path / "d"
    _png(d / "ok.png")
    rows = [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"},
            {"id": "huge", "img": "ok.png", "q": "x " * 60_000 + "?", "a": "red"}]
    out = tmp_path / "out"
    _build(_manifest(d, rows), out)
    assert _quarantine(out)["huge"] == "question_too_long"
    assert _exported_ids(out) == {"ok"}


# ----------------------------------------------------------------------------------------------- resume
def test_resume_reingests_a_part_whose_image_file_was_replaced(tmp_path, monkeypatch):
    import vero_data.build as b

    d = tmp_path / "d"
    img = _png(d / "a.png", seed=1)
    m = _manifest(d, [{"id": "a", "img": "a.png", "q": "What colour?", "a": "red"}])
    out = tmp_path / "out"
    real = b._build_in

    def stop_after_ingest(cfg, *a):
        from dataclasses import replace
        return real(replace(cfg, stop_after="ingest"), *a)

    monkeypatch.setattr(b, "_build_in", stop_after_ingest)
    _build(m, out)  # "killed" after ingest
    monkeypatch.setattr(b, "_build_in", real)
    new = png_bytes(chart_image([90, 5, 40], seed=7))
    img.write_bytes(new)
    os.utime(img, ns=(1, 1))
    _build(m, out, resume=True)
    rows = [r for f in (out / "data").glob("*.parquet") for r in pl.read_parquet(f).to_dicts()]
    assert rows[0]["images"][0]["bytes"] == new


# ----------------------------------------------------------------------------------------------- review, round 2
def test_a_symlink_in_the_data_folder_does_not_lead_outside(tmp_path):
    d = tmp_path / "d"
    _png(d / "ok.png")
    secret = _png(tmp_path / "secret" / "p.png", seed=6)
    (d / "link.png").symlink_to(secret)
    (d / "linkdir").symlink_to(tmp_path / "secret", target_is_directory=True)
    inner = _png(d / "real" / "in.png", seed=7)
    (d / "inner.png").symlink_to(inner)  # a link that stays inside is fine
    rows = [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"},
            {"id": "link", "img": "link.png", "q": "Which colour is it?", "a": "red"},
            {"id": "dir", "img": "linkdir/p.png", "q": "Which colour here?", "a": "red"},
            {"id": "inner", "img": "inner.png", "q": "Which colour inside?", "a": "red"}]
    out = tmp_path / "out"
    _build(_manifest(d, rows), out)
    assert _exported_ids(out) == {"ok", "inner"}
    q = _quarantine(out)
    assert q["link"] == q["dir"] == "image_outside_root"


def test_a_nul_byte_in_an_image_path_is_an_image_reason(tmp_path):
    d = tmp_path / "d"
    _png(d / "ok.png")
    rows = [{"id": "ok", "img": "ok.png", "q": "What colour?", "a": "red"},
            {"id": "nul", "img": str(d / "ok.png") + "\u0000x", "q": "What colour is it?", "a": "red"}]
    out = tmp_path / "out"
    _build(_manifest(d, rows), out)
    assert _quarantine(out)["nul"] == "missing_image"


def test_eval_score_does_not_read_a_fifo_or_a_device(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    lines = [{"benchmark": "screenspot_point_in_box_reasoning", "doc": {"image": img, "bbox": [0, 0, 1, 1]},
              "response": "<answer>[1,2]</answer>"} for img in ("fifo", "/dev/zero")]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    done: list = []
    t = threading.Thread(target=lambda: done.append(runner.invoke(app, ["eval", "score", "--cases",
                                                                        str(tmp_path / "c.jsonl"), "--out",
                                                                        str(tmp_path / "s.jsonl")])), daemon=True)
    t.start()
    t.join(60)
    assert done, "eval score hung on a FIFO"
