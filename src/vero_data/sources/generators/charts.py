"""Chart read-off tasks (chart_ocr): bar, line and pie charts with labelled values.

Questions ask for a value, the max/min category, a difference or a ratio. Hard rows hide value labels, so the
value must be read against gridlines; those answers carry a relative ``tolerance``.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import background, fmt_num, font, knobs, pick_level, rint

CATEGORY_POOLS = {
    "fruit": ["Apple", "Banana", "Cherry", "Grape", "Mango", "Peach", "Pear", "Plum", "Lemon", "Kiwi"],
    "city": ["Oslo", "Lima", "Cairo", "Delhi", "Tokyo", "Paris", "Quito", "Seoul", "Rome", "Dakar"],
    "team": ["Lions", "Hawks", "Bears", "Wolves", "Sharks", "Eagles", "Tigers", "Foxes", "Owls", "Bulls"],
    "product": ["Alpha", "Bravo", "Delta", "Echo", "Gamma", "Omega", "Sigma", "Kappa", "Theta", "Zeta"],
}
MEASURES = ["Sales", "Visitors", "Revenue", "Votes", "Orders", "Downloads", "Members", "Rainfall"]
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def _nice_step(vmax: float, ticks: int = 5) -> float:
    raw = vmax / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _distinct_values(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    """Distinct ints so max/min and "which" questions have one answer."""
    return rng.sample(range(lo, hi + 1), n)


def _value_question(rng: random.Random, labels: list[str], values: list[int], measure: str, tol: float | None
                    ) -> tuple[str, str, str, dict[str, Any]]:
    """Pick a question over labelled values; returns (question, answer, reward_type, extra)."""
    kind = rng.choice(["value", "value", "max", "min", "difference", "ratio"])
    extra: dict[str, Any] = {"question_kind": kind}
    if tol:
        extra["tolerance"] = tol
    i, j = rng.sample(range(len(labels)), 2)
    if kind == "value":
        return f"What is the value of {measure.lower()} for {labels[i]}?", fmt_num(values[i]), "numeric", extra
    if kind in ("max", "min"):
        k = values.index(max(values) if kind == "max" else min(values))
        word = "highest" if kind == "max" else "lowest"
        extra.pop("tolerance", None)
        return f"Which category has the {word} {measure.lower()}? Answer with its label.", labels[k], "string_match", extra
    if kind == "difference":
        a, b = (i, j) if values[i] >= values[j] else (j, i)
        if tol:  # a difference of two read-offs: tolerance relative to the sum of the read errors
            extra["tolerance"] = min(0.2, round(tol * (values[a] + values[b]) / max(1, values[a] - values[b]), 4))
        return (f"By how much does the {measure.lower()} value of {labels[a]} exceed that of {labels[b]}?",
                fmt_num(values[a] - values[b]), "numeric", extra)
    extra["tolerance"] = max(0.02, 2 * (tol or 0))
    return (f"What is the ratio of the {measure.lower()} of {labels[i]} to that of {labels[j]}? "
            "Give a decimal rounded to two places.", fmt_num(values[i] / values[j], 2), "numeric", extra)


def _axes(d: ImageDraw.ImageDraw, title: str, w: int, box: tuple[float, float, float, float], step: float,
          ymax: float, fs: int) -> None:
    """Title, horizontal gridlines with value labels every ``step`` up to ``ymax``, and the two axes."""
    left, right, top, bottom = box
    d.text((w / 2, 25), title, fill=(20, 20, 20), font=font(20), anchor="mm")
    t = 0.0
    while t <= ymax + 1e-9:
        y = bottom - (bottom - top) * t / ymax
        d.line([(left, y), (right, y)], fill=(215, 215, 215))
        d.text((left - 8, y), fmt_num(t), fill=(60, 60, 60), font=font(fs), anchor="rm")
        t += step
    d.line([(left, top), (left, bottom), (right, bottom)], fill=(30, 30, 30), width=2)


BAR_LEVELS = {
    "easy": {"n_bars": (3, 4), "value_range": (5, 60), "value_labels": True, "size": (640, 480)},
    "medium": {"n_bars": (5, 7), "value_range": (10, 400), "value_labels": True, "size": (720, 540)},
    "hard": {"n_bars": (7, 10), "value_range": (20, 1000), "value_labels": False, "size": (800, 600)},
}


@register_generator("bar_chart", "chart_ocr", ["numeric", "string_match"], difficulty="mixed", levels=BAR_LEVELS)
def bar_chart(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Vertical bar chart; read a value, the max/min bar, a difference or a ratio."""
    level = pick_level(rng, params)
    k = knobs(level, BAR_LEVELS, params)
    n = rint(rng, k["n_bars"])
    labels = rng.sample(CATEGORY_POOLS[rng.choice(sorted(CATEGORY_POOLS))], n)
    lo, hi = k["value_range"]
    values = _distinct_values(rng, n, lo, hi)
    measure = rng.choice(MEASURES)
    w, h = k["size"]
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    left, right, top, bottom = 70, w - 30, 60, h - 60
    step = _nice_step(max(values))
    if not k["value_labels"]:
        step = step / 2  # denser gridlines when values must be read off the axis
    ymax = step * math.ceil(max(values) / step)
    fs = 14 if w <= 640 else 13
    _axes(d, f"{measure} by category", w, (left, right, top, bottom), step, ymax, fs)
    slot = (right - left) / n
    colour = rng.choice(PALETTE)
    per_bar = rng.random() < 0.5
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        x0, x1 = left + slot * i + slot * 0.18, left + slot * (i + 1) - slot * 0.18
        y = bottom - (bottom - top) * v / ymax
        d.rectangle([x0, y, x1, bottom - 1], fill=PALETTE[i % len(PALETTE)] if per_bar else colour)
        d.text(((x0 + x1) / 2, bottom + 16), lab, fill=(30, 30, 30), font=font(fs), anchor="mm")
        if k["value_labels"]:
            d.text(((x0 + x1) / 2, y - 10), str(v), fill=(20, 20, 20), font=font(fs), anchor="mm")
    tol = None if k["value_labels"] else 0.05
    q, a, rt, extra = _value_question(rng, labels, values, measure, tol)
    extra.update(difficulty=level, chart="bar", values=dict(zip(labels, values, strict=True)))
    return RawSample(question=q, images=[img], answer=a, reward_type=rt, extra_info=extra)


LINE_LEVELS = {
    "easy": {"n_points": (4, 6), "value_range": (10, 90), "value_labels": True, "size": (640, 480)},
    "medium": {"n_points": (6, 9), "value_range": (100, 900), "value_labels": True, "size": (720, 540)},
    "hard": {"n_points": (8, 12), "value_range": (0, 500), "value_labels": False, "size": (800, 600)},
}


@register_generator("line_chart", "chart_ocr", ["numeric", "string_match"], difficulty="mixed", levels=LINE_LEVELS)
def line_chart(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Yearly line chart; read a year's value, the peak/trough year, or a change between years."""
    level = pick_level(rng, params)
    k = knobs(level, LINE_LEVELS, params)
    n = rint(rng, k["n_points"])
    start = rng.randint(1990, 2015)
    years = [str(start + i) for i in range(n)]
    lo, hi = k["value_range"]
    values = _distinct_values(rng, n, lo, hi)
    measure = rng.choice(MEASURES)
    w, h = k["size"]
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    left, right, top, bottom = 70, w - 40, 60, h - 60
    step = _nice_step(max(values)) / (1 if k["value_labels"] else 2)
    ymax = step * math.ceil(max(values) / step)
    _axes(d, f"{measure} per year", w, (left, right, top, bottom), step, ymax, 13)
    xs = [left + 25 + (right - left - 50) * i / (n - 1) for i in range(n)]
    ys = [bottom - (bottom - top) * v / ymax for v in values]
    colour = rng.choice(PALETTE)
    d.line(list(zip(xs, ys, strict=True)), fill=colour, width=3)
    for x, y, yr, v in zip(xs, ys, years, values, strict=True):
        d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        d.text((x, bottom + 16), yr, fill=(30, 30, 30), font=font(13), anchor="mm")
        if k["value_labels"]:
            d.text((x, y - 14), str(v), fill=(20, 20, 20), font=font(13), anchor="mm")
    tol = None if k["value_labels"] else 0.05
    kind = rng.choice(["value", "value", "peak", "trough", "change"])
    extra: dict[str, Any] = {"question_kind": kind, "difficulty": level, "chart": "line",
                             "values": dict(zip(years, values, strict=True))}
    i, j = sorted(rng.sample(range(n), 2))
    if kind == "value":
        q, a, rt = f"What was the value of {measure.lower()} in {years[i]}?", fmt_num(values[i]), "numeric"
        if tol:
            extra["tolerance"] = tol
    elif kind in ("peak", "trough"):
        m = values.index(max(values) if kind == "peak" else min(values))
        word = "highest" if kind == "peak" else "lowest"
        q, a, rt = f"In which year was the {measure.lower()} {word}?", years[m], "string_match"
    else:
        delta = values[j] - values[i]
        q = (f"By how much did the {measure.lower()} change from {years[i]} to {years[j]}? "
             "Use a negative number for a decrease.")
        a, rt = fmt_num(delta), "numeric"
        if tol:
            extra["tolerance"] = min(0.2, round(tol * (values[i] + values[j]) / max(1, abs(delta)), 4))
    return RawSample(question=q, images=[img], answer=a, reward_type=rt, extra_info=extra)


PIE_LEVELS = {
    "easy": {"n_slices": (3, 4), "labels_on_slices": True, "size": (640, 480)},
    "medium": {"n_slices": (4, 6), "labels_on_slices": True, "size": (640, 480)},
    "hard": {"n_slices": (6, 8), "labels_on_slices": False, "size": (800, 600)},
}


def _percentages(rng: random.Random, n: int) -> list[int]:
    """n distinct integer percentages ≥ 4 summing to 100."""
    while True:
        cuts = sorted(rng.sample(range(1, 100), n - 1))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
        if min(parts) >= 4 and len(set(parts)) == n:
            return parts


@register_generator("pie_chart", "chart_ocr", ["numeric", "string_match"], difficulty="mixed", levels=PIE_LEVELS)
def pie_chart(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Pie chart with percentage labels (on slices, or in a legend for hard rows); shares, sums, largest slice."""
    level = pick_level(rng, params)
    k = knobs(level, PIE_LEVELS, params)
    n = rint(rng, k["n_slices"])
    labels = rng.sample(CATEGORY_POOLS[rng.choice(sorted(CATEGORY_POOLS))], n)
    pct = _percentages(rng, n)
    measure = rng.choice(MEASURES)
    w, h = k["size"]
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    d.text((w / 2, 25), f"Share of {measure.lower()}", fill=(20, 20, 20), font=font(20), anchor="mm")
    r = min(w, h) * 0.36
    cx, cy = (w * 0.38 if not k["labels_on_slices"] else w / 2), h / 2 + 15
    colours = rng.sample(PALETTE, n)
    a0 = rng.uniform(0, 360)
    for i, p in enumerate(pct):
        a1 = a0 + 360 * p / 100
        d.pieslice([cx - r, cy - r, cx + r, cy + r], a0, a1, fill=colours[i], outline=(255, 255, 255), width=2)
        mid = math.radians((a0 + a1) / 2)
        if k["labels_on_slices"]:
            tx, ty = cx + r * 1.18 * math.cos(mid), cy + r * 1.18 * math.sin(mid)
            d.text((tx, ty), f"{labels[i]} {p}%", fill=(20, 20, 20), font=font(14), anchor="mm")
        a0 = a1
    if not k["labels_on_slices"]:
        lx, ly = w * 0.72, h / 2 - n * 14
        for i, p in enumerate(pct):
            d.rectangle([lx, ly + 28 * i, lx + 16, ly + 28 * i + 16], fill=colours[i])
            d.text((lx + 24, ly + 28 * i + 8), f"{labels[i]}: {p}%", fill=(20, 20, 20), font=font(14), anchor="lm")
    kind = rng.choice(["share", "share", "largest", "smallest", "sum"])
    extra: dict[str, Any] = {"question_kind": kind, "difficulty": level, "chart": "pie",
                             "values": dict(zip(labels, pct, strict=True))}
    i, j = rng.sample(range(n), 2)
    if kind == "share":
        q, a, rt = f"What percentage of the total {measure.lower()} belongs to {labels[i]}? Answer with the number only.", str(pct[i]), "numeric"
    elif kind == "sum":
        q, a, rt = (f"What is the combined percentage of {labels[i]} and {labels[j]}? Answer with the number only.",
                    str(pct[i] + pct[j]), "numeric")
    else:
        m = pct.index(max(pct) if kind == "largest" else min(pct))
        q, a, rt = f"Which category has the {kind} share?", labels[m], "string_match"
    return RawSample(question=q, images=[img], answer=a, reward_type=rt, extra_info=extra)
