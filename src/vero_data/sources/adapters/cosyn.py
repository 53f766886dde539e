"""allenai/CoSyn-400K (chart, table, diagram, math, chemical… configs): one image, several QA pairs.

Row: ``id``, ``image``, ``qa_pairs`` (``{question: [...], explanation: [...], answer: [...]}``; some copies give
a list of ``{question, explanation, answer}`` dicts instead), ``description``, ``metadata``, ``data``, ``code``.
One RawSample per QA pair; the short ``answer`` decides the reward type (letter → multiple_choice, number →
numeric, else string_match) unless ``adapter_params.reward`` forces one.
"""

from __future__ import annotations

from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import get, images_from, strip_image_tokens, text
from vero_data.sources.adapters.finevision import _emit, answer_sample
from vero_data.sources.base import AdapterContext, register_adapter


def qa_list(qa: Any) -> list[dict[str, Any]]:
    """QA pairs as a list of dicts, from a struct of lists or a list of structs."""
    if isinstance(qa, dict):
        keys = list(qa)
        return [dict(zip(keys, vals, strict=False)) for vals in zip(*(qa[k] or [] for k in keys), strict=False)]
    return [dict(x) for x in qa or []]


@register_adapter("cosyn")
def cosyn(row: dict[str, Any], ctx: AdapterContext) -> list[RawSample]:
    """One RawSample per CoSyn QA pair. ``adapter_params``: ``reward``, ``max_words``, ``tolerance``, ``turns``."""
    images = images_from(get(row, "image"), ctx)
    pairs = qa_list(get(row, "qa_pairs"))
    if not pairs:
        raise RowError("no_turns", "qa_pairs is empty", "qa_pairs")
    if (ctx.params or {}).get("turns", "all") == "first":
        pairs = pairs[:1]
    rid = row.get("id")
    samples, errors = [], []
    for i, qa in enumerate(pairs):
        try:
            q = strip_image_tokens(text(qa.get("question"), "question"))
            sid = f"{rid}-{i}" if rid is not None else f"{ctx.index}-{i}"
            samples.append(answer_sample(q, text(qa.get("answer"), "answer"), images, ctx, sid, {"qa_index": i}))
        except RowError as e:
            errors.append(e)
    return _emit(samples, errors)
