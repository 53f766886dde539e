"""Drawing and answer helpers shared by the generators: fonts, colours, shapes, scenes, difficulty, number formats.

Everything takes an explicit ``random.Random`` so a row depends only on its seed (byte-identical PNGs on any machine).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from vero_data.schema import choice_letter

LEVELS = ("easy", "medium", "hard")

# name → (RGB, accepted spellings). Accepted spellings feed list_string_match answers.
COLOURS: dict[str, tuple[tuple[int, int, int], list[str]]] = {
    "red": ((214, 39, 40), ["red"]),
    "blue": ((31, 90, 200), ["blue"]),
    "green": ((44, 160, 44), ["green"]),
    "yellow": ((240, 200, 20), ["yellow"]),
    "orange": ((250, 130, 10), ["orange"]),
    "purple": ((130, 60, 180), ["purple", "violet"]),
    "pink": ((240, 110, 180), ["pink"]),
    "brown": ((140, 86, 45), ["brown"]),
    "gray": ((128, 128, 128), ["gray", "grey"]),
    "black": ((25, 25, 25), ["black"]),
}
COLOUR_NAMES = tuple(COLOURS)

# name → accepted spellings; drawn by `draw_shape`.
SHAPES: dict[str, list[str]] = {
    "circle": ["circle", "disc", "disk"],
    "square": ["square"],
    "triangle": ["triangle"],
    "star": ["star"],
    "diamond": ["diamond", "rhombus"],
    "hexagon": ["hexagon"],
    "pentagon": ["pentagon"],
}
SHAPE_NAMES = tuple(SHAPES)


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font: no system fonts needed, same glyphs everywhere."""
    return ImageFont.load_default(size=size)


def pick_level(rng: random.Random, params: dict[str, Any]) -> str:
    """The row's difficulty: ``params["difficulty"]`` or, for ``mixed`` (default), a uniform draw."""
    d = params.get("difficulty", "mixed")
    if d == "mixed":
        return rng.choice(LEVELS)
    if d not in LEVELS:
        raise ValueError(f"difficulty must be mixed, easy, medium or hard; got {d!r}")
    return d


def knobs(level: str, table: dict[str, dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Per-level knob values, overridden by any same-named entry in ``params``."""
    k = dict(table[level])
    k.update({key: params[key] for key in k if key in params})
    return k


def rint(rng: random.Random, span: tuple[int, int] | int) -> int:
    """An int from an inclusive ``(lo, hi)`` span (or the int itself)."""
    return span if isinstance(span, int) else rng.randint(span[0], span[1])


def fmt_num(x: float, decimals: int = 2) -> str:
    """Canonical numeric answer: rounded, trailing zeros and ``.0`` trimmed, no ``-0``."""
    s = f"{round(float(x), decimals):.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def background(rng: random.Random, w: int, h: int, light: bool = True) -> Image.Image:
    """A canvas with a slight random tint, so no two rows share pixels by accident.

    Flat on purpose: a shaded background doubled PNG size and halved throughput. Dedup removes a row only when
    its image is near-identical AND its question and answer are the same, so templated pages stay distinct tasks.
    """
    base = [rng.randint(238, 255) for _ in range(3)] if light else [rng.randint(20, 45) for _ in range(3)]
    return Image.new("RGB", (w, h), tuple(base))


def multiple_choice(rng: random.Random, correct: str, distractors: list[str], k: int = 4) -> tuple[list[str], str]:
    """Shuffle the correct option among up to ``k - 1`` distinct distractors; return (choices, letter)."""
    pool = [d for d in dict.fromkeys(distractors) if d != correct]
    opts = [correct, *rng.sample(pool, min(k - 1, len(pool)))]
    rng.shuffle(opts)
    return opts, choice_letter(opts.index(correct))


def shape_points(shape: str, cx: float, cy: float, r: float, angle: float = 0.0) -> list[tuple[float, float]]:
    """Polygon vertices of a shape of circumradius ``r`` (circles get a 48-gon, used only for their bbox)."""
    if shape == "circle":
        n, radii, a0 = 48, [r], 0.0
    elif shape == "square":
        n, radii, a0 = 4, [r], math.pi / 4
    elif shape == "diamond":
        n, radii, a0 = 4, [r], 0.0
    elif shape == "triangle":
        n, radii, a0 = 3, [r], -math.pi / 2
    elif shape == "pentagon":
        n, radii, a0 = 5, [r], -math.pi / 2
    elif shape == "hexagon":
        n, radii, a0 = 6, [r], 0.0
    elif shape == "star":
        n, radii, a0 = 10, [r, r * 0.45], -math.pi / 2
    else:
        raise ValueError(f"unknown shape {shape!r}")
    pts = []
    for i in range(n):
        a = a0 + angle + 2 * math.pi * i / n
        rr = radii[i % len(radii)]
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill, angle: float = 0.0,
               outline=None) -> list[int]:
    """Draw a filled shape and return its pixel bbox ``[x1, y1, x2, y2]`` (ints, inclusive of the drawn extent)."""
    if shape == "circle":
        box = [cx - r, cy - r, cx + r, cy + r]
        draw.ellipse(box, fill=fill, outline=outline)
        return [math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])]
    pts = shape_points(shape, cx, cy, r, angle)
    draw.polygon(pts, fill=fill, outline=outline)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))]


@dataclass
class SceneObject:
    """One drawn shape: what it is, where it is and its pixel bbox."""

    shape: str
    colour: str
    cx: float
    cy: float
    r: float
    bbox: list[int]

    @property
    def name(self) -> str:
        return f"{self.colour} {self.shape}"


def place_circles(rng: random.Random, n: int, w: int, h: int, r_range: tuple[int, int], gap: int = 6,
                  margin: int = 8, max_tries: int = 4000) -> list[tuple[float, float, float]]:
    """Up to ``n`` non-overlapping discs ``(cx, cy, r)`` inside the canvas (rejection sampling; shrinks if crowded)."""
    out: list[tuple[float, float, float]] = []
    lo, hi = r_range
    tries = 0
    while len(out) < n and tries < max_tries:
        tries += 1
        if tries % 1000 == 0:
            lo, hi = max(4, int(lo * 0.8)), max(5, int(hi * 0.8))
        r = rng.randint(lo, hi)
        cx = rng.uniform(margin + r, w - margin - r)
        cy = rng.uniform(margin + r, h - margin - r)
        if all((cx - x) ** 2 + (cy - y) ** 2 >= (r + rr + gap) ** 2 for x, y, rr in out):
            out.append((cx, cy, r))
    if len(out) < n:
        raise RuntimeError(f"could not place {n} objects on a {w}x{h} canvas")
    return out


def draw_scene(img: Image.Image, rng: random.Random, specs: list[tuple[str, str]], r_range: tuple[int, int],
               region: tuple[int, int, int, int] | None = None) -> list[SceneObject]:
    """Draw ``(shape, colour)`` specs at random non-overlapping spots; return them with their bboxes."""
    x0, y0, x1, y1 = region or (0, 0, img.width, img.height)
    spots = place_circles(rng, len(specs), x1 - x0, y1 - y0, r_range)
    d = ImageDraw.Draw(img)
    objs = []
    for (shape, colour), (cx, cy, r) in zip(specs, spots, strict=True):
        cx, cy = cx + x0, cy + y0
        bbox = draw_shape(d, shape, cx, cy, r, COLOURS[colour][0], angle=0.0)
        objs.append(SceneObject(shape, colour, cx, cy, r, bbox))
    return objs


def text_size(text: str, size: int) -> tuple[int, int]:
    x0, y0, x1, y1 = font(size).getbbox(text)
    return x1 - x0, y1 - y0
