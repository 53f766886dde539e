"""Visual search / multi-hop counting formats (Pixel Reasoner, Visual Probe, MultiHop from Zebra-CoT).

* ``visual_probe``: Mini-o3/VisualProbe_train ``train.json`` rows ``problem`` / ``solution`` / ``images`` → ``search``.
* ``pixelreasoner``: TIGER-Lab/PixelReasoner-RL-Data ``release.parquet`` rows ``question`` / ``image`` (list of paths)
  / ``answer`` (list with ``\\boxed{}``) / ``is_video`` → ``search``; video rows are dropped with a reason.
* ``zebra_cot``: multimodal-reasoning-lab/Zebra-CoT rows ``Question`` / ``Final Answer`` /
  ``problem_image_1..N`` → ``counting`` (integer answers only).
"""

from __future__ import annotations

import re
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import (
    final_answer,
    images_from,
    is_number,
    number_text,
    param,
    parse_list,
    strip_image_tokens,
    text,
)
from vero_data.sources.base import AdapterContext, register_adapter


def _search_answer(raw: Any) -> str:
    items = parse_list(raw)
    if not items:
        raise RowError("empty_answer", "no answer", "answer")
    a = final_answer(str(items[0]), max_words=None)
    a = re.sub(r"^\\text\{(.*)\}$", r"\1", a).strip()
    return number_text(a) if is_number(a) else text(a, "answer")


@register_adapter("visual_probe")
def visual_probe(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Mini-o3 VisualProbe: ``problem`` (leading ``<image>`` dropped), ``solution``, ``images`` (paths)."""
    q = strip_image_tokens(text(row.get("problem"), "question"))
    images = images_from(row.get("images") if row.get("images") is not None else row.get("image"), ctx)
    a = _search_answer(row.get("solution"))
    return RawSample(q, images, a, "search", {}, upstream_id=None if row.get("id") is None else str(row["id"]))


@register_adapter("pixelreasoner")
def pixelreasoner(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """TIGER-Lab PixelReasoner RL data (image rows only)."""
    if row.get("is_video"):
        raise RowError("video_row", "video rows are not used", "images")
    q = strip_image_tokens(text(row.get("question"), "question"))
    q = re.sub(r"\s*<video>\s*", " ", q).strip()
    images = images_from(row.get("image") if row.get("image") is not None else row.get("images"), ctx)
    a = _search_answer(row.get("answer"))
    return RawSample(q, images, a, "search", {}, upstream_id=None if row.get("qid") is None else str(row["qid"]))


@register_adapter("zebra_cot")
def zebra_cot(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Zebra-CoT: ``Question`` with ``problem_image_k`` images → integer ``Final Answer`` (``counting``).

    ``<image_start>[problem_image_k]<image_end>`` markers are removed from the question. Non-integer answers
    raise RowError(not_a_count) unless ``adapter_params.reward`` is set to another type.
    """
    q = text(row.get("Question") or row.get("question"), "question")
    q = re.sub(r"<image_start>\[?[^\]<]*\]?<image_end>", " ", q)
    q = re.sub(r"\s+", " ", strip_image_tokens(q)).strip()
    keys = sorted((k for k in row if re.fullmatch(r"problem_image_\d+", k) and row[k] is not None),
                  key=lambda k: int(k.rsplit("_", 1)[1]))
    images = images_from([row[k] for k in keys], ctx)
    a = final_answer(text(row.get("Final Answer") or row.get("final_answer"), "answer"), max_words=None)
    reward = param(ctx, "reward", "counting")
    if reward == "counting":
        a = number_text(a)
        if not (is_number(a) and float(a).is_integer() and float(a) >= 0):
            raise RowError("not_a_count", f"answer {a!r} is not a count", "answer")
    return RawSample(q, images, a, reward, {}, upstream_id=None if row.get("id") is None else str(row["id"]))
