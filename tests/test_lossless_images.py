"""Images keep their source bytes (JPEG/PNG/WebP a reader shows as the model sees them); the rest is stored as a
lossless PNG of the pixels the model sees, and every size the build records is the size of the stored image."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.images import decode_rgb, encode_for_row, image_size, inspect_image, reencode_reason
from vero_data.schema import RawSample
from vero_data.stages.normalise import normalise_sample

runner = CliRunner()


def _photo(w: int = 64, h: int = 48, mode: str = "RGB") -> Image.Image:
    """A smooth gradient with noise: what a lossy re-encode visibly changes."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256], -1) + rng.integers(0, 40, (h, w, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    return img if mode == "RGB" else img.convert(mode)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _oriented_jpeg(orientation: int = 6) -> bytes:
    img = _photo(64, 32)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(img, "JPEG", quality=95, exif=exif.tobytes())


def _norm(images) -> dict:
    s = RawSample("What is shown?", images, "a gradient", "string_match")
    return normalise_sample(s, data_source="t", category="knowledge", license="mit", manifest="t",
                            manifest_version="1", upstream_index=0)


@pytest.mark.parametrize("fmt,kw", [("JPEG", {"quality": 92}), ("PNG", {}), ("WEBP", {"quality": 80}),
                                    ("WEBP", {"lossless": True})])
def test_source_bytes_kept(fmt, kw):
    data = _encode(_photo(), fmt, **kw)
    row = _norm([data])
    assert row["images"][0]["bytes"] == data


@pytest.mark.parametrize("mode", ["L", "P", "1"])
def test_plain_png_modes_kept(mode):
    data = _encode(_photo(mode=mode), "PNG")
    assert encode_for_row(data)[0] == data


def test_hf_dict_and_path_kept(tmp_path):
    data = _encode(_photo(), "JPEG", quality=88)
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    assert encode_for_row({"bytes": data, "path": "x/a.jpg"}) == (data, "x/a.jpg")
    assert encode_for_row(str(p)) == (data, str(p))


def test_decoded_pil_image_stored_lossless():
    """A PIL image (decoded upstream) was re-saved as JPEG at quality 75: now a PNG with the same pixels."""
    src = Image.open(io.BytesIO(_encode(_photo(), "JPEG", quality=92)))
    src.load()
    out, _ = encode_for_row(src)
    assert out[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(decode_rgb(out)), np.asarray(src.convert("RGB")))


def _cases() -> list[tuple[str, bytes]]:
    rgba = _photo().convert("RGBA")
    a = np.asarray(rgba).copy()
    a[:10, :, 3] = 0
    rgba = Image.fromarray(a, "RGBA")
    grey16 = Image.fromarray((np.arange(64 * 48, dtype=np.int32).reshape(48, 64) * 20), "I").convert("I;16")
    pal = _photo().convert("P")
    frames = [_photo(), _photo().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    apng = io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:])
    return [
        ("exif_rotated_jpeg", _oriented_jpeg(6)),
        ("cmyk_jpeg", _encode(_photo().convert("CMYK"), "JPEG", quality=95)),
        ("rgba_png", _encode(rgba, "PNG")),
        ("rgba_webp", _encode(rgba, "WEBP", lossless=True)),
        ("la_png", _encode(_photo().convert("LA"), "PNG")),
        ("palette_trns_png", _encode(pal, "PNG", transparency=0)),
        ("grey16_png", _encode(grey16, "PNG")),
        ("bmp", _encode(_photo(), "BMP")),
        ("tiff", _encode(_photo(), "TIFF")),
        ("gif", gif.getvalue()),
        ("apng", apng.getvalue()),
    ]


@pytest.mark.parametrize("name,data", _cases(), ids=[c[0] for c in _cases()])
def test_reencoded_losslessly_to_what_the_model_sees(name, data):
    assert reencode_reason(Image.open(io.BytesIO(data)), data) is not None
    out, _ = encode_for_row(data)
    assert out != data and out[:8] == b"\x89PNG\r\n\x1a\n"
    stored = Image.open(io.BytesIO(out))
    assert stored.mode in ("RGB", "L", "P", "1") and "transparency" not in stored.info
    # lossless: the stored pixels are exactly what decode_rgb shows of the source, read back by a plain reader
    assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(decode_rgb(data)))
    # dedup features come from the same pixels: the exact-dedup digest does not change
    assert inspect_image(out).pixel_sha256 == inspect_image(data).pixel_sha256
    assert image_size(out) == image_size(data)


def test_exif_rotation_baked_in_sizes_consistent():
    data = _oriented_jpeg(6)
    out, _ = encode_for_row(data)
    # a reader that ignores EXIF (veRL's process_image, qwen-vl-utils) sees the shown orientation too
    plain = Image.open(io.BytesIO(out))
    assert plain.size == (32, 64) == image_size(data) == image_size(out)
    assert (inspect_image(out).width, inspect_image(out).height) == (32, 64)


def test_undecodable_bytes_left_for_validation():
    assert encode_for_row(b"not an image") == (b"not an image", None)


def _jpeg_source(tmp_path: Path, data: bytes, reward: str = "string_match", answer: str = "a gradient") -> Path:
    d = tmp_path / "d"
    (d / "img").mkdir(parents=True)
    (d / "img" / "a.jpg").write_bytes(data)
    (d / "rows.jsonl").write_text(json.dumps({"id": "a", "image": "img/a.jpg", "question": "Where is it?",
                                              "answer": answer}) + "\n")
    m = {"name": "jpegcheck", "category": "knowledge", "reward_type": reward, "license": "cc0",
         "source": {"files": {"format": "jsonl", "globs": ["rows.jsonl"]}},
         "adapter": {"question": "question", "answer": "answer", "images": "image", "id": "id"},
         "filters": {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False}}
    (d / "m.yaml").write_text(yaml.safe_dump(m))
    return d / "m.yaml"


def _shard_rows(out: Path) -> list[dict]:
    return [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_build_keeps_jpeg_bytes(tmp_path):
    """The acceptance check's case: a 640x480 quality-92 JPEG reaches the shard byte for byte."""
    data = _encode(_photo(640, 480), "JPEG", quality=92)
    res = runner.invoke(app, ["data", "build", "--manifest", str(_jpeg_source(tmp_path, data)),
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    rows = _shard_rows(tmp_path / "o")
    assert len(rows) == 1 and rows[0]["images"][0]["bytes"] == data


def test_build_rotated_jpeg_sizes_match_stored_image(tmp_path):
    """A grounding row over an EXIF-rotated JPEG: shard image, catalog-facing sizes and image_sizes agree."""
    data = _oriented_jpeg(6)
    box = json.dumps([{"bbox_2d": [1, 2, 20, 40]}])
    res = runner.invoke(app, ["data", "build", "--manifest", str(_jpeg_source(tmp_path, data, "grounding", box)),
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    (row,) = _shard_rows(tmp_path / "o")
    stored = Image.open(io.BytesIO(row["images"][0]["bytes"]))
    assert stored.format == "PNG" and stored.size == (32, 64)
    assert json.loads(row["extra_info"])["image_sizes"] == [[32, 64]]


def test_hub_source_keeps_jpeg_bytes(tmp_path):
    """A hub-style dataset (parquet with an Image feature, read by `datasets` as a hub source is) reaches the shard
    with its JPEG bytes: decoding is off while reading, so no PIL image is re-encoded."""
    from datasets import Dataset, Features, Value
    from datasets import Image as HFImage

    jpeg = _encode(_photo(96, 64), "JPEG", quality=92)
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    feats = Features({"image": HFImage(), "question": Value("string"), "answer": Value("string")})
    Dataset.from_dict({"image": [{"bytes": jpeg, "path": "a.jpg"}], "question": ["What is it?"],
                       "answer": ["a gradient"]}, features=feats).to_parquet(str(repo / "data" / "train.parquet"))
    m = {"name": "hubjpeg", "category": "knowledge", "reward_type": "string_match", "license": "cc0",
         "source": {"hub": {"path": str(repo), "split": "train"}},
         "adapter": {"question": "question", "answer": "answer", "images": "image"},
         "filters": {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(m))
    res = runner.invoke(app, ["data", "build", "--manifest", str(tmp_path / "m.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    (row,) = _shard_rows(tmp_path / "o")
    assert row["images"][0]["bytes"] == jpeg


def test_hub_file_images_read_like_datasets_would(monkeypatch):
    """With decoding off, an image the dataset keeps only as a file of its repo (hf://…, or an archive member
    zip://…::hf://…) is read; any other path is left to the row-path rules (never read from here)."""
    import contextlib

    import datasets.utils.file_utils as fu

    from vero_data.hub_images import fetch_hub_files

    jpeg = _encode(_photo(), "JPEG", quality=90)
    opened = []

    @contextlib.contextmanager
    def fake_xopen(path, mode="r", **kw):
        opened.append(path)
        yield io.BytesIO(jpeg)

    monkeypatch.setattr(fu, "xopen", fake_xopen)
    hub = "hf://datasets/org/repo@main/img/a.jpg"
    member = "zip://img/b.jpg::hf://datasets/org/repo@main/images.zip"
    row = {"image": {"bytes": None, "path": hub}, "images": [{"bytes": None, "path": member},
                                                             {"bytes": None, "path": "/etc/passwd"}], "q": "x"}
    out = fetch_hub_files(row, ["image", "images"])
    assert out["image"] == {"bytes": jpeg, "path": hub}
    assert out["images"][0] == {"bytes": jpeg, "path": member}
    assert out["images"][1] == {"bytes": None, "path": "/etc/passwd"} and opened == [hub, member]
    small = fetch_hub_files({"image": {"bytes": None, "path": hub}}, ["image"], max_bytes=10)
    assert small["image"]["bytes"] is None  # over the cap: not kept (quarantined later as missing_image)
