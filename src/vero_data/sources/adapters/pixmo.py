"""allenai PixMo releases: images are URLs (``image_url`` + ``image_sha256``), not embedded.

An image is taken, in order, from an ``image`` column (mirrors that embed it), from
``adapter_params.image_dir/<image_sha256>`` (pre-fetched), or fetched from ``image_url`` when
``adapter_params.fetch`` is true (default), verifying the SHA-256. Dead links become RowError(image_fetch_failed).

* ``pixmo_count``: allenai/pixmo-count (``label``, ``count``, ``points``) → "How many …?" with a ``counting`` answer.
* ``pixmo_qa``: allenai/pixmo-ask-model-anything and pixmo-cap-qa (``question``, ``answer``) → ``llm_judge``.
* ``pixmo_caption``: allenai/pixmo-cap (``caption``) → a caption request judged by ``llm_judge``.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.request
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import param, resolve_image, text
from vero_data.sources.base import AdapterContext, register_adapter

CAPTION_PROMPT = "Describe this image in detail."


def pixmo_image(row: dict[str, Any], ctx: AdapterContext) -> Any:
    if row.get("image") is not None:
        return resolve_image(row["image"], ctx)
    sha = row.get("image_sha256")
    image_dir = param(ctx, "image_dir")
    if image_dir and sha:
        p = os.path.join(os.path.expanduser(str(image_dir)), str(sha))
        for cand in (p, *(p + ext for ext in (".jpg", ".jpeg", ".png", ".webp"))):
            if os.path.isfile(cand):
                return cand
    url = row.get("image_url")
    if not url:
        raise RowError("missing_image", "no image, image_dir hit or image_url", "images")
    if not param(ctx, "fetch", True):
        raise RowError("image_url_only", f"image not pre-fetched and fetch is off: {url[:80]}", "images")
    try:
        with urllib.request.urlopen(url, timeout=float(param(ctx, "fetch_timeout", 20))) as r:
            data = r.read()
    except (OSError, ValueError) as e:
        raise RowError("image_fetch_failed", f"{url[:80]}: {e}", "images") from None
    if sha and hashlib.sha256(data).hexdigest() != sha:
        raise RowError("image_hash_mismatch", f"{url[:80]} changed since release", "images")
    return {"bytes": data, "path": url.rsplit("/", 1)[-1].split("?")[0] or None}


def _uid(row: dict[str, Any]) -> str | None:
    v = row.get("image_sha256") or row.get("id")
    return None if v is None else str(v)


def _plural(label: str) -> str:
    label = label.strip()
    if label.endswith("s") or " " in label and label.split()[-1].endswith("s"):
        return label
    if re.search(r"(ch|sh|x|z)$", label):
        return label + "es"
    if re.search(r"[^aeiou]y$", label):
        return label[:-1] + "ies"
    return label + "s"


@register_adapter("pixmo_count")
def pixmo_count(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """allenai/pixmo-count → ``How many <label plural> are in this image?`` with the integer ``count``.

    ``adapter_params.template`` overrides the question (``{label}`` / ``{labels}`` placeholders).
    """
    label = text(row.get("label"), "label")
    count = row.get("count")
    if count is None and row.get("points") is not None:
        count = len(row["points"])
    if count is None or int(count) < 0:
        raise RowError("empty_answer", "no count", "answer")
    tpl = param(ctx, "template", "How many {labels} are in this image?")
    q = tpl.format(label=label, labels=_plural(label))
    return RawSample(q, [pixmo_image(row, ctx)], str(int(count)), "counting", {"label": label}, upstream_id=_uid(row))


@register_adapter("pixmo_qa")
def pixmo_qa(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """allenai/pixmo-ask-model-anything / pixmo-cap-qa: ``question`` → reference ``answer`` for the LLM judge.

    pixmo-cap-qa questions carry a ``[USER]`` / ``[ASSISTANT]`` dialogue prefix in some rows; it is stripped.
    """
    q = text(row.get("question"), "question")
    q = re.sub(r"^\s*\[USER\]\s*", "", q).split("[ASSISTANT]")[0].strip()
    a = text(row.get("answer"), "answer")
    return RawSample(q, [pixmo_image(row, ctx)], a, "llm_judge", {"reference": a}, upstream_id=_uid(row))


@register_adapter("pixmo_caption")
def pixmo_caption(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """allenai/pixmo-cap: the dense ``caption`` is the judge's reference; the prompt asks for a description."""
    cap = text(row.get("caption"), "answer")
    q = param(ctx, "prompt", CAPTION_PROMPT)
    return RawSample(q, [pixmo_image(row, ctx)], cap, "llm_judge", {"reference": cap}, upstream_id=_uid(row))
