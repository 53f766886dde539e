"""Rendered tables (cell lookup, row sums, column argmax) and text-in-image reading (chart_ocr)."""

from __future__ import annotations

import random
from typing import Any

from PIL import Image, ImageDraw

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import background, font, knobs, pick_level, rint

ROW_NAMES = ["Alice", "Bruno", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena",
             "Marco", "Nadia", "Omar", "Priya"]
COLUMN_SETS = [
    ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"],
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    ["Math", "Art", "Music", "History", "Biology", "Physics"],
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun"],
]

TABLE_LEVELS = {
    "easy": {"rows": (3, 4), "cols": (2, 3), "value_range": (1, 50), "font_size": 18},
    "medium": {"rows": (5, 7), "cols": (3, 5), "value_range": (10, 500), "font_size": 16},
    "hard": {"rows": (8, 12), "cols": (5, 6), "value_range": (100, 9999), "font_size": 14},
}


@register_generator("table_lookup", "chart_ocr", ["numeric", "string_match"], difficulty="mixed", levels=TABLE_LEVELS)
def table_lookup(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A rendered grid table; look up a cell, sum a row, or name the row with a column's maximum."""
    level = pick_level(rng, params)
    k = knobs(level, TABLE_LEVELS, params)
    nr, nc = rint(rng, k["rows"]), rint(rng, k["cols"])
    rows = rng.sample(ROW_NAMES, nr)
    cols = rng.choice(COLUMN_SETS)[:nc]
    lo, hi = k["value_range"]
    cells = [[rng.randint(lo, hi) for _ in cols] for _ in rows]
    for j in range(nc):  # a unique maximum per column, so "which row has the largest" has one answer
        col = [cells[r][j] for r in range(nr)]
        top = col.index(max(col))
        for r in range(nr):
            if r != top and cells[r][j] == cells[top][j]:
                cells[r][j] -= 1
    fs = k["font_size"]
    cw, ch = max(90, fs * 6), fs * 2 + 8
    w, h = max(640, cw * (nc + 1) + 80), max(480, ch * (nr + 1) + 120)
    img = background(rng, w, h)
    d = ImageDraw.Draw(img)
    x0, y0 = (w - cw * (nc + 1)) // 2, 80
    d.text((w / 2, 40), rng.choice(["Scores", "Weekly tally", "Results", "Inventory"]), fill=(20, 20, 20),
           font=font(22), anchor="mm")
    header_fill = tuple(rng.randint(190, 225) for _ in range(3))
    for r in range(nr + 1):
        for c in range(nc + 1):
            box = [x0 + c * cw, y0 + r * ch, x0 + (c + 1) * cw, y0 + (r + 1) * ch]
            d.rectangle(box, fill=header_fill if r == 0 or c == 0 else None, outline=(60, 60, 60))
            text = "" if r == c == 0 else cols[c - 1] if r == 0 else rows[r - 1] if c == 0 else str(cells[r - 1][c - 1])
            d.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, fill=(15, 15, 15), font=font(fs), anchor="mm")
    kind = rng.choice(["cell", "cell", "row_sum", "col_max"])
    i, j = rng.randrange(nr), rng.randrange(nc)
    if kind == "cell":
        q, a, rt = f"In the table, what is the value in row {rows[i]}, column {cols[j]}?", str(cells[i][j]), "numeric"
    elif kind == "row_sum":
        q, a, rt = f"What is the sum of all values in the row for {rows[i]}?", str(sum(cells[i])), "numeric"
    else:
        col = [cells[r][j] for r in range(nr)]
        q, a, rt = f"Which row has the largest value in column {cols[j]}? Answer with the row name.", rows[col.index(max(col))], "string_match"
    return RawSample(question=q, images=[img], answer=a, reward_type=rt,
                     extra_info={"difficulty": level, "question_kind": kind})


WORDS = ["amber", "basil", "cobalt", "delta", "ember", "fable", "granite", "harbor", "indigo", "jasper", "kelp",
         "lantern", "meadow", "nectar", "orchid", "pebble", "quartz", "raven", "saffron", "timber", "umber", "velvet",
         "willow", "xenon", "yonder", "zephyr", "copper", "falcon", "glacier", "maple", "onyx", "prairie", "summit"]
ITEMS = ["Coffee", "Bagel", "Juice", "Salad", "Soup", "Muffin", "Tea", "Sandwich", "Cookie", "Water", "Pasta"]

TEXT_LEVELS = {
    "easy": {"lines": (2, 3), "font_size": 34, "rotation": 0, "contrast": 1.0},
    "medium": {"lines": (4, 6), "font_size": 24, "rotation": 4, "contrast": 0.8},
    "hard": {"lines": (7, 10), "font_size": 16, "rotation": 9, "contrast": 0.55},
}


def _ink(rng: random.Random, contrast: float) -> tuple[int, int, int]:
    g = int(230 * (1 - contrast))
    return (g + rng.randint(0, 10), g + rng.randint(0, 10), g + rng.randint(0, 10))


@register_generator("text_reading", "chart_ocr", ["string_match"], difficulty="mixed", levels=TEXT_LEVELS)
def text_reading(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """A notice or a receipt rendered as an image; read a word on a given line, a code, or the receipt total."""
    level = pick_level(rng, params)
    k = knobs(level, TEXT_LEVELS, params)
    fs, contrast = k["font_size"], k["contrast"]
    w, h = rng.choice([(640, 480), (720, 540), (800, 600)])
    sheet = Image.new("RGB", (w, h), (0, 0, 0))
    sheet.paste(background(rng, w, h), (0, 0))
    d = ImageDraw.Draw(sheet)
    kind = rng.choice(["line_word", "code", "receipt_total"])
    if kind == "receipt_total":
        n = min(rint(rng, k["lines"]) + 1, 9)
        items = rng.sample(ITEMS, n)
        prices = [rng.randint(150, 1999) for _ in items]
        lines = [f"{it:<10} {p / 100:>7.2f}" for it, p in zip(items, prices, strict=True)]
        lines = ["RECEIPT #" + str(rng.randint(1000, 9999)), *lines, f"{'TOTAL':<10} {sum(prices) / 100:>7.2f}"]
        question = "What is the total amount printed on the receipt? Answer with the number only."
        answer = f"{sum(prices) / 100:.2f}"
    else:
        n = rint(rng, k["lines"])
        lines = [" ".join(rng.sample(WORDS, rng.randint(2, 4))).capitalize() for _ in range(n)]
        if kind == "code":
            code = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
            pos = rng.randrange(n + 1)
            lines.insert(pos, f"Ref code: {code}")
            question, answer = "What is the reference code printed in the image?", code
        else:
            li = rng.randrange(n)
            words = lines[li].split()
            wi = rng.randrange(len(words))
            ordinal = ["first", "second", "third", "fourth"][wi]
            question = f"What is the {ordinal} word on line {li + 1} of the text (counting from the top)?"
            answer = words[wi].lower()
    y = (h - len(lines) * fs * 1.6) / 2
    x = rng.randint(30, max(31, w // 6))
    for line in lines:
        d.text((x, y), line, fill=_ink(rng, contrast), font=font(fs))
        y += fs * 1.6
    if k["rotation"]:
        angle = rng.uniform(-k["rotation"], k["rotation"])
        fill = sheet.getpixel((1, 1))
        sheet = sheet.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)
    return RawSample(question=question, images=[sheet], answer=answer, reward_type="string_match",
                     extra_info={"difficulty": level, "question_kind": kind})
