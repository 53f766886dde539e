"""Images seen one way (issue 19): build, filter, train, eval and the grounding/clicking size helpers decode an
image the same way (``vero_data.images.decode_rgb`` / ``to_rgb`` / ``image_size``), so the sizes rewards score
against and the pixels the model sees agree everywhere.

The inputs are generated here: a JPEG with EXIF orientation 6 (stored 320×240, shown 240×320), a 16-bit grey PNG
gradient (PIL's ``convert`` clips it to white), a fully transparent RGBA PNG hiding a picture, a palette PNG with a
transparent index, a CMYK JPEG, plus grey/RGB PNGs with a tRNS colour, PNGs whose orientation is in an eXIf
chunk (before or after the pixels) or in XMP, a TIFF with orientation 6 (PIL swaps its size itself), a 16-bit big-endian TIFF, a float TIFF, a 16-bit
grey+alpha PNG and a 16-bit grey PNG with a transparent grey value. Each test walks every image through one
path and lists the images where it disagrees with ``decode_rgb``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from vero_data.images import decode_rgb, image_size, inspect_image

W, H = 320, 240  # the EXIF image as stored; shown as H × W


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_raw(w: int, h: int, colour_type: int, rows: np.ndarray, extra: bytes = b"") -> bytes:
    """A 16-bit PNG written by hand (PIL cannot write 16-bit grey+alpha): ``rows`` is (h, w[, c]) big-endian."""
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r.tobytes() for r in rows.astype(">u2"))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)) + extra
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _chunks(png: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(png):
        n = int.from_bytes(png[pos:pos + 4], "big")
        out.append(png[pos:pos + 12 + n])
        pos += 12 + n
    return out


def _exif_after_idat(png: bytes) -> bytes:
    """The same PNG with its eXIf chunk moved after IDAT (allowed by PNG 1.6: PIL finds it only on decode)."""
    chunks = _chunks(png)
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] != b"eXIf"]
    assert exif, "PIL wrote no eXIf chunk"
    return png[:8] + b"".join(rest[:-1] + exif + rest[-1:])


def _photo() -> np.ndarray:
    """A 320×240 picture with a white block in its top-left corner (80×40) on a dark gradient."""
    a = np.zeros((H, W, 3), np.uint8)
    a[..., 0] = np.linspace(0, 120, W, dtype=np.uint8)[None, :]
    a[..., 2] = np.linspace(0, 120, H, dtype=np.uint8)[:, None]
    a[:40, :80] = 255
    return a


def _exif6() -> bytes:
    ex = Image.Exif()
    ex[0x0112] = 6
    return ex.tobytes()


@pytest.fixture(scope="module")
def images() -> dict[str, bytes]:
    photo = Image.fromarray(_photo())
    g16 = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    hidden = np.random.default_rng(0).integers(0, 256, (40, 60, 4), dtype=np.uint8)
    hidden[..., 3] = 0  # fully transparent: the colours are there but must not be shown
    pal = Image.new("P", (32, 32), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.paste(1, (0, 0, 16, 32))  # left half: index 1, transparent
    cmyk = np.zeros((24, 32, 4), np.uint8)
    cmyk[..., 0] = np.linspace(0, 255, 32, dtype=np.uint8)[None, :]
    cmyk[..., 2] = 200
    grey = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (16, 1))  # value 64 is transparent below
    la16 = np.zeros((16, 16, 2), np.uint16)
    la16[..., 0] = 40000
    la16[:, 8:, 1] = 65535  # left half transparent, right half opaque grey
    g16t = np.tile(np.array([0, 30000, 65535], np.uint16), (8, 4))  # 30000 is transparent (tRNS)
    xmp = PngImagePlugin.PngInfo()
    xmp.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/'
                 '1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
                 'tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')
    keyed = _photo()
    keyed[:40, :80] = (10, 200, 30)  # the tRNS colour: transparent, shown white
    trns = struct.pack(">I", 2) + b"tRNS" + struct.pack(">H", 30000)
    trns += struct.pack(">I", zlib.crc32(b"tRNS" + struct.pack(">H", 30000)) & 0xFFFFFFFF)
    return {
        "exif6_jpeg": _save(photo, "JPEG", quality=95, exif=_exif6()),
        "gray16_png": _save(Image.fromarray(g16), "PNG"),
        "transparent_png": _save(Image.fromarray(hidden, "RGBA"), "PNG"),
        "palette_trns_png": _save(pal, "PNG", transparency=1),
        "cmyk_jpeg": _save(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=95),
        "grey_trns_png": _save(Image.fromarray(grey, "L"), "PNG", transparency=64),
        "rgb_trns_png": _save(Image.fromarray(keyed), "PNG", transparency=(10, 200, 30)),
        "exif6_png": _save(photo, "PNG", exif=_exif6()),
        "exif6_late_png": _exif_after_idat(_save(photo, "PNG", exif=_exif6())),
        "xmp6_png": _save(photo, "PNG", pnginfo=xmp),
        "exif6_tiff": _save(photo, "TIFF", exif=_exif6()),
        "gray16b_tiff": _save(Image.frombytes("I;16B", (64, 48), g16.astype(">u2").tobytes()), "TIFF"),
        "float_tiff": _save(Image.fromarray(g16.astype(np.float32) / 65535), "TIFF"),
        "la16_png": _png_raw(16, 16, 4, la16),
        "gray16_trns_png": _png_raw(12, 8, 0, g16t, extra=trns),
    }


@pytest.fixture(scope="module")
def reference(images) -> dict[str, np.ndarray]:
    return {k: np.asarray(decode_rgb(v)) for k, v in images.items()}


def _size(a: np.ndarray) -> tuple[int, int]:
    return a.shape[1], a.shape[0]


def _disagree(reference: dict[str, np.ndarray], got: dict[str, object]) -> list[str]:
    """Names whose ``got`` (PIL image, array or (w, h)) differs from the reference pixels or size."""
    bad = []
    for k, ref in reference.items():
        g = got[k]
        if isinstance(g, tuple):
            if tuple(g) != _size(ref):
                bad.append(f"{k}: size {tuple(g)} != {_size(ref)}")
            continue
        a = np.asarray(g)
        if a.shape != ref.shape or not np.array_equal(a, ref):
            bad.append(f"{k}: {a.shape} {getattr(g, 'mode', '')} differs from {ref.shape}")
    return bad


def test_decode_rgb_shows_each_image_as_it_should_be(images, reference):
    r = reference
    assert all(a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 for a in r.values())
    # EXIF 6 = rotate 90° clockwise: shown 240×320, the top-left block now top-right — whatever the container
    for k in ("exif6_jpeg", "exif6_png", "exif6_late_png", "xmp6_png", "exif6_tiff"):
        assert _size(r[k]) == (H, W), k
        assert r[k][:80, H - 40:].mean() > 240 and r[k][:80, :40].mean() < 150, k
    g = r["gray16_png"][..., 0].astype(int)
    assert g.std() > 50 and g[0, 0] == 0 and g[0, -1] == 255 and (np.diff(g[0]) >= 0).all()  # not uniform white
    assert np.array_equal(r["gray16b_tiff"], r["gray16_png"])
    assert np.abs(r["float_tiff"].astype(int) - r["gray16_png"].astype(int)).max() <= 1
    assert (r["transparent_png"] == 255).all()  # hidden content stays hidden
    assert (r["palette_trns_png"][:, :16] == 255).all() and (r["palette_trns_png"][:, 16:] == [255, 0, 0]).all()
    assert (r["grey_trns_png"][:, 8] == 255).all() and (r["grey_trns_png"][:, 9] == 72).all()
    assert (r["rgb_trns_png"][:40, :80] == 255).all()
    assert (r["la16_png"][:, :8] == 255).all() and (r["la16_png"][:, 8:] == 156).all()
    assert (r["gray16_trns_png"][:, 1::3] == 255).all() and (r["gray16_trns_png"][:, 0::3] == 0).all()
    cmyk = Image.open(io.BytesIO(images["cmyk_jpeg"]))
    assert cmyk.mode == "CMYK" and np.array_equal(r["cmyk_jpeg"], np.asarray(cmyk.convert("RGB")))


def test_image_size_reads_the_header_and_orientation(images, reference, tmp_path):
    got = {k: image_size(v) for k, v in images.items()}
    assert not _disagree(reference, got)
    for k, v in images.items():  # the same through a path, an HF dict and a lazily opened PIL image
        p = tmp_path / k
        p.write_bytes(v)
        assert image_size(str(p)) == image_size({"bytes": None, "path": str(p)}) == got[k]
        assert image_size(Image.open(io.BytesIO(v))) == got[k], k
    cut = images["exif6_jpeg"][:2000]  # header only: the size is known, the pixels are not
    assert image_size(cut) == (H, W)


def test_build_catalog_sizes_hashes_and_box_sizes(images, reference):
    """The build's catalog (``_width``/``_height``), the ``image_sizes`` it writes for grounding rows and the exact
    dedup digest all come from the pixels decode_rgb shows."""
    from vero_data.stages.validate import ValidateStage

    stage = ValidateStage()
    bad = []
    for k, v in images.items():
        row = {"data_source": "t", "category": "grounding_counting_search", "reward_type": "grounding", "split": "train",
               "answer": '[{"bbox_2d": [0, 0, 10, 10]}]', "prompt": [{"role": "user", "content": "<image>Find it."}],
               "images": [{"bytes": v, "path": None}], "extra_info": "{}"}
        out = stage.process_row(row)
        ref = reference[k]
        digest = hashlib.sha256(f"{ref.shape[1]}x{ref.shape[0]}:".encode() + ref.tobytes()).hexdigest()
        info = inspect_image(v)
        sizes = json.loads(out["extra_info"])["image_sizes"]
        if ((out["_width"][0], out["_height"][0]) != _size(ref) or sizes != [list(_size(ref))]
                or (info.width, info.height) != _size(ref) or out["_img_sha"] != [digest]):
            bad.append(f"{k}: catalog {out['_width'][0]}x{out['_height'][0]}, image_sizes {sizes}")
    assert not bad


def test_filter_and_eval_decode(images, reference, tmp_path):
    """Filter (``messages_from_row``) and eval (``ChatRequest`` from a benchmark doc's bytes or PIL image) hand the
    backends decode_rgb's pixels, from bytes, an HF dict, a path or a PIL image."""
    from vero_train.models.chat import ChatRequest, decode_image, messages_from_row

    forms = {
        "bytes": lambda k, v: v,
        "dict": lambda k, v: {"bytes": v, "path": f"{k}.img"},
        "path": lambda k, v: str(tmp_path / k),
        "pil": lambda k, v: Image.open(io.BytesIO(v)),
    }
    for k, v in images.items():
        (tmp_path / k).write_bytes(v)
    bad = []
    for form, make in forms.items():
        bad += [f"decode_image({form}) {x}" for x in
                _disagree(reference, {k: decode_image(make(k, v)) for k, v in images.items()})]
        rows = {k: messages_from_row({"id": k, "prompt": "<image>What is it?", "images": [make(k, v)]})[1][0]
                for k, v in images.items()}
        bad += [f"messages_from_row({form}) {x}" for x in _disagree(reference, rows)]
        reqs = {k: ChatRequest(id=k, messages=[{"role": "user", "content": [{"type": "image"}]}],
                               images=[make(k, v)]).images[0] for k, v in images.items()}
        bad += [f"ChatRequest({form}) {x}" for x in _disagree(reference, reqs)]
    assert not bad


def _write_shard(images: dict[str, bytes], root) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data").mkdir(parents=True)
    names = list(images)
    table = pa.table({
        "id": names,
        "data_source": ["adversarial"] * len(names),
        "category": ["grounding_counting_search"] * len(names),
        "prompt": [[{"role": "user", "content": "<image>Click the white block."}] for _ in names],
        "images": [[{"bytes": images[k], "path": f"{k}.img"}] for k in names],
        "answer": ['[{"bbox_2d": [0, 0, 10, 10]}]'] * len(names),
        "reward_type": ["clicking"] * len(names),
        "extra_info": ["{}"] * len(names),
        "split": ["train"] * len(names),
    })
    pq.write_table(table, root / "data" / "train-00000-of-00001.parquet")


def test_train_dataset_images_and_box_sizes(images, reference, tmp_path):
    """What GRPOTrainer gets (``prepare_train_dataset``'s ``images``, decoded by ``datasets``) is decode_rgb's pixels,
    and the ``image_sizes`` the clicking reward scores against are their size; no row is dropped."""
    pytest.importorskip("torch")
    from vero_train.data import prepare_train_dataset

    _write_shard(images, tmp_path)
    ds, info = prepare_train_dataset(tmp_path)
    assert info["rows"] == len(images) and not info["quarantine"]
    got, sizes = {}, {}
    for row in ds:
        got[row["id"]] = row["images"][0]
        sizes[row["id"]] = tuple(json.loads(row["extra_info"])["image_sizes"][0])
    assert not _disagree(reference, got)
    assert not _disagree(reference, sizes)


def test_datasets_own_decode_agrees_on_orientation(images, reference, tmp_path):
    """A shard read with plain ``datasets`` (its Image feature applies ``exif_transpose``, datasets#6739) shows the
    same size and, after ``convert("RGB")``, the same pixels for every image without transparency or more than 8
    bits per channel; those two kinds differ (datasets keeps the native mode: 16-bit stays ``I;16`` and a
    processor's convert clips it to white; alpha is left to the processor), which is why training re-encodes them."""
    from datasets import Image as HFImage

    feature = HFImage()
    for k, v in images.items():
        pil = feature.decode_example({"bytes": v, "path": None})
        assert pil.size == _size(reference[k]), k
        if pil.mode in ("RGB", "L", "P", "CMYK") and "transparency" not in pil.info:
            assert np.array_equal(np.asarray(pil.convert("RGB")), reference[k]), k
        assert np.array_equal(np.asarray(decode_rgb(pil)), reference[k]), k  # and decode_rgb of it is the same


def test_grounding_and_clicking_size_helpers(images, reference, tmp_path):
    """Every helper a grounding/clicking reward or benchmark scorer reads a size from returns the size shown."""
    from datasets import Image as HFImage

    from vero_data.benchmarks.grounding import image_size as bench_size
    from vero_data.benchmarks.scoring import ScoreContext
    from vero_data.rewards._boxes import read_image_size
    from vero_data.rewards.clicking import clicking
    from vero_data.sources.adapters._common import image_size as adapter_size

    ctx = ScoreContext(base_dir=tmp_path)
    for k, v in images.items():
        (tmp_path / k).write_bytes(v)
    helpers = {
        "rewards read_image_size(path)": lambda k, v: read_image_size(str(tmp_path / k)),
        "adapter image_size(bytes)": lambda k, v: adapter_size(v),
        "adapter image_size(dict)": lambda k, v: adapter_size({"bytes": v, "path": None}),
        "adapter image_size(PIL)": lambda k, v: adapter_size(Image.open(io.BytesIO(v))),
        "benchmark image_size(bytes dict)": lambda k, v: bench_size({"image": {"bytes": v}}, ctx),
        "benchmark image_size(bytes)": lambda k, v: bench_size({"image": v}, ctx),
        "benchmark image_size(path)": lambda k, v: bench_size({"image": k}, ctx),
        "benchmark image_size(PIL)": lambda k, v: bench_size({"image": Image.open(io.BytesIO(v))}, ctx),
        "benchmark image_size(datasets PIL)": lambda k, v: bench_size(
            {"image": HFImage().decode_example({"bytes": v, "path": None})}, ctx),
    }
    bad = []
    for name, fn in helpers.items():
        bad += [f"{name} {x}" for x in _disagree(reference, {k: tuple(fn(k, v)) for k, v in images.items()})]
    assert not bad
    # the clicking reward with only the image path (no image_sizes) reads the shown size
    info = {"images": [str(tmp_path / "exif6_jpeg")]}  # a click low in the portrait image: outside 320×240
    assert clicking('[{"point_2d": [230, 300]}]', '[{"bbox_2d": [200, 250, 240, 320]}]', info) == 1.0


def _data_url_pixels(url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_report_thumbnails_and_gallery_show_decoded_pixels(images):
    from vero_data.report import _thumb
    from vero_data.sources.generators.gallery import _data_url

    thumb = _data_url_pixels(_thumb(images["transparent_png"]))
    assert thumb.min() >= 250  # white, not the hidden picture
    assert _data_url_pixels(_thumb(images["gray16_png"])).std() > 50  # a gradient, not white
    assert _data_url_pixels(_thumb(images["exif6_jpeg"])).shape[:2] == (220, 165)  # portrait, as shown
    assert _data_url_pixels(_data_url({"bytes": images["exif6_jpeg"]})).shape[:2] == (W, H)
    assert (_data_url_pixels(_data_url(images["transparent_png"])) == 255).all()


def test_contamination_hashes_decoded_pixels(images):
    """Benchmark-vs-training perceptual keys come from the shown pixels: a 16-bit chart is not 'flat' (it gets a
    pHash), a rotated photo matches its ``datasets``-decoded (transposed) copy, a transparent image is white."""
    from datasets import Image as HFImage

    from vero_data.benchmarks.contamination import image_keys

    def phash(img):
        return {k for k in image_keys(img) if k.startswith("phash:")}

    assert phash(images["gray16_png"])
    hf = HFImage().decode_example({"bytes": images["exif6_jpeg"], "path": None})
    assert phash(images["exif6_jpeg"]) == phash(hf) != set()
    assert not phash(images["transparent_png"])  # white: flat, no pHash (the hidden noise would give one)
