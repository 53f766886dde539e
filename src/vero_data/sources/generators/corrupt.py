"""Controlled corruptions for build tests: broken image bytes and near-duplicate re-encodes of a generated image.

Near-duplicates are what pHash dedup must catch (a JPEG re-encode, a slight resize, a brightness change); truncated
bytes are what image validation must quarantine.
"""

from __future__ import annotations

import io

from PIL import Image, ImageEnhance


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def truncated_image_bytes(image: Image.Image, keep: float = 0.5) -> bytes:
    """The image's PNG bytes cut to ``keep`` of their length: the header parses, decoding fails."""
    data = png_bytes(image)
    return data[: max(16, int(len(data) * keep))]


def jpeg_reencode(image: Image.Image, quality: int = 85) -> Image.Image:
    """The image after a JPEG round trip (lossy, pixel values change, content does not)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def slight_resize(image: Image.Image, scale: float = 0.9) -> Image.Image:
    """The image resized by ``scale`` (bicubic)."""
    w, h = image.size
    return image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BICUBIC)


def brightness_shift(image: Image.Image, factor: float = 1.08) -> Image.Image:
    """The image with brightness multiplied by ``factor``."""
    return ImageEnhance.Brightness(image.convert("RGB")).enhance(factor)


def near_duplicates(image: Image.Image) -> dict[str, Image.Image]:
    """Named near-duplicate variants of ``image``: ``jpeg``, ``resize``, ``brightness``."""
    return {"jpeg": jpeg_reencode(image), "resize": slight_resize(image), "brightness": brightness_shift(image)}
