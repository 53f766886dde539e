"""One definition of "the same image" (issue 14): the build's exact-dedup digest, the held-out check and the
contamination check agree on a PIL image, its PNG bytes and a lossless WebP of it, and tell other pixels apart."""

import io

import numpy as np
from PIL import Image

from vero_data.benchmarks.contamination import image_keys
from vero_data.images import inspect_image, pixel_digest
from vero_data.sources.generators.heldout import image_digest


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_one_image_in_three_encodings_has_one_digest_everywhere():
    rng = np.random.default_rng(0)
    im = Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    png, webp = _encode(im, "PNG"), _encode(im, "WEBP", lossless=True)
    assert png != webp
    build = inspect_image(png).pixel_sha256  # what dedup's exact rule and the sample id use
    for form in (im, png, webp, {"bytes": webp, "path": "x.webp"}):
        assert pixel_digest(form) == build
        assert image_digest(form) == build
        assert f"px:{build}" in image_keys(form)


def test_other_pixels_or_another_size_are_another_image():
    im = Image.new("RGB", (8, 8), (10, 20, 30))
    moved = im.copy()
    moved.putpixel((3, 3), (11, 20, 30))
    # the same bytes laid out as 4x16 are another image: the size is part of the digest
    reshaped = Image.frombytes("RGB", (4, 16), im.tobytes())
    digests = {pixel_digest(im), pixel_digest(moved), pixel_digest(reshaped)}
    assert len(digests) == 3


def test_an_undecodable_image_still_keys_on_its_bytes():
    keys = image_keys(b"not an image at all")
    assert len(keys) == 1 and next(iter(keys)).startswith("sha:")
