"""Adapters every build needs: generator rows, canonical rows (our own shards) and declarative column maps."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from vero_data.errors import RowError
from vero_data.manifest import ColumnMapping
from vero_data.schema import IMAGE_PLACEHOLDER, RawSample, loads_extra
from vero_data.sources.base import AdapterContext, register_adapter
from vero_data.sources.readers import GENERATED_KEY


@register_adapter("generated")
def generated(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Rows from `source: generator` already are RawSamples."""
    s = row.get(GENERATED_KEY)
    if not isinstance(s, RawSample):
        raise RowError("not_generated", "row has no generated sample; use adapter 'generated' only with generators")
    return s


@register_adapter("canonical")
def canonical(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Rows already in Vero's canonical schema (output of `vero data build` / `vero data generate`)."""
    for f in ("prompt", "images", "answer", "reward_type"):
        if row.get(f) is None:
            raise RowError("missing_field", f"canonical row has no '{f}'", f)
    extra = loads_extra(row.get("extra_info"))
    lineage = row.get("lineage") or {}
    return RawSample(
        question=extra.get("question"),
        images=list(row["images"]),
        answer=row["answer"],
        reward_type=row["reward_type"],
        extra_info=extra,
        messages=[{"role": m["role"], "content": m["content"]} for m in row["prompt"]],
        upstream_id=lineage.get("upstream_id") or row.get("id"),
        split=row.get("split") or "train",
    )


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def get_path(row: Any, path: str) -> Any:
    """Follow ``a.b[0].c`` into nested dicts/lists; missing → None."""
    cur = row
    for name, idx in _PATH_TOKEN.findall(path):
        if cur is None:
            return None
        if name:
            if isinstance(cur, list):  # broadcast a key over a list of dicts: qa_pairs.question
                cur = [c.get(name) if isinstance(c, dict) else None for c in cur]
            else:
                cur = cur.get(name) if isinstance(cur, dict) else None
        else:
            try:
                cur = cur[int(idx)]
            except (IndexError, KeyError, TypeError):
                return None
    return cur


def _non_finite(v: Any) -> bool:
    """NaN/inf anywhere in an answer (a NaN is never a ground truth; json.dumps would write invalid JSON)."""
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, dict):
        return any(_non_finite(x) for x in v.values())
    if isinstance(v, list | tuple):
        return any(_non_finite(x) for x in v)
    return False


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def mapped(row: dict[str, Any], ctx: AdapterContext, mapping: ColumnMapping) -> RawSample:
    """Apply a declarative `ColumnMapping` from a manifest.

    The question must be a string (a number or an object there means a wrong column); the answer may be a string,
    number, bool, list or object (serialised as in docs/schema.md) but never NaN/inf."""
    q = get_path(row, mapping.question)
    if q is None or (isinstance(q, str) and not q.strip()):
        raise RowError("missing_question", f"column '{mapping.question}' is empty", mapping.question)
    if not isinstance(q, str):
        raise RowError("bad_question_type", f"column '{mapping.question}' is {type(q).__name__} {_short(q)}, "
                       "expected a string", mapping.question)
    a = get_path(row, mapping.answer)
    if a is None or (isinstance(a, str) and not a.strip()):
        raise RowError("missing_answer", f"column '{mapping.answer}' is empty", mapping.answer)
    if not isinstance(a, str | int | float | list | tuple | dict):
        raise RowError("bad_answer_type", f"column '{mapping.answer}' is {type(a).__name__}, expected a string, "
                       "number, list or object", mapping.answer)
    if _non_finite(a):
        raise RowError("non_finite_answer", f"column '{mapping.answer}' holds {_short(a)}", mapping.answer)
    imgs: list[Any] = []
    for p in [mapping.images] if isinstance(mapping.images, str) else mapping.images:
        v = get_path(row, p)
        if v is None:
            continue
        imgs.extend(v if isinstance(v, list) else [v])
    choices = get_path(row, mapping.choices) if mapping.choices else None
    if isinstance(choices, str):
        try:
            choices = json.loads(choices)
        except json.JSONDecodeError:
            raise RowError("bad_choices", f"choices column '{mapping.choices}' is not a list", mapping.choices) from None
    rt = (get_path(row, mapping.reward_type) if mapping.reward_type else None) or ctx.reward_type
    if not rt:
        raise RowError("missing_reward_type", "no reward_type in the row or the manifest", "reward_type")
    extra = {k: get_path(row, p) for k, p in mapping.extra.items()}
    uid = get_path(row, mapping.id) if mapping.id else None
    question = q.replace(IMAGE_PLACEHOLDER, "").strip()
    return RawSample(
        question=question,
        images=imgs,
        answer=a,
        reward_type=rt,
        extra_info={k: v for k, v in extra.items() if v is not None},
        choices=[str(c) for c in choices] if choices else None,
        upstream_id=str(uid) if uid is not None else None,
    )
