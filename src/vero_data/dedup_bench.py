"""`vero bench dedup`: a planted duplicate benchmark, measured through the real build.

:func:`make_planted_set` writes a seeded local ``files:`` source: distinct originals of five families (bar and line
charts with values, text cards, natural-ish scenes, UI screenshots), planted copies of some of them (exact bytes, JPEG
re-encode, resize down and up, brightness/contrast, border crop, padding/letterbox, a paraphrased question on the same
image) and hard negatives that must be kept (same image + another question, with another answer or with the same
answer; template look-alikes with other values or words; the same scene with one object moved). ``labels.jsonl`` gives
every row's kind, role and original.

:func:`run_dedup_bench` builds that source with :func:`vero_data.build.build` (the recipe's default dedup settings,
as ``vero data build --manifest`` runs them), reads ``quarantine.parquet`` and the exported shards, and scores every
kind against its labels; when ``imagededup`` is importable (it is not a dependency) it also runs its PHash
(``find_duplicates``, default ``max_distance_threshold=10``) on the same image files for speed and recall. Figures,
not pass/fail: the targets of issue 12 are shown beside them.

Row order: a copy that is strictly worse than its original by the keep rule of issue 12 (lossy, or fewer pixels:
``jpeg``, ``resize_down``, ``crop``) is placed anywhere, so it can come first and a keep-first dedup keeps it instead
of the original (reported as ``won``); every other copy (exact bytes, same-size lossless edits, paraphrases, and the
larger ``resize_up`` and ``pad`` copies, which a largest-pixel-count rule would prefer) comes after its original, so
"originals kept" stays a target an honest rule can meet. Negatives come after their original too: a negative merged by
mistake is counted under its own kind, not as a lost original.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import random
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from vero_data.errors import VeroError

log = logging.getLogger(__name__)

VERSION = "1"  # bump when the planted set changes: figures of two versions are not comparable
MANIFEST = "planted_dedup.yaml"
ROWS = "rows.jsonl"
LABELS = "labels.jsonl"
META = "planted.json"
IMAGES = "images"
FAMILIES = ("chart_bar", "chart_line", "text_card", "scene", "ui")

# Targets of issue 12 (2 cores): copies removed, negatives kept, originals kept, speed over imagededup's PHash.
TARGETS = {"copies_removed_pct": 99.0, "negatives_kept_pct": 99.0, "originals_kept_pct": 100.0,
           "speedup_over_imagededup": 5.0}


@dataclass(frozen=True)
class PlantedKind:
    """One kind of planted row: its role, how many per original, which families get it."""

    name: str
    role: str  # original | copy | negative
    share: float  # rows of this kind per original (at least one of each kind is planted)
    help: str
    families: tuple[str, ...] | None = None  # None: every family
    image_file: bool = True  # has an image file of its own (what an image-only tool can be scored on)
    may_precede: bool = False  # a copy that may come before its original in input order (see module docstring)

    @property
    def target(self) -> str:
        return "removed" if self.role == "copy" else "kept"


KINDS: tuple[PlantedKind, ...] = (
    PlantedKind("original", "original", 1.0, "a distinct image with a question"),
    PlantedKind("exact", "copy", 0.06, "byte-identical image file, same question and answer"),
    PlantedKind("jpeg", "copy", 0.08, "JPEG re-encode, quality 50-90", may_precede=True),
    PlantedKind("resize_down", "copy", 0.06, "resized 0.4-0.9x", may_precede=True),
    PlantedKind("resize_up", "copy", 0.05, "resized 1.1-2x"),
    PlantedKind("brightness_contrast", "copy", 0.06, "brightness and contrast each x0.9-1.1"),
    PlantedKind("crop", "copy", 0.08, "border crop, each side 0-5%", may_precede=True),
    PlantedKind("pad", "copy", 0.06, "padding or letterbox borders"),
    PlantedKind("paraphrase", "copy", 0.10, "same image, the question reworded, same answer", image_file=False),
    PlantedKind("other_question", "negative", 0.08, "same image, another question with another answer",
                image_file=False),
    PlantedKind("same_answer_question", "negative", 0.06, "same image, another question with the same answer",
                image_file=False),
    PlantedKind("lookalike", "negative", 0.10, "same template, other values or words (same question and answer "
                "where the change allows)", families=("chart_bar", "chart_line", "text_card", "ui")),
    PlantedKind("moved_object", "negative", 0.05, "the same scene with one object moved; same question and answer",
                families=("scene",)),
)
KIND = {k.name: k for k in KINDS}

# ------------------------------------------------------------------------------------------------- vocabulary
CHART_LABELS = ("Apples", "Pears", "Plums", "Grapes", "Mangoes", "Kiwis", "Lemons", "Cherries", "Oslo", "Lima",
                "Quito", "Perth", "Delhi", "Cairo", "Tokyo", "Paris", "Alpha", "Beta", "Gamma", "Delta", "Omega",
                "North", "South", "East", "West", "Retail", "Online", "Export", "Rent", "Food", "Travel", "Energy",
                "Tools", "Books", "Music", "Games", "Sports", "Garden")
CHART_TITLES = ("Quarterly sales", "Visitors per site", "Average rainfall", "Units shipped", "Survey responses",
                "Energy use", "Orders by region", "Crop yield", "Ticket sales", "Members by club", "Downloads",
                "Support tickets")
WORDS = ("river", "stone", "lamp", "garden", "window", "orange", "silver", "paper", "cloud", "harbor", "meadow",
         "copper", "violet", "engine", "bridge", "forest", "pocket", "candle", "marble", "winter", "summer", "signal",
         "ticket", "planet", "rocket", "basket", "ladder", "mirror", "button", "castle", "desert", "island", "jungle",
         "kettle", "lemon", "magnet", "needle", "office", "pepper", "rabbit", "saddle", "tunnel", "velvet", "wallet",
         "yellow", "zipper", "anchor", "barrel", "cotton", "dragon", "falcon", "guitar", "hammer", "insect", "jacket",
         "kitten", "lizard", "monkey", "noodle", "oyster", "parcel", "quartz", "ribbon", "salmon", "tomato", "umpire",
         "walnut", "north", "invoice", "order", "total", "room", "floor", "street", "notice", "closed", "open",
         "daily", "weekly", "price", "sale", "new", "old", "fresh", "cold", "warm", "blue", "green", "red")
WINDOW_TITLES = ("Settings", "Account", "Dashboard", "Inventory", "Checkout", "Profile", "Reports", "Projects",
                 "Billing", "Preferences", "Messages", "Calendar", "Contacts", "Library", "Orders", "Analytics")
MENU_ITEMS = ("Home", "Files", "Search", "Team", "Tasks", "Notes", "Photos", "Music", "Videos", "Alerts", "Help",
              "Trash", "Drafts", "Archive", "Shared", "Recent", "Starred", "Groups", "Events", "Billing")
BUTTON_LABELS = ("Save", "Cancel", "Submit", "Delete", "Export", "Import", "Refresh", "Apply", "Reset", "Upload",
                 "Share", "Print", "Open", "Close", "Next", "Back", "Login", "Send")
FIELD_LABELS = ("Name", "Email", "Phone", "City", "Country", "Password", "Username", "Address", "Company",
                "Zip code", "Website", "Notes", "Birthday", "Title")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
PALETTE = {"red": (214, 39, 40), "blue": (31, 90, 200), "green": (44, 160, 44), "orange": (250, 130, 10),
           "purple": (130, 60, 180), "gray": (128, 128, 128), "yellow": (225, 190, 20), "pink": (235, 100, 170)}
SCENE_SHAPES = ("circle", "square", "triangle", "star", "diamond", "hexagon")

# ------------------------------------------------------------------------------------------------- questions
# Each template: several wordings that are paraphrases of one another (the labelled paraphrase set of issue 12).
QUESTIONS: dict[str, tuple[str, ...]] = {
    "bar_value": ("What is the value of {label}?", "What value does the bar for {label} show?",
                  "According to the chart, how large is {label}?", "Read off the value shown for {label}.",
                  "How high is the {label} bar?"),
    "bar_max": ("Which category has the highest value?", "Which bar is the tallest?",
                "Name the category with the largest value in the chart.", "What label does the longest bar have?"),
    "bar_min": ("Which category has the lowest value?", "Which bar is the shortest?",
                "Name the category with the smallest value in the chart.", "What label does the lowest bar carry?"),
    "bar_count_colour": ("How many {colour} bars are there?", "Count the {colour} bars in the chart.",
                         "What is the number of bars drawn in {colour}?",
                         "How many bars in this chart are coloured {colour}?"),
    "bar_diff": ("What is the difference between {a} and {b}?", "By how much do the values of {a} and {b} differ?",
                 "How far apart are {a} and {b} in the chart?", "Compute the gap between the {a} bar and the {b} bar."),
    "line_value": ("What was the value in {year}?", "What value does the line reach in {year}?",
                   "According to the chart, how large was the value in {year}?",
                   "Read off the {year} value from the line chart.", "Which value is plotted for {year}?"),
    "line_max_year": ("In which year was the value highest?", "Which year shows the peak of the line?",
                      "When did the value reach its maximum?", "Name the year with the largest value."),
    "line_min_year": ("In which year was the value lowest?", "Which year shows the lowest point of the line?",
                      "When did the value reach its minimum?", "Name the year with the smallest value."),
    "line_diff": ("What is the difference between the values in {y1} and {y2}?",
                  "By how much do the {y1} and {y2} values differ?",
                  "How far apart are the values for {y1} and {y2}?", "Compute the gap between the {y1} and {y2} values."),
    "text_line": ("What is written on line {n}?", "What does line {n} of the card say?", "Read the text on line {n}.",
                  "Which words appear on the {ordinal} line?", "Transcribe line number {n} of the card."),
    "text_first_word": ("What is the first word on line {n}?", "Which word starts line {n}?",
                        "What word does the {ordinal} line begin with?", "Name the opening word of line {n}."),
    "text_last_word": ("What is the last word on line {n}?", "Which word ends line {n}?",
                       "What word does the {ordinal} line finish with?", "Name the final word of line {n}."),
    "text_n_words": ("How many words are on line {n}?", "Count the words in line {n}.",
                     "What is the number of words on the {ordinal} line?", "How many words does line {n} contain?"),
    "text_n_lines": ("How many lines of text are on the card?", "Count the lines of text shown.",
                     "What is the number of text lines in the image?", "How many rows of text does the card have?"),
    "scene_count_all": ("How many shapes are there?", "Count all the shapes in the picture.",
                        "What is the total number of shapes shown?", "How many objects can you see in the image?"),
    "scene_count_colour": ("How many {colour} shapes are there?", "Count the {colour} shapes in the picture.",
                           "What is the number of {colour} objects shown?",
                           "How many shapes in the image are {colour}?"),
    "scene_count_shape": ("How many {shape}s are there?", "Count the {shape}s in the picture.",
                          "What is the number of {shape}s shown?", "How many {shape} shapes can you see?"),
    "scene_colour_of": ("What colour is the {shape}?", "Which colour does the {shape} have?",
                        "What is the colour of the {shape} in the picture?", "The {shape} is painted in which colour?"),
    "ui_title": ("What is the title of the window?", "Which title is shown in the title bar?",
                 "What does the window's title bar say?", "Read the title of this window."),
    "ui_button": ("What is the label of the {colour} button?", "What does the {colour} button say?",
                  "Which text is written on the {colour} button?", "Read the label on the {colour} button."),
    "ui_menu": ("What is the {ordinal} item in the sidebar menu?", "Which entry is in position {n} of the side menu?",
                "Read menu item number {n} in the sidebar.", "What does the {ordinal} sidebar entry say?"),
    "ui_n_buttons": ("How many buttons are there?", "Count the buttons in the screenshot.",
                     "What is the number of buttons on the screen?", "How many clickable buttons does the window show?"),
    "ui_n_fields": ("How many text fields does the form have?", "Count the input fields in the form.",
                    "What is the number of text boxes in the form?", "How many entry fields are shown in the form?"),
    "ui_field": ("What is the label of the {ordinal} text field?", "Which label is shown next to input field {n}?",
                 "Read the label of form field number {n}.", "What does the {ordinal} field's label say?"),
}
NUMERIC = {"bar_value", "bar_count_colour", "bar_diff", "line_value", "line_diff", "text_n_words", "text_n_lines",
           "scene_count_all", "scene_count_colour", "scene_count_shape", "ui_n_buttons", "ui_n_fields"}

Question = tuple[str, dict[str, Any], str]  # (template key, params, answer)


def question_text(key: str, params: dict[str, Any], wording: int) -> str:
    """The question of template ``key`` in its ``wording``-th paraphrase."""
    p = dict(params)
    if "n" in p:
        p["ordinal"] = ORDINALS[p["n"] - 1]
    return QUESTIONS[key][wording].format(**p)


# ------------------------------------------------------------------------------------------------- drawing
def _font(size: int):
    from vero_data.sources.generators.common import font

    return font(size)


def _light(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randint(236, 255) for _ in range(3))


def _centered(d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill) -> None:
    d.text(xy, text, fill=fill, font=_font(size), anchor="mm")


# --- bar chart
def _bar_spec(rng: random.Random) -> dict[str, Any]:
    k = rng.randint(4, 7)
    colours = rng.sample(("red", "blue", "green", "orange", "purple", "gray"), rng.randint(2, 3))
    return {"family": "chart_bar", "w": rng.choice((480, 560, 640, 720)), "h": rng.choice((360, 400, 480)),
            "bg": _light(rng), "title": rng.choice(CHART_TITLES), "labels": rng.sample(CHART_LABELS, k),
            "values": rng.sample(range(5, 100), k), "colours": [rng.choice(colours) for _ in range(k)],
            "grid": rng.random() < 0.5, "font": rng.randint(12, 16), "bar_frac": round(rng.uniform(0.5, 0.8), 3)}


def _render_bar(s: dict[str, Any]) -> Image.Image:
    w, h, f = s["w"], s["h"], s["font"]
    img = Image.new("RGB", (w, h), tuple(s["bg"]))
    d = ImageDraw.Draw(img)
    _centered(d, (w / 2, 18), s["title"], f + 4, (20, 20, 20))
    left, right, top, bottom = 48, w - 16, 44, h - 36
    for t in range(0, 101, 25):
        y = bottom - t / 100 * (bottom - top)
        if s["grid"]:
            d.line([left, y, right, y], fill=(210, 210, 210))
        d.text((left - 6, y), str(t), fill=(60, 60, 60), font=_font(f - 2), anchor="rm")
    d.line([left, top, left, bottom, right, bottom], fill=(0, 0, 0), width=2)
    slot = (right - left) / len(s["values"])
    bw = slot * s["bar_frac"]
    for i, (lab, v, c) in enumerate(zip(s["labels"], s["values"], s["colours"], strict=True)):
        x0 = left + i * slot + (slot - bw) / 2
        y0 = bottom - v / 100 * (bottom - top)
        d.rectangle([x0, y0, x0 + bw, bottom], fill=PALETTE[c])
        _centered(d, (x0 + bw / 2, y0 - 9), str(v), f, (0, 0, 0))
        _centered(d, (x0 + bw / 2, bottom + 14), lab, f - 1, (0, 0, 0))
    return img


def _bar_questions(s: dict[str, Any]) -> list[Question]:
    labels, values = s["labels"], s["values"]
    qs: list[Question] = [("bar_value", {"label": lab}, str(v)) for lab, v in zip(labels, values, strict=True)]
    qs.append(("bar_max", {}, labels[values.index(max(values))]))
    qs.append(("bar_min", {}, labels[values.index(min(values))]))
    qs += [("bar_count_colour", {"colour": c}, str(s["colours"].count(c))) for c in sorted(set(s["colours"]))]
    qs += [("bar_diff", {"a": labels[i], "b": labels[i + 1]}, str(abs(values[i] - values[i + 1])))
           for i in range(len(labels) - 1)]
    return qs


def _bar_lookalike(s: dict[str, Any], key: str, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    keep = {s["labels"].index(params[k]) for k in ("label", "a", "b") if k in params}
    values = list(s["values"])
    for i in range(len(values)):
        if i not in keep:
            values[i] = rng.choice([v for v in range(5, 100) if v not in values])
    return {**s, "values": values}


# --- line chart
def _line_spec(rng: random.Random) -> dict[str, Any]:
    k = rng.randint(5, 9)
    return {"family": "chart_line", "w": rng.choice((480, 560, 640, 720)), "h": rng.choice((360, 400, 480)),
            "bg": _light(rng), "title": rng.choice(CHART_TITLES), "start": rng.randint(1995, 2015),
            "values": rng.sample(range(5, 100), k), "colour": rng.choice(("red", "blue", "green", "purple", "orange")),
            "grid": rng.random() < 0.6, "markers": rng.random() < 0.7, "font": rng.randint(12, 16)}


def _render_line(s: dict[str, Any]) -> Image.Image:
    w, h, f = s["w"], s["h"], s["font"]
    img = Image.new("RGB", (w, h), tuple(s["bg"]))
    d = ImageDraw.Draw(img)
    _centered(d, (w / 2, 18), s["title"], f + 4, (20, 20, 20))
    left, right, top, bottom = 48, w - 24, 44, h - 36
    for t in range(0, 101, 20):
        y = bottom - t / 100 * (bottom - top)
        if s["grid"]:
            d.line([left, y, right, y], fill=(215, 215, 215))
        d.text((left - 6, y), str(t), fill=(60, 60, 60), font=_font(f - 2), anchor="rm")
    d.line([left, top, left, bottom, right, bottom], fill=(0, 0, 0), width=2)
    n = len(s["values"])
    pts = [(left + 16 + i * (right - left - 32) / (n - 1), bottom - v / 100 * (bottom - top))
           for i, v in enumerate(s["values"])]
    d.line(pts, fill=PALETTE[s["colour"]], width=3)
    for i, ((x, y), v) in enumerate(zip(pts, s["values"], strict=True)):
        if s["markers"]:
            d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=PALETTE[s["colour"]])
        _centered(d, (x, y - 12), str(v), f - 1, (0, 0, 0))
        _centered(d, (x, bottom + 14), str(s["start"] + i), f - 2, (0, 0, 0))
    return img


def _line_questions(s: dict[str, Any]) -> list[Question]:
    years = [s["start"] + i for i in range(len(s["values"]))]
    values = s["values"]
    qs: list[Question] = [("line_value", {"year": y}, str(v)) for y, v in zip(years, values, strict=True)]
    qs.append(("line_max_year", {}, str(years[values.index(max(values))])))
    qs.append(("line_min_year", {}, str(years[values.index(min(values))])))
    qs += [("line_diff", {"y1": years[i], "y2": years[i + 1]}, str(abs(values[i] - values[i + 1])))
           for i in range(len(years) - 1)]
    return qs


def _line_lookalike(s: dict[str, Any], key: str, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    keep = {params[k] - s["start"] for k in ("year", "y1", "y2") if k in params}
    values = list(s["values"])
    for i in range(len(values)):
        if i not in keep:
            values[i] = rng.choice([v for v in range(5, 100) if v not in values])
    return {**s, "values": values}


# --- text card (plain background, lines of text: pHash sees mostly the layout, so cards share hashes a lot)
def _text_line(rng: random.Random, max_px: float, size: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(2, 5))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), str(rng.randint(2, 9999)))
    while len(words) > 1 and _font(size).getlength(" ".join(words)) > max_px:
        words.pop()
    return " ".join(words)


def _text_spec(rng: random.Random) -> dict[str, Any]:
    size, margin = rng.randint(18, 30), rng.randint(18, 36)
    w = rng.choice((420, 480, 560, 640, 720))
    dark = rng.random() < 0.2
    lines = [_text_line(rng, w - 2 * margin, size) for _ in range(rng.randint(3, 6))]
    spacing = round(rng.uniform(1.3, 1.7), 3)
    return {"family": "text_card", "w": w, "h": int(2 * margin + len(lines) * size * spacing), "size": size,
            "margin": margin, "spacing": spacing, "lines": lines, "header": rng.random() < 0.5,
            "bg": tuple(rng.randint(20, 50) for _ in range(3)) if dark else _light(rng),
            "fg": (240, 240, 240) if dark else tuple(rng.randint(0, 60) for _ in range(3))}


def _render_text(s: dict[str, Any]) -> Image.Image:
    img = Image.new("RGB", (s["w"], s["h"]), tuple(s["bg"]))
    d = ImageDraw.Draw(img)
    fg = tuple(s["fg"])
    for i, line in enumerate(s["lines"]):
        y = s["margin"] + i * s["size"] * s["spacing"]
        d.text((s["margin"], y), line, fill=fg, font=_font(s["size"]))
        if i == 0 and s["header"]:  # a bold header with a rule under it
            d.text((s["margin"] + 1, y), line, fill=fg, font=_font(s["size"]))
            d.line([s["margin"], y + s["size"] * 1.2, s["w"] - s["margin"], y + s["size"] * 1.2], fill=fg)
    return img


def _text_questions(s: dict[str, Any]) -> list[Question]:
    qs: list[Question] = []
    for n, line in enumerate(s["lines"], 1):
        words = line.split()
        qs += [("text_line", {"n": n}, line), ("text_first_word", {"n": n}, words[0]),
               ("text_last_word", {"n": n}, words[-1]), ("text_n_words", {"n": n}, str(len(words)))]
    qs.append(("text_n_lines", {}, str(len(s["lines"]))))
    return qs


def _text_lookalike(s: dict[str, Any], key: str, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    lines = [line if params.get("n") == n else _text_line(rng, s["w"] - 2 * s["margin"], s["size"])
             for n, line in enumerate(s["lines"], 1)]
    return {**s, "lines": lines}


# --- scene (gradient + noise texture + shapes)
def _scene_spec(rng: random.Random) -> dict[str, Any]:
    from vero_data.sources.generators.common import place_circles

    w, h = rng.choice(((480, 360), (560, 420), (640, 480), (512, 512)))
    n = rng.randint(4, 8)
    spots = place_circles(rng, n, w, h, (22, 48), gap=10)
    colours = rng.sample(tuple(PALETTE), rng.randint(2, 4))
    shapes = rng.sample(SCENE_SHAPES, rng.randint(2, 4))
    objects = [[rng.choice(shapes), rng.choice(colours), round(cx, 1), round(cy, 1), r] for cx, cy, r in spots]
    return {"family": "scene", "w": w, "h": h, "g0": [rng.randint(60, 230) for _ in range(3)],
            "g1": [rng.randint(60, 230) for _ in range(3)], "vertical": rng.random() < 0.5,
            "noise_seed": rng.randrange(2**31), "noise_amp": rng.randint(8, 28), "noise_cells": rng.randint(6, 40),
            "objects": objects}


def _render_scene(s: dict[str, Any]) -> Image.Image:
    from vero_data.sources.generators.common import draw_shape

    w, h = s["w"], s["h"]
    t = np.linspace(0.0, 1.0, h if s["vertical"] else w, dtype=np.float32)
    ramp = t[:, None] if s["vertical"] else t[None, :]
    g0, g1 = np.array(s["g0"], np.float32), np.array(s["g1"], np.float32)
    base = g0 + (g1 - g0) * ramp[..., None]
    base = np.broadcast_to(base, (h, w, 3)).copy()
    nrng = np.random.default_rng(s["noise_seed"])
    cells = s["noise_cells"]
    small = (nrng.random((max(2, cells * h // w), cells)) * 255).astype(np.uint8)
    noise = np.asarray(Image.fromarray(small, "L").resize((w, h), Image.Resampling.BICUBIC), np.float32) / 255 - 0.5
    grain = nrng.normal(0.0, 3.0, (h, w)).astype(np.float32)
    base += (noise * 2 * s["noise_amp"] + grain)[..., None]
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    for shape, colour, cx, cy, r in s["objects"]:
        draw_shape(d, shape, cx, cy, r, PALETTE[colour], outline=(20, 20, 20))
    return img


def _scene_questions(s: dict[str, Any]) -> list[Question]:
    shapes = [o[0] for o in s["objects"]]
    colours = [o[1] for o in s["objects"]]
    qs: list[Question] = [("scene_count_all", {}, str(len(shapes)))]
    qs += [("scene_count_colour", {"colour": c}, str(colours.count(c))) for c in sorted(set(colours))]
    qs += [("scene_count_shape", {"shape": sh}, str(shapes.count(sh))) for sh in sorted(set(shapes))]
    qs += [("scene_colour_of", {"shape": sh}, colours[shapes.index(sh)]) for sh in sorted(set(shapes))
           if shapes.count(sh) == 1]
    return qs


def _scene_moved(s: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One object moved by at least a third of the shorter side, still clear of the others and the border."""
    w, h, objs = s["w"], s["h"], s["objects"]
    for _ in range(2000):
        k = rng.randrange(len(objs))
        _, _, x0, y0, r = objs[k]
        cx, cy = rng.uniform(r + 8, w - r - 8), rng.uniform(r + 8, h - r - 8)
        if math.hypot(cx - x0, cy - y0) < min(w, h) / 3:
            continue
        if all(math.hypot(cx - o[2], cy - o[3]) >= r + o[4] + 10 for j, o in enumerate(objs) if j != k):
            moved = [list(o) for o in objs]
            moved[k][2:4] = [round(cx, 1), round(cy, 1)]
            return {**s, "objects": moved}
    raise RuntimeError("no free spot to move an object to")  # not reached with ≤ 8 objects of r ≤ 48


# --- UI screenshot
def _ui_spec(rng: random.Random) -> dict[str, Any]:
    w, h = rng.choice(((640, 420), (720, 480), (800, 500), (960, 600)))
    nb = rng.randint(2, 4)
    return {"family": "ui", "w": w, "h": h, "font": rng.randint(14, 18), "bg": _light(rng),
            "bar": [rng.randint(20, 90) for _ in range(3)], "side": [rng.randint(215, 240) for _ in range(3)],
            "side_w": rng.randint(120, 180), "title": rng.choice(WINDOW_TITLES),
            "menu": rng.sample(MENU_ITEMS, rng.randint(4, 7)), "fields": rng.sample(FIELD_LABELS, rng.randint(2, 4)),
            "buttons": [list(b) for b in zip(rng.sample(BUTTON_LABELS, nb),
                                             rng.sample(("red", "blue", "green", "orange", "purple", "gray"), nb),
                                             strict=True)],
            "status": rng.random() < 0.5}


def _render_ui(s: dict[str, Any]) -> Image.Image:
    w, h, f = s["w"], s["h"], s["font"]
    img = Image.new("RGB", (w, h), tuple(s["bg"]))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, 34], fill=tuple(s["bar"]))
    d.text((14, 17), s["title"], fill=(250, 250, 250), font=_font(f + 2), anchor="lm")
    for k, c in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):  # window controls
        d.ellipse([w - 80 + 22 * k, 11, w - 68 + 22 * k, 23], fill=c)
    d.rectangle([0, 34, s["side_w"], h], fill=tuple(s["side"]))
    for i, item in enumerate(s["menu"]):
        d.text((16, 58 + i * (f + 16)), item, fill=(40, 40, 40), font=_font(f))
    x = s["side_w"] + 28
    d.text((x, 52), s["title"], fill=(30, 30, 30), font=_font(f + 6))
    y = 100
    for lab in s["fields"]:
        d.text((x, y), lab, fill=(50, 50, 50), font=_font(f - 1))
        d.rectangle([x, y + f + 6, min(w - 28, x + 320), y + 2 * f + 18], outline=(150, 150, 150), width=1)
        y += 2 * f + 34
    bx = x
    for lab, c in s["buttons"]:
        tw = _font(f).getlength(lab)
        d.rounded_rectangle([bx, y, bx + tw + 32, y + f + 18], radius=6, fill=PALETTE[c])
        d.text((bx + 16, y + (f + 18) / 2), lab, fill=(255, 255, 255), font=_font(f), anchor="lm")
        bx += tw + 48
    if s["status"]:
        d.rectangle([s["side_w"], h - 26, w, h], fill=(225, 225, 225))
        d.text((s["side_w"] + 10, h - 13), "Ready", fill=(70, 70, 70), font=_font(f - 3), anchor="lm")
    return img


def _ui_questions(s: dict[str, Any]) -> list[Question]:
    qs: list[Question] = [("ui_title", {}, s["title"]), ("ui_n_buttons", {}, str(len(s["buttons"]))),
                          ("ui_n_fields", {}, str(len(s["fields"])))]
    qs += [("ui_button", {"colour": c}, lab) for lab, c in s["buttons"]]
    qs += [("ui_menu", {"n": n}, item) for n, item in enumerate(s["menu"], 1)]
    qs += [("ui_field", {"n": n}, lab) for n, lab in enumerate(s["fields"], 1)]
    return qs


def _ui_lookalike(s: dict[str, Any], key: str, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Same layout, colours and counts; every label but the one asked about replaced."""
    def swap(items: list[str], pool: tuple[str, ...], keep: int | None) -> list[str]:
        free = [p for p in pool if p not in items]
        rng.shuffle(free)
        return [it if i == keep else free.pop() for i, it in enumerate(items)]

    n = params.get("n")
    keep_b = next((i for i, (_, c) in enumerate(s["buttons"]) if key == "ui_button" and c == params["colour"]), None)
    labels = swap([b[0] for b in s["buttons"]], BUTTON_LABELS, keep_b)
    return {**s, "title": s["title"] if key == "ui_title" else rng.choice([t for t in WINDOW_TITLES if t != s["title"]]),
            "menu": swap(s["menu"], MENU_ITEMS, n - 1 if key == "ui_menu" else None),
            "fields": swap(s["fields"], FIELD_LABELS, n - 1 if key == "ui_field" else None),
            "buttons": [[lab, c] for lab, (_, c) in zip(labels, s["buttons"], strict=True)]}


@dataclass(frozen=True)
class Family:
    spec: Callable[[random.Random], dict[str, Any]]
    render: Callable[[dict[str, Any]], Image.Image]
    questions: Callable[[dict[str, Any]], list[Question]]
    lookalike: Callable[[dict[str, Any], str, dict[str, Any], random.Random], dict[str, Any]] | None


FAMILY: dict[str, Family] = {
    "chart_bar": Family(_bar_spec, _render_bar, _bar_questions, _bar_lookalike),
    "chart_line": Family(_line_spec, _render_line, _line_questions, _line_lookalike),
    "text_card": Family(_text_spec, _render_text, _text_questions, _text_lookalike),
    "scene": Family(_scene_spec, _render_scene, _scene_questions, None),
    "ui": Family(_ui_spec, _render_ui, _ui_questions, _ui_lookalike),
}

# ------------------------------------------------------------------------------------------------- copies
RESAMPLE = {"lanczos": Image.Resampling.LANCZOS, "bilinear": Image.Resampling.BILINEAR,
            "bicubic": Image.Resampling.BICUBIC}


def _encode(img: Image.Image, fmt: str = "PNG", **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _copy_image(kind: str, img: Image.Image, rng: random.Random) -> tuple[bytes, str, dict[str, Any]]:
    """A planted image copy of ``img``: (encoded bytes, file suffix, what was done)."""
    w, h = img.size
    if kind == "jpeg":
        q = rng.randint(50, 90)
        return _encode(img, "JPEG", quality=q), ".jpg", {"quality": q}
    if kind in ("resize_down", "resize_up"):
        scale = round(rng.uniform(0.4, 0.9) if kind == "resize_down" else rng.uniform(1.1, 2.0), 3)
        how = rng.choice(tuple(RESAMPLE))
        out = img.resize((max(8, round(w * scale)), max(8, round(h * scale))), RESAMPLE[how])
        return _encode(out), ".png", {"scale": scale, "resample": how, "size": list(out.size)}
    if kind == "brightness_contrast":
        b, c = 1.0, 1.0
        while max(abs(b - 1), abs(c - 1)) < 0.03:  # a visible change, not a no-op
            b, c = round(rng.uniform(0.9, 1.1), 3), round(rng.uniform(0.9, 1.1), 3)
        out = ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(b)).enhance(c)
        return _encode(out), ".png", {"brightness": b, "contrast": c}
    if kind == "crop":
        sides = [round(rng.uniform(0.0, 0.05), 4) for _ in range(4)]  # left, top, right, bottom
        sides[rng.randrange(4)] = round(rng.uniform(0.02, 0.05), 4)
        box = (round(w * sides[0]), round(h * sides[1]), w - round(w * sides[2]), h - round(h * sides[3]))
        return _encode(img.crop(box)), ".png", {"left_top_right_bottom": sides}
    if kind == "pad":
        colour = rng.choice(((0, 0, 0), (255, 255, 255), (128, 128, 128), (24, 24, 32)))
        if rng.random() < 0.5:  # letterbox to another aspect ratio, image centred
            aspect = rng.choice([a for a in (1.0, 4 / 3, 16 / 9, 3 / 4) if abs(a - w / h) > 0.08])
            nw, nh = (max(w, round(h * aspect)), h) if aspect > w / h else (w, max(h, round(w / aspect)))
            box = ((nw - w) // 2, (nh - h) // 2)
            params: dict[str, Any] = {"letterbox": round(aspect, 3)}
        else:  # a border of 2–12% on each side
            fr = [rng.uniform(0.02, 0.12) for _ in range(4)]
            nw, nh = w + round(w * fr[0]) + round(w * fr[2]), h + round(h * fr[1]) + round(h * fr[3])
            box = (round(w * fr[0]), round(h * fr[1]))
            params = {"border_left_top_right_bottom": [round(x, 4) for x in fr]}
        canvas = Image.new("RGB", (nw, nh), colour)
        canvas.paste(img, box)
        return _encode(canvas), ".png", {**params, "colour": list(colour), "size": [nw, nh]}
    raise ValueError(f"not an image copy kind: {kind}")


def _same_answer_pairs(qs: list[Question]) -> list[tuple[Question, Question]]:
    by_answer: dict[str, list[Question]] = defaultdict(list)
    for q in qs:
        by_answer[q[2]].append(q)
    return [(a, b) for group in by_answer.values() for a in group for b in group if a is not b]


def _answer_of(qs: list[Question], key: str, params: dict[str, Any]) -> str | None:
    return next((a for k, p, a in qs if k == key and p == params), None)


def _row_id(seed: int, i: int, j: int) -> str:
    """Opaque, so that no dedup (or reader) can tell an original from its copies by the id."""
    return "p" + hashlib.sha256(f"{seed}:{i}:{j}".encode()).hexdigest()[:12]


def _plant_original(args: tuple[int, str, list[str], int, str]) -> list[tuple[float, dict, dict]]:
    """Render original ``i`` and its planted rows; write their image files; return (sort key, row, label) each."""
    i, family, kinds, seed, image_dir = args
    rng = random.Random(f"vero-dedup-bench:{seed}:{i}")
    fam = FAMILY[family]
    for _ in range(500):  # an image with the questions its planted negatives need
        spec = fam.spec(rng)
        qs = fam.questions(spec)
        pairs = _same_answer_pairs(qs)
        if (pairs or "same_answer_question" not in kinds) and len({q[2] for q in qs}) > 1:
            break
    else:
        raise RuntimeError(f"{family}: no image with the questions {kinds} need in 500 draws")
    if "same_answer_question" in kinds:
        q0, q_same = rng.choice(pairs)
    else:
        q0, q_same = rng.choice(qs), None
    key, params, answer = q0
    w0 = rng.randrange(len(QUESTIONS[key]))
    img = fam.render(spec)
    png = _encode(img)
    oid = _row_id(seed, i, 0)
    root = Path(image_dir)

    def write(rid: str, data: bytes, suffix: str) -> str:
        (root / f"{rid}{suffix}").write_bytes(data)
        return f"{IMAGES}/{rid}{suffix}"

    def entry(pos: float, rid: str, kind: str, image: str, q: Question, wording: int, **extra: Any):
        row = {"id": rid, "image": image, "question": question_text(q[0], q[1], wording), "answer": q[2],
               "reward_type": "numeric" if q[0] in NUMERIC else "string_match"}
        label = {"id": rid, "kind": kind, "role": KIND[kind].role, "family": family, "original": oid, "image": image,
                 "question_key": q[0], "wording": wording, **extra}
        return pos, row, label

    u0 = rng.random()
    image0 = write(oid, png, ".png")
    out = [entry(u0, oid, "original", image0, q0, w0, size=list(img.size))]
    for j, kind in enumerate(kinds, 1):
        rid = _row_id(seed, i, j)
        pos = rng.random() if KIND[kind].may_precede else u0 + (1 - u0) * rng.random()
        extra: dict[str, Any] = {"before_original": pos < u0}
        if kind == "exact":
            out.append(entry(pos, rid, kind, write(rid, png, ".png"), q0, w0, **extra))
        elif kind in ("jpeg", "resize_down", "resize_up", "brightness_contrast", "crop", "pad"):
            data, suffix, how = _copy_image(kind, img, rng)
            out.append(entry(pos, rid, kind, write(rid, data, suffix), q0, w0, **extra, params=how))
        elif kind == "paraphrase":
            w = rng.choice([k for k in range(len(QUESTIONS[key])) if k != w0])
            out.append(entry(pos, rid, kind, image0, q0, w, **extra))
        elif kind == "other_question":
            q = rng.choice([q for q in qs if q[2] != answer])
            out.append(entry(pos, rid, kind, image0, q, rng.randrange(len(QUESTIONS[q[0]])), **extra))
        elif kind == "same_answer_question":
            assert q_same is not None
            out.append(entry(pos, rid, kind, image0, q_same, rng.randrange(len(QUESTIONS[q_same[0]])), **extra))
        elif kind in ("lookalike", "moved_object"):
            for _ in range(40):  # prefer a look-alike on which the asked question keeps its answer
                other = _scene_moved(spec, rng) if kind == "moved_object" else fam.lookalike(spec, key, params, rng)
                a2 = _answer_of(fam.questions(other), key, params)
                if a2 == answer:
                    break
            if a2 is None:
                raise RuntimeError(f"{family} look-alike lost the question {key} {params}")
            data = _encode(fam.render(other))
            if data == png:
                raise RuntimeError(f"{family} look-alike drew the same image")
            out.append(entry(pos, rid, kind, write(rid, data, ".png"), (key, params, a2), w0, **extra,
                             same_answer=a2 == answer))
        else:
            raise ValueError(kind)
    return out


def _plan(n: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Each original's family and the kinds planted on it (each kind on distinct originals)."""
    rng = random.Random(f"vero-dedup-bench-plan:{seed}")
    families = [FAMILIES[i % len(FAMILIES)] for i in range(n)]
    rng.shuffle(families)
    kinds: list[list[str]] = [[] for _ in range(n)]
    for k in KINDS[1:]:
        eligible = [i for i in range(n) if k.families is None or families[i] in k.families]
        for i in sorted(rng.sample(eligible, min(len(eligible), max(1, round(n * k.share))))):
            kinds[i].append(k.name)
    return families, kinds


def make_planted_set(out_dir: str | Path, n_originals: int = 1000, seed: int = 0, workers: int = 1) -> Path:
    """Write the planted benchmark as a local ``files:`` source and return its manifest.

    ``out_dir`` gets ``rows.jsonl`` (``id, image, question, answer, reward_type``, in input order), ``images/``,
    ``labels.jsonl`` (per row: ``kind``, ``role``, ``family``, ``original`` — the id of its original — and what was
    done to it), ``planted.json`` (counts) and the manifest ``planted_dedup.yaml``. Same seed, same bytes.

    Args:
        out_dir: a new or empty folder.
        n_originals: distinct originals; planted rows come on top (about 0.85 per original).
        seed: the seed of every draw.
        workers: processes that render images (the output does not depend on it).
    """
    import yaml

    if n_originals < len(FAMILIES):
        raise VeroError(f"n_originals must be >= {len(FAMILIES)} (one per image family), got {n_originals}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise VeroError(f"{out} is not empty; the planted set needs a new or empty folder")
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    families, kinds = _plan(n_originals, seed)
    jobs = [(i, families[i], kinds[i], seed, str(out / IMAGES)) for i in range(n_originals)]
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            planted = [e for part in pool.imap(_plant_original, jobs, chunksize=16) for e in part]
    else:
        planted = [e for job in jobs for e in _plant_original(job)]
    planted.sort(key=lambda e: (e[0], e[1]["id"]))
    with open(out / ROWS, "w") as f:
        f.writelines(json.dumps(row) + "\n" for _, row, _ in planted)
    with open(out / LABELS, "w") as f:
        f.writelines(json.dumps(label, sort_keys=True) + "\n" for _, _, label in planted)
    counts = Counter(label["kind"] for _, _, label in planted)
    (out / META).write_text(json.dumps({"version": VERSION, "n_originals": n_originals, "seed": seed,
                                        "rows": len(planted), "image_files": len(list((out / IMAGES).iterdir())),
                                        "kinds": {k.name: counts[k.name] for k in KINDS}}, indent=1))
    manifest = {
        "name": "planted_dedup", "version": VERSION, "category": "chart_ocr", "license": "cc0-1.0",
        "description": f"vero bench dedup: {n_originals} originals + planted copies and hard negatives (seed {seed})",
        "source": {"files": {"format": "jsonl", "globs": [ROWS]}},
        "adapter": {"question": "question", "answer": "answer", "images": "image", "id": "id",
                    "reward_type": "reward_type"},
        "reward_type": "string_match", "reward_types": ["numeric", "string_match"],
        "filters": {"min_rows": 1, "min_avg_pixels": 0, "drop_binary_only": False},
        "provenance": {"status": "generated", "notes": "vero_data.dedup_bench.make_planted_set"},
    }
    (out / MANIFEST).write_text(yaml.safe_dump(manifest, sort_keys=False))
    return out / MANIFEST


def read_labels(planted_dir: str | Path) -> list[dict[str, Any]]:
    """The labels of a planted set, in input order."""
    with open(Path(planted_dir) / LABELS) as f:
        return [json.loads(line) for line in f]


# ------------------------------------------------------------------------------------------------- scoring
def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def score_build(labels: list[dict[str, Any]], quarantine: list[dict[str, Any]], exported: dict[str, str]
                ) -> dict[str, Any]:
    """Score a build of the planted set against its labels.

    Args:
        labels: :func:`read_labels`.
        quarantine: quarantine.parquet rows (``upstream_id``, ``stage``, ``reason``, ``dup_of``).
        exported: build id → upstream id of every exported row.

    Returns ``kinds`` (per kind: planted, removed by dedup, kept, other — dropped by another stage or not exported —,
    pct of the target met, removal reasons, and for copies
    ``won`` — kept while its original was removed as a duplicate of it — and ``wrong_link`` — removed as a
    duplicate of a row outside its group; for originals ``lost_to_copy`` and ``wrong_link``), ``summary`` and
    ``by_family``.
    """
    lab = {x["id"]: x for x in labels}
    status: dict[str, tuple[str, str | None, str | None]] = {}  # id → (status, reason, dup_of upstream id)
    for q in quarantine:
        u = q.get("upstream_id")
        if u not in lab:
            continue
        if q["stage"] == "dedup":
            status[u] = ("removed", q["reason"], exported.get(q["dup_of"]) if q.get("dup_of") else None)
        else:
            status[u] = ("other", q["reason"], None)
    for u in exported.values():
        if u in lab:
            status.setdefault(u, ("kept", None, None))

    def group(x: dict[str, Any]) -> str:  # copies belong with their original; a negative stands alone
        return x["original"] if x["role"] in ("original", "copy") else x["id"]

    rows: dict[str, dict[str, Any]] = {k.name: {"kind": k.name, "role": k.role, "target": k.target, "planted": 0,
                                                "removed": 0, "kept": 0, "other": 0, "reasons": Counter(),
                                                "wrong_link": 0, **({"won": 0} if k.role == "copy" else {}),
                                                **({"lost_to_copy": 0} if k.role == "original" else {})}
                                        for k in KINDS}
    fam: dict[str, Counter] = defaultdict(Counter)
    for x in labels:
        st, reason, dup_of = status.get(x["id"], ("other", "not_exported", None))
        r = rows[x["kind"]]
        r["planted"] += 1
        r[st] += 1
        if st != "kept":
            r["reasons"][reason] += 1
        if st == "removed" and dup_of is not None and (dup_of not in lab or group(lab[dup_of]) != group(x)):
            r["wrong_link"] += 1
        if x["role"] == "original" and st == "removed" and dup_of in lab and group(lab[dup_of]) == x["id"]:
            r["lost_to_copy"] += 1
        if x["role"] == "copy" and st == "kept":
            o = status.get(x["original"], ("other", None, None))
            if o[0] == "removed" and o[2] == x["id"]:
                r["won"] += 1
        ok = (st == "removed") if x["role"] == "copy" else (st == "kept")
        fam[x["family"]][f"{x['role']}_planted"] += 1
        fam[x["family"]][f"{x['role']}_ok"] += ok
    kinds = []
    for r in rows.values():
        r["reasons"] = dict(sorted(r["reasons"].items()))
        r["pct"] = _pct(r["removed"] if r["role"] == "copy" else r["kept"], r["planted"])
        kinds.append(r)

    def total(role: str, field: str) -> int:
        return sum(r[field] for r in kinds if r["role"] == role)

    summary = {
        "copies_removed_pct": _pct(total("copy", "removed"), total("copy", "planted")),
        "copies_detected_pct": _pct(total("copy", "removed") + total("copy", "won"), total("copy", "planted")),
        "negatives_kept_pct": _pct(total("negative", "kept"), total("negative", "planted")),
        "originals_kept_pct": _pct(total("original", "kept"), total("original", "planted")),
        "copies": total("copy", "planted"), "negatives": total("negative", "planted"),
        "originals": total("original", "planted"),
    }
    by_family = {f: {"copies_removed_pct": _pct(c["copy_ok"], c["copy_planted"]),
                     "negatives_kept_pct": _pct(c["negative_ok"], c["negative_planted"]),
                     "originals_kept_pct": _pct(c["original_ok"], c["original_planted"])}
                 for f, c in sorted(fam.items())}
    return {"kinds": kinds, "summary": summary, "by_family": by_family}


def score_imagededup(labels: list[dict[str, Any]], duplicates: dict[str, list[str]]) -> dict[str, Any]:
    """Score an image-only duplicate map (file name → file names) on the kinds that have image files of their own:
    a copy is found when it is linked to its original or another copy of it; a negative is flagged when it is linked
    to its original's group; an original is flagged when it is linked to another original's group."""
    own = [x for x in labels if KIND[x["kind"]].image_file]
    name = {x["id"]: Path(x["image"]).name for x in own}
    group_files: dict[str, set[str]] = defaultdict(set)
    family_files: dict[str, set[str]] = defaultdict(set)  # a group + its negatives: not "unrelated"
    for x in own:
        family_files[x["original"]].add(name[x["id"]])
        if x["role"] != "negative":
            group_files[x["original"]].add(name[x["id"]])
    per: dict[str, Counter] = defaultdict(Counter)
    for x in own:
        f = name[x["id"]]
        links = set(duplicates.get(f, ())) - {f}
        c = per[x["kind"]]
        c["planted"] += 1
        if x["role"] == "copy":
            c["found"] += bool(links & group_files[x["original"]])
        elif x["role"] == "negative":
            c["flagged"] += bool(links & group_files[x["original"]])
        else:
            c["flagged"] += bool(links - family_files[x["original"]])
    kinds = [{"kind": k.name, "role": k.role, **per[k.name]} for k in KINDS if k.name in per]
    copies = [r for r in kinds if r["role"] == "copy"]
    negs = [r for r in kinds if r["role"] == "negative"]
    return {"kinds": kinds,
            "copies_found_pct": _pct(sum(r.get("found", 0) for r in copies), sum(r["planted"] for r in copies)),
            "negatives_flagged_pct": _pct(sum(r.get("flagged", 0) for r in negs), sum(r["planted"] for r in negs)),
            "originals_linked_to_unrelated": next((r.get("flagged", 0) for r in kinds if r["role"] == "original"), 0)}


def _imagededup_phash_class():
    """imagededup's ``PHash``, or None when imagededup is not installed. Its ``imagededup.methods`` package imports
    ``cnn.py``, which downloads MobileNet weights at import time and so fails offline; PHash does not need them, so
    the hashing module is imported under a bare stand-in for that package."""
    import importlib
    import importlib.util
    import sys
    import types

    try:
        spec = importlib.util.find_spec("imagededup")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    if "imagededup.methods.hashing" not in sys.modules and "imagededup.methods" not in sys.modules:
        stand_in = types.ModuleType("imagededup.methods")
        stand_in.__path__ = [str(Path(p) / "methods") for p in spec.submodule_search_locations]
        sys.modules["imagededup.methods"] = stand_in
        try:
            importlib.import_module("imagededup.methods.hashing")
        except ImportError as e:  # installed without one of its own dependencies
            log.warning("imagededup is installed but cannot be imported (%s): no baseline", e)
            return None
        finally:
            del sys.modules["imagededup.methods"]  # a later `import imagededup.methods` runs the real package
    return sys.modules["imagededup.methods.hashing"].PHash


def imagededup_phash(image_dir: Path, workers: int, max_distance_threshold: int = 10
                     ) -> tuple[dict[str, list[str]], dict[str, Any]] | None:
    """imagededup's PHash ``find_duplicates`` (encode + search) on every file of ``image_dir``; None when imagededup is
    not installed (it is not a dependency of vero)."""
    PHash = _imagededup_phash_class()
    if PHash is None:
        return None
    from importlib.metadata import version

    # imagededup gives each module logger its own stderr handler at DEBUG, whatever verbose says: quiet them here
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if
               name.startswith("imagededup")]
    levels = [lg.level for lg in loggers]
    n = sum(1 for p in image_dir.iterdir() if p.is_file())
    try:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        t = time.perf_counter()
        dups = PHash(verbose=False).find_duplicates(image_dir=image_dir, max_distance_threshold=max_distance_threshold,
                                                    num_enc_workers=workers, num_dist_workers=workers)
        s = time.perf_counter() - t
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    return dups, {"version": version("imagededup"), "max_distance_threshold": max_distance_threshold,
                  "images": n, "seconds": round(s, 2), "images_per_s": round(n / s, 1) if s else None}


def _decode_files(paths: list[str]) -> int:
    for p in paths:
        with Image.open(p) as im:
            im.load()
    return len(paths)


def decode_rate(image_dir: Path, workers: int, chunk: int = 32) -> dict[str, Any]:
    """Images/s of decoding every file of ``image_dir`` once (PIL open + load) on ``workers`` processes, pool start
    included as it is in imagededup's figure: the ceiling of any dedup that reads every image's pixels at full size,
    so "N× imagededup's images/s" is only possible where this rate is N times imagededup's."""
    paths = sorted(str(p) for p in image_dir.iterdir() if p.is_file())
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    t = time.perf_counter()
    if workers > 1 and len(chunks) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            n = sum(pool.imap_unordered(_decode_files, chunks))
    else:
        n = sum(map(_decode_files, chunks))
    s = time.perf_counter() - t
    return {"images": n, "seconds": round(s, 2), "images_per_s": round(n / s, 1) if s else None}


# ------------------------------------------------------------------------------------------------- the run
def _planted_dir(root: Path, n: int, seed: int, workers: int) -> tuple[Path, float]:
    """``root/planted``: reused when an earlier run with --out wrote the same set, else (re)written."""
    d = root / "planted"
    meta = d / META
    if meta.is_file():
        m = json.loads(meta.read_text())
        if (m.get("version"), m.get("n_originals"), m.get("seed")) == (VERSION, n, seed) and (d / MANIFEST).is_file():
            return d / MANIFEST, 0.0
        shutil.rmtree(d)  # ours (it has our meta file), for another n or seed
    t = time.perf_counter()
    manifest = make_planted_set(d, n, seed, workers)
    return manifest, time.perf_counter() - t


def _exported_ids(shards: list[Path]) -> dict[str, str]:
    import pyarrow.parquet as pq

    out: dict[str, str] = {}
    for s in shards:
        t = pq.read_table(s, columns=["id", "lineage"]).to_pylist()
        out.update({r["id"]: r["lineage"]["upstream_id"] for r in t})
    return out


def run_dedup_bench(n_originals: int = 1000, seed: int = 0, workers: int = 2, work_dir: str | Path | None = None,
                    progress: Callable[[str], None] | None = None, imagededup: bool = True,
                    dedup_config: str | Path | None = None) -> dict[str, Any]:
    """Build the planted set with the real build and score it; see the module docstring.

    Args:
        n_originals: distinct originals (rows: about 1.85 per original).
        seed: the planted set's seed.
        workers: build workers, imagededup's encode/search workers and the renderers.
        work_dir: keep the planted set (reused by a later run with the same n and seed) and the build here;
            default: a temporary folder, deleted at the end.
        progress: called with a line before each step (the CLI prints it on stderr).
        imagededup: also run imagededup's PHash when it is installed.
        dedup_config: a YAML file with a ``dedup:`` block (a recipe works) to measure instead of the defaults, as
            ``vero data build --dedup-config`` takes it: thresholds, another embedder.
    """
    import polars as pl

    from vero_data.build import build
    from vero_data.config import BuildConfig
    from vero_data.manifest import DedupSettings, load_dedup_settings

    say = progress or (lambda s: None)
    settings = load_dedup_settings(dedup_config) if dedup_config else DedupSettings()  # a bad file fails before any work
    tmp = tempfile.TemporaryDirectory(prefix="vero-bench-dedup-") if work_dir is None else None
    root = Path(tmp.name) if tmp else Path(work_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        say(f"planting {n_originals} originals (seed {seed}) in {root / 'planted'}")
        manifest, gen_s = _planted_dir(root, n_originals, seed, workers)
        labels = read_labels(manifest.parent)
        image_dir = manifest.parent / IMAGES
        n_files = sum(1 for p in image_dir.iterdir() if p.is_file())
        say(f"building {len(labels)} rows ({n_files} image files) with {workers} worker(s)")
        t = time.perf_counter()
        res = build(BuildConfig(out=root / "out", manifests=[str(manifest)], workers=workers, overwrite=True,
                                progress=False, dedup_config=str(dedup_config) if dedup_config else None))
        build_s = time.perf_counter() - t
        quarantine = pl.read_parquet(res.out / "quarantine.parquet",
                                     columns=["upstream_id", "stage", "reason", "dup_of"]).to_dicts()
        scored = score_build(labels, quarantine, _exported_ids(res.shards))
        result: dict[str, Any] = {
            "version": VERSION, "n_originals": n_originals, "seed": seed, "workers": workers, "rows": len(labels),
            "image_files": n_files, "generate_s": round(gen_s, 1), **scored, "targets": TARGETS,
            "build": {"seconds": round(build_s, 2), "rows_per_s": round(len(labels) / build_s, 1),
                      "image_files_per_s": round(n_files / build_s, 1), "exported": res.rows,
                      "timings_s": res.report.get("timings_s"), "dedup_settings": settings.model_dump(),
                      "dedup_config": str(dedup_config) if dedup_config else None,
                      "dedup_removed": res.report.get("dedup", {}).get("removed")},
            "imagededup": None, "speedup_over_imagededup": None, "decode": None, "decode_over_imagededup": None,
            "work_dir": None if tmp else str(root),
        }
        say(f"decoding the same {n_files} files once (the ceiling of any dedup that reads their pixels)")
        result["decode"] = decode_rate(image_dir, workers)
        if imagededup:
            say(f"imagededup PHash on the same {n_files} files")
            got = imagededup_phash(image_dir, workers)
            if got is None:
                log.info("imagededup is not installed: no baseline (pip install imagededup)")
            else:
                dups, figures = got
                result["imagededup"] = {**figures, **score_imagededup(labels, dups)}
                if figures["images_per_s"]:
                    result["speedup_over_imagededup"] = round(result["build"]["rows_per_s"] / figures["images_per_s"],
                                                              2)
                    result["decode_over_imagededup"] = round(result["decode"]["images_per_s"]
                                                             / figures["images_per_s"], 2)
        return result
    finally:
        if tmp:
            tmp.cleanup()
