"""Held-out split check: eval rows (``split="test"``, salted seeds) must share no image and no question with train."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from vero_data.schema import RawSample, question_of


class HeldOutLeak(AssertionError):
    """Train and eval rows overlap."""


def image_digest(image: Any) -> str:
    """The pixel digest (:func:`vero_data.images.pixel_digest`, dedup's and the sample id's "same image"), so a
    generated PIL image and the PNG a build stored of it are one image."""
    from vero_data.images import pixel_digest

    return pixel_digest(image)


def normalised_question(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: the form compared across splits."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.replace("<image>", "").lower())).strip()


def _keys(row: RawSample | dict[str, Any]) -> tuple[list[str], str]:
    if isinstance(row, RawSample):
        return [image_digest(i) for i in row.images], normalised_question(row.question or "")
    return [image_digest(i) for i in row.get("images") or []], normalised_question(question_of(row))


def check_disjoint(train_rows: Iterable[RawSample | dict[str, Any]], eval_rows: Iterable[RawSample | dict[str, Any]],
                   *, questions: bool = True) -> dict[str, int]:
    """Assert that no image hash and (with ``questions``) no normalised question occurs in both splits.

    Templated generators repeat question wording on purpose (the image carries the task), so pass
    ``questions=False`` for them; image hashes are always compared.

    Args:
        train_rows: RawSamples or canonical rows (``images`` as PIL or ``{"bytes", "path"}``).
        eval_rows: the same, for the held-out split.
        questions: also compare normalised question text.

    Returns:
        counts: ``{"train": n, "eval": m, "shared_images": 0, "shared_questions": 0}``.

    Raises:
        HeldOutLeak: with a few examples, when anything is shared.
    """
    train_imgs: set[str] = set()
    train_qs: set[str] = set()
    n_train = 0
    for r in train_rows:
        imgs, q = _keys(r)
        train_imgs.update(imgs)
        train_qs.add(q)
        n_train += 1
    shared_imgs, shared_qs, n_eval = [], [], 0
    for r in eval_rows:
        imgs, q = _keys(r)
        n_eval += 1
        shared_imgs += [d for d in imgs if d in train_imgs]
        if questions and q in train_qs:
            shared_qs.append(q)
    counts = {"train": n_train, "eval": n_eval, "shared_images": len(shared_imgs), "shared_questions": len(shared_qs)}
    if shared_imgs or shared_qs:
        raise HeldOutLeak(f"train/eval overlap: {counts}; images {shared_imgs[:3]}, questions {shared_qs[:3]}")
    return counts
