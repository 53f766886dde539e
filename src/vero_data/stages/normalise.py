"""Normalise: an adapter's RawSample → a canonical row (prompt with placeholders, encoded images, id, lineage)."""

from __future__ import annotations

from typing import Any

from vero_data.errors import RowError
from vero_data.images import encode_for_row
from vero_data.schema import (
    IMAGE_PLACEHOLDER,
    RawSample,
    answer_to_string,
    build_user_content,
    dumps_extra,
)
from vero_data.stages.base import LONE_SURROGATE


def normalise_sample(sample: RawSample, *, data_source: str, category: str, license: str, manifest: str,
                     manifest_version: str, upstream_index: int) -> dict[str, Any]:
    """Build the canonical row for one RawSample. An image keeps its source bytes when they are JPEG/PNG/WebP that
    every reader shows alike; a decoded PIL image, another format, or one the pipeline must convert (EXIF
    orientation, transparency, 16-bit, CMYK, animation) is stored as a lossless PNG
    (:func:`vero_data.images.encode_for_row`)."""
    if not isinstance(sample, RawSample):
        raise RowError("bad_adapter_output", f"adapter returned {type(sample).__name__}, expected RawSample")
    check_text(sample)
    images = [encode_for_row(im) for im in (sample.images or [])]
    extra = dict(sample.extra_info or {})
    if sample.messages:
        prompt = [{"role": str(m.get("role", "")), "content": str(m.get("content", ""))} for m in sample.messages]
        if "question" not in extra:
            users = [m["content"] for m in prompt if m["role"] == "user"]
            if users:
                extra["question"] = users[-1].replace(IMAGE_PLACEHOLDER, "").strip()
    else:
        if sample.question is None or not str(sample.question).strip():
            raise RowError("missing_question", "empty question", "question")
        prompt = [{"role": "user", "content": question_turn(sample, len(images), extra)}]
    answer = choices_and_answer(sample, extra)
    return {
        "id": None,  # set by validate, after canonicalisation (the id hashes the final answer)
        "data_source": data_source,
        "category": sample.category or category,
        "prompt": prompt,
        "images": [{"bytes": b, "path": p} for b, p in images],
        "answer": answer,
        "reward_type": (sample.reward_type or "").strip().lower(),
        "extra_info": dumps_extra(extra),
        "split": sample.split or "train",
        "license": license,
        "lineage": {
            "manifest": manifest,
            "manifest_version": manifest_version,
            "upstream_id": None if sample.upstream_id is None else str(sample.upstream_id),
            "upstream_index": upstream_index,
        },
        "pass_count": None,
        "k": None,
    }


def question_turn(sample: RawSample, n_images: int, extra: dict[str, Any]) -> str:
    """The user turn of a question sample (image placeholders, the question, its lettered options); records the
    bare question in ``extra``. The synthetic benchmarks ask their held-out rows through it too."""
    question = str(sample.question or "").strip()
    extra.setdefault("question", question)
    return build_user_content(question, n_images, sample.choices)


def choices_and_answer(sample: RawSample, extra: dict[str, Any]) -> str:
    """The answer as a row stores it (JSON for lists and dicts); records the options in ``extra``."""
    if sample.choices:
        extra.setdefault("choices", [str(c) for c in sample.choices])
    return answer_to_string(sample.answer).strip()


def _bad_text(value: Any, where: str, depth: int = 0) -> tuple[str, int, str] | None:
    """(field path, character index, code point) of the first lone surrogate in ``value``'s strings."""
    if isinstance(value, str):
        m = LONE_SURROGATE.search(value)
        return (where, m.start(), f"U+{ord(m.group()):04X}") if m else None
    if depth > 20:
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for k, v in items:
        found = (_bad_text(k, f"{where}.{k}" if where else str(k), depth + 1) if isinstance(k, str) else None) or \
            _bad_text(v, f"{where}.{k}" if where else str(k), depth + 1)
        if found:
            return found
    return None


def check_text(sample: RawSample) -> None:
    """Quarantine a row whose text cannot be written as UTF-8 (a lone surrogate from a JSON escape such as
    ``"\\ud800"``): reason ``bad_text``, naming the field and the position. Raises RowError."""
    for name in ("question", "answer", "choices", "messages", "extra_info", "upstream_id", "category", "reward_type",
                 "split", "images"):
        found = _bad_text(getattr(sample, name, None), name)
        if found:
            where, i, cp = found
            raise RowError("bad_text", f"{where} has a lone surrogate {cp} at character {i} (not valid Unicode text)",
                           where.split(".", 1)[0])
