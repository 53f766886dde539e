"""AerialVG (box IoU) and ScreenSpot / ScreenSpot-Pro (point in box) scorers (eval_scoring.md §19–21)."""

from __future__ import annotations

import json
import re
from typing import Any

from vero_data.benchmarks.extract import final_answer
from vero_data.benchmarks.scoring import ScoreContext, resolve_path, scorer
from vero_data.rewards.grounding import iou

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def image_size(doc: dict, ctx: ScoreContext) -> tuple[int, int] | None:
    """(width, height) from ``width``/``height`` fields or the ``image`` (PIL, bytes, bytes dict or path) as the
    model sees it (``vero_data.images.image_size``: after EXIF orientation); None when there is none or it cannot
    be read."""
    from vero_data.errors import RowError
    from vero_data.images import image_size as shown_size

    if doc.get("width") and doc.get("height"):
        return int(doc["width"]), int(doc["height"])
    img: Any = doc.get("image")
    if isinstance(img, dict) and not img.get("bytes"):
        img = img.get("path")
    if isinstance(img, str):
        try:
            img = resolve_path(img, ctx.base_dir)
        except OSError:  # not a path (a base64 string too long for a file name)
            return None
    if img is None:
        return None
    try:
        return shown_size(img)
    except RowError:
        return None


def _numbers(v: Any) -> list[float] | None:
    if isinstance(v, list | tuple) and v and all(isinstance(x, int | float) for x in v):
        return [float(x) for x in v]
    return None


def _from_json(obj: Any, keys: tuple[str, ...], n: int) -> list[float] | None:
    if isinstance(obj, dict):
        for k in keys:
            if k in obj and (v := _numbers(obj[k])) and len(v) >= n:
                return v[:n]
        return None
    if isinstance(obj, list | tuple):
        if (v := _numbers(obj)) and len(v) >= n:
            return v[:n]
        for item in obj:
            if (got := _from_json(item, keys, n)) is not None:
                return got
    return None


def parse_coords(text: str, keys: tuple[str, ...], n: int) -> list[float] | None:
    """JSON (a key in ``keys`` or a bare list), the last fenced JSON block, ``key: [...]``, else the last n numbers."""
    t = text.strip()
    try:
        if (got := _from_json(json.loads(t), keys, n)) is not None:
            return got
    except (ValueError, TypeError):
        pass
    for block in reversed(_FENCE.findall(t)):
        try:
            if (got := _from_json(json.loads(block.strip()), keys, n)) is not None:
                return got
        except (ValueError, TypeError):
            continue
    for k in keys:
        if m := re.findall(rf"{k}\"?\s*[:=]\s*[\[(]([^\])]*)[\])]", t):
            nums = [float(x) for x in _NUM.findall(m[-1])]
            if len(nums) >= n:
                return nums[:n]
    nums = [float(x) for x in _NUM.findall(t)]
    return nums[-n:] if len(nums) >= n else None


def _clip_box(b: list[float], w: float | None, h: float | None) -> tuple[float, float, float, float]:
    x1, x2 = sorted((b[0], b[2]))
    y1, y2 = sorted((b[1], b[3]))
    if w is not None and h is not None:
        x1, x2 = min(max(x1, 0.0), w), min(max(x2, 0.0), w)
        y1, y2 = min(max(y1, 0.0), h), min(max(y2, 0.0), h)
    return x1, y1, x2, y2


@scorer("aerialvg")
def score_aerialvg(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§19: IoU of the predicted box with the first gold region; acc@0.5 is the headline."""
    size = image_size(doc, ctx)
    w, h = (float(size[0]), float(size[1])) if size else (None, None)
    gt = doc.get("bbox")
    pred = parse_coords(final_answer(response), ("bbox_2d", "bbox"), 4)
    if not gt or pred is None:
        return {"aerialvg_iou": 0.0, "aerialvg_acc@0.5": 0.0, "aerialvg_acc@0.75": 0.0}
    fmt = doc.get("pred_bbox_format") or "abs_pixel"
    if fmt in ("relative_1000", "relative_1") and w and h:
        s = 1000.0 if fmt == "relative_1000" else 1.0
        pred = [pred[0] / s * w, pred[1] / s * h, pred[2] / s * w, pred[3] / s * h]
    v = iou(_clip_box(pred, w, h), _clip_box([float(x) for x in gt[:4]], w, h))
    return {"aerialvg_iou": v, "aerialvg_acc@0.5": float(v >= 0.5), "aerialvg_acc@0.75": float(v >= 0.75)}


def _inside(p: tuple[float, float], b: list[float]) -> bool:
    return b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3]


# ScreenSpot / ScreenSpot-Pro after the fork's utils_point.py (screenspotpro/utils_point.py and the ScreenSpot
# copy): the point is read from extract_final_answer(response) by _parse_pred_point's order, the reasoning tasks use
# pred_point_format abs_pixel (screenspot_point_process_docs_abs); an unparsed point is (0, 0).
_FORK_NUM = re.compile(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")
_FORK_FENCE = re.compile(r"```(?:json)?\s*(\[[\s\S]*?\])\s*```", re.I)
_FORK_POINT_KEY = re.compile(r"point_2d\"?\s*[:=]\s*\[\s*([^\]]+)\]", re.I)
_FORK_PAIR = re.compile(r"\[\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)\s*\]")


def _point_in_json(obj: Any) -> list[float] | None:
    """The first ``point_2d`` (≥ 2 values) found depth-first through dict values and list items."""
    if isinstance(obj, dict):
        v = obj.get("point_2d")
        if isinstance(v, list | tuple) and len(v) >= 2:
            try:
                return [float(v[0]), float(v[1])]
            except (TypeError, ValueError):
                return None
        children = list(obj.values())
    elif isinstance(obj, list):
        children = obj
    else:
        return None
    for c in children:
        if (got := _point_in_json(c)) is not None:
            return got
    return None


def screenspot_point(response: str) -> list[float] | None:
    """The predicted point, tried in the fork's order: the whole answer as JSON, fenced ``[...]`` JSON blocks (last
    first), the last ``point_2d: [..]`` (its first two numbers), the last ``[a, b]`` pair, the last two numbers."""
    text = final_answer(response)
    try:
        if (got := _point_in_json(json.loads(text))) is not None:
            return got
    except (ValueError, TypeError, RecursionError):
        pass
    for block in reversed(_FORK_FENCE.findall(text)):
        try:
            if (got := _point_in_json(json.loads(block))) is not None:
                return got
        except (ValueError, TypeError, RecursionError):
            continue
    if m := _FORK_POINT_KEY.findall(text):
        nums = _FORK_NUM.findall(m[-1])
        if len(nums) >= 2:
            return [float(nums[0]), float(nums[1])]
    if m := _FORK_PAIR.findall(text):
        return [float(m[-1][0]), float(m[-1][1])]
    nums = _FORK_NUM.findall(text)
    return [float(nums[-2]), float(nums[-1])] if len(nums) >= 2 else None


@scorer("screenspot")
def score_screenspot(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§20, the fork's ``_normalize_point``/``_normalize_bbox``: pixel point ÷ image size, clipped to [0, 1] (no
    image size → (0, 0)); the hub box is normalised, clipped to [0, 1] and sorted; borders inclusive."""
    b = [float(x) for x in doc.get("bbox") or [0, 0, 0, 0]]
    x1, x2 = sorted((min(max(b[0], 0.0), 1.0), min(max(b[2], 0.0), 1.0)))
    y1, y2 = sorted((min(max(b[1], 0.0), 1.0), min(max(b[3], 0.0), 1.0)))
    pt = screenspot_point(response)
    size = image_size(doc, ctx)
    if pt is None or not size or not size[0] or not size[1]:
        x, y = 0.0, 0.0
    else:
        x = min(max(pt[0] / size[0], 0.0), 1.0)
        y = min(max(pt[1] / size[1], 0.0), 1.0)
    return {"screenspot_PointInBox_ACC": float(_inside((x, y), [x1, y1, x2, y2]))}


@scorer("screenspot_pro")
def score_screenspot_pro(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§21, the fork's ``_clamp_point``/``_abs_bbox_to_format`` (abs_pixel): point and box clamped to the image when
    its size is known, box sorted; an unparsed point is (0, 0)."""
    b = [float(x) for x in doc.get("bbox") or [0, 0, 0, 0]]
    pt = screenspot_point(response) or [0.0, 0.0]
    size = image_size(doc, ctx)
    w, h = (float(size[0]), float(size[1])) if size else (0.0, 0.0)
    x, y = pt
    if w:
        x, b[0], b[2] = (min(max(v, 0.0), w) for v in (x, b[0], b[2]))
    if h:
        y, b[1], b[3] = (min(max(v, 0.0), h) for v in (y, b[1], b[3]))
    x1, x2 = sorted((b[0], b[2]))
    y1, y2 = sorted((b[1], b[3]))
    return {"screenspot_PointInBox_ACC": float(_inside((x, y), [x1, y1, x2, y2]))}


def aerialvg_first_region(rows):
    """process_docs after the fork's aerialvg_process_docs: one doc per image from its first annotated region
    (``grounding.regions[0]``: phrase, the hub's misspelt ``realation``, bbox) with the image ``caption``; rows
    without a 4-number box are skipped. Rows already flat (``bbox`` at the top level) pass through. Images come from
    the row's ``image``; the fork downloads ``images/<filename>`` from the dataset repo when there is none."""
    for row in rows:
        if "bbox" in row and "grounding" not in row:
            yield row
            continue
        g = row.get("grounding") or {}
        regions = g.get("regions") or []
        if not regions or not regions[0].get("bbox") or len(regions[0]["bbox"]) != 4:
            continue
        r = regions[0]
        d = {k: v for k, v in row.items() if k != "grounding"}
        d.update(phrase=r.get("phrase", ""), relation=r.get("realation"), caption=g.get("caption", ""),
                 bbox=r["bbox"], region_idx=0, pred_bbox_format="abs_pixel")
        if d.get("image") is None and row.get("filename"):
            d["image"] = _aerialvg_image(row["filename"])
        yield d


def _aerialvg_image(filename: str):
    try:
        from huggingface_hub import hf_hub_download

        return hf_hub_download("IPEC-COMMUNITY/AerialVG", filename=f"images/{filename}", repo_type="dataset")
    except Exception:  # offline: the doc has no image; generation reports it
        return None
