"""``verl``: a row of the released Vero-600K (veRL layout) → RawSample, keeping what a byte-identical re-export needs.

The row is what :func:`vero_data.verl.iter_vero600k` yields (an HF row plus its config/split/row position).
The prompt is kept verbatim as ``messages``; the image stays encoded; ``extra_info["verl"]`` holds the record
id, ability, reward style, image path and the released ``extra_info`` fields (see ``vero_data.verl``).
"""

from __future__ import annotations

import io
from typing import Any

from vero_data.errors import RowError
from vero_data.rewards import image_size_reward_types
from vero_data.schema import REWARD_TYPES, RawSample
from vero_data.sources.adapters._common import image_size
from vero_data.sources.base import AdapterContext, register_adapter
from vero_data.verl import CONFIG_KEY, ROW_KEY, SPLIT_KEY, VERL_META_KEY, record_from_hf_row, verl_meta

_STANDARD_EXTRA = {"id", "split", "index", "question", "answer", "reward_type", "tolerance"}


def _encoded(image: Any) -> Any:
    """Keep ``{"bytes", "path"}`` as is; a decoded PIL image (decode left on) is re-encoded as PNG."""
    if isinstance(image, dict) or image is None:
        return image
    if hasattr(image, "save"):
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return {"bytes": buf.getvalue(), "path": None}
    raise RowError("bad_image_type", f"image of type {type(image).__name__}", "image")


@register_adapter("verl")
def verl(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Map one released Vero-600K row; unknown reward types fall back to the manifest's (raw value kept)."""
    spec = ctx.manifest.source.vero600k if ctx.manifest and ctx.manifest.source.vero600k else None
    config = row.get(CONFIG_KEY) or (spec.config if spec and spec.config else None) or (row.get("data_source") or "config")
    split = row.get(SPLIT_KEY) or (spec.split if spec else "train")
    row_index = int(row.get(ROW_KEY, ctx.index))
    image = _encoded(row.get("image"))
    try:
        record = record_from_hf_row({**row, "image": image}, str(config), str(split), row_index)
    except TypeError as e:
        raise RowError("missing_image", str(e), "image") from None
    ei = record["extra_info"]
    rt = ei["reward_type"].strip().lower()
    if rt not in REWARD_TYPES:
        rt = ctx.reward_type or "string_match"
    raw_extra = row.get("extra_info") if isinstance(row.get("extra_info"), dict) else {}
    extra: dict[str, Any] = {k: v for k, v in raw_extra.items() if k not in _STANDARD_EXTRA and v is not None}
    extra["question"] = ei["question"]
    if ei["tolerance"] is not None:
        extra["tolerance"] = ei["tolerance"]
    if rt in image_size_reward_types() and "image_sizes" not in extra:
        extra["image_sizes"] = [list(image_size(image))]
    extra[VERL_META_KEY] = verl_meta(record)
    return RawSample(
        question=ei["question"],
        images=[image],
        answer=record["reward_model"]["ground_truth"],
        reward_type=rt,
        extra_info=extra,
        messages=record["prompt"],
        upstream_id=record["id"],
        split="val" if split == "val" else ("test" if split == "test" else "train"),
    )
