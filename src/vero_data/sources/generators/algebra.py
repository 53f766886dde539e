"""Rendered equations and function plots (stem): arithmetic, linear equations, reading values off a graph."""

from __future__ import annotations

import random
from typing import Any

from PIL import ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import background, fmt_num, font, multiple_choice, pick_level

EQUATION_LEVELS = {
    "easy": {"kinds": ["arithmetic"], "coef_max": 12, "mc_rate": 0.3},
    "medium": {"kinds": ["arithmetic", "linear"], "coef_max": 15, "mc_rate": 0.3},
    "hard": {"kinds": ["linear", "two_sided", "bracket"], "coef_max": 25, "mc_rate": 0.3},
}


def _signed(c: int) -> str:
    return f"+ {c}" if c >= 0 else f"- {-c}"


def _equation(rng: random.Random, kind: str, m: int) -> tuple[str, str, int]:
    """(text shown in the image, question, integer answer); ``*`` is multiplication (the font lacks ``×``)."""
    if kind == "arithmetic":
        a, b, c = rng.randint(2, m), rng.randint(2, m), rng.randint(2, m)
        form = rng.choice(["{a} + {b} * {c}", "({a} + {b}) * {c}", "{a} * {b} - {c}", "{a} * ({b} - {c})"])
        text = form.format(a=a, b=b, c=c)
        return text + " = ?", "Compute the value of the expression shown in the image.", eval(text)  # noqa: S307
    x = rng.choice([v for v in range(-m, m + 1) if v != 0])
    a = rng.choice([v for v in range(-m // 2, m // 2 + 1) if v not in (0, 1)])
    b = rng.randint(-m, m)
    if kind == "linear":
        return f"{a}x {_signed(b)} = {a * x + b}", "Solve the equation shown in the image for x.", x
    if kind == "two_sided":
        c = rng.choice([v for v in range(-m // 2, m // 2 + 1) if v != a])
        d = (a - c) * x + b
        return f"{a}x {_signed(b)} = {c}x {_signed(d)}", "Solve the equation shown in the image for x.", x
    return f"{a}(x {_signed(b)}) = {a * (x + b)}", "Solve the equation shown in the image for x.", x


@register_generator("equation", "stem", ["numeric", "multiple_choice"], difficulty="mixed", levels=EQUATION_LEVELS)
def equation(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """An arithmetic expression or a linear equation on a whiteboard; integer answers, some as lettered choices."""
    level = pick_level(rng, params)
    k = {**EQUATION_LEVELS[level], **{x: params[x] for x in ("kinds", "coef_max", "mc_rate") if x in params}}
    kind = rng.choice(k["kinds"])
    shown, question, value = _equation(rng, kind, k["coef_max"])
    w, h = rng.choice([(640, 360), (640, 480), (800, 450)])
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    d.rectangle([20, 20, w - 20, h - 20], outline=(120, 90, 60), width=8)
    size = rng.randint(34, 52)
    d.text((w / 2 + rng.randint(-40, 40), h / 2 + rng.randint(-30, 30)), shown,
           fill=rng.choice([(20, 20, 20), (20, 40, 140), (140, 20, 20)]), font=font(size), anchor="mm")
    extra = {"difficulty": level, "kind": kind, "shown": shown}
    if rng.random() < k["mc_rate"]:
        choices, letter = multiple_choice(rng, str(value), [str(value + o) for o in (-2, -1, 1, 2, 3, -value)])
        return RawSample(question=question, images=[img], answer=letter, reward_type="multiple_choice",
                         choices=choices, extra_info=extra)
    return RawSample(question=question + " Answer with the number only.", images=[img], answer=str(value),
                     reward_type="numeric", extra_info=extra)


PLOT_LEVELS = {
    "easy": {"kinds": ["line_intercept", "line_value"], "span": 5},
    "medium": {"kinds": ["line_slope", "line_value", "parabola_vertex"], "span": 8},
    "hard": {"kinds": ["parabola_value", "parabola_vertex", "line_slope"], "span": 10},
}


@register_generator("function_plot", "stem", ["numeric"], difficulty="mixed", levels=PLOT_LEVELS)
def function_plot(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A line or parabola on a labelled grid; read an intercept, slope, vertex or value (relative tolerance)."""
    level = pick_level(rng, params)
    k = {**PLOT_LEVELS[level], **{x: params[x] for x in ("kinds", "span") if x in params}}
    kind = rng.choice(k["kinds"])
    n = k["span"]
    if kind.startswith("line"):
        m = rng.choice([v for v in range(-3, 4) if v != 0]) if kind != "line_slope" else rng.choice([-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3])
        b = rng.randint(-n // 2, n // 2)

        def f(x, m=m, b=b):
            return m * x + b
    else:
        a = rng.choice([-1, -0.5, 0.5, 1])
        hx, ky = rng.randint(-n // 2, n // 2), rng.randint(-n // 2, n // 2)

        def f(x, a=a, hx=hx, ky=ky):
            return a * (x - hx) ** 2 + ky
    w = h = rng.choice([600, 640, 720])
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    pad = 40
    unit = (w - 2 * pad) / (2 * n)

    def px(x, y):
        return w / 2 + x * unit, h / 2 - y * unit

    for i in range(-n, n + 1):
        col = (200, 200, 200) if i else (40, 40, 40)
        d.line([px(i, -n), px(i, n)], fill=col, width=1 if i else 2)
        d.line([px(-n, i), px(n, i)], fill=col, width=1 if i else 2)
        if i and (n <= 8 or i % 2 == 0):
            d.text(px(i, 0), str(i), fill=(60, 60, 60), font=font(12), anchor="mt")
            d.text(px(0, i), f"{i} ", fill=(60, 60, 60), font=font(12), anchor="rm")
    pts, x = [], -n
    while x <= n + 1e-9:
        y = f(x)
        if -n <= y <= n:
            pts.append(px(x, y))
        elif len(pts) > 1:
            break
        x += 0.05
    colour = rng.choice([(200, 30, 30), (30, 60, 200), (20, 140, 40)])
    d.line(pts, fill=colour, width=3)
    d.text((pad, 10), "y = f(x)", fill=colour, font=font(18))
    if kind == "line_intercept":
        q, v = "At what y-value does the line cross the y-axis?", f(0)
    elif kind == "line_slope":
        q, v = "What is the slope of the line?", m
    elif kind == "parabola_vertex":
        coord = rng.choice(["x", "y"])
        q, v = f"What is the {coord}-coordinate of the vertex of the parabola?", hx if coord == "x" else ky
    else:
        xs = [x for x in range(-n, n + 1) if -n <= f(x) <= n and float(f(x)).is_integer()]
        x0 = rng.choice(xs)
        q, v = f"What is the value of f({x0})?", f(x0)
    extra = {"difficulty": level, "kind": kind, "tolerance": 0.05}
    return RawSample(question=q + " Answer with the number only.", images=[img], answer=fmt_num(v, 2),
                     reward_type="numeric", extra_info=extra)
