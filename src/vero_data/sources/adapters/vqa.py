"""VQA-style upstream formats: one image, a question, an answer (string, list of strings, or option index).

* ``vqa``: flat columns named by ``adapter_params`` (ChartQA, ReachQA, MMK12, We-Math, PathVQA, VQA-RAD, PopVQA,
  GameQA, Spatial-SSRL, ECD, GQA, ViQuAE…); PopVQA reads its image path through a joined table
  (``adapter_params.join``, see ``vero_data.sources.table_join``).
* ``multiple_choice``: the same plus a choices column and an answer given as index, letter or option text
  (ArxivQA, Robo2VLM).
* ``vqa_answers``: VQAv2 / VizWiz style ten annotator answers → ``list_string_match`` over confident answers.
* ``aokvqa``: A-OKVQA (direct answers or the MC form).
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters._common import (
    classify,
    drop_binary,
    final_answer,
    get,
    images_from,
    mc_letter,
    param,
    parse_list,
    strip_image_tokens,
    strip_option_prefix,
    template_path,
    text,
)
from vero_data.sources.base import AdapterContext, register_adapter


def _uid(row: dict[str, Any], ctx: AdapterContext) -> str | None:
    v = get(row, param(ctx, "id", "id"), None)
    return None if v is None else str(v)


def _allowed(ctx: AdapterContext) -> list[str] | None:
    return list(ctx.manifest.reward_types) if ctx.manifest and ctx.manifest.reward_types else None


def _extra(ctx: AdapterContext, reward_type: str, **more: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {k: v for k, v in more.items() if v is not None}
    tol = param(ctx, "tolerance")
    if reward_type == "numeric" and tol is not None:
        extra["tolerance"] = float(tol)
    return extra


def _choices(row: dict[str, Any], ctx: AdapterContext) -> list[str] | None:
    col = param(ctx, "choices")
    if not col:
        return None
    raw = get(row, col)
    if isinstance(raw, str):
        raw = parse_list(raw)
    choices = [strip_option_prefix(c) for c in raw or []]
    if len(choices) < 2:
        raise RowError("too_few_choices", f"{len(choices)} choices in '{col}'", col)
    return choices


def _mc_answer(raw: Any, choices: list[str]) -> str:
    """Option letter from an index, a letter (``'B'``, ``'B. dog'``) or the option text."""
    if isinstance(raw, (list, tuple)) and raw:
        raw = raw[0]
    if isinstance(raw, bool):
        raise RowError("bad_answer", f"boolean answer {raw!r} for a multiple-choice row", "answer")
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit() and len(choices) < 10):
        i = int(raw)
        if not 0 <= i < len(choices):
            raise RowError("bad_answer", f"answer index {i} outside {len(choices)} choices", "answer")
        return chr(ord("A") + i)
    s = text(raw, "answer")
    letter = mc_letter(s, len(choices))
    if letter:
        return letter
    low = strip_option_prefix(s).lower()
    for i, c in enumerate(choices):
        if c.lower() == low:
            return chr(ord("A") + i)
    raise RowError("bad_answer", f"answer {s[:60]!r} matches no option", "answer")


@register_adapter("vqa")
def vqa(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Flat image/question/answer columns.

    ``adapter_params``: ``question`` / ``answer`` / ``image`` / ``id`` (dotted paths; defaults ``question``,
    ``answer``, ``image``, ``id``), ``choices`` (optional column), ``answer_index`` (answer is an index into
    choices), ``answer_list`` (``first`` or ``all`` → list_string_match), ``extract`` (take the final answer
    out of a worked solution), ``max_words``, ``reward`` (force one reward type), ``tolerance``,
    ``drop_yes_no``, ``image_root`` (for path-valued image columns), ``image_suffix`` (appended to an id-valued
    image column, e.g. ``.jpg``), ``image_template`` (a path built from columns, e.g. ``images/{image_id}.png``,
    used instead of ``image``).
    """
    q = strip_image_tokens(text(get(row, param(ctx, "question", "question")), "question"))
    if param(ctx, "image_template"):  # the row names its image by id only (ECD: images/{image_id}.png)
        img = template_path(str(param(ctx, "image_template")), row)
    else:
        img = get(row, param(ctx, "image", "image"))
    if param(ctx, "image_suffix") and isinstance(img, (str, int)):  # an id column naming a file (GQA imageId)
        img = f"{img}{param(ctx, 'image_suffix')}"
    images = images_from(img, ctx)
    raw = get(row, param(ctx, "answer", "answer"))
    choices = _choices(row, ctx)
    uid = _uid(row, ctx)
    mode = param(ctx, "answer_list", "first")
    if isinstance(raw, (list, tuple)) or (mode == "all" and isinstance(raw, str) and raw.strip().startswith("[")):
        items = [str(x).strip() for x in parse_list(raw) if x is not None and str(x).strip()]
        if not items:
            raise RowError("empty_answer", "answer list is empty", "answer")
        if mode == "all" and not choices:
            for a in items:
                drop_binary(a, ctx)
            items = list(dict.fromkeys(items))
            return RawSample(q, images, items, "list_string_match", _extra(ctx, "list_string_match"), upstream_id=uid)
        raw = items[0]
    if choices is not None:
        letter = _mc_answer(raw, choices)
        return RawSample(q, images, letter, "multiple_choice", _extra(ctx, "multiple_choice"), choices=choices,
                         upstream_id=uid)
    if param(ctx, "extract", False):
        a = final_answer(str(raw), param(ctx, "max_words", 12))
    else:
        a = text(raw, "answer")
        max_words = param(ctx, "max_words")
        if max_words is not None and len(a.split()) > max_words:
            raise RowError("long_answer", f"{len(a.split())}-word answer (max_words={max_words})", "answer")
    drop_binary(a, ctx)
    forced = param(ctx, "reward")
    if forced:
        rt, ans = forced, a
        if forced == "multiple_choice":
            ans = mc_letter(a) or a
    else:
        rt, ans = classify(a, q, None, _allowed(ctx))
    raw_s = str(raw).strip()
    return RawSample(q, images, ans, rt, _extra(ctx, rt, raw_answer=raw_s if raw_s != ans else None), upstream_id=uid)


@register_adapter("multiple_choice")
def multiple_choice(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """Question + a choices column + an answer (index, letter or option text) → ``multiple_choice``.

    ``adapter_params`` as :func:`vqa`; ``choices`` defaults to ``choices``.
    """
    if not param(ctx, "choices"):
        ctx = AdapterContext(ctx.manifest, ctx.index, {**(ctx.params or {}), "choices": "choices"})
    return vqa(row, ctx)


def _annotator_answers(raw: Any) -> list[str]:
    out = []
    for a in parse_list(raw):
        if isinstance(a, dict):
            a = a.get("answer")
        if a is not None and str(a).strip():
            out.append(str(a).strip().lower())
    return out


@register_adapter("vqa_answers")
def vqa_answers(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """VQAv2 / VizWiz: ten annotator answers → ``list_string_match`` over answers given by ≥ ``min_agree``.

    Unanswerable rows (``answerable == 0`` or answer_type ``unanswerable``) and yes/no rows are dropped with a
    reason. ``adapter_params``: ``question``, ``answers`` (default ``answers``), ``image``, ``id``,
    ``min_agree`` (default 2), ``answer_type`` (column, default ``answer_type``).
    """
    q = strip_image_tokens(text(get(row, param(ctx, "question", "question")), "question"))
    images = images_from(get(row, param(ctx, "image", "image")), ctx)
    if get(row, "answerable", 1) in (0, "0", False):
        raise RowError("unanswerable", "annotators marked the question unanswerable", "answer")
    atype = str(get(row, param(ctx, "answer_type", "answer_type"), "") or "").lower()
    if atype in ("unanswerable", "yes/no"):
        raise RowError("binary_answer" if atype == "yes/no" else "unanswerable", f"answer_type {atype}", "answer")
    answers = _annotator_answers(get(row, param(ctx, "answers", "answers"), None))
    if not answers:
        mc = get(row, "multiple_choice_answer", None)
        answers = [str(mc).strip().lower()] if mc else []
    if not answers:
        raise RowError("empty_answer", "no annotator answers", "answer")
    counts = Counter(a for a in answers if a not in ("unanswerable", "unsuitable", "unsuitable image"))
    if not counts:
        raise RowError("unanswerable", "every annotator answered unanswerable", "answer")
    min_agree = int(param(ctx, "min_agree", 2))
    kept = [a for a, c in counts.most_common() if c >= min_agree]
    if not kept:
        raise RowError("low_agreement", f"no answer given by {min_agree}+ annotators", "answer")
    if all(a in ("yes", "no") for a in kept):
        raise RowError("binary_answer", "yes/no question", "answer")
    return RawSample(q, images, kept, "list_string_match", {"annotator_counts": dict(counts)}, upstream_id=_uid(row, ctx))


@register_adapter("aokvqa")
def aokvqa(row: dict[str, Any], ctx: AdapterContext) -> RawSample:
    """HuggingFaceM4/A-OKVQA: ``question``, ``choices``, ``correct_choice_idx``, ``direct_answers``, ``question_id``.

    ``adapter_params.mode``: ``direct`` (default; distinct direct answers → list_string_match) or ``mc``.
    """
    q = text(get(row, "question"), "question")
    images = images_from(get(row, "image"), ctx)
    uid = str(get(row, "question_id", "")) or None
    if param(ctx, "mode", "direct") == "mc":
        choices = [str(c) for c in get(row, "choices")]
        letter = _mc_answer(get(row, "correct_choice_idx"), choices)
        return RawSample(q, images, letter, "multiple_choice", {}, choices=choices, upstream_id=uid)
    raw = get(row, "direct_answers")
    if isinstance(raw, str):  # some copies store the list as its Python repr
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raw = [raw]
    answers = list(dict.fromkeys(str(a).strip() for a in raw if str(a).strip()))
    if not answers:
        raise RowError("empty_answer", "no direct answers", "answer")
    return RawSample(q, images, answers, "list_string_match", {}, upstream_id=uid)
