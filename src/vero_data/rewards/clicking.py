"""clicking: the first predicted point lies inside the first gold box (inclusive)."""

from __future__ import annotations

from vero_data.rewards import _boxes
from vero_data.rewards.base import register


@register("clicking", extraction="json", needs_image_sizes=True, answer_form="verbatim", subtag="clicking",
          subtag_unless=())
def clicking(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Point-in-box; absolute points must also lie inside the image.

    >>> info = {"image_sizes": [[100, 100]]}
    >>> clicking('[{"point_2d": [60, 60]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', info)
    1.0
    >>> clicking('[{"point_2d": [61, 35]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', info)
    0.0
    """
    size = _boxes.image_size(extra_info)
    if size is None:
        path = _boxes.image_path(extra_info)
        size = _boxes.read_image_size(path) if path else None
        if size is None:
            return 0.0
    w, h = size
    parsed = _boxes.json_array_from_text(pred)
    if not parsed:
        return 0.0
    item = parsed[0]
    if not isinstance(item, dict):
        return 0.0
    point = item.get("point_2d")
    if not point or not isinstance(point, list) or len(point) != 2:
        return 0.0
    try:
        x, y = float(point[0]), float(point[1])
    except (TypeError, ValueError, OverflowError):
        return 0.0
    normalized = _boxes.normalized_mode(extra_info)
    if not normalized and not (0 <= x <= w and 0 <= y <= h):
        return 0.0
    golds = _boxes.gold_boxes(truth, normalized, w, h)
    if not golds:
        return 0.0
    x1, y1, x2, y2 = golds[0]
    return 1.0 if x1 <= x <= x2 and y1 <= y <= y2 else 0.0
