"""The pixel check that confirms a candidate copy: copies (re-encode, resize, brightness, letterbox, border crop)
near, pictures with other content far (issue 12)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from tests.helpers import chart_image
from vero_data.dedup_bench import FAMILY
from vero_data.image_match import (
    content_box,
    detail_distance,
    detail_image,
    match_distance,
    match_features,
    upscale_ratio,
    work_image,
)
from vero_data.stages.dedup import DedupConfig

THRESHOLD = DedupConfig().match_threshold
DETAIL = DedupConfig().detail_threshold


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


@pytest.mark.parametrize("kind", sorted(COPIES))
def test_copies_pass_the_detail_check(kind):
    assert detail_distance(detail_image(A), detail_image(COPIES[kind])) <= DETAIL


def _screenshot_and_lookalike(seed: int) -> tuple[Image.Image, Image.Image]:
    import random

    ui = FAMILY["ui"]
    rng = random.Random(seed)
    spec = ui.spec(rng)
    key, params, _ = ui.questions(spec)[0]
    return ui.render(spec), ui.render(ui.lookalike(spec, key, params, rng))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relabelled_screenshots_fail_the_detail_check_while_their_copies_pass(seed):
    """One UI template with its labels swapped: 14-px words are mush in the 128² thumbnails (the first check
    passes most of them), legible at full resolution (issue 12)."""
    shot, look = _screenshot_and_lookalike(seed)
    w, h = shot.size
    assert detail_distance(detail_image(shot), detail_image(look)) > DETAIL
    copies = [_jpeg(shot, 50), shot.resize((int(w * 0.5), int(h * 0.5)), Image.Resampling.BILINEAR),
              shot.crop((int(w * 0.03), int(h * 0.02), w - int(w * 0.01), h - int(h * 0.04)))]
    for c in copies:
        assert detail_distance(detail_image(shot), detail_image(c)) <= DETAIL


def test_a_moved_object_fails_the_detail_check():
    import random

    from vero_data.dedup_bench import _scene_moved

    scene = FAMILY["scene"]
    rng = random.Random(3)
    spec = scene.spec(rng)
    a, b = scene.render(spec), scene.render(_scene_moved(spec, rng))
    assert detail_distance(detail_image(a), detail_image(b)) > DETAIL
    assert detail_distance(detail_image(a), detail_image(_jpeg(a, 60))) <= DETAIL


def test_detail_image_bounds_the_pixels_it_holds():
    big = A.resize((5000, 3750))
    d = detail_image(big)
    assert max(d.gray.size) == 2048 and d.box[2] <= d.gray.width and d.box[3] <= d.gray.height


def test_upscale_ratio_tells_an_upscale_from_a_downscale():
    """Which of two resized copies was made from the other (issue 12: an upscale is not the better copy)."""
    a = chart_image([40, 90, 150, 70], seed=5)
    w, h = a.size
    up = a.resize((round(w * 1.3), round(h * 1.3)), Image.Resampling.BILINEAR)
    down = a.resize((round(w * 0.8), round(h * 0.8)), Image.Resampling.LANCZOS)
    assert upscale_ratio(up, a) < 0.63 < upscale_ratio(a, down)


def test_extreme3_is_scipys_3x3_filter_bit_for_bit():
    from scipy.ndimage import maximum_filter, minimum_filter

    from vero_data.image_match import _extreme3

    rng = np.random.default_rng(0)
    for shape in ((1, 1), (1, 7), (5, 1), (37, 53)):
        a = rng.standard_normal(shape).astype(np.float32)
        assert np.array_equal(_extreme3(a, np.maximum), maximum_filter(a, 3, mode="nearest"))
        assert np.array_equal(_extreme3(a, np.minimum), minimum_filter(a, 3, mode="nearest"))


def test_cut_search_matches_the_one_span_per_candidate_search():
    """The search samples each distinct span once; it must pick what sampling every candidate anew picks."""
    from vero_data.image_match import _COARSE_STEPS, _signed_cut_search

    def reference(pa, pb, us, vs):
        n = len(pa[0])
        x = (np.arange(n) + 0.5) / n
        best = (np.inf, 0.0, 0.0)
        for u in us:
            for v in vs:
                err = 0.0
                for qa, qb in zip(pa, pb, strict=True):
                    ea = np.interp(max(u, 0) + x * (1 - max(v, 0) - max(u, 0)), x, qa)
                    eb = np.interp(max(-u, 0) + x * (1 - max(-v, 0) - max(-u, 0)), x, qb)
                    err += np.abs((ea - ea.mean()) / (ea.std() + 1e-3) - (eb - eb.mean()) / (eb.std() + 1e-3)).mean()
                if err < best[0]:
                    best = (err, float(u), float(v))
        return best[1:]

    def view(signal, start, end):  # 128 samples of each band over [start, 1 - end]
        return [np.interp(start + np.linspace(0, 1, 128) * (1 - start - end), np.linspace(0, 1, 400), s)
                for s in signal]

    rng = np.random.default_rng(1)
    for u, v in ((0.03, -0.02), (-0.05, 0.04), (0.0, 0.0)):  # signed cuts as the search reports them
        signal = np.cumsum(rng.standard_normal((4, 400)), axis=1)
        pa, pb = view(signal, max(u, 0), max(v, 0)), view(signal, max(-u, 0), max(-v, 0))
        got = _signed_cut_search(pa, pb, _COARSE_STEPS, _COARSE_STEPS)
        assert got == reference(pa, pb, _COARSE_STEPS, _COARSE_STEPS)


def test_a_margin_trimmed_in_two_steps_is_one_level_and_a_dark_letterbox_adds_one():
    """The keep step prefers the copy with the fewest border levels (a letterbox adds one). A white margin that the
    trim takes in two steps (the chart's own corners are white) is still one level, or the original would count as
    many levels as its dark-letterboxed copy and lose to it on canvas size."""
    import random

    from PIL import ImageOps

    from vero_data.image_match import content_box_levels, work_image

    def levels(img):
        return content_box_levels(np.asarray(work_image(img.convert("L"))))[1]

    chart = FAMILY["chart_bar"].render(FAMILY["chart_bar"].spec(random.Random(14)))  # trimmed in two steps
    boxed = ImageOps.expand(chart, border=(chart.width // 10, 0, chart.width // 10, 0), fill=(24, 24, 32))
    assert levels(chart) == 1
    assert levels(boxed) == 2
