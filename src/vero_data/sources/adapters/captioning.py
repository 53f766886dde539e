"""Captioning and instruction-following formats.

* ``flickr30k``: nlphuji/flickr30k's Parquet conversion (``image``, ``caption`` list of 5, ``sentids``, ``split``,
  ``img_id``, ``filename``) → ``llm_judge``
  with the captions as references; ``adapter_params.keep_split`` keeps only that Karpathy split.
* ``mmif``: ChrisDing1105/MMIF-23k rows (SFT: ShareGPT conversations; DPO: the prompt + ``chosen``/``rejected``)
  → ``llm_judge`` against the reference response (the constraints live in the prompt text); a row with a
  machine-checkable constraint list → ``instruction_following``.
"""

from __future__ import annotations

import json
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import images_from, param, parse_list, strip_image_tokens, text
from vero_data.sources.adapters.finevision import conversation_turns
from vero_data.sources.base import AdapterContext, register_adapter

CAPTION_PROMPT = "Write a one-sentence caption for this image."


@register_adapter("flickr30k")
def flickr30k(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Caption request; answer = first reference caption, ``extra_info.references`` = all of them."""
    keep = param(ctx, "keep_split")
    if keep and row.get("split") not in (None, keep):
        raise RowError("other_split", f"split {row.get('split')!r} != {keep!r}", "split")
    caps = [str(c).strip() for c in parse_list(row.get("caption") or row.get("captions")) if str(c).strip()]
    if not caps:
        raise RowError("empty_answer", "no captions", "caption")
    images = images_from(row.get("image"), ctx)
    q = param(ctx, "prompt", CAPTION_PROMPT)
    uid = row.get("img_id") or row.get("filename")
    return RawSample(q, images, caps[0], "llm_judge", {"references": caps}, upstream_id=None if uid is None else str(uid))


def constraints_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"class", "args"}]`` from ``constraints`` / ``instructions`` or IFEval ``instruction_id_list`` + ``kwargs``."""
    raw = row.get("constraints") or row.get("instructions")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    if isinstance(raw, dict):
        raw = raw.get("instructions") or []
    out = []
    for c in raw or []:
        if isinstance(c, dict) and (c.get("class") or c.get("name")):
            out.append({"class": c.get("class") or c.get("name"), "args": dict(c.get("args") or c.get("kwargs") or {})})
    ids = row.get("instruction_id_list")
    if not out and ids:
        kwargs = row.get("kwargs") or [{}] * len(ids)
        kwargs = [json.loads(k) if isinstance(k, str) else k for k in kwargs]
        out = [{"class": i, "args": {k: v for k, v in (kw or {}).items() if v is not None}} for i, kw in zip(ids, kwargs, strict=False)]
    return out


def _turn_text(v: Any) -> str | None:
    """A DPO side (``{"from": "gpt", "value": ...}``), a plain string, or None."""
    if isinstance(v, dict):
        v = v.get("value", v.get("content"))
    return None if v is None else str(v)


@register_adapter("mmif")
def mmif(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """MMIF-23k (MM-IFEngine): the instruction prompt and its reference response.

    The released rows (ChrisDing1105/MMIF-23k, MM-IFEngine README; a reader of the DPO JSON in public code) come in
    two shapes, both with ``images: [path]``: SFT rows are ShareGPT ``conversations`` [human, gpt]; DPO rows have
    only the human turn in ``conversations`` plus ``chosen`` / ``rejected`` ``{from, value}``. The constraints are
    written into the prompt text, not given as data, so neither shape is machine-checkable: both become ``llm_judge``
    with the reference response (SFT: the gpt turn; DPO: ``chosen``, ``rejected`` kept in extra_info). A row that
    does carry a constraint list (``constraints`` / IFEval ``instruction_id_list``) becomes ``instruction_following``.
    """
    conv = row.get("conversations") or row.get("messages")
    rejected = None
    if conv:
        pairs = conversation_turns(conv)
        if pairs:
            q, ref = pairs[0]
        else:  # DPO: the prompt alone; the preferred answer is `chosen`
            users = [m for m in (conv if isinstance(conv, list) else []) if isinstance(m, dict)
                     and str(m.get("from", m.get("role", ""))).lower() in ("human", "user")]
            q = _turn_text(users[0]) if users else None
            ref = _turn_text(row.get("chosen"))
            rejected = _turn_text(row.get("rejected"))
            if q is None or ref is None:
                raise RowError("no_turns", "no user→assistant turn and no user turn + chosen response",
                               "conversations")
    else:
        q = row.get(param(ctx, "question", "question")) or row.get("instruction") or row.get("prompt")
        ref = row.get(param(ctx, "answer", "answer")) or row.get("response") or ""
    q = strip_image_tokens(text(q, "question"))
    img = row.get("image") if row.get("image") is not None else row.get("images")
    images = images_from(img, ctx)
    cons = constraints_of(row)
    uid = None if row.get("id") is None else str(row["id"])
    extra = {"reference": str(ref), **({"rejected": rejected} if rejected is not None else {})}
    if cons:
        rt = param(ctx, "reward", "instruction_following")
        return RawSample(q, images, {"instructions": cons}, rt, extra, upstream_id=uid)
    return RawSample(q, images, text(ref, "answer"), "llm_judge", extra, upstream_id=uid)
