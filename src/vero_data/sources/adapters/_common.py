"""Helpers shared by the upstream adapters: column access, images, answer parsing, boxes.

Every helper raises :class:`vero_data.errors.RowError` with a snake_case reason when a row cannot be mapped, so
the pipeline quarantines it instead of crashing.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
from typing import Any

from vero_data.errors import RowError
from vero_data.schema import IMAGE_PLACEHOLDER
from vero_data.sources.base import AdapterContext

_MISSING = object()


def get(row: Any, path: str, default: Any = _MISSING) -> Any:
    """Value at a dotted path (``qa.answer``, ``label[0]``, ``texts.0.user``); RowError when absent and no default."""
    cur = row
    for part in re.findall(r"[^.\[\]]+", path):
        try:
            if isinstance(cur, dict):
                cur = cur[part]
            elif isinstance(cur, (list, tuple)):
                cur = cur[int(part)]
            else:
                raise KeyError(part)
        except (KeyError, IndexError, ValueError):
            if default is not _MISSING:
                return default
            raise RowError("missing_field", f"no value at '{path}'", path) from None
    if cur is None and default is not _MISSING:
        return default
    return cur


def param(ctx: AdapterContext, name: str, default: Any = None) -> Any:
    return (ctx.params or {}).get(name, default)


def text(value: Any, field: str) -> str:
    """A non-empty stripped string, else RowError(empty_<field>)."""
    if value is None:
        raise RowError(f"empty_{field}", f"{field} is missing", field)
    s = str(value).strip()
    if not s:
        raise RowError(f"empty_{field}", f"{field} is empty", field)
    return s


# ----------------------------------------------------------------------------------------------------------- images


def resolve_image(value: Any, ctx: AdapterContext | None = None) -> Any:
    """One image as the normaliser accepts it; relative paths are joined to ``adapter_params.image_root``.

    PIL images, raw bytes and ``{"bytes", "path"}`` dicts pass through (the HF ``Image`` feature decoded or not).
    """
    if value is None:
        raise RowError("missing_image", "image is empty", "images")
    if isinstance(value, dict):
        if value.get("bytes") is None and not value.get("path"):
            raise RowError("missing_image", "image dict has neither bytes nor path", "images")
        if value.get("bytes") is None:
            return {"bytes": None, "path": _rooted(str(value["path"]), ctx)}
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        s = str(value)
        if s.startswith(("http://", "https://")):
            raise RowError("image_url_only", f"image is a URL ({s[:80]}); fetch it first", "images")
        return _rooted(s, ctx)
    if hasattr(value, "size") and hasattr(value, "mode"):  # PIL.Image.Image without importing PIL eagerly
        return value
    raise RowError("bad_image_type", f"unsupported image value of type {type(value).__name__}", "images")


def _rooted(path: str, ctx: AdapterContext | None) -> str:
    root = param(ctx, "image_root") if ctx is not None else None
    if root and not os.path.isabs(path):
        return os.path.join(os.path.expanduser(str(root)), path)
    return path


_TEMPLATE_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_path(template: str, row: dict[str, Any]) -> str:
    """A file path built from row columns: ``images/{image_id}.png`` with ``image_id = 17`` → ``images/17.png``.

    For upstreams whose rows name their image only by an id (ECD: ``image_id`` → ``images/<image_id>.png``). Fields
    are bare column names (no ``{x.attr}`` / ``{x[0]}`` / format specs: a template must not reach into objects),
    values must be strings or integers. The result is an ordinary relative path, read under the source's folder
    rules (``vero_data.image_paths``), so a value like ``../../etc/passwd`` is quarantined, not read.
    """
    import string

    out = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        if not _TEMPLATE_FIELD.fullmatch(field) or spec or conv:
            raise ValueError(f"image_template {template!r}: field {{{field}{'!' + conv if conv else ''}"
                             f"{':' + spec if spec else ''}}} is not a bare column name")
        v = row.get(field) if isinstance(row, dict) else None
        if v is None or (isinstance(v, str) and not v.strip()):
            raise RowError("missing_image", f"image_template needs column '{field}', which is empty", field)
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise RowError("bad_image_type", f"image_template column '{field}' is {type(v).__name__}, expected a "
                           "string or integer", field)
        out.append(str(v).strip())
    return "".join(out)


def images_from(value: Any, ctx: AdapterContext | None = None) -> list[Any]:
    """A single image or a list of them → a non-empty list of resolved images."""
    if isinstance(value, (list, tuple)):
        out = [resolve_image(v, ctx) for v in value if v is not None]
    else:
        out = [resolve_image(value, ctx)]
    if not out:
        raise RowError("missing_image", "row has no image", "images")
    return out


def image_size(image: Any) -> tuple[int, int]:
    """(width, height) of an image in any accepted form, as the model sees it (after EXIF orientation:
    ``vero_data.images.image_size``); RowError (``undecodable_image``, ``missing_image``…) when unreadable."""
    from vero_data.images import image_size as shown_size

    if isinstance(image, dict) and image.get("bytes") is None:
        image = image.get("path")
    if image is None:
        raise RowError("missing_image", "image has neither bytes nor path", "images")
    try:
        return shown_size(image)
    except (OSError, ValueError, TypeError) as e:
        raise RowError("undecodable_image", f"cannot read image size: {e}", "images") from None


def strip_image_tokens(s: str) -> str:
    """Drop ``<image>`` placeholders the upstream put in its text (the normaliser adds its own)."""
    return re.sub(r"\s*<image>\s*", " ", s).strip() if IMAGE_PLACEHOLDER in s else s.strip()


# ---------------------------------------------------------------------------------------------------------- answers

_BOXED = re.compile(r"\\boxed\s*\{")
_ANSWER_PREFIX = re.compile(r"(?:^|\n|\.\s)\s*(?:final answer|the answer is|answer)\s*[:：]\s*", re.IGNORECASE)
_LETTER = re.compile(r"^\(?([A-Z])\)?(?:[.):]|\s|$)")
_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?%?$")


def last_boxed(s: str) -> str | None:
    """Payload of the last brace-balanced ``\\boxed{...}``, or None."""
    starts = [m.end() for m in _BOXED.finditer(s)]
    if not starts:
        return None
    i = starts[-1]
    depth, j = 1, i
    while j < len(s) and depth:
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        j += 1
    return s[i : j - 1].strip() if depth == 0 else None


_SPACE_RUN = re.compile(r"\s+")
_ANSWER_WORD = re.compile(r"(?:final answer|the answer is|answer)\s*[:：]\s*", re.IGNORECASE)


def _last_answer_end(s: str) -> int | None:
    """End of the last ``_ANSWER_PREFIX`` match (as ``finditer`` finds them), or None, in linear time.

    The regex tries every newline of a blank run as a start and rescans the run each time (minutes on a response of
    newlines). A match starts at a prefix (the string start, a newline, or ``.`` plus a space) and its keyword is
    the first non-space after it, so one look per run of spaces finds the same matches; a run the previous match's
    trailing ``\\s*`` swallowed cannot start another.
    """
    last = None
    consumed = 0  # end of the previous match
    if s[:1] and not s[0].isspace() and (m := _ANSWER_WORD.match(s, 0)):
        last = consumed = m.end()
    for run in _SPACE_RUN.finditer(s):
        w, k = run.span()
        if k <= consumed:
            continue
        if w == 0 or (s[w - 1] == "." and w - 1 >= consumed) or s.find("\n", max(w, consumed), k) >= 0:
            m = _ANSWER_WORD.match(s, k)
            if m:
                last = consumed = m.end()
    return last


def final_answer(s: str, max_words: int | None = 12) -> str:
    """The short final answer inside a possibly long response.

    Order: last ``\\boxed{}``; text after the last ``Answer:``; the whole text if short. A long free-text
    answer with no marker raises RowError(long_answer) (unless ``max_words`` is None).
    """
    s = str(s).strip()
    boxed = last_boxed(s)
    if boxed:
        return boxed
    end = _last_answer_end(s)
    if end is not None:
        tail = s[end:].strip()
        tail = tail.splitlines()[0].strip() if tail else tail
        if tail:
            return tail.rstrip(".").strip()
    if max_words is None or len(s.split()) <= max_words:
        return s.rstrip(".").strip() if not is_number(s) else s
    raise RowError("long_answer", f"no final-answer marker in a {len(s.split())}-word answer", "answer")


def is_number(s: str) -> bool:
    s = s.strip().replace(" ", "")
    return bool(s) and any(c.isdigit() for c in s) and bool(_NUMBER.match(s))


def number_text(s: str) -> str:
    """``'1,234'`` → ``'1234'``, ``'12.0'`` → ``'12'``; percentages and other text unchanged."""
    t = s.strip().replace(",", "")
    if t.endswith("%"):
        return t
    try:
        f = float(t)
    except ValueError:
        return s.strip()
    if math.isfinite(f) and f.is_integer() and "e" not in t.lower():
        return str(int(f))
    return t


def mc_letter(s: str, n_choices: int | None = None) -> str | None:
    """The option letter in ``'B'``, ``'(B)'``, ``'B. dog'``, ``'Answer: B'``; None when there is none."""
    t = str(s).strip()
    t = re.sub(r"^(?:the\s+)?(?:answer|option|choice)\s*(?:is)?\s*[:：]?\s*", "", t, flags=re.IGNORECASE)
    m = _LETTER.match(t)
    if not m:
        return None
    letter = m.group(1)
    if n_choices is not None and ord(letter) - ord("A") >= n_choices:
        return None
    return letter


_INLINE_OPTIONS = re.compile(r"(?:^|\n)\s*\(?[A-H][.)]\s+\S", re.MULTILINE)


def has_inline_options(question: str) -> bool:
    """True when the question text already lists lettered options (``A. ...`` / ``(B) ...`` lines)."""
    return len(_INLINE_OPTIONS.findall(question)) >= 2 or "choices:" in question.lower() or "options:" in question.lower()


def strip_option_prefix(option: str) -> str:
    """``'A. cat'`` / ``'(A) cat'`` → ``'cat'``."""
    return re.sub(r"^\s*\(?[A-Z]\)?[.):]\s*", "", str(option)).strip()


YES_NO = frozenset({"yes", "no", "true", "false"})


def classify(answer: str, question: str = "", choices: list[str] | None = None, allowed: list[str] | None = None,
             ) -> tuple[str, str]:
    """Pick a reward type for a short answer: ``(reward_type, canonical_answer)``.

    A letter with options → multiple_choice; a number → numeric; anything else → string_match. ``allowed``
    restricts the result (a type outside it raises RowError(unsupported_answer)).
    """
    a = answer.strip()
    n = len(choices) if choices else None
    if choices or has_inline_options(question):
        letter = mc_letter(a, n)
        if letter is None and choices:
            for i, c in enumerate(choices):
                if strip_option_prefix(c).lower() == a.lower():
                    letter = chr(ord("A") + i)
                    break
        if letter is not None:
            out = ("multiple_choice", letter)
            return _allowed(out, allowed)
    if is_number(a):
        return _allowed(("numeric", number_text(a)), allowed)
    return _allowed(("string_match", a), allowed)


def _allowed(out: tuple[str, str], allowed: list[str] | None) -> tuple[str, str]:
    if allowed and out[0] not in allowed:
        raise RowError("unsupported_answer", f"answer {out[1]!r} looks like {out[0]}, source allows {allowed}", "answer")
    return out


def parse_list(value: Any) -> list[Any]:
    """A list from a list, a JSON / Python literal string, or a scalar."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("["):
            for loader in (json.loads, ast.literal_eval):
                try:
                    v = loader(s)
                    if isinstance(v, list):
                        return v
                except (ValueError, SyntaxError):
                    pass
        return [s] if s else []
    return [] if value is None else [value]


def drop_binary(answer: str, ctx: AdapterContext) -> None:
    """RowError(binary_answer) for yes/no answers when ``adapter_params.drop_yes_no`` is set (paper §A.1)."""
    if param(ctx, "drop_yes_no", False) and answer.strip().lower().rstrip(".") in YES_NO:
        raise RowError("binary_answer", f"yes/no answer {answer!r} dropped (drop_yes_no)", "answer")


# ------------------------------------------------------------------------------------------------------------ boxes


def to_abs_xyxy(box: Any, size: tuple[int, int], fmt: str = "xyxy") -> list[int]:
    """Convert a box to absolute-pixel ``[x1, y1, x2, y2]`` (the grounding/clicking reward's convention).

    ``fmt``: ``xyxy`` (absolute), ``xywh`` (absolute, COCO), ``xyxy_norm1`` (0–1), ``xyxy_norm1000`` (0–1000 grid),
    ``xywh_norm1`` (0–1). Coordinates are clamped to the image and rounded.
    """
    try:
        x1, y1, a, b = (float(v) for v in box)
    except (TypeError, ValueError):
        raise RowError("bad_bbox", f"box is not 4 numbers: {box!r}", "answer") from None
    w, h = size
    if fmt.startswith("xywh"):
        a, b = x1 + a, y1 + b
    if fmt.endswith("norm1"):
        x1, a, y1, b = x1 * w, a * w, y1 * h, b * h
    elif fmt.endswith("norm1000"):
        x1, a, y1, b = x1 * w / 1000, a * w / 1000, y1 * h / 1000, b * h / 1000
    elif fmt not in ("xyxy", "xywh"):
        raise ValueError(f"unknown bbox format {fmt!r}")
    xs = sorted((min(max(x1, 0.0), w), min(max(a, 0.0), w)))
    ys = sorted((min(max(y1, 0.0), h), min(max(b, 0.0), h)))
    out = [round(xs[0]), round(ys[0]), round(xs[1]), round(ys[1])]
    if out[2] <= out[0] or out[3] <= out[1]:
        raise RowError("degenerate_bbox", f"box {box!r} has no area inside a {w}x{h} image", "answer")
    return out


def box_answer(boxes: list[list[int]], label: str | None = None) -> list[dict[str, Any]]:
    """Grounding/clicking ground truth: ``[{"bbox_2d": [...], "label": ...}]``."""
    return [{"bbox_2d": b, **({"label": label} if label else {})} for b in boxes]
