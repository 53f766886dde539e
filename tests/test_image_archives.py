"""Archive-backed images (``source.image_archive``): rows name members of a zip / tar / tar.gz by relative path;
they are read by name without extracting, under the rules of image_paths (confined names, regular members only,
size cap from the header, bounded inflation), through a real ``vero data build --manifest``."""

from __future__ import annotations

import io
import json
import random
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from vero_data import image_archives as ia
from vero_data.cli import app
from vero_data.errors import RowError
from vero_data.manifest import load_manifest

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_archive_cache():
    ia._OPEN.clear()
    ia._LOCAL.clear()
    yield
    ia._OPEN.clear()
    ia._LOCAL.clear()


def _img(seed: int, fmt: str = "PNG", size=(48, 32)) -> bytes:
    a = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)  # incompressible
    buf = io.BytesIO()
    Image.fromarray(a, "RGB").save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz", extra=None) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        for ti in extra or []:
            tf.addfile(ti)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _source(tmp_path: Path, rows: list[dict], archive: dict, name: str = "arc") -> Path:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = {"name": name, "category": "knowledge", "reward_type": "string_match", "license": "cc0",
         "source": {"files": {"format": "jsonl", "globs": ["rows.jsonl"]}, "image_archive": archive},
         "adapter": {"question": "q", "answer": "a", "images": "image", "id": "id"},
         "filters": {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False}}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(m))
    return p


def _build(manifest: Path, out: Path, *flags: str) -> tuple[list[dict], pl.DataFrame]:
    res = runner.invoke(app, ["data", "build", "--manifest", str(manifest), "--out", str(out), *flags])
    assert res.exit_code == 0, res.output
    rows = [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    return rows, pl.read_parquet(out / "quarantine.parquet")


def _rows(paths: list[str]) -> list[dict]:
    return [{"id": f"r{i}", "image": p, "q": f"What is in picture {i}?", "a": f"thing {i}"} for i, p in enumerate(paths)]


@pytest.mark.parametrize("kind", ["tar.gz", "zip", "tar"])
def test_build_reads_members_by_name(tmp_path, kind):
    """VisualWebInstruct-like: rows name 'x/n.png', the archive holds 'imgs/x/n.png' (one top folder)."""
    imgs = {f"imgs/x/{i}.{'jpg' if i % 2 else 'png'}": _img(i, "JPEG" if i % 2 else "PNG") for i in range(6)}
    arc = tmp_path / f"images.{kind}"
    if kind == "zip":
        _zip(arc, imgs)
    else:
        _tar(arc, imgs, "w:gz" if kind == "tar.gz" else "w")
    paths = [n.removeprefix("imgs/") for n in imgs]
    rows, q = _build(_source(tmp_path, _rows(paths), {"path": arc.name}), tmp_path / "o")
    got = {r["images"][0]["path"]: r["images"][0]["bytes"] for r in rows}
    assert got == {n.removeprefix("imgs/"): b for n, b in imgs.items()}  # source bytes, not re-encoded
    assert q.height == 0
    # --resume knows the archive (path, size, mtime): a replaced archive re-ingests the part
    rec = json.loads((tmp_path / "o" / ".run" / "ingest" / "arc" / "images-00000.json").read_text())
    assert [p[0] for p in rec] == [str(arc)]


def test_member_prefix_and_game_qa_layout(tmp_path):
    """GameQA-like: rows name 'games_images/<game>/n.png', the zip holds exactly that; a member_prefix also works."""
    imgs = {f"games_images/sudoku/{i:05d}.png": _img(10 + i) for i in range(3)}
    _zip(tmp_path / "games_images.zip", imgs)
    rows, _ = _build(_source(tmp_path, _rows(list(imgs)), {"path": "games_images.zip"}), tmp_path / "o1")
    assert sorted(r["images"][0]["bytes"] for r in rows) == sorted(imgs.values())
    _zip(tmp_path / "flat.zip", {f"pics/{i}.png": _img(20 + i) for i in range(2)} | {"other/z.png": _img(9)})
    src = _source(tmp_path, _rows(["0.png", "1.png"]), {"path": "flat.zip", "member_prefix": "pics/"}, "pre")
    rows, q = _build(src, tmp_path / "o2")
    assert len(rows) == 2 and q.height == 0


def test_unsafe_members_and_rows_quarantined(tmp_path):
    big = _img(3, size=(400, 300))
    good = _img(1)
    link = tarfile.TarInfo("imgs/link.png")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("imgs/hard.png")
    hard.type, hard.linkname = tarfile.LNKTYPE, "imgs/good.png"
    fifo = tarfile.TarInfo("imgs/fifo.png")
    fifo.type = tarfile.FIFOTYPE
    _tar(tmp_path / "a.tar.gz", {"imgs/good.png": good, "imgs/big.png": big, "../evil.png": _img(2),
                                 "/abs.png": _img(4)}, extra=[link, hard, fifo])
    paths = ["good.png", "big.png", "link.png", "hard.png", "fifo.png", "../evil.png", "../../etc/x.png", "nope.png"]
    rows, q = _build(_source(tmp_path, _rows(paths), {"path": "a.tar.gz"}), tmp_path / "o",
                     "--max-image-bytes", str(len(good) + 10))
    assert [r["images"][0]["bytes"] for r in rows] == [good]
    got = sorted(q["reason"].to_list())
    assert got.count("image_too_large") == 1  # from the member's header, before reading
    assert got.count("image_outside_root") == 2  # ../evil.png, ../../etc/x.png
    assert got.count("missing_image") == 4  # symlink, hard link, fifo and a name not in the archive: not members
    details = " ".join(q["detail"].to_list())
    assert "a.tar.gz" in details and "members like imgs/" in details


def test_missing_archive_is_a_quarantine_reason(tmp_path):
    rows, q = _build(_source(tmp_path, _rows(["a.png"]), {"path": "gone.zip"}), tmp_path / "o", "--allow-empty")
    assert rows == [] and q["reason"].to_list() == ["image_archive_unavailable"]
    assert "gone.zip" in q["detail"][0]


def test_not_an_archive(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"plain text, not an archive" * 40)
    with pytest.raises(RowError) as e:
        ia.read_from_archives("a.png", (ia.ArchiveRef(path=str(tmp_path / "x.zip")),), 10**6)
    assert e.value.reason == "image_archive_unavailable"


def test_zip_bomb_bounded_by_the_declared_size(tmp_path):
    """A member whose header declares more than the cap is refused unread; the cap bounds every read."""
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imgs/bomb.png", b"\0" * (20 << 20))  # 20 MiB of zeros: ~20 KB compressed
    ref = (ia.ArchiveRef(path=str(tmp_path / "bomb.zip")),)
    with pytest.raises(RowError) as e:
        ia.read_from_archives("bomb.png", ref, 1 << 20)
    assert e.value.reason == "image_too_large" and "20,971,520" in e.value.detail


def test_gzip_bomb_refused_while_indexing(tmp_path, monkeypatch):
    _tar(tmp_path / "bomb.tar.gz", {"imgs/zeros.png": b"\0" * (8 << 20)})
    monkeypatch.setattr(ia, "INFLATION_SLACK", 0)
    monkeypatch.setattr(ia, "MAX_INFLATION", 50)
    with pytest.raises(RowError) as e:
        ia.read_from_archives("zeros.png", (ia.ArchiveRef(path=str(tmp_path / "bomb.tar.gz")),), 1 << 30)
    assert e.value.reason == "image_archive_unavailable" and "gzip bomb" in e.value.detail


def test_tar_gz_random_access_across_checkpoints(tmp_path, monkeypatch):
    """Reads in any order resume from the inflater checkpoint before the member and return its exact bytes."""
    monkeypatch.setattr(ia, "CHECKPOINT_BYTES", 64 * 1024)
    imgs = {f"d/{i}.png": _img(100 + i, size=(80, 60)) for i in range(40)}  # ~14 KB each, ~560 KB in all
    path = _tar(tmp_path / "many.tar.gz", imgs)
    arc = ia.open_archive(str(path))
    assert len(arc.gz.points) > 5
    names = list(imgs)
    random.Random(0).shuffle(names)
    for n in names:
        assert ia.read_from_archives(n, (ia.ArchiveRef(path=str(path)),), 1 << 20) == imgs[n]


def test_hub_file_fetched_with_hf_hub_download(tmp_path, monkeypatch):
    """`hub_file` names a file of the source's hub repo (same revision): fetched once with hf_hub_download."""
    import huggingface_hub

    imgs = {"games_images/maze/00001.png": _img(7)}
    local = _zip(tmp_path / "cache_games_images.zip", imgs)
    calls = []

    def fake_download(repo_id, filename, repo_type=None, revision=None, **kw):
        calls.append((repo_id, filename, repo_type, revision))
        return str(local)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    m = {"name": "g", "category": "spatial_action", "license": "mit",
         "source": {"hub": {"path": "OpenMOSS-Team/GameQA-140K", "data_files": "games_data.json",
                            "revision": "abc123"},
                    "image_archive": {"hub_file": "games_images.zip"}}}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(m))
    refs = ia.archives_of(load_manifest(tmp_path / "g.yaml"))
    assert refs == (ia.ArchiveRef(repo="OpenMOSS-Team/GameQA-140K", filename="games_images.zip", revision="abc123"),)
    for _ in range(3):
        assert ia.read_from_archives("games_images/maze/00001.png", refs, 1 << 20) == imgs[
            "games_images/maze/00001.png"]
    assert calls == [("OpenMOSS-Team/GameQA-140K", "games_images.zip", "dataset", "abc123")]


@pytest.mark.parametrize("archive,msg", [({}, "exactly one of path / hub_file"),
                                         ({"path": "a.zip", "hub_file": "a.zip"}, "exactly one of path / hub_file"),
                                         ({"hub_file": "a.zip"}, "needs `repo:`")])
def test_manifest_validation(tmp_path, archive, msg):
    from vero_data.errors import ConfigError

    src = _source(tmp_path, _rows(["a.png"]), archive)
    with pytest.raises(ConfigError, match=msg.replace("`", ".")):
        load_manifest(src)


def test_safe_member_names():
    assert ia.safe_member_name("imgs/./a.png") == "imgs/a.png"
    assert ia.safe_member_name("imgs\\a.png") == "imgs/a.png"
    for bad in ("../a.png", "/etc/passwd", "a/../../b", "C:/x.png", ".."):
        assert ia.safe_member_name(bad) is None


@pytest.mark.parametrize("manifest,rows,members,archive", [
    ("spatial_action/game_QA.yaml",
     [{"data_id": "maze-00001", "image": "games_images/maze/00001.png", "question": "Options:\n1: (0, 1)\n2: (1, 1)\n"
       "Where is the player?", "answer": "2", "options": ["(0, 1)", "(1, 1)"], "analysis": "..."}],
     {"games_images/maze/00001.png": 1}, "games_images.zip"),
    ("stem/visualwebinstruct.yaml",
     [{"id": "v1", "image": ["stem/abc.png"], "conversations": [
         {"from": "human", "value": "<image>\nWhat is the area of the square of side 3?"},
         {"from": "gpt", "value": "The side is 3, so the area is 3 x 3.\nAnswer: \\boxed{9}"}]},
      {"id": "v2", "image": None, "conversations": [{"from": "human", "value": "What is 2+2?"},
                                                     {"from": "gpt", "value": "4"}]}],
     {"imgs/stem/abc.png": 2}, "images.zip"),
])
def test_shipped_manifests_read_their_archive(tmp_path, monkeypatch, manifest, rows, members, archive):
    """The real manifest, with only the hub repo swapped for a local folder shaped like it (rows file + archive):
    every image row is read from the archive; none is missing_image."""
    import huggingface_hub

    from vero_data.paths import manifests_dir

    m = yaml.safe_load((manifests_dir() / manifest).read_text())
    repo = tmp_path / "repo"
    repo.mkdir()
    if m["source"]["hub"].get("data_files"):
        (repo / m["source"]["hub"]["data_files"]).write_text(json.dumps(rows))  # a JSON array, as upstream
    else:
        (repo / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        m["source"]["hub"]["data_files"] = "train.jsonl"
        m["source"]["hub"].pop("config")
    imgs = {n: _img(seed) for n, seed in members.items()}
    _zip(repo / archive, imgs)
    m["source"]["hub"]["path"] = str(repo)
    m["filters"] = {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False}
    m.pop("target", None)
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(m))
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo_id, filename, **kw: str(Path(repo_id) / filename))
    out, q = _build(tmp_path / "m.yaml", tmp_path / "o")
    assert sorted(r["images"][0]["bytes"] for r in out) == sorted(imgs.values())
    # the only image-less row is the text-only one (image: null), never a path that was not found
    assert [d for r, d in zip(q["reason"], q["detail"], strict=True) if "image" in r] == \
        (["image is empty"] if len(rows) > len(members) else [])
