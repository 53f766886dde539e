"""Strict parsing of judge replies: exactly the keys, exactly the types, bounded, never evaluated."""

from __future__ import annotations

import json

import pytest

from vero_data.curate.parse import (
    MAX_REPLY_CHARS,
    QF_FLAGS,
    ReplyError,
    excerpt,
    parse_canonical,
    parse_question_filter,
)

GOOD = {**{f: False for f in QF_FLAGS}, "reason": "fine"}


@pytest.mark.parametrize("text", [
    json.dumps(GOOD),
    "```json\n" + json.dumps(GOOD) + "\n```",
    "```\n" + json.dumps(GOOD) + "\n```",
    "<think>the chart is clear; {not json}</think>\n" + json.dumps(GOOD),
    "<think>" + "long thoughts " * 2000 + "</think>" + json.dumps(GOOD),  # thoughts do not count to the cap
    "  \n" + json.dumps(GOOD, indent=2) + "\n",
])
def test_question_filter_accepts(text):
    assert parse_question_filter(text) == GOOD


@pytest.mark.parametrize("text, why", [
    ("", "empty reply"),
    ("Sure! " + json.dumps(GOOD), "not JSON"),  # prose around the object is not accepted
    (json.dumps(GOOD) + " Hope this helps", "not JSON"),
    ("[" + json.dumps(GOOD) + "]", "not an object"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "reason"}), "missing reason"),
    (json.dumps({**GOOD, "extra": 1}), "unexpected extra"),
    (json.dumps({**GOOD, "ambiguous_filter": "false"}), "ambiguous_filter is str"),
    (json.dumps({**GOOD, "language_filter": 0}), "language_filter is int"),
    (json.dumps({**GOOD, "reason": None}), "reason is NoneType"),
    ("[" * 5000 + "]" * 5000, "not JSON"),  # deeper than the parser's stack
    (json.dumps({**GOOD, "reason": "x" * MAX_REPLY_CHARS}), "chars >"),
    ("<think>" + "hm " * 400_000 + "</think>" + json.dumps(GOOD), "chars >"),  # over the raw cap
    ("{'relevance_filter': False}", "not JSON"),  # a Python literal is not JSON and is never evaluated
])
def test_question_filter_rejects(text, why):
    with pytest.raises(ReplyError, match=why):
        parse_question_filter(text)


@pytest.mark.parametrize("text, expected", [
    ('{"answer": "0.75", "multi_value": false, "reason": "3/4"}', {"answer": "0.75", "multi_value": False}),
    ('{"answer": 0.75, "multi_value": false, "reason": "a number"}', {"answer": "0.75", "multi_value": False}),
    ('{"answer": " B ", "multi_value": false, "reason": ""}', {"answer": "B", "multi_value": False}),
    ('{"answer": "3 or 4", "multi_value": true, "reason": "two"}', {"answer": "3 or 4", "multi_value": True}),
])
def test_canonical_accepts(text, expected):
    got = parse_canonical(text)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("text, why", [
    ('{"answer": ["3", "4"], "multi_value": false, "reason": ""}', "answer is list"),
    ('{"answer": true, "multi_value": false, "reason": ""}', "answer is bool"),
    ('{"answer": "3", "multi_value": "no", "reason": ""}', "multi_value is str"),
    ('{"answer": "3", "reason": ""}', "missing multi_value"),
])
def test_canonical_rejects(text, why):
    with pytest.raises(ReplyError, match=why):
        parse_canonical(text)


def test_excerpt_is_one_printable_line():
    e = excerpt("a\x05b\n\nc" + "x" * 1000, 50)
    assert e.startswith("a b c") and e.endswith("…") and len(e) == 51 and e.isprintable()
