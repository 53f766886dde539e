"""The pixel check that confirms a candidate copy: copies (re-encode, resize, brightness, letterbox, border crop)
near, pictures with other content far (issue 12)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from tests.helpers import chart_image
from vero_data.image_match import content_box, match_distance, match_features, work_image
from vero_data.stages.dedup import DedupConfig

THRESHOLD = DedupConfig().match_threshold


def _jpeg(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


A = chart_image([50, 120, 80, 160], size=(480, 360), seed=1)
W, H = A.size
COPIES = {
    "jpeg q50": _jpeg(A, 50),
    "resize 0.4": A.resize((int(W * 0.4), int(H * 0.4)), Image.Resampling.LANCZOS),
    "resize 2": A.resize((W * 2, H * 2), Image.Resampling.BICUBIC),
    "brighter 10%": ImageEnhance.Brightness(A).enhance(1.1),
    "contrast -10%": ImageEnhance.Contrast(A).enhance(0.9),
    "letterbox": ImageOps.expand(A, border=(0, 40), fill=(0, 0, 0)),
    "white margin": ImageOps.expand(A, border=24, fill=(255, 255, 255)),
    "crop 3%": A.crop((14, 11, W - 14, H - 11)),
    "crop 5% one side": A.crop((0, 0, W - 24, H)),
}
OTHERS = {
    "other values": chart_image([160, 40, 130, 60], size=(480, 360), seed=2),
    "one bar changed": chart_image([50, 120, 80, 40], size=(480, 360), seed=1),
}


@pytest.mark.parametrize("kind", sorted(COPIES))
def test_copies_are_near(kind):
    assert match_distance(match_features(A), match_features(COPIES[kind])) <= THRESHOLD


@pytest.mark.parametrize("kind", sorted(OTHERS))
def test_other_pictures_are_far(kind):
    assert match_distance(match_features(A), match_features(OTHERS[kind])) > 2 * THRESHOLD


def test_distance_is_symmetric_and_zero_for_the_same_picture():
    fa, fb = match_features(A), match_features(COPIES["crop 3%"])
    assert match_distance(fa, fa) == 0
    assert match_distance(fa, fb) == pytest.approx(match_distance(fb, fa), abs=0.05)


def test_content_box_trims_bars_then_margins_but_keeps_a_flat_block():
    framed = ImageOps.expand(ImageOps.expand(A, border=20, fill=(255, 255, 255)), border=(0, 30), fill=(0, 0, 0))
    g = np.asarray(work_image(framed.convert("L")))
    left, top, right, bottom = content_box(g)
    s = g.shape[1] / framed.width
    assert abs(left - 20 * s) <= 2 and abs(top - 50 * s) <= 2 and abs(right - (framed.width - 20) * s) <= 2
    square = Image.new("L", (200, 200), 240)
    square.paste(20, (80, 80, 120, 120))
    g = np.asarray(work_image(square))
    assert content_box(g) == (0, 0, g.shape[1], g.shape[0])  # one flat block is content: keep its surroundings
