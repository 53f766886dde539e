"""Spatial and action formats.

* ``magma_som``: MagmaAI Magma-Mind2Web-SoM / Magma-AITW-SoM (LLaVA ``conversations`` over a Set-of-Mark
  screenshot; the assistant turn is an action ``{"ACTION": …, "MARK": …, "VALUE": …}``) → ``web_action``.
* ``visual_jigsaw``: craigwu/visual_jigsaw_training_data (image or 3D jigsaw; the answer is a permutation)
  → ``number_list`` with the gold order as a JSON list of integers.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import get, images_from, last_boxed, param, strip_image_tokens, text
from vero_data.sources.adapters.finevision import conversation_turns
from vero_data.sources.base import AdapterContext, register_adapter

_KV = re.compile(r"\b(ACTION|MARK|VALUE)\b\s*[:=]\s*(\"[^\"]*\"|'[^']*'|[^,;\n}]+)", re.IGNORECASE)


def parse_action(s: str) -> dict[str, Any]:
    """An action dict with upper-case keys from JSON, a Python literal or ``ACTION: CLICK, MARK: 5`` text."""
    s = s.strip()
    m = re.search(r"\{.*\}", s, re.DOTALL)
    if m:
        for loader in (json.loads, ast.literal_eval):
            try:
                d = loader(m.group(0))
                if isinstance(d, dict):
                    return {str(k).upper(): v for k, v in d.items()}
            except (ValueError, SyntaxError):
                pass
    d = {k.upper(): v.strip().strip("\"'") for k, v in _KV.findall(s)}
    if "ACTION" not in d:
        raise RowError("bad_action", f"no ACTION in {s[:80]!r}", "answer")
    if "MARK" in d and re.fullmatch(r"-?\d+", str(d["MARK"])):
        d["MARK"] = int(d["MARK"])
    return d


def _pairs(row: dict[str, Any], ctx: AdapterContext) -> list[tuple[str, str]]:
    col = param(ctx, "messages")
    conv = get(row, col) if col else (row.get("conversations") or row.get("messages"))
    if conv:
        return conversation_turns(conv)
    q, a = row.get(param(ctx, "question", "question")), row.get(param(ctx, "answer", "answer"))
    return [(str(q or ""), str(a or ""))]


@register_adapter("magma_som")
def magma_som(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """One ``web_action`` sample per user→assistant turn; the gold action keeps ACTION / MARK / VALUE."""
    images = images_from(row.get("image") if row.get("image") is not None else row.get("images"), ctx)
    out, errors = [], []
    for i, (u, a) in enumerate(_pairs(row, ctx)):
        try:
            q = strip_image_tokens(text(u, "question"))
            act = parse_action(text(a, "answer"))
            gold = {k: act[k] for k in ("ACTION", "MARK", "VALUE") if k in act}
            uid = row.get("id")
            out.append(RawSample(q, images, gold, "web_action", {"raw_answer": a.strip()},
                                 upstream_id=f"{uid}-{i}" if uid is not None else f"{ctx.index}-{i}"))
        except RowError as e:
            errors.append(e)
    if not out:
        raise errors[0] if errors else RowError("no_turns", "no turns", "conversations")
    return out


def permutation(s: str) -> list[int]:
    """The integer order in ``'[3, 1, 2]'``, ``'\\boxed{3,1,2}'``, ``'3 1 2'`` …; must be a permutation."""
    body = last_boxed(s) or s
    nums = [int(x) for x in re.findall(r"-?\d+", body)]
    if len(nums) < 2:
        raise RowError("bad_answer", f"no order in {s[:60]!r}", "answer")
    if sorted(nums) != list(range(min(nums), min(nums) + len(nums))):
        raise RowError("bad_answer", f"{nums} is not a permutation", "answer")
    return nums


@register_adapter("visual_jigsaw")
def visual_jigsaw(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """A jigsaw prompt (conversations or question/answer columns) over one or more images → ``number_list``.

    ``adapter_params``: ``image`` (column, default ``image`` then ``images``), ``image_root``, ``messages`` /
    ``question`` / ``answer`` columns.
    """
    pairs = _pairs(row, ctx)
    if not pairs:
        raise RowError("no_turns", "no turns", "conversations")
    u, a = pairs[0]
    col = param(ctx, "image")
    img = get(row, col) if col else (row.get("image") if row.get("image") is not None else row.get("images"))
    images = images_from(img, ctx)
    q = strip_image_tokens(text(u, "question"))
    order = permutation(text(a, "answer"))
    uid = row.get("id")
    return RawSample(q, images, order, "number_list", {"n_pieces": len(order)},
                     upstream_id=None if uid is None else str(uid))
