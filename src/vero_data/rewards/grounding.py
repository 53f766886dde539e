"""grounding: one-to-one Hungarian matching of predicted and gold boxes at IoU ≥ 0.5, Perception-R1 style."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vero_data.rewards import _boxes
from vero_data.rewards.base import register

DEFAULT_WEIGHTS = {"location": 1.0, "recall": 0.75, "penalty": 0.5}
DEFAULT_IOU = 0.5
# Above this many IoU cells (pred × gold) the case is refused: a 10k × 10k assignment would need gigabytes.
MAX_CELLS = 4_000_000


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two ``[x1, y1, x2, y2]`` boxes; corners are not reordered (a flipped box has zero area).

    >>> iou((0, 0, 50, 50), (0, 0, 30, 50))
    0.6
    """
    pa = max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0)
    ga = max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = iw * ih
    return inter / max(pa + ga - inter, 1e-12)


def _matched_ious(preds: list, golds: list, thr: float) -> list[float]:
    """IoUs of a maximum-cardinality, maximum-IoU one-to-one matching over pairs with IoU ≥ ``thr``."""
    n, m = len(preds), len(golds)
    if n == 1 or m == 1:  # one side has a single box: the best valid pair is the whole matching
        best = None
        for p in preds:
            for g in golds:
                v = iou(p, g)
                if v >= thr and (best is None or 1.0 - v < 1.0 - best):
                    best = v
        return [] if best is None else [best]
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    pb, gb = np.asarray(preds, dtype=float), np.asarray(golds, dtype=float)
    pa = (pb[:, 2] - pb[:, 0]).clip(min=0) * (pb[:, 3] - pb[:, 1]).clip(min=0)
    ga = (gb[:, 2] - gb[:, 0]).clip(min=0) * (gb[:, 3] - gb[:, 1]).clip(min=0)
    iw = (np.minimum(pb[:, None, 2], gb[None, :, 2]) - np.maximum(pb[:, None, 0], gb[None, :, 0])).clip(min=0)
    ih = (np.minimum(pb[:, None, 3], gb[None, :, 3]) - np.maximum(pb[:, None, 1], gb[None, :, 1])).clip(min=0)
    inter = iw * ih
    ious = inter / np.maximum(pa[:, None] + ga[None, :] - inter, 1e-12)
    valid = ious >= thr
    if not valid.any():
        return []
    # Rows/columns without a valid pair cannot be matched; dropping them keeps the assignment small.
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    sub = ious[np.ix_(rows, cols)]
    cost = 1.0 - sub
    cost[sub < thr] = 1e6
    r, c = linear_sum_assignment(cost)
    return [float(sub[i, j]) for i, j in zip(r, c, strict=True) if sub[i, j] >= thr]


def grounding_score(preds: list, golds: list, weights: dict[str, float], thr: float) -> float:
    """``clip(w_loc·mean_iou + w_rec·F1 − w_pen·0.5·(FP/num_pred + FN/num_gt), 0, 1)``.

    >>> round(grounding_score([(0, 0, 30, 50), (60, 60, 90, 90), (70, 0, 99, 20)], [(0, 0, 50, 50)],
    ...                       DEFAULT_WEIGHTS, 0.5), 4)
    0.8083
    """
    if not golds:
        return 0.0
    n, m = len(preds), len(golds)
    matched = _matched_ious(preds, golds, thr) if n else []
    tp = len(matched)
    if tp:
        if tp < 8:
            mean_iou = sum(matched) / tp
        else:
            import numpy as np

            mean_iou = float(np.mean(matched))
        precision, recall = tp / n, tp / m
        f1 = (2 * precision * recall) / (precision + recall)
    else:
        mean_iou, f1 = 0.0, 0.0
    fp_rate = (n - tp) / n if n else 0.0
    miss = 0.5 * (fp_rate + (m - tp) / m)
    score = weights["location"] * mean_iou + weights["recall"] * f1 - weights["penalty"] * miss
    return min(max(score, 0.0), 1.0)


def _settings(extra_info: Any) -> tuple[dict[str, float], float]:
    weights, thr = dict(DEFAULT_WEIGHTS), DEFAULT_IOU
    if isinstance(extra_info, dict):
        override = extra_info.get("grounding_component_weights") or extra_info.get("component_weights")
        if isinstance(override, dict):
            weights.update({k: float(v) for k, v in override.items() if isinstance(v, int | float)})
        if extra_info.get("iou_threshold") is not None:
            try:
                thr = float(extra_info["iou_threshold"])
            except (TypeError, ValueError):
                pass
    return weights, thr


@lru_cache(maxsize=4096)
def _gold_cached(truth: str, normalized: bool, w: int | None, h: int | None) -> tuple:
    return tuple(_boxes.gold_boxes(truth, normalized, w, h))


@register("grounding", extraction="json", needs_image_sizes=True, answer_form="verbatim", subtag="grounding",
          subtag_unless=())
def grounding(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Box-set accuracy; ``pred`` is the strict JSON array ``[{"bbox_2d": [x1, y1, x2, y2]}, …]``.

    >>> grounding('[{"bbox_2d": [0, 0, 30, 50]}]', '[{"bbox_2d": [0, 0, 50, 50]}]', {"image_sizes": [[100, 100]]})
    1.0
    """
    size = _boxes.image_size(extra_info)
    path = _boxes.image_path(extra_info)
    if size is None and path is None:
        return 0.0
    normalized = _boxes.normalized_mode(extra_info)
    w = h = None
    if normalized:
        if size is None:
            size = _boxes.read_image_size(path) if path else None
        w, h = size if size else (None, None)
    golds = list(_gold_cached(truth, normalized, w, h))
    if not golds:
        return 0.0
    parsed = _boxes.json_array_from_text(pred)
    preds = []
    for item in parsed or ():
        if isinstance(item, dict):
            box = _boxes.as_box(item.get("bbox_2d"))
            if box is not None:
                preds.append(box)
    if len(preds) * len(golds) > MAX_CELLS:
        return 0.0
    weights, thr = _settings(extra_info)
    return float(grounding_score(preds, golds, weights, thr))
