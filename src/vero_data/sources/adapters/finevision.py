"""Conversation-style upstream formats: several QA turns about the same image(s), one RawSample per turn.

* ``finevision``: HuggingFaceM4/FineVision (and the_cauldron) rows ``images: list[Image]``,
  ``texts: list[{user, assistant, source?}]`` plus per-turn quality ratings (``relevance_ratings``,
  ``visual_dependency_ratings``, ``image_correspondence_ratings``, ``formatting_ratings``). Used by
  InfographicVQA, TallyQA, OOD-VQA, Objects365-QA, GeomVerse, RAVEN, AI2D, TQA, GeoQA+, IconQA, Indoor-QA,
  Visual7W, ST-VQA and the MAVIS extras.
* ``conversations``: LLaVA / ShareGPT ``conversations: [{from, value}]`` or OpenAI ``messages: [{role,
  content}]`` with ``<image>`` tokens (Geo170K, VisualWebInstruct, MMIF-23K fallback).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from vero_data.errors import RowError
from vero_data.rewards import image_size_reward_types
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import (
    box_answer,
    classify,
    drop_binary,
    final_answer,
    get,
    image_size,
    images_from,
    is_number,
    mc_letter,
    number_text,
    param,
    strip_image_tokens,
    text,
    to_abs_xyxy,
)
from vero_data.sources.base import AdapterContext, register_adapter

RATING_COLUMNS = ("relevance_ratings", "visual_dependency_ratings", "image_correspondence_ratings", "formatting_ratings")
_BOX4 = re.compile(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]")


def answer_sample(question: str, answer_text: str, images: list[Any], ctx: AdapterContext, uid: str | None,
                  extra: dict[str, Any] | None = None) -> RawSample:
    """Shared per-turn mapping: final answer → reward type (forced by ``adapter_params.reward`` or inferred)."""
    extra = dict(extra or {})
    forced = param(ctx, "reward")
    if forced in image_size_reward_types():
        return _box_sample(question, answer_text, images, ctx, uid, forced, extra)
    try:
        a = (final_answer(answer_text, param(ctx, "max_words", 12)) if param(ctx, "extract", True)
             else text(answer_text, "answer"))
    except RowError as e:
        if e.reason != "long_answer" or param(ctx, "long_answers") != "llm_judge":
            raise
        # a sentence answer with no short final answer: judged against it (FineVision objects365_qa)
        ref = answer_text.strip()
        return RawSample(question, images, ref, "llm_judge", {**extra, "reference": ref}, upstream_id=uid)
    drop_binary(a, ctx)
    if forced == "counting":
        a = number_text(a)
        if not (is_number(a) and float(a) >= 0 and float(a).is_integer()):
            raise RowError("not_a_count", f"counting answer {a!r} is not a non-negative integer", "answer")
        rt = "counting"
    elif forced == "multiple_choice":
        letter = mc_letter(a)
        if letter is None:
            raise RowError("bad_answer", f"no option letter in {a[:60]!r}", "answer")
        rt, a = "multiple_choice", letter
    elif forced:
        rt = forced
    else:
        allowed = list(ctx.manifest.reward_types) if ctx.manifest and ctx.manifest.reward_types else None
        rt, a = classify(a, question, None, allowed)
    if rt == "numeric" and param(ctx, "tolerance") is not None:
        extra["tolerance"] = float(param(ctx, "tolerance"))
    if answer_text.strip() != a:
        extra.setdefault("raw_answer", answer_text.strip())
    return RawSample(question, images, a, rt, extra, upstream_id=uid)


def _box_sample(question: str, answer_text: str, images: list[Any], ctx: AdapterContext, uid: str | None, rt: str,
                extra: dict[str, Any]) -> RawSample:
    boxes_raw = [[float(v) for v in m.groups()] for m in _BOX4.finditer(answer_text)]
    if not boxes_raw:
        raise RowError("no_bbox", f"no [x1, y1, x2, y2] box in answer {answer_text[:80]!r}", "answer")
    size = image_size(images[0])
    fmt = param(ctx, "bbox_format", "xyxy")
    boxes = [to_abs_xyxy(b, size, fmt) for b in boxes_raw]
    if rt == "clicking":
        boxes = boxes[:1]
    extra.update(image_sizes=[list(size)], raw_answer=answer_text.strip())
    return RawSample(question, images, box_answer(boxes), rt, extra, upstream_id=uid)


def _turn_ok(row: dict[str, Any], i: int, min_rating: int | None) -> bool:
    if min_rating is None:
        return True
    for col in RATING_COLUMNS:
        vals = row.get(col)
        if isinstance(vals, (list, tuple)) and i < len(vals) and vals[i] is not None and vals[i] < min_rating:
            return False
    return True


def _emit(samples: list[RawSample], errors: list[RowError]) -> list[RawSample]:
    if not samples:
        raise errors[0] if errors else RowError("no_turns", "row has no usable QA turn", "texts")
    if errors:
        for s in samples:
            s.extra_info["dropped_turns"] = {e.reason: sum(x.reason == e.reason for x in errors) for e in errors}
    return samples


@register_adapter("finevision")
def finevision(row: dict[str, Any], ctx: AdapterContext) -> Iterator[RawSample] | list[RawSample]:
    """One RawSample per ``texts`` turn; all turns share the row's ``images``.

    ``adapter_params``: ``turns`` (``all`` default, or ``first``), ``min_rating`` (drop turns rated below it,
    FineVision's 1–5 scales), ``reward`` (force a type: counting, multiple_choice, grounding…), ``extract``
    (default true), ``max_words``, ``long_answers`` (``llm_judge``: a longer answer with no final-answer marker is
    kept as an ``llm_judge`` reference instead of quarantined), ``bbox_format`` (grounding), ``drop_yes_no``,
    ``tolerance``.
    """
    images = images_from(get(row, "images"), ctx)
    turns = get(row, "texts")
    if isinstance(turns, dict):  # datasets may yield a list-of-struct column as a struct of lists
        turns = [dict(zip(turns, vals, strict=False)) for vals in zip(*turns.values(), strict=False)]
    if not turns:
        raise RowError("no_turns", "texts is empty", "texts")
    if param(ctx, "turns", "all") == "first":
        turns = turns[:1]
    min_rating = param(ctx, "min_rating")
    samples, errors = [], []
    src = row.get("source")
    for i, t in enumerate(turns):
        try:
            if not _turn_ok(row, i, min_rating):
                raise RowError("low_rating", f"turn {i} rated below {min_rating}", "texts")
            q = strip_image_tokens(text(t.get("user"), "question"))
            a = text(t.get("assistant"), "answer")
            extra = {"turn": i, **({"finevision_source": src} if src else {})}
            samples.append(answer_sample(q, a, images, ctx, f"{ctx.index}-{i}", extra))
        except RowError as e:
            errors.append(e)
    return _emit(samples, errors)


_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant"}


def conversation_turns(conv: Any) -> list[tuple[str, str]]:
    """``[(user, assistant)]`` pairs from LLaVA ``{from, value}`` or OpenAI ``{role, content}`` messages."""
    if isinstance(conv, dict):  # struct of lists
        conv = [dict(zip(conv, vals, strict=False)) for vals in zip(*conv.values(), strict=False)]
    pairs, pending = [], None
    for m in conv or []:
        role = _ROLE.get(str(m.get("from", m.get("role", ""))).lower())
        content = m.get("value", m.get("content"))
        if isinstance(content, list):  # typed parts
            content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        if role == "user":
            pending = str(content or "")
        elif role == "assistant" and pending is not None:
            pairs.append((pending, str(content or "")))
            pending = None
    return pairs


@register_adapter("conversations")
def conversations(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """LLaVA/ShareGPT or OpenAI-style chats: one RawSample per user→assistant turn.

    ``adapter_params``: ``messages`` (column, default ``conversations`` then ``messages``), ``image`` (column,
    default ``image`` then ``images``), ``image_root``, ``turns``, plus the answer options of ``finevision``.
    """
    col = param(ctx, "messages")
    conv = get(row, col) if col else get(row, "conversations", None) or get(row, "messages", None)
    pairs = conversation_turns(conv)
    if not pairs:
        raise RowError("no_turns", "no user→assistant turn", "conversations")
    img_col = param(ctx, "image")
    img = get(row, img_col) if img_col else (row.get("image") if row.get("image") is not None else row.get("images"))
    images = images_from(img, ctx)
    if param(ctx, "turns", "all") == "first":
        pairs = pairs[:1]
    uid = get(row, param(ctx, "id", "id"), None)
    samples, errors = [], []
    for i, (u, a) in enumerate(pairs):
        try:
            q = strip_image_tokens(text(u, "question"))
            sid = f"{uid}-{i}" if uid is not None else f"{ctx.index}-{i}"
            samples.append(answer_sample(q, text(a, "answer"), images, ctx, sid, {"turn": i}))
        except RowError as e:
            errors.append(e)
    return _emit(samples, errors)
