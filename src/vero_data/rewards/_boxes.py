"""Shared helpers for grounding and clicking: JSON-array extraction, image sizes, coordinate conventions."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from vero_data.rewards._text import BOXED, boxed_contents

MAX_JSON_CHARS = 2_000_000
_FENCE = re.compile(r"```(?:json)?\s*(\[.*?\])\s*```", re.DOTALL)
_ARRAY_OPEN = re.compile(r"\[\s*\{")
_ARRAY_CLOSE = re.compile(r"\}\s*\]")
_MOLMO_COORDS = re.compile(r'<(?:points|tracks).*? coords="([0-9\t:;, .]+)"/?>')
_MOLMO_FRAME = re.compile(r"(?:^|\t|:|,|;)([0-9\.]+) ([0-9\. ]+)")
_MOLMO_POINT = re.compile(r"([0-9]+) ([0-9]{3,4}) ([0-9]{3,4})")


def _loads(text: str) -> Any:
    if len(text) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def json_array_from_text(text: str) -> list | None:
    """The first JSON array of objects in ``text``: a fenced block first, then the first ``[{ … }]`` fragment.

    The fragment is the shortest ``[`` ``{`` … ``}`` ``]`` span from the first ``[{``, found in linear time.

    >>> json_array_from_text('see [{"a": 1}, {"b": 2}] here')
    [{'a': 1}, {'b': 2}]
    """
    if "```" in text and len(text) <= 200_000:
        m = _FENCE.search(text)
        if m:
            parsed = _loads(m.group(1))
            if parsed is not None:
                return parsed
    m = _ARRAY_OPEN.search(text)
    if not m:
        return None
    close = _ARRAY_CLOSE.search(text, m.end())
    if not close:
        return None
    return _loads(text[m.start() : close.end()])


def strict_array_text(text: str) -> str | None:
    """``text`` stripped, if the whole of it is a JSON array."""
    candidate = text.strip()
    if not candidate or candidate[0] != "[":
        return None
    return candidate if isinstance(_loads(candidate), list) else None


def _molmo_grounding(text: str) -> str | None:
    candidate = text.strip()
    if not candidate.startswith("{"):
        return None
    parsed = _loads(candidate)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("results"), list):
        return None
    items = []
    for r in parsed["results"]:
        if not isinstance(r, dict):
            continue
        try:
            x1, y1, x2, y2 = (int(round(float(r[k]))) for k in ("x_min", "y_min", "x_max", "y_max"))
        except (KeyError, TypeError, ValueError, OverflowError):
            continue
        x1, x2 = sorted((x1, x2))
        y1, y2 = sorted((y1, y2))
        items.append({"bbox_2d": [max(0, min(v, 1000)) for v in (x1, y1, x2, y2)]})
    if not items and parsed["results"]:
        return None
    return json.dumps(items)


def _molmo_clicking(text: str) -> str | None:
    for coords in _MOLMO_COORDS.finditer(text):
        for frame in _MOLMO_FRAME.finditer(coords.group(1)):
            for p in _MOLMO_POINT.finditer(frame.group(2)):
                x, y = (max(0, min(int(p.group(i)), 1000)) for i in (2, 3))
                return json.dumps([{"point_2d": [x, y]}])
    return None


def box_payload(answer: str, reward_type: str, extra_info: Any, lenient: bool = False) -> str | None:
    r"""The grounding/clicking prediction: last non-empty ``\boxed{}`` or the answer, as a strict JSON array."""
    candidate = answer.strip()
    if not candidate:
        return None
    source = candidate
    if BOXED in candidate:
        boxes = boxed_contents(candidate)
        if boxes and boxes[-1]:
            source = boxes[-1]
    family = extra_info.get("model_family") if isinstance(extra_info, dict) else None
    if isinstance(family, str) and family.strip().lower() == "molmo2":
        molmo = _molmo_grounding(source) if reward_type == "grounding" else _molmo_clicking(source)
        if molmo:
            return molmo
    strict = strict_array_text(source)
    if strict is None and lenient:
        parsed = json_array_from_text(source)
        if parsed is None:
            obj = _loads(source.strip().strip("`").removeprefix("json").strip())
            parsed = [obj] if isinstance(obj, dict) else None
        return json.dumps(parsed) if isinstance(parsed, list) else None
    return strict


def image_size(extra_info: Any) -> tuple[int, int] | None:
    """(width, height) from ``image_sizes``/``image_size`` exactly as Vero reads them, else None."""
    if not isinstance(extra_info, dict):
        return None
    sizes = extra_info.get("image_sizes") or extra_info.get("image_size")
    size = sizes[0] if isinstance(sizes, list) and sizes else sizes
    if isinstance(size, dict):
        w, h = size.get("width"), size.get("height")
    elif isinstance(size, list | tuple) and len(size) == 2:
        w, h = size
    else:
        return None
    if isinstance(w, int | float) and isinstance(h, int | float):
        try:
            return int(w), int(h)
        except (ValueError, OverflowError):
            return None
    return None


def image_path(extra_info: Any) -> str | None:
    if not isinstance(extra_info, dict):
        return None
    images = extra_info.get("images")
    if isinstance(images, list | tuple) and images and isinstance(images[0], str):
        return images[0]
    path = extra_info.get("image_path") or extra_info.get("image")
    return path if isinstance(path, str) else None


def read_image_size(path: str) -> tuple[int, int] | None:
    """(width, height) of the image file as the model sees it (after EXIF orientation), else None."""
    from vero_data.errors import RowError
    from vero_data.images import image_size as shown_size

    try:
        return shown_size(path)
    except (RowError, OSError, ValueError):
        return None


def normalized_mode(extra_info: Any) -> bool:
    return bool(extra_info.get("normalize_bbox_to_1000")) if isinstance(extra_info, dict) else False


def as_box(coords: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(coords, list) or len(coords) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(c) for c in coords)
    except (TypeError, ValueError, OverflowError):
        return None
    return x1, y1, x2, y2


def to_grid(box: tuple[float, float, float, float], w: int | None, h: int | None):
    """Absolute pixels → the 0–1000 grid (rounded, clamped), or None without a size."""
    if not w or not h:
        return None
    x1, y1, x2, y2 = box
    try:
        return tuple(
            max(0.0, min(float(round(v / d * 1000.0)), 1000.0)) for v, d in ((x1, w), (y1, h), (x2, w), (y2, h))
        )
    except (ValueError, OverflowError):
        return None


def gold_boxes(truth: str, normalized: bool, w: int | None, h: int | None) -> list[tuple[float, ...]]:
    parsed = json_array_from_text(truth)
    if not parsed:
        return []
    out = []
    for item in parsed:
        if not isinstance(item, dict):
            continue
        box = as_box(item.get("bbox_2d"))
        if box is not None and normalized:
            box = to_grid(box, w, h)
        if box is not None:
            out.append(box)
    return out


def finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)
