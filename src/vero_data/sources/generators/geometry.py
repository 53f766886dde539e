"""Geometry figures with labelled measurements (stem): angles, lengths, areas; numeric or lettered choices.

The bundled font covers Latin-1 only, so figures use ``°`` but spell out "pi" and write powers as ``^2``.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import background, fmt_num, font, multiple_choice, pick_level

GEOMETRY_LEVELS = {
    "easy": {"figures": ["rectangle", "triangle_angle"], "max_length": 12, "mc_rate": 0.3},
    "medium": {"figures": ["right_triangle", "circle", "triangle_angle"], "max_length": 20, "mc_rate": 0.3},
    "hard": {"figures": ["trapezoid", "circle", "right_triangle"], "max_length": 40, "mc_rate": 0.3},
}
INK = (25, 25, 25)


def _label(d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int = 22):
    d.text(xy, text, fill=(180, 30, 30), font=font(size), anchor="mm")


def _rectangle(rng, d, w, h, maxlen):
    a, b = rng.randint(2, maxlen), rng.randint(2, maxlen)
    s = min(440 / max(a, b), 300 / min(a, b))
    pw, ph = a * s, b * s
    x0, y0 = (w - pw) / 2, (h - ph) / 2 + 10
    d.rectangle([x0, y0, x0 + pw, y0 + ph], outline=INK, width=3)
    _label(d, (x0 + pw / 2, y0 + ph + 22), f"{a} cm")
    _label(d, (x0 - 38, y0 + ph / 2), f"{b} cm")
    if rng.random() < 0.5:
        return "What is the area of the rectangle, in square centimetres?", a * b, [2 * (a + b), a + b, a * b * 2], None
    return "What is the perimeter of the rectangle, in centimetres?", 2 * (a + b), [a * b, a + b, 4 * a], None


def _triangle_angle(rng, d, w, h, maxlen):
    while True:
        A, B = rng.randint(25, 100), rng.randint(25, 100)
        C = 180 - A - B
        if C >= 20:
            break
    base = 420
    p0 = ((w - base) / 2, h - 90)
    p1 = (p0[0] + base, p0[1])
    # third vertex from the base angles A (at p0) and B (at p1)
    ta, tb = math.tan(math.radians(A)), math.tan(math.radians(B))
    x = base * tb / (ta + tb)
    y = x * ta
    scale = min(1.0, (h - 150) / y)
    p2 = (p0[0] + x * scale, p0[1] - y * scale)
    if scale < 1.0:  # keep the labelled angles true: shrink the whole triangle instead of only its height
        p1 = (p0[0] + base * scale, p0[1])
    d.polygon([p0, p1, p2], outline=INK, width=3)
    _label(d, (p0[0] + 45, p0[1] - 16), f"{A}°")
    _label(d, (p1[0] - 45, p1[1] - 16), f"{B}°")
    _label(d, (p2[0], p2[1] + 38), "x")
    return ("In the triangle, find the measure of the angle marked x, in degrees.", C,
            [180 - A, 180 - B, 90 - A // 2, A + B], None)


def _right_triangle(rng, d, w, h, maxlen):
    a, b = rng.randint(3, maxlen), rng.randint(3, maxlen)
    s = min(380 / a, 300 / b)
    p0 = ((w - a * s) / 2, h - 80)
    p1, p2 = (p0[0] + a * s, p0[1]), (p0[0], p0[1] - b * s)
    d.polygon([p0, p1, p2], outline=INK, width=3)
    d.rectangle([p0[0], p0[1] - 18, p0[0] + 18, p0[1]], outline=INK, width=2)
    _label(d, ((p0[0] + p1[0]) / 2, p0[1] + 22), str(a))
    _label(d, (p0[0] - 26, (p0[1] + p2[1]) / 2), str(b))
    _label(d, ((p1[0] + p2[0]) / 2 + 20, (p1[1] + p2[1]) / 2 - 10), "c")
    c = math.hypot(a, b)
    return ("The triangle has a right angle. Find the length of side c, rounded to two decimal places.", c,
            [a + b, abs(a - b) + 1, math.sqrt(a * b) * 2, c + 2], 0.01)


def _circle(rng, d, w, h, maxlen):
    r = rng.randint(2, maxlen)
    R = 150
    cx, cy = w / 2, h / 2 + 10
    d.ellipse([cx - R, cy - R, cx + R, cy + R], outline=INK, width=3)
    d.line([(cx, cy), (cx + R, cy)], fill=INK, width=2)
    d.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=INK)
    _label(d, (cx + R / 2, cy - 16), f"r = {r}")
    if rng.random() < 0.5:
        return ("Find the area of the circle (use pi = 3.14159), rounded to two decimal places.", math.pi * r * r,
                [2 * math.pi * r, math.pi * r, 4 * math.pi * r * r], 0.01)
    return ("Find the circumference of the circle (use pi = 3.14159), rounded to two decimal places.",
            2 * math.pi * r, [math.pi * r * r, math.pi * r, 4 * r], 0.01)


def _trapezoid(rng, d, w, h, maxlen):
    a = rng.randint(4, maxlen)
    b = rng.randint(2, a - 1)
    ht = rng.randint(2, maxlen)
    s = min(460 / a, 280 / ht)
    x0, y0 = (w - a * s) / 2, h - 90
    off = rng.uniform(0, (a - b) * s)
    pts = [(x0, y0), (x0 + a * s, y0), (x0 + off + b * s, y0 - ht * s), (x0 + off, y0 - ht * s)]
    d.polygon(pts, outline=INK, width=3)
    d.line([(x0 + off + b * s / 2, y0), (x0 + off + b * s / 2, y0 - ht * s)], fill=(90, 90, 90), width=1)
    _label(d, (x0 + a * s / 2, y0 + 22), str(a))
    _label(d, (x0 + off + b * s / 2, y0 - ht * s - 20), str(b))
    _label(d, (x0 + off + b * s / 2 + 22, y0 - ht * s / 2), f"h={ht}", 18)
    area = (a + b) * ht / 2
    return "Find the area of the trapezoid.", area, [(a + b) * ht, a * ht, a + b + ht], None


FIGURES = {"rectangle": _rectangle, "triangle_angle": _triangle_angle, "right_triangle": _right_triangle,
           "circle": _circle, "trapezoid": _trapezoid}


@register_generator("geometry", "stem", ["numeric", "multiple_choice"], difficulty="mixed", levels=GEOMETRY_LEVELS)
def geometry(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A labelled figure (rectangle, triangle, circle, trapezoid); compute an angle, length, area or perimeter."""
    level = pick_level(rng, params)
    k = {**GEOMETRY_LEVELS[level], **{x: params[x] for x in ("figures", "max_length", "mc_rate") if x in params}}
    figure = rng.choice(k["figures"])
    w, h = rng.choice([(640, 480), (720, 540)])
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    question, value, wrong, tol = FIGURES[figure](rng, d, w, h, k["max_length"])
    d.text((14, 14), "Figure not drawn to scale", fill=(110, 110, 110), font=font(14))
    extra: dict[str, Any] = {"difficulty": level, "figure": figure}
    answer = fmt_num(value, 2)
    if rng.random() < k["mc_rate"]:
        choices, letter = multiple_choice(rng, answer, [fmt_num(x, 2) for x in wrong])
        return RawSample(question=question, images=[img], answer=letter, reward_type="multiple_choice",
                         choices=choices, extra_info=extra)
    if tol is not None:
        extra["tolerance"] = tol
    return RawSample(question=question + " Answer with the number only.", images=[img], answer=answer,
                     reward_type="numeric", extra_info=extra)
