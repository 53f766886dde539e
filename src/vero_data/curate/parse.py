"""Strict parsing of the judge's replies: one JSON object with exactly the expected keys and types.

The reply is model output, so untrusted: it is never evaluated, only ``json.loads``-ed after a ``<think>`` block
and one Markdown code fence are stripped, and only when it is at most :data:`MAX_REPLY_CHARS` long (thoughts excluded).
"""

from __future__ import annotations

import json
import re

# The five flags of the question filter, in the order a drop reason names the first true one (§7.2).
QF_FLAGS = ("relevance_filter", "ambiguous_filter", "language_filter", "verifiable_filter",
            "number_precision_filter")
MAX_REPLY_CHARS = 16_384  # the verdict after any <think> block
MAX_RAW_CHARS = 1_048_576  # the whole reply, thoughts included (8096 tokens are ~32K chars)
MAX_REASON_CHARS = 2_000
MAX_ANSWER_CHARS = 2_000

_FENCE = re.compile(r"^```[A-Za-z0-9_-]{0,20}[ \t]*\n(?P<body>.*)\n```$", re.S)

# JSON schemas for guided decoding (vLLM structured outputs, OpenAI response_format).
QF_SCHEMA = {
    "type": "object",
    "properties": {**{f: {"type": "boolean"} for f in QF_FLAGS}, "reason": {"type": "string"}},
    "required": [*QF_FLAGS, "reason"],
    "additionalProperties": False,
}
CANON_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "multi_value": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["answer", "multi_value", "reason"],
    "additionalProperties": False,
}


class ReplyError(ValueError):
    """A reply that is not the expected JSON object; the message says why (for the quarantine detail)."""


def _json_object(text: str) -> dict:
    if len(text) > MAX_RAW_CHARS:
        raise ReplyError(f"reply of {len(text):,} chars > {MAX_RAW_CHARS:,}")
    s = text.strip()
    if "</think>" in s:  # a reasoning model's thoughts come first; the verdict is what follows them
        s = s.rsplit("</think>", 1)[1].strip()
    if len(s) > MAX_REPLY_CHARS:
        raise ReplyError(f"reply of {len(s):,} chars > {MAX_REPLY_CHARS:,}")
    m = _FENCE.match(s)
    if m:
        s = m.group("body").strip()
    if not s:
        raise ReplyError("empty reply")
    try:
        obj = json.loads(s)
    except json.JSONDecodeError as e:
        raise ReplyError(f"not JSON ({e.msg} at char {e.pos})") from None
    except (ValueError, RecursionError) as e:  # nesting deeper than the parser's stack, huge integers
        raise ReplyError(f"not JSON ({type(e).__name__})") from None
    if not isinstance(obj, dict):
        raise ReplyError(f"JSON {type(obj).__name__}, not an object")
    return obj


def _keys(obj: dict, expected: tuple[str, ...]) -> None:
    missing = [k for k in expected if k not in obj]
    extra = sorted(set(obj) - set(expected))
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra[:5])}"]
                                                                          if extra else [])
        raise ReplyError("; ".join(parts))


def parse_question_filter(text: str) -> dict:
    """``{"relevance_filter": bool, …, "reason": str}`` from a reply, or ReplyError.

    >>> parse_question_filter('{"relevance_filter": false, "ambiguous_filter": true, "language_filter": false, '
    ...     '"verifiable_filter": false, "number_precision_filter": false, "reason": "two answers fit"}')["ambiguous_filter"]
    True
    """
    obj = _json_object(text)
    _keys(obj, (*QF_FLAGS, "reason"))
    for f in QF_FLAGS:
        if not isinstance(obj[f], bool):  # "false" (a string) or 0 is not a verdict
            raise ReplyError(f"{f} is {type(obj[f]).__name__}, not a boolean")
    if not isinstance(obj["reason"], str):
        raise ReplyError(f"reason is {type(obj['reason']).__name__}, not a string")
    return {**{f: obj[f] for f in QF_FLAGS}, "reason": obj["reason"][:MAX_REASON_CHARS]}


def parse_canonical(text: str) -> dict:
    """``{"answer": str, "multi_value": bool, "reason": str}`` from a reply, or ReplyError."""
    obj = _json_object(text)
    _keys(obj, ("answer", "multi_value", "reason"))
    if isinstance(obj["answer"], int | float) and not isinstance(obj["answer"], bool):
        obj["answer"] = json.dumps(obj["answer"])  # 0.75 as a JSON number is still one value
    if not isinstance(obj["answer"], str):
        raise ReplyError(f"answer is {type(obj['answer']).__name__}, not a string")
    if len(obj["answer"]) > MAX_ANSWER_CHARS:
        raise ReplyError(f"answer of {len(obj['answer']):,} chars > {MAX_ANSWER_CHARS:,}")
    if not isinstance(obj["multi_value"], bool):
        raise ReplyError(f"multi_value is {type(obj['multi_value']).__name__}, not a boolean")
    if not isinstance(obj["reason"], str):
        raise ReplyError(f"reason is {type(obj['reason']).__name__}, not a string")
    return {"answer": obj["answer"].strip(), "multi_value": obj["multi_value"],
            "reason": obj["reason"][:MAX_REASON_CHARS]}


def excerpt(text: str, n: int = 300) -> str:
    """A one-line excerpt of a reply for a quarantine detail (control characters blanked)."""
    s = " ".join("".join(c if c.isprintable() else " " for c in text[:4 * n]).split())
    return s if len(s) <= n else s[:n] + "…"
