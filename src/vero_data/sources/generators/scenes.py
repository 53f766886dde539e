"""Object scenes (grounding_counting_search): counting among distractors, referring boxes, small-object search."""

from __future__ import annotations

import random
from typing import Any

from PIL import ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import (
    COLOUR_NAMES,
    COLOURS,
    SHAPE_NAMES,
    background,
    draw_scene,
    draw_shape,
    font,
    knobs,
    pick_level,
    place_circles,
    rint,
)


def _plural(shape: str) -> str:
    return shape + "es" if shape.endswith("x") else shape + "s"


def _target_and_distractors(rng: random.Random, n_target: int, n_distract: int):
    """A target description (colour, shape or both) plus specs of matching objects and near-miss distractors."""
    mode = rng.choice(["both", "both", "colour", "shape"])
    colour, shape = rng.choice(COLOUR_NAMES), rng.choice(SHAPE_NAMES)
    if mode == "both":
        phrase = f"{colour} {_plural(shape)}"
        targets = [(shape, colour)] * n_target
        near = [(s, colour) for s in SHAPE_NAMES if s != shape] + [(shape, c) for c in COLOUR_NAMES if c != colour]
    elif mode == "colour":
        phrase = f"{colour} objects"
        targets = [(rng.choice(SHAPE_NAMES), colour) for _ in range(n_target)]
        near = [(s, c) for s in SHAPE_NAMES for c in COLOUR_NAMES if c != colour]
    else:
        phrase = _plural(shape)
        targets = [(shape, rng.choice(COLOUR_NAMES)) for _ in range(n_target)]
        near = [(s, c) for s in SHAPE_NAMES if s != shape for c in COLOUR_NAMES]
    distract = [rng.choice(near) for _ in range(n_distract)]
    return phrase, targets, distract


COUNT_LEVELS = {
    "easy": {"count": (1, 5), "distractors": (2, 4), "radius": (28, 45), "size": (640, 480)},
    "medium": {"count": (3, 9), "distractors": (6, 10), "radius": (20, 32), "size": (800, 600)},
    "hard": {"count": (6, 15), "distractors": (14, 24), "radius": (13, 22), "size": (1024, 768)},
}


@register_generator("counting", "grounding_counting_search", ["counting"], difficulty="mixed", levels=COUNT_LEVELS)
def counting(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Count objects of a colour and/or shape among near-miss distractors; the answer is a bare integer."""
    level = pick_level(rng, params)
    k = knobs(level, COUNT_LEVELS, params)
    n, nd = rint(rng, k["count"]), rint(rng, k["distractors"])
    phrase, targets, distract = _target_and_distractors(rng, n, nd)
    specs = targets + distract
    rng.shuffle(specs)
    w, h = k["size"]
    img = background(rng, w, h)
    draw_scene(img, rng, specs, k["radius"])
    q = f"How many {phrase} are there in the image? Answer with a number."
    return RawSample(question=q, images=[img], answer=str(n), reward_type="counting",
                     extra_info={"difficulty": level, "distractors": nd})


GROUND_LEVELS = {
    "easy": {"count": (1, 1), "distractors": (2, 4), "radius": (30, 50), "size": (640, 480)},
    "medium": {"count": (1, 3), "distractors": (5, 8), "radius": (22, 36), "size": (800, 600)},
    "hard": {"count": (2, 5), "distractors": (10, 16), "radius": (15, 26), "size": (1024, 768)},
}


@register_generator("referring_boxes", "grounding_counting_search", ["grounding"], difficulty="mixed",
                    levels=GROUND_LEVELS)
def referring_boxes(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Box every object matching a referring expression; gold is a list of absolute-pixel ``bbox_2d`` items."""
    level = pick_level(rng, params)
    k = knobs(level, GROUND_LEVELS, params)
    n, nd = rint(rng, k["count"]), rint(rng, k["distractors"])
    phrase, targets, distract = _target_and_distractors(rng, n, nd)
    specs = [(s, c, True) for s, c in targets] + [(s, c, False) for s, c in distract]
    rng.shuffle(specs)
    w, h = k["size"]
    img = background(rng, w, h)
    objs = draw_scene(img, rng, [(s, c) for s, c, _ in specs], k["radius"])
    boxes = [{"bbox_2d": o.bbox, "label": o.name} for o, (_, _, hit) in zip(objs, specs, strict=True) if hit]
    q = (f"Locate every one of the {phrase} in the image. Answer with a JSON list of objects "
         '{"bbox_2d": [x1, y1, x2, y2], "label": "..."} in absolute pixel coordinates.')
    return RawSample(question=q, images=[img], answer=boxes, reward_type="grounding",
                     extra_info={"difficulty": level, "image_sizes": [[w, h]], "distractors": nd})


SEARCH_LEVELS = {
    "easy": {"clutter": (15, 25), "radius": (12, 16), "size": (800, 600)},
    "medium": {"clutter": (40, 60), "radius": (9, 13), "size": (1024, 768)},
    "hard": {"clutter": (90, 130), "radius": (7, 10), "size": (1600, 1200)},
}
CODE_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"


@register_generator("visual_search", "grounding_counting_search", ["search"], difficulty="mixed", levels=SEARCH_LEVELS)
def visual_search(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A large cluttered canvas of small labelled shapes; find the one described and read its code."""
    level = pick_level(rng, params)
    k = knobs(level, SEARCH_LEVELS, params)
    w, h = k["size"]
    n = rint(rng, k["clutter"]) + 1
    shape, colour = rng.choice(SHAPE_NAMES), rng.choice(COLOUR_NAMES)
    others = [(s, c) for s in SHAPE_NAMES for c in COLOUR_NAMES if (s, c) != (shape, colour)]
    specs = [(shape, colour)] + [rng.choice(others) for _ in range(n - 1)]
    codes = set()
    while len(codes) < n:
        codes.add("".join(rng.choice(CODE_ALPHABET) for _ in range(3)))
    codes = sorted(codes)
    rng.shuffle(codes)
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    lo, hi = k["radius"]
    fs = max(11, hi + 2)
    # reserve room for the code to the right of each shape: place wide discs, draw the shape at the left
    spots = place_circles(rng, n, w, h, (hi * 3, hi * 3), gap=4)
    for _ in range(rng.randint(20, 40)):  # faint background strokes: clutter without meaning
        x, y = rng.randrange(w), rng.randrange(h)
        d.line([(x, y), (x + rng.randint(-80, 80), y + rng.randint(-80, 80))], fill=(205, 205, 205), width=2)
    target_box = None
    for (s, c), code, (cx, cy, _) in zip(specs, codes, spots, strict=True):
        r = rng.randint(lo, hi)
        sx = cx - hi * 1.6
        box = draw_shape(d, s, sx, cy, r, COLOURS[c][0])
        d.text((sx + hi + 4, cy), code, fill=(40, 40, 40), font=font(fs), anchor="lm")
        if target_box is None:
            target_box = box
    q = (f"Somewhere in this large image there is a small {colour} {shape} with a three-letter code printed next "
         "to it. What is the code?")
    return RawSample(question=q, images=[img], answer=codes[0], reward_type="search",
                     extra_info={"difficulty": level, "target_bbox": target_box, "clutter": n - 1})
