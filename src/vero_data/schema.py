"""The canonical sample row: defined once here, as an HF ``Features``, an Arrow schema and a polars schema.

Every stage, adapter, generator, the exporter and the trainer read rows through these definitions.
See docs/schema.md for a worked example per category and the mapping to/from Vero's released veRL rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from vero_data.constants import (  # noqa: E402,F401  (re-exported: the schema is where users look for them)
    ABILITY_TO_CATEGORY,
    CATEGORIES,
    CATEGORY_TO_ABILITY,
    REWARD_TYPES,
)

IMAGE_PLACEHOLDER = "<image>"
SPLITS = ("train", "val", "test")

# Column order of a canonical row. `extra_info` is a JSON *string* so heterogeneous sources share one Arrow type.
COLUMNS: tuple[str, ...] = (
    "id",
    "data_source",
    "category",
    "prompt",
    "images",
    "answer",
    "reward_type",
    "extra_info",
    "split",
    "license",
    "lineage",
    "pass_count",
    "k",
)

_LINEAGE_FIELDS = [
    pa.field("manifest", pa.string()),
    pa.field("manifest_version", pa.string()),
    pa.field("upstream_id", pa.string()),
    pa.field("upstream_index", pa.int64()),
]


def hf_features():
    """The row schema as ``datasets.Features`` (imports datasets lazily: it is slow to import)."""
    from datasets import Features, Image, List, Value

    return Features(
        {
            "id": Value("string"),
            "data_source": Value("string"),
            "category": Value("string"),
            "prompt": List({"role": Value("string"), "content": Value("string")}),
            "images": List(Image()),
            "answer": Value("string"),
            "reward_type": Value("string"),
            "extra_info": Value("string"),
            "split": Value("string"),
            "license": Value("string"),
            "lineage": {
                "manifest": Value("string"),
                "manifest_version": Value("string"),
                "upstream_id": Value("string"),
                "upstream_index": Value("int64"),
            },
            "pass_count": Value("int32"),
            "k": Value("int32"),
        }
    )


# The same schema for pyarrow without importing datasets; `arrow_schema_with_features()` adds HF metadata.
ARROW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("data_source", pa.string()),
        pa.field("category", pa.string()),
        pa.field("prompt", pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))),
        pa.field("images", pa.list_(pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())]))),
        pa.field("answer", pa.string()),
        pa.field("reward_type", pa.string()),
        pa.field("extra_info", pa.string()),
        pa.field("split", pa.string()),
        pa.field("license", pa.string()),
        pa.field("lineage", pa.struct(_LINEAGE_FIELDS)),
        pa.field("pass_count", pa.int32()),
        pa.field("k", pa.int32()),
    ]
)

POLARS_SCHEMA: dict[str, pl.DataType] = dict(pl.Schema(pl.from_arrow(ARROW_SCHEMA.empty_table()).schema))


def arrow_schema_with_features() -> pa.Schema:
    """Arrow schema carrying the ``huggingface`` features metadata, so `datasets` decodes `images` as PIL."""
    return hf_features().arrow_schema


@dataclass
class RawSample:
    """What an adapter or generator returns: one task before normalisation.

    The normaliser turns it into a canonical row: builds the prompt (question + lettered choices, one
    ``<image>`` placeholder per image), encodes images, serialises the answer and computes the id.

    Args:
        question: the user's text. Ignored when ``messages`` is given.
        images: PIL images, encoded bytes, ``{"bytes", "path"}`` dicts or file paths, in prompt order.
        answer: ground truth; lists/dicts (boxes, constraints, actions) are serialised as JSON.
        reward_type: which verifier scores this row (one of ``REWARD_TYPES``).
        extra_info: verifier inputs (choices, tolerance, image_sizes, constraints…) and provenance.
        choices: multiple-choice options; appended to the prompt as ``A. …`` lines and kept in extra_info.
        messages: a complete multi-turn prompt ``[{role, content}]`` with ``<image>`` placeholders.
        upstream_id: the upstream row's own id, if it has one.
        split: ``train`` / ``val`` / ``test``.
        category: overrides the manifest's category for this row (the released Vero-600K mixes categories).
    """

    question: str | None
    images: list[Any]
    answer: Any
    reward_type: str
    extra_info: dict[str, Any] = field(default_factory=dict)
    choices: list[str] | None = None
    messages: list[dict[str, str]] | None = None
    upstream_id: str | None = None
    split: str = "train"
    category: str | None = None


def choice_letter(i: int) -> str:
    return chr(ord("A") + i)


def format_choices(choices: list[str]) -> str:
    """Lettered options, one per line (``A. cat``), as appended to MC prompts."""
    return "\n".join(f"{choice_letter(i)}. {c}" for i, c in enumerate(choices))


def build_user_content(question: str, n_images: int, choices: list[str] | None = None) -> str:
    """The user turn: one placeholder per image, then the question, then lettered choices if any."""
    head = IMAGE_PLACEHOLDER * n_images
    body = question.strip()
    if choices:
        body += "\nOptions:\n" + format_choices(choices)
    return f"{head}\n{body}" if head else body


def answer_to_string(answer: Any) -> str:
    """Serialise a ground truth: strings stay, numbers lose float noise, lists/dicts become compact JSON."""
    if answer is None:
        return ""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, int):
        return str(answer)
    if isinstance(answer, float):
        return repr(int(answer)) if answer.is_integer() else repr(answer)
    return json.dumps(answer, ensure_ascii=False, separators=(", ", ": "))


def sample_id(data_source: str, prompt: list[dict[str, str]], image_digests: list[str], answer: str) -> str:
    """Stable content hash: same source, prompt, image bytes and answer → same id, on any machine."""
    h = hashlib.sha256()
    h.update(data_source.encode())
    h.update(b"\0")
    h.update(json.dumps(prompt, ensure_ascii=False, sort_keys=True).encode())
    for d in image_digests:
        h.update(b"\0")
        h.update(d.encode())
    h.update(b"\0")
    h.update(answer.encode())
    return h.hexdigest()[:24]


def dumps_extra(extra: dict[str, Any]) -> str:
    """extra_info as stored: sorted keys so the same dict always gives the same bytes."""
    return json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str)


def loads_extra(value: str | dict | None) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return dict(value)
    return json.loads(value)


def question_of(row: dict[str, Any]) -> str:
    """The question text of a canonical row: extra_info.question, else the last user turn without placeholders."""
    extra = loads_extra(row.get("extra_info"))
    if extra.get("question"):
        return str(extra["question"])
    for m in reversed(row.get("prompt") or []):
        if m.get("role") == "user":
            return m.get("content", "").replace(IMAGE_PLACEHOLDER, "").strip()
    return ""
