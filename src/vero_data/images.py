"""Image decoding, validation and hashing: the per-row image work of the build, done once per image.

Each image is decoded once; from the decoded pixels we take the exact-dedup digest (sha256 of the RGB
pixels, so a PNG and a lossless re-encode of it collide), the 64-bit pHash and dHash (imagehash), the size,
and a low-variance flag (flat images all share one pHash: ../shared/spec/pitfalls.md §5).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image, ImageOps

from vero_data.errors import RowError

# Decompression-bomb cap: Qwen3-VL-8B's training max_pixels is 4096² (vero600k_format.md §8); allow 4× that.
DEFAULT_MAX_PIXELS = 4 * 4096 * 4096
# Images with a grey-level std below this are "flat": pHash is meaningless for them (imagehash#134).
LOW_VARIANCE_STD = 2.0
_HASH_SIZE = 8  # 8×8 → 64-bit hashes; different sizes are not comparable (imagehash#145)


@dataclass(frozen=True)
class ImageInfo:
    """What the build keeps about one image (never the decoded pixels)."""

    pixel_sha256: str
    phash: int  # unsigned 64-bit
    dhash: int
    width: int
    height: int
    low_variance: bool
    format: str | None


def to_bytes_and_path(image: Any) -> tuple[bytes, str | None]:
    """Accept a PIL image, bytes, an HF ``{"bytes","path"}`` dict or a file path; return encoded bytes + path."""
    if isinstance(image, Image.Image):
        buf = io.BytesIO()
        fmt = image.format if image.format in ("PNG", "JPEG", "WEBP") else "PNG"
        img = image
        if fmt == "JPEG" and img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(buf, format=fmt)
        return buf.getvalue(), getattr(image, "filename", None) or None
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image), None
    if isinstance(image, dict):
        b, p = image.get("bytes"), image.get("path")
        if b is not None:
            return bytes(b), p
        if p:
            return _read_file(p), p
        raise RowError("missing_image", "image dict has neither bytes nor path", "images")
    if isinstance(image, (str, os.PathLike)):
        return _read_file(str(image)), str(image)
    raise RowError("bad_image_type", f"unsupported image value of type {type(image).__name__}", "images")


def resolve_image_path(image: Any, dirs: list[Path]) -> Any:
    """A relative image path in a row is looked up in ``dirs`` in order (the data file's folder, then the
    manifest's), then the working directory: a build must not depend on where it is started from. Found: returned
    as ``{"bytes", "path"}`` with the path as the row gave it; anything else is returned unchanged."""
    if isinstance(image, (str, os.PathLike)):
        rel = image
    elif isinstance(image, dict) and image.get("bytes") is None and isinstance(image.get("path"), (str, os.PathLike)):
        rel = image["path"]
    else:
        return image
    if not str(rel) or os.path.isabs(rel):
        return image
    for d in dirs:
        cand = Path(d) / rel
        try:
            if cand.is_file():
                return {"bytes": _read_file(str(cand)), "path": str(rel)}
        except OSError:  # a name too long for the file system (say, a base64 string): not a path here
            continue
    if dirs and not os.path.isfile(rel):
        looked = ", ".join(dict.fromkeys([*map(str, dirs), os.getcwd()]))
        raise RowError("missing_image", f"image file {str(rel)[:200]} not found (looked in {looked})", "images")
    return image


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise RowError("missing_image", f"cannot read image file {path}: {e.strerror}", "images") from None


def _flatten(img: Image.Image) -> Image.Image:
    """Apply EXIF orientation and flatten alpha onto white (blockhash#4), then RGB. Copies only when needed."""
    if img.getexif().get(0x0112, 1) != 1:  # orientation tag set: transpose (a copy)
        img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    return img if img.mode == "RGB" else img.convert("RGB")


def _hash64(h) -> int:
    """imagehash's boolean array → unsigned 64-bit int (stored unsigned: signed ints go negative, imagehash#222)."""
    return int(np.packbits(h.hash.flatten()).view(">u8")[0])


def _small(gray: Image.Image, side: int = 128) -> Image.Image:
    """A cheap box-reduced copy whose shorter side is >= ``side`` px: the hashes resize from it, not from the full
    image (a 4K photo → 32×32 LANCZOS is the costly step of pHash; after a box reduce the result is the same
    up to a few bits, and every image of a build is hashed the same way)."""
    factor = max(1, min(gray.width, gray.height) // side)
    return gray.reduce(factor) if factor > 1 else gray


_BYTESIO = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")


def inspect_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, path: str | None = None) -> ImageInfo:
    """Decode fully (truncated files fail here), cap pixels, hash. Raises RowError with a reason code; the detail
    names ``path`` (the image's original path) when known."""
    where = f"{path}: " if path else ""
    if not data:
        raise RowError("empty_image", f"{where}image has 0 bytes", "images")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise RowError("decompression_bomb", f"{where}{w}x{h} = {w * h} pixels > cap {max_pixels}", "images")
            fmt = img.format
            img.load()
    except RowError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise RowError("decompression_bomb", f"{where}{str(e)[:200]}", "images") from None
    except Exception as e:  # PIL raises many types for corrupt data (OSError, SyntaxError, ValueError…)
        # PIL names its in-memory buffer (`<_io.BytesIO object at 0x…>`), useless to a reader: name the path
        msg = _BYTESIO.sub("", str(e)).strip()[:200]
        raise RowError("undecodable_image", f"{where}{type(e).__name__}: {msg}", "images") from None
    if w == 0 or h == 0:
        raise RowError("empty_image", f"{where}image size {w}x{h}", "images")
    rgb = _flatten(img)
    h = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    h.update(rgb.tobytes())
    digest = h.hexdigest()
    small = _small(rgb.convert("L"))
    low_var = float(np.asarray(small, dtype=np.float32).std()) < LOW_VARIANCE_STD
    return ImageInfo(
        digest,
        _hash64(imagehash.phash(small, _HASH_SIZE)),
        _hash64(imagehash.dhash(small, _HASH_SIZE)),
        rgb.width,
        rgb.height,
        low_var,
        fmt,
    )



def _normalised_thumb(data: bytes, size: int = 128) -> np.ndarray:
    img = _flatten(Image.open(io.BytesIO(data))).convert("L").resize((size, size), Image.Resampling.BOX)
    a = np.asarray(img, dtype=np.float32)
    return (a - a.mean()) / (a.std() + 1e-6)


def block_difference(a: bytes, b: bytes, size: int = 128, block: int = 8) -> float:
    """Largest mean absolute difference over 8×8 blocks of brightness/contrast-normalised 128² thumbnails.

    Confirms a pHash match: re-encodes, resizes and mild brightness shifts stay below ~0.35, while two different
    charts or equations on the same template (text changes that a 64-bit pHash cannot see) score ~0.7 to 3. It errs
    on the side of keeping: a strong brightness change that clips a white background can fail confirmation, and
    then both rows are kept (a duplicate left in costs less than a distinct task removed).
    """
    d = np.abs(_normalised_thumb(a, size) - _normalised_thumb(b, size))
    n = size // block
    return float(d.reshape(n, block, n, block).mean(axis=(1, 3)).max())
