"""Grounding and clicking formats. Ground truth is always absolute-pixel ``[{"bbox_2d": [x1, y1, x2, y2]}]``
with ``extra_info.image_sizes = [[w, h]]`` (the reward's convention, rewards.md "grounding" / "clicking").

* ``refcocog``: jxu124/refcocog (COCO train2014 images under ``image_root``; ``bbox`` is COCO xywh).
* ``aerialvg``: IPEC-COMMUNITY/AerialVG (``grounding.regions[].{phrase, bbox}``), one sample per region.
* ``bbox_click``: one instruction + one box per row (GroundUI-18K, KVG); ``reward`` clicking (default) or grounding.
* ``osatlas``: OS-Copilot/OS-Atlas-data JSON (``img_filename``, ``elements[].{instruction, bbox}``).
"""

from __future__ import annotations

import json
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import box_answer, get, image_size, images_from, param, text, to_abs_xyxy
from vero_data.sources.base import AdapterContext, register_adapter

GROUNDING_TEMPLATE = (
    'Locate {what} in the image. Output the bounding box as JSON: [{{"bbox_2d": [x1, y1, x2, y2]}}] '
    "in absolute pixel coordinates."
)
CLICK_TEMPLATE = (
    'Where should you click to {what}? Output the point as JSON: [{{"point_2d": [x, y]}}] '
    "in absolute pixel coordinates."
)


def _size(row: dict[str, Any], images: list[Any], ctx: AdapterContext) -> tuple[int, int]:
    """Image size from width/height-like columns when present (no decoding), else from the image."""
    for wk, hk in (("width", "height"), ("image_width", "image_height"), ("img_width", "img_height")):
        if row.get(wk) and row.get(hk):
            return int(row[wk]), int(row[hk])
    res = row.get(param(ctx, "size_column", "resolution"))
    if isinstance(res, (list, tuple)) and len(res) == 2:
        return int(res[0]), int(res[1])
    return image_size(images[0])


def _sample(what: str, box: Any, images: list[Any], size: tuple[int, int], ctx: AdapterContext, uid: str | None,
            reward: str, fmt: str, label: str | None = None, extra: dict[str, Any] | None = None) -> RawSample:
    b = to_abs_xyxy(box, size, fmt)
    tpl = param(ctx, "template", CLICK_TEMPLATE if reward == "clicking" else GROUNDING_TEMPLATE)
    q = tpl.format(what=what)
    info = {"image_sizes": [list(size)], **(extra or {})}
    return RawSample(q, images, box_answer([b], label), reward, info, upstream_id=uid)


def _json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return v


@register_adapter("refcocog")
def refcocog(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """jxu124/refcocog: ``captions`` / ``sentences[].raw`` + COCO-xywh ``bbox``; image from ``image_path``.

    ``adapter_params``: ``image_root`` (folder holding ``coco/train2014/…`` or the files), ``sentences``
    (``first`` default, ``all``: one sample per referring expression).
    """
    caps = row.get("captions") or [s.get("raw") or s.get("sent") for s in (row.get("sentences") or [])]
    caps = [str(c).strip() for c in caps if c and str(c).strip()]
    if not caps:
        raise RowError("empty_question", "no referring expression", "captions")
    img = row.get("image") if row.get("image") is not None else (row.get("image_path") or row.get("file_name"))
    images = images_from(img, ctx)
    info = _json(row.get("raw_image_info")) or {}
    size = (int(info["width"]), int(info["height"])) if info.get("width") and info.get("height") else image_size(images[0])
    bbox = row.get("bbox") or (_json(row.get("raw_anns")) or {}).get("bbox")
    if not bbox:
        raise RowError("no_bbox", "row has no bbox", "bbox")
    if param(ctx, "sentences", "first") == "first":
        caps = caps[:1]
    rid = row.get("ref_id", ctx.index)
    return [
        _sample(f'the object described as "{c}"', bbox, images, size, ctx, f"{rid}-{i}", "grounding",
                param(ctx, "bbox_format", "xywh"))
        for i, c in enumerate(caps)
    ]


@register_adapter("aerialvg")
def aerialvg(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """IPEC-COMMUNITY/AerialVG: one grounding sample per ``grounding.regions[]`` phrase (boxes clipped to the image).

    Field names follow Vero's own eval task (``regions[].phrase``, ``regions[].bbox``, ``regions[].realation``).
    """
    images = images_from(row.get("image") if row.get("image") is not None else row.get("filename"), ctx)
    size = _size(row, images, ctx)
    g = _json(row.get("grounding")) or {}
    regions = g.get("regions") or row.get("regions") or []
    if not regions:
        raise RowError("no_bbox", "no grounding regions", "grounding")
    out, errors = [], []
    for i, r in enumerate(regions):
        try:
            phrase = text(r.get("phrase"), "question")
            rel = r.get("realation") or r.get("relation")
            what = f'"{phrase}"' + (f" ({rel})" if rel else "")
            out.append(_sample(what, r.get("bbox"), images, size, ctx, f"{row.get('id', ctx.index)}-{i}", "grounding",
                               param(ctx, "bbox_format", "xyxy"), extra={"caption": g.get("caption")}))
        except RowError as e:
            errors.append(e)
    if not out:
        raise errors[0]
    return out


@register_adapter("bbox_click")
def bbox_click(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """One instruction/expression and one box per row (GroundUI-18K, KVG).

    ``adapter_params``: ``question`` (default ``instruction``), ``bbox`` (default ``bbox``), ``image``
    (default ``image``), ``bbox_format`` (default ``xyxy``), ``reward`` (``clicking`` default, or
    ``grounding``), ``template``, ``id``.
    """
    q = text(get(row, param(ctx, "question", "instruction")), "question")
    images = images_from(get(row, param(ctx, "image", "image")), ctx)
    size = _size(row, images, ctx)
    box = get(row, param(ctx, "bbox", "bbox"))
    box = _json(box) if isinstance(box, str) else box
    if box and isinstance(box[0], (list, tuple)):
        box = box[0]
    reward = param(ctx, "reward", "clicking")
    what = q[0].lower() + q[1:] if reward == "clicking" else f'"{q}"'
    uid = get(row, param(ctx, "id", "id"), None)
    extra = {k: row[k] for k in ("platform", "source") if isinstance(row.get(k), str)}
    return _sample(what.rstrip("."), box, images, size, ctx, None if uid is None else str(uid), reward,
                   param(ctx, "bbox_format", "xyxy"), extra=extra)


@register_adapter("osatlas")
def osatlas(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """OS-Atlas grounding JSON: one clicking sample per ``elements[]`` entry (``instruction``, ``bbox``).

    ``adapter_params``: ``image_root`` (unzipped domain images), ``bbox_format`` (``xyxy`` default; mobile
    files use ``xyxy_norm1000`` in some releases), ``max_elements`` (cap per screenshot).
    """
    images = images_from(row.get("image") if row.get("image") is not None else row.get("img_filename"), ctx)
    size = _size(row, images, ctx)
    elements = row.get("elements") or []
    if not elements:
        raise RowError("no_bbox", "no elements", "elements")
    cap = param(ctx, "max_elements")
    out, errors = [], []
    for i, el in enumerate(elements[: cap or None]):
        try:
            q = text(el.get("instruction"), "question").rstrip(".")
            out.append(_sample(q[0].lower() + q[1:], el.get("bbox"), images, size, ctx,
                               f"{row.get('img_filename', ctx.index)}-{i}", "clicking",
                               param(ctx, "bbox_format", "xyxy")))
        except RowError as e:
            errors.append(e)
    if not out:
        raise errors[0]
    return out
