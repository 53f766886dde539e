"""Recognition tasks (knowledge): shapes, colours and drawn objects, as lettered choices or short answers.

Short answers use ``list_string_match``. With ``synonyms: true`` the gold lists every accepted spelling (grey/gray,
mug/cup); the default is a one-item list, because restating a multi-item gold list (``\\boxed{["gray", "grey"]}``)
scores 0 under that reward, and a row's own answer must score 1.0. Yes/no questions are kept rare
(``yes_no_rate``), as the paper drops sources that are only binary.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import (
    COLOUR_NAMES,
    COLOURS,
    SHAPE_NAMES,
    SHAPES,
    background,
    draw_scene,
    knobs,
    multiple_choice,
    pick_level,
    place_circles,
)

SHAPE_LEVELS = {
    "easy": {"n_objects": 1, "radius": (90, 140), "mc_rate": 0.5},
    "medium": {"n_objects": 3, "radius": (50, 80), "mc_rate": 0.4},
    "hard": {"n_objects": 7, "radius": (22, 40), "mc_rate": 0.3},
}


@register_generator("shape_colour", "knowledge", ["multiple_choice", "list_string_match", "string_match"],
                    difficulty="mixed", levels=SHAPE_LEVELS, yes_no_rate=0.05, synonyms=False)
def shape_colour(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Name the shape of a coloured object or the colour of a shape; rare yes/no presence questions."""
    level = pick_level(rng, params)
    k = knobs(level, SHAPE_LEVELS, params)
    n = k["n_objects"]
    # distinct shapes and distinct colours, so "the red object" and "the star" each pick out one object
    specs = list(zip(rng.sample(SHAPE_NAMES, n), rng.sample(COLOUR_NAMES, n), strict=True))
    w, h = rng.choice([(640, 480), (720, 540)])
    img = background(rng, w, h)
    objs = draw_scene(img, rng, specs, k["radius"])
    target = rng.choice(objs)
    extra: dict[str, Any] = {"difficulty": level, "objects": [o.name for o in objs]}
    if rng.random() < params.get("yes_no_rate", 0.05):
        present = rng.random() < 0.5
        if present:
            shape, colour = target.shape, target.colour
        else:
            shape, colour = rng.choice([(s, c) for s in SHAPE_NAMES for c in COLOUR_NAMES if (s, c) not in specs])
        q = f"Is there a {colour} {shape} in the image? Answer yes or no."
        return RawSample(question=q, images=[img], answer="yes" if present else "no", reward_type="string_match",
                         extra_info=extra)
    ask_shape = rng.random() < 0.5
    where = "" if n == 1 else f"the {target.colour} object" if ask_shape else f"the {target.shape}"
    if ask_shape:
        q = f"What shape is {where or 'shown in the image'}?"
        correct, pool, synonyms = target.shape, list(SHAPE_NAMES), SHAPES[target.shape]
    else:
        q = f"What colour is {where or 'the shape in the image'}?"
        correct, pool, synonyms = target.colour, list(COLOUR_NAMES), COLOURS[target.colour][1]
    if rng.random() < k["mc_rate"]:
        choices, letter = multiple_choice(rng, correct, pool)
        return RawSample(question=q, images=[img], answer=letter, reward_type="multiple_choice", choices=choices,
                         extra_info=extra)
    return RawSample(question=q + " Answer with one word.", images=[img],
                     answer=list(synonyms) if params.get("synonyms") else [correct],
                     reward_type="list_string_match", extra_info=extra)


# Icons drawn from primitives; each takes (draw, cx, cy, s, colour) with s the half-size in pixels.
def _house(d, cx, cy, s, col):
    d.rectangle([cx - s * 0.7, cy - s * 0.1, cx + s * 0.7, cy + s], fill=col)
    d.polygon([(cx - s, cy), (cx, cy - s), (cx + s, cy)], fill=(150, 40, 30))
    d.rectangle([cx - s * 0.18, cy + s * 0.4, cx + s * 0.18, cy + s], fill=(90, 60, 30))


def _tree(d, cx, cy, s, col):
    d.rectangle([cx - s * 0.15, cy + s * 0.2, cx + s * 0.15, cy + s], fill=(110, 70, 30))
    d.ellipse([cx - s * 0.7, cy - s, cx + s * 0.7, cy + s * 0.4], fill=(40, 150, 50))


def _sun(d, cx, cy, s, col):
    for i in range(12):
        a = i * math.pi / 6
        d.line([(cx + s * 0.55 * math.cos(a), cy + s * 0.55 * math.sin(a)), (cx + s * math.cos(a), cy + s * math.sin(a))],
               fill=(240, 170, 0), width=max(2, int(s / 12)))
    d.ellipse([cx - s * 0.5, cy - s * 0.5, cx + s * 0.5, cy + s * 0.5], fill=(250, 200, 20))


def _car(d, cx, cy, s, col):
    d.rectangle([cx - s, cy - s * 0.1, cx + s, cy + s * 0.4], fill=col)
    d.polygon([(cx - s * 0.55, cy - s * 0.1), (cx - s * 0.3, cy - s * 0.5), (cx + s * 0.35, cy - s * 0.5),
               (cx + s * 0.6, cy - s * 0.1)], fill=col)
    for x in (cx - s * 0.55, cx + s * 0.55):
        d.ellipse([x - s * 0.22, cy + s * 0.25, x + s * 0.22, cy + s * 0.69], fill=(30, 30, 30))


def _fish(d, cx, cy, s, col):
    d.ellipse([cx - s * 0.8, cy - s * 0.45, cx + s * 0.5, cy + s * 0.45], fill=col)
    d.polygon([(cx + s * 0.4, cy), (cx + s, cy - s * 0.45), (cx + s, cy + s * 0.45)], fill=col)
    d.ellipse([cx - s * 0.55, cy - s * 0.15, cx - s * 0.4, cy], fill=(0, 0, 0))


def _flower(d, cx, cy, s, col):
    d.line([(cx, cy), (cx, cy + s)], fill=(40, 140, 40), width=max(2, int(s / 10)))
    for i in range(6):
        a = i * math.pi / 3
        px, py = cx + s * 0.4 * math.cos(a), cy - s * 0.2 + s * 0.4 * math.sin(a)
        d.ellipse([px - s * 0.25, py - s * 0.25, px + s * 0.25, py + s * 0.25], fill=col)
    d.ellipse([cx - s * 0.18, cy - s * 0.38, cx + s * 0.18, cy - s * 0.02], fill=(250, 210, 30))


def _mug(d, cx, cy, s, col):
    d.ellipse([cx + s * 0.2, cy - s * 0.4, cx + s * 0.9, cy + s * 0.4], outline=col, width=max(3, int(s / 7)))
    d.rectangle([cx - s * 0.6, cy - s * 0.7, cx + s * 0.45, cy + s * 0.8], fill=col)


def _umbrella(d, cx, cy, s, col):
    d.pieslice([cx - s, cy - s * 0.8, cx + s, cy + s * 0.8], 180, 360, fill=col)
    d.line([(cx, cy), (cx, cy + s * 0.8)], fill=(40, 40, 40), width=max(2, int(s / 12)))
    d.arc([cx, cy + s * 0.6, cx + s * 0.4, cy + s], 0, 180, fill=(40, 40, 40), width=max(2, int(s / 12)))


def _heart(d, cx, cy, s, col):
    d.ellipse([cx - s, cy - s * 0.7, cx, cy + s * 0.2], fill=col)
    d.ellipse([cx, cy - s * 0.7, cx + s, cy + s * 0.2], fill=col)
    d.polygon([(cx - s * 0.96, cy - s * 0.1), (cx + s * 0.96, cy - s * 0.1), (cx, cy + s)], fill=col)


def _moon(d, cx, cy, s, col, bg=None):
    d.ellipse([cx - s, cy - s, cx + s, cy + s], fill=(240, 200, 40))
    d.ellipse([cx - s * 0.4, cy - s * 1.05, cx + s * 1.3, cy + s * 0.9], fill=bg or (255, 255, 255))


def _envelope(d, cx, cy, s, col):
    d.rectangle([cx - s, cy - s * 0.6, cx + s, cy + s * 0.6], fill=(250, 250, 245), outline=col, width=max(2, int(s / 10)))
    d.line([(cx - s, cy - s * 0.6), (cx, cy + s * 0.1), (cx + s, cy - s * 0.6)], fill=col, width=max(2, int(s / 10)))


def _boat(d, cx, cy, s, col):
    d.polygon([(cx - s, cy + s * 0.3), (cx + s, cy + s * 0.3), (cx + s * 0.7, cy + s * 0.75),
               (cx - s * 0.7, cy + s * 0.75)], fill=(120, 70, 30))
    d.line([(cx, cy + s * 0.3), (cx, cy - s)], fill=(60, 40, 20), width=max(2, int(s / 14)))
    d.polygon([(cx + s * 0.05, cy - s * 0.9), (cx + s * 0.05, cy + s * 0.2), (cx + s * 0.75, cy + s * 0.2)], fill=col)


ICONS = {
    "house": (_house, ["house", "home", "cottage"]),
    "tree": (_tree, ["tree"]),
    "sun": (_sun, ["sun"]),
    "car": (_car, ["car", "automobile"]),
    "fish": (_fish, ["fish"]),
    "flower": (_flower, ["flower", "daisy", "blossom"]),
    "mug": (_mug, ["mug", "cup", "coffee mug", "coffee cup"]),
    "umbrella": (_umbrella, ["umbrella"]),
    "heart": (_heart, ["heart"]),
    "moon": (_moon, ["moon", "crescent moon", "crescent"]),
    "envelope": (_envelope, ["envelope", "letter", "mail"]),
    "boat": (_boat, ["boat", "sailboat", "sailing boat", "ship"]),
}
ICON_NAMES = tuple(ICONS)

OBJECT_LEVELS = {
    "easy": {"n_objects": 1, "half_size": (90, 130), "mc_rate": 0.4},
    "medium": {"n_objects": 3, "half_size": (55, 75), "mc_rate": 0.3},
    "hard": {"n_objects": 6, "half_size": (30, 45), "mc_rate": 0.3},
}


@register_generator("object_icons", "knowledge", ["list_string_match", "multiple_choice"], difficulty="mixed",
                    synonyms=False, levels=OBJECT_LEVELS)
def object_icons(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Simple drawn objects (house, car, fish…); name the framed one, answered with any accepted synonym."""
    level = pick_level(rng, params)
    k = knobs(level, OBJECT_LEVELS, params)
    n = k["n_objects"]
    names = rng.sample(ICON_NAMES, n)
    w, h = rng.choice([(640, 480), (720, 540), (800, 600)])
    img = background(rng, w, h)
    bg = img.getpixel((0, 0))
    d = ImageDraw.Draw(img)
    lo, hi = k["half_size"]
    spots = place_circles(rng, n, w, h, (int(lo * 1.3), int(hi * 1.3)), gap=10)
    ti = rng.randrange(n)
    for i, (name, (cx, cy, r)) in enumerate(zip(names, spots, strict=True)):
        s = r / 1.3
        col = COLOURS[rng.choice(["red", "blue", "green", "purple", "orange", "brown"])][0]
        fn = ICONS[name][0]
        fn(d, cx, cy, s, col, bg) if name == "moon" else fn(d, cx, cy, s, col)
        if n > 1 and i == ti:
            d.rectangle([cx - r, cy - r, cx + r, cy + r], outline=(220, 0, 0), width=4)
    target = names[ti]
    q = "What object is shown in the image?" if n == 1 else "What object is inside the red frame?"
    extra = {"difficulty": level, "objects": names}
    if rng.random() < k["mc_rate"]:
        choices, letter = multiple_choice(rng, target, list(ICON_NAMES))
        return RawSample(question=q, images=[img], answer=letter, reward_type="multiple_choice", choices=choices,
                         extra_info=extra)
    answer = list(ICONS[target][1]) if params.get("synonyms") else [target]
    return RawSample(question=q + " Answer with one or two words.", images=[img], answer=answer,
                     reward_type="list_string_match", extra_info=extra)
