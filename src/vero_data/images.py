"""Image decoding, validation and hashing: the per-row image work of the build, done once per image.

Each image is decoded once; from the decoded pixels we take the exact-dedup digest (sha256 of the RGB
pixels, so a PNG and a lossless re-encode of it collide), the 64-bit pHash and dHash (imagehash), the size,
and a low-variance flag (flat images all share one pHash: ../shared/spec/pitfalls.md §5).

It is also the one decode of the whole toolkit: :func:`decode_rgb` / :func:`to_rgb` give the pixels the model sees
in build, filter, train and eval (EXIF orientation, 16-bit grey scaled, transparency on white, RGB), and
:func:`image_size` gives their size from the header (grounding/clicking ``image_sizes``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
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
_BYTESIO = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")


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
    content_phash: int = 0  # pHash of the content box (borders trimmed): a letterboxed copy is near in it
    centre_phash: int = 0  # pHash of the content box's centre: a copy cropped by a few percent is near in it
    content_share: float = 1.0  # share of the image inside the content box
    border_levels: int = 0  # uniform border levels around the content (a letterboxed copy has one more)

    @property
    def content_pixels(self) -> int:
        """Pixels of content (letterbox bars and margins not counted): dedup keeps the copy with the most."""
        return int(round(self.width * self.height * self.content_share))

    @property
    def lossy(self) -> bool:
        """Stored with a lossy codec (JPEG; WebP unless lossless): dedup keeps a lossless copy over it."""
        return self.format in ("JPEG", "MPO", "WEBP")


def to_bytes_and_path(image: Any) -> tuple[bytes, str | None]:
    """Accept a PIL image, bytes, an HF ``{"bytes","path"}`` dict or a file path; return encoded bytes + path.
    A PIL image (its source bytes are gone) is stored as a lossless PNG of what the model sees (:func:`png_of`)."""
    if isinstance(image, Image.Image):
        return png_of(image), getattr(image, "filename", None) or None
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


def _read_file(path: str) -> bytes:
    """A regular file only, size-capped, opened non-blocking (a FIFO or ``/dev/zero`` named by a row is refused,
    not read): :func:`vero_data.image_paths.read_image_file`."""
    from vero_data.image_paths import read_image_file

    return read_image_file(os.path.expanduser(path))


_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")
_HIGH_DEPTH = (*_SIXTEEN_BIT, "I", "F")  # modes PIL's convert clips at 255 instead of scaling
_ORIENTATION = 0x0112
# Orientations that swap width and height (EXIF 5–8: transpose, rotate 270, transverse, rotate 90).
_SWAPS = (5, 6, 7, 8)
# PNG text keys PIL's getexif reads an orientation from (ImageMagick's raw profile, XMP ``tiff:Orientation``).
_PNG_ORIENTATION_KEYS = (b"Raw profile type exif", b"XML:com.adobe.xmp", b"xmp", b"exif")


def _png_may_be_oriented(data: bytes) -> bool:
    """Whether a PNG has a chunk that can carry an orientation (eXIf, or a text chunk with one of the keys above).
    Walks the chunk headers only; PIL's PNG ``getexif`` would decode the image to reach chunks after IDAT."""
    pos = 8
    while pos + 8 <= len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"eXIf":
            return True
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            if data[pos + 8:pos + 8 + min(n, 80)].split(b"\0", 1)[0] in _PNG_ORIENTATION_KEYS:
                return True
        if kind == b"IEND":
            return False
        pos += 12 + n
    return pos != len(data)  # a cut or malformed file: let PIL decide


def orientation(img: Image.Image) -> int:
    """The EXIF (or XMP ``tiff:Orientation``) orientation PIL reports, 1 when none. Unreadable metadata is this
    image's problem: RowError ``undecodable_image`` (``datasets`` would raise on it mid-training, datasets#7668)."""
    try:
        o = img.getexif().get(_ORIENTATION, 1)
    except Exception as e:  # a broken EXIF/XMP block: UnicodeDecodeError, struct.error, SyntaxError…
        raise RowError("undecodable_image", f"unreadable EXIF/XMP metadata ({type(e).__name__}: "
                                            f"{' '.join(str(e).split())[:160]})", "images") from None
    return o if isinstance(o, int) else 1


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey (``I;16*``, ``I``) and float (``F``) images scaled to 8-bit ``L`` (``LA`` when the
    image has a transparent grey value, PNG tRNS). PIL's own ``convert`` clips them at 255, so a 16-bit PNG would
    reach the model as a white image.

    ``I;16*`` is 0..65535 → 0..255; ``I`` (32-bit int, no bit depth recorded) is taken as 8-bit when its maximum is
    ≤ 255 and as 16-bit otherwise; ``F`` is taken as [0, 1] when its maximum is ≤ 1 and as 0..255 otherwise."""
    raw = np.asarray(img)
    a = raw.astype(np.float64)
    if img.mode in _SIXTEEN_BIT or (img.mode == "I" and a.size and float(a.max()) > 255):
        a = a / 257.0
    elif img.mode == "F":
        hi = float(np.nanmax(a)) if a.size and not np.isnan(a).all() else 0.0
        a = np.nan_to_num(a * 255.0 if hi <= 1.0 else a, nan=0.0, posinf=255.0, neginf=0.0)
    grey = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    t = img.info.get("transparency")
    if isinstance(t, int) and not isinstance(t, bool):
        alpha = np.where(raw == t, 0, 255).astype(np.uint8)
        return Image.fromarray(np.stack([grey, alpha], axis=-1), "LA")
    return Image.fromarray(grey, "L")


def _has_alpha(img: Image.Image) -> bool:
    return bool({"A", "a"} & set(img.getbands())) or "transparency" in img.info


def to_rgb(img: Image.Image) -> Image.Image:
    """The one way an image becomes model/hash pixels, in build, filter, train and eval alike: EXIF orientation
    applied (``ImageOps.exif_transpose``, as ``datasets`` does), 16-bit/32-bit/float grey scaled to 8-bit, any
    transparency (an alpha band, or a palette/grey/RGB tRNS colour) composited onto white (a transparent pixel is
    white, as it is hashed — blockhash#4, and as transformers' ``convert_to_rgb`` shows it), then RGB (CMYK,
    YCbCr, LAB, 1, P… by PIL's ``convert``). Copies only when needed.

    Raises:
        RowError: ``undecodable_image`` when the EXIF/XMP metadata cannot be read. Decoder errors of a lazily
            loaded image are PIL's (use :func:`decode_rgb` for reason codes).
    """
    if orientation(img) != 1:  # orientation tag set: transpose (a copy); 1 and unknown values are no-ops
        img = ImageOps.exif_transpose(img)
    if img.mode in _HIGH_DEPTH:
        img = _to_8bit(img)
    if _has_alpha(img):
        if img.mode == "La":  # premultiplied: PIL converts it to LA only
            img = img.convert("LA")
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    return img if img.mode == "RGB" else img.convert("RGB")


def needs_conversion(img: Image.Image) -> bool:
    """True when ``img.convert("RGB")`` (what ``datasets.Image(mode="RGB")`` does after its own EXIF transpose)
    would give other pixels than :func:`to_rgb`: 16-bit/32-bit/float modes and any transparency. Reads only the
    header fields PIL fills on open."""
    return img.mode in _HIGH_DEPTH or _has_alpha(img)


# ------------------------------------------------------------------------------------------- storing an image
# A row keeps its image's source bytes when every reader shows the same pixels from them: JPEG (MPO is a JPEG whose
# first frame every decoder shows), PNG and WebP, in the modes those readers all convert to RGB alike. Anything
# else is stored as a lossless PNG of to_rgb's pixels: EXIF orientation baked in (veRL's process_image and
# qwen-vl-utils' fetch_image do not apply it; datasets and decode_rgb do), transparency on white, 16-bit scaled,
# CMYK/YCbCr converted, the first frame of an animation. Re-encoding a JPEG at PIL's default quality 75 cost
# 16.6 KB → 7.7 KB and up to 30 levels per pixel on a hub JPEG: never lossy.
KEPT_FORMATS = ("JPEG", "MPO", "PNG", "WEBP")
_KEPT_MODES = {"JPEG": ("L", "RGB"), "MPO": ("L", "RGB"), "PNG": ("1", "L", "P", "RGB"), "WEBP": ("RGB",)}
# Bumped when the rule above changes: it is part of the build's --resume fingerprint, so parts stored under an
# older rule are not mixed with new ones.
IMAGE_STORAGE_RULE = "source-bytes-else-png/1"


def reencode_reason(img: Image.Image, data: bytes | None = None) -> str | None:
    """Why an image opened from its source bytes (header only) cannot be stored as those bytes, or None when it can.

    Args:
        img: the image as ``Image.open`` returns it (not loaded).
        data: its bytes; lets a PNG without an EXIF/XMP chunk skip PIL's ``getexif`` (which decodes a PNG).
    """
    fmt = img.format
    if fmt not in KEPT_FORMATS:
        return f"format {fmt or 'unknown'} is stored as PNG"
    if img.mode not in _KEPT_MODES[fmt] or _has_alpha(img):
        return f"{fmt} mode {img.mode}{' with transparency' if _has_alpha(img) else ''} is converted to RGB"
    if fmt != "MPO" and getattr(img, "n_frames", 1) > 1:
        return f"animated {fmt}: its first frame is stored"
    if fmt == "PNG" and data is not None and not _png_may_be_oriented(data):
        return None
    o = orientation(img)
    return f"EXIF orientation {o} is applied to the pixels" if o != 1 else None


def _shown(img: Image.Image) -> Image.Image:
    """``img`` itself when PNG stores it as every reader shows it (no orientation, alpha, 16-bit or exotic mode),
    else :func:`to_rgb` of it."""
    plain = img.mode in ("1", "L", "P", "RGB") and not _has_alpha(img) and orientation(img) == 1
    return img if plain else to_rgb(img)


def png_of(img: Image.Image) -> bytes:
    """A lossless PNG of the pixels the model sees in ``img`` (first frame)."""
    buf = io.BytesIO()
    try:
        _shown(img).save(buf, format="PNG")
    except RowError:
        raise
    except Exception as e:  # a lazily loaded image may fail to decode here
        msg = _BYTESIO.sub("", str(e)).strip()[:200]
        raise RowError("undecodable_image", f"{type(e).__name__}: {msg}", "images") from None
    return buf.getvalue()


def encode_for_row(image: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[bytes, str | None]:
    """The bytes a row stores for ``image`` and its path: the source bytes when :func:`reencode_reason` allows,
    else a lossless PNG of :func:`decode_rgb`'s pixels. Bytes whose header PIL cannot read are returned as they
    are, for validation to quarantine with its reason.

    Args:
        image: a PIL image, bytes, an HF ``{"bytes", "path"}`` dict or a file path.
        max_pixels: decompression-bomb cap for an image that has to be decoded to be re-encoded.

    Raises:
        RowError: ``missing_image`` for an unreadable path; decode_rgb's reasons for an image that must be
            re-encoded and cannot be decoded.
    """
    if isinstance(image, Image.Image):
        return to_bytes_and_path(image)
    data, path = to_bytes_and_path(image)
    try:
        img = Image.open(io.BytesIO(data))
    except Exception:  # not an image PIL knows: left to validate (undecodable_image, with the path)
        return data, path
    try:
        why = reencode_reason(img, data)
    except RowError as e:  # unreadable EXIF/XMP metadata
        where = f"{path}: " if path else ""
        raise RowError(e.reason, f"{where}{e.detail}", e.field) from None
    if why is None:
        return data, path
    return png_of(decode_rgb(data, max_pixels, path)), path


def _rgb_checked(img: Image.Image, path: str | None) -> Image.Image:
    where = f"{path}: " if path else ""
    try:
        img.load()
        return to_rgb(img)
    except RowError as e:
        raise RowError(e.reason, f"{where}{e.detail}", e.field) from None
    except Exception as e:  # a lazily opened PIL image may still fail to decode; exotic modes may not convert
        msg = _BYTESIO.sub("", str(e)).strip()[:200]
        raise RowError("undecodable_image", f"{where}{type(e).__name__}: {msg}", "images") from None


def decode_rgb(image: Any, max_pixels: int = DEFAULT_MAX_PIXELS, path: str | None = None) -> Image.Image:
    """Decode an image (bytes, a PIL image, an HF ``{"bytes", "path"}`` dict or a file path) fully and return
    :func:`to_rgb` of it: what the model sees. The pixel cap is checked from the header, before decoding.

    Args:
        image: the image in any form a row or benchmark doc holds it.
        max_pixels: decompression-bomb cap on width × height.
        path: the image's original path, named in errors.

    Raises:
        RowError: ``empty_image``, ``decompression_bomb``, ``undecodable_image`` or ``missing_image``; the
            detail names ``path`` when known.
    """
    if isinstance(image, Image.Image):
        w, h = image.size
        if w * h > max_pixels:
            where = f"{path}: " if path else ""
            raise RowError("decompression_bomb", f"{where}{w}x{h} = {w * h} pixels > cap {max_pixels}", "images")
        if w == 0 or h == 0:
            raise RowError("empty_image", f"image size {w}x{h}", "images")
        return _rgb_checked(image, path)
    data, src = to_bytes_and_path(image)
    img = _open_checked(data, max_pixels, path or src)
    return _rgb_checked(img, path or src)


def image_size(image: Any) -> tuple[int, int]:
    """(width, height) of ``image`` as :func:`decode_rgb` returns it — after EXIF orientation — read from the header
    and the orientation tag, without decoding the pixels (a PNG carrying EXIF/XMP is decoded: PIL finds its
    orientation only then). For grounding/clicking sizes: they must be the size the model sees.

    Raises:
        RowError: ``empty_image``, ``undecodable_image`` or ``missing_image``.
    """
    data: bytes | None = None
    if isinstance(image, Image.Image):
        img, where = image, ""
    else:
        data, src = to_bytes_and_path(image)
        where = f"{src}: " if src else ""
        if not data:
            raise RowError("empty_image", f"{where}image has 0 bytes", "images")
        try:
            img = Image.open(io.BytesIO(data))
        except Exception as e:
            msg = _BYTESIO.sub("", str(e)).strip()[:200]
            raise RowError("undecodable_image", f"{where}{type(e).__name__}: {msg}", "images") from None
    w, h = img.size
    if w == 0 or h == 0:
        raise RowError("empty_image", f"{where}image size {w}x{h}", "images")
    # PIL's TIFF reader applies the orientation tag itself (the size is already swapped, the tag gone on load)
    if img.format == "TIFF":
        return w, h
    if img.format == "PNG" and data is not None and not _png_may_be_oriented(data):
        return w, h
    try:
        o = orientation(img)
    except RowError as e:
        raise RowError(e.reason, f"{where}{e.detail}", e.field) from None
    except Exception as e:  # PIL's PNG getexif decodes the image to reach chunks after IDAT
        msg = _BYTESIO.sub("", str(e)).strip()[:200]
        raise RowError("undecodable_image", f"{where}{type(e).__name__}: {msg}", "images") from None
    return (h, w) if o in _SWAPS else (w, h)


def _open_checked(data: bytes, max_pixels: int, path: str | None) -> Image.Image:
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
    return img


def _hash64(h) -> int:
    """imagehash's boolean array → unsigned 64-bit int (stored unsigned: signed ints go negative, imagehash#222)."""
    return int(np.packbits(h.hash.flatten()).view(">u8")[0])


def _small(gray: Image.Image, side: int = 128) -> Image.Image:
    """A cheap box-reduced copy whose shorter side is >= ``side`` px: the hashes resize from it, not from the full
    image (a 4K photo → 32×32 LANCZOS is the costly step of pHash; after a box reduce the result is the same
    up to a few bits, and every image of a build is hashed the same way)."""
    factor = max(1, min(gray.width, gray.height) // side)
    return gray.reduce(factor) if factor > 1 else gray


def rgb_digest(rgb: Image.Image) -> str:
    """sha256 of an RGB image's size and pixels: the one definition of "the same image" (dedup's exact rule, a
    sample's id, held-out and contamination checks), so a PNG, its PIL image and a lossless WebP of it match."""
    h = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    h.update(rgb.tobytes())
    return h.hexdigest()


def pixel_digest(image: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """:func:`rgb_digest` of what the model sees of ``image`` (bytes, PIL image, HF dict or path; see
    :func:`decode_rgb`, whose ``RowError`` it raises for an undecodable image)."""
    return rgb_digest(decode_rgb(image, max_pixels))


def inspect_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, path: str | None = None) -> ImageInfo:
    """Decode fully (truncated files fail here), cap pixels, hash. Raises RowError with a reason code; the detail
    names ``path`` (the image's original path) when known."""
    img = _open_checked(data, max_pixels, path)
    fmt = img.format
    rgb = _rgb_checked(img, path)
    digest = rgb_digest(rgb)
    gray = rgb.convert("L")
    small = _small(gray)
    low_var = float(np.asarray(small, dtype=np.float32).std()) < LOW_VARIANCE_STD
    from vero_data.image_match import content_crops

    content, centre, share, levels = content_crops(_small(gray, 256))
    if fmt == "WEBP" and img.info.get("lossless"):
        fmt = "WEBP_LOSSLESS"
    return ImageInfo(
        digest,
        _hash64(imagehash.phash(small, _HASH_SIZE)),
        _hash64(imagehash.dhash(small, _HASH_SIZE)),
        rgb.width,
        rgb.height,
        low_var,
        fmt,
        _hash64(imagehash.phash(content, _HASH_SIZE)),
        _hash64(imagehash.phash(centre, _HASH_SIZE)),
        share,
        levels,
    )
