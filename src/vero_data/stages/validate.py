"""Validate & quarantine: every field present and typed, every image decodable and under the pixel cap,
the answer shaped the way its verifier reads it. Also computes the row id and the image hashes dedup needs."""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from typing import Any

from vero_data.errors import RowError
from vero_data.images import DEFAULT_MAX_PIXELS, inspect_image
from vero_data.rewards import REWARDS, image_size_reward_types
from vero_data.schema import CATEGORIES, IMAGE_PLACEHOLDER, SPLITS, dumps_extra, loads_extra, sample_id
from vero_data.stages.base import RowStage

_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def dedup_key(s: str) -> str:
    """The text exact and perceptual dedup compare: NFKC, lower-case, punctuation dropped, whitespace collapsed
    (not the reward's ``rewards.normalize_text``, which also strips accents, articles and thousands separators)."""
    s = unicodedata.normalize("NFKC", s).lower()
    return _WS.sub(" ", _PUNCT.sub(" ", s)).strip()


def _parse_literal(text: str, limit: int = 100_000) -> Any:
    if len(text) > limit:
        raise ValueError("too long")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return ast.literal_eval(text)  # literals only: never eval


def check_answer_shape(answer: str, reward_type: str) -> None:
    """Raise RowError when the ground truth cannot be read by its verifier (rewards.md per-type rules)."""
    if reward_type in ("grounding", "clicking"):
        try:
            v = json.loads(answer)
        except (json.JSONDecodeError, ValueError):
            raise RowError("bad_answer_json", f"{reward_type} answer is not a JSON array", "answer") from None
        ok = isinstance(v, list) and v and all(
            isinstance(x, dict) and isinstance(x.get("bbox_2d"), list) and len(x["bbox_2d"]) == 4
            and all(isinstance(c, (int, float)) for c in x["bbox_2d"]) for x in v
        )
        if not ok:
            raise RowError("bad_answer_boxes", f"{reward_type} answer must be [{{'bbox_2d': [x1,y1,x2,y2]}}, …]",
                           "answer")
    elif reward_type == "web_action":
        try:
            v = _parse_literal(answer)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise RowError("bad_answer_json", "web_action answer is not a JSON object", "answer") from None
        if not isinstance(v, dict) or not v:
            raise RowError("bad_answer_json", "web_action answer must be a non-empty object", "answer")
    elif reward_type == "number_list":
        if not re.search(r"-?\d+", answer):
            raise RowError("bad_answer_list", "number_list answer has no integers", "answer")
    elif reward_type in ("instruction_following", "instruction_following_llm_judge"):
        try:
            v = _parse_literal(answer)
            if isinstance(v, str):
                v = _parse_literal(v)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise RowError("bad_answer_json", "instruction-following answer is not JSON", "answer") from None
        if not isinstance(v, dict) or not isinstance(v.get("instructions"), list) or not v["instructions"]:
            raise RowError("bad_answer_constraints", "expected {'instructions': [{'class':…, 'args':…}, …]}",
                           "answer")
    elif reward_type == "multiple_choice":
        if not (len(answer) == 1 and answer.isupper()):
            raise RowError("mc_answer_not_a_letter", f"multiple-choice answer {answer[:40]!r} is not one letter",
                           "answer")


class ValidateStage(RowStage):
    """Checks a canonicalised row; fills `id`, image sizes and the internal hash columns (`_img_sha`, `_phash`…)."""

    name = "validate"

    def __init__(self, max_pixels: int = DEFAULT_MAX_PIXELS, max_answer_chars: int = 4096,
                 max_question_chars: int = 32_768):
        self.max_pixels = max_pixels
        self.max_answer_chars = max_answer_chars
        self.max_question_chars = max_question_chars

    def process_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for f in ("data_source", "category", "reward_type", "split"):
            if not isinstance(row.get(f), str) or not row[f]:
                raise RowError("missing_field", f"'{f}' is empty", f)
        if row["category"] not in CATEGORIES:
            raise RowError("bad_category", f"category {row['category']!r} not in {CATEGORIES}", "category")
        if row["reward_type"] not in REWARDS:
            raise RowError("unknown_reward_type", f"reward_type {row['reward_type']!r}", "reward_type")
        if row["split"] not in SPLITS:
            raise RowError("bad_split", f"split {row['split']!r} not in {SPLITS}", "split")
        answer = row.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            raise RowError("empty_answer", "answer is empty", "answer")
        if len(answer) > self.max_answer_chars:
            raise RowError("answer_too_long", f"{len(answer)} chars > {self.max_answer_chars}", "answer")
        prompt = row.get("prompt") or []
        n_chars = sum(len(m.get("content") or "") for m in prompt if isinstance(m, dict))
        if n_chars > self.max_question_chars:  # one 5 MB question must not end a later filter or training run
            raise RowError("question_too_long", f"prompt of {n_chars:,} chars > {self.max_question_chars:,} "
                           "(recipe filters.max_question_chars)", "prompt")
        if not prompt or not any(m.get("role") == "user" and m.get("content", "").strip() for m in prompt):
            raise RowError("empty_prompt", "no non-empty user message", "prompt")
        images = row.get("images") or []
        if not images:
            raise RowError("missing_image", "row has no image (Vero rows have at least one)", "images")
        n_ph = sum(m.get("content", "").count(IMAGE_PLACEHOLDER) for m in prompt)
        if n_ph != len(images):
            raise RowError("placeholder_mismatch", f"{n_ph} '<image>' placeholders for {len(images)} images",
                           "prompt")
        check_answer_shape(answer, row["reward_type"])
        infos = [inspect_image(im["bytes"], self.max_pixels, im.get("path")) for im in images]
        extra = loads_extra(row["extra_info"])
        if row["reward_type"] in image_size_reward_types() and not extra.get("image_sizes"):
            extra["image_sizes"] = [[i.width, i.height] for i in infos]  # the reward needs them (rewards.md)
        row = dict(row)
        row["extra_info"] = dumps_extra(extra)
        row["id"] = sample_id(row["data_source"], prompt, [i.pixel_sha256 for i in infos], answer)
        row["_img_sha"] = [i.pixel_sha256 for i in infos]
        row["_phash"] = [i.phash for i in infos]
        row["_dhash"] = [i.dhash for i in infos]
        row["_lowvar"] = [i.low_variance for i in infos]
        row["_cphash"] = [i.content_phash for i in infos]
        row["_xphash"] = [i.centre_phash for i in infos]
        row["_lossy"] = [i.lossy for i in infos]
        row["_content_pixels"] = sum(i.content_pixels for i in infos)
        row["_border_levels"] = max(i.border_levels for i in infos)
        row["_width"] = [i.width for i in infos]
        row["_height"] = [i.height for i in infos]
        row["_pixels"] = sum(i.width * i.height for i in infos)
        row["_question_text"] = str(extra.get("question", ""))
        row["_question"] = dedup_key(str(extra.get("question") or prompt[-1]["content"]))
        row["_answer_norm"] = dedup_key(answer)
        return row
