"""The row-stage contract (inside an ingest part: rows as dicts, since a row is only given a schema by validate)
and the quarantine record a rejected row becomes."""

from __future__ import annotations

import json
import re
from typing import Any

from vero_data.errors import RowError

# A lone UTF-16 surrogate (JSON "\ud800" decodes to one) cannot be encoded as UTF-8: Arrow, Parquet and every
# writer after it fail on it. Rows holding one are quarantined as bad_text; what we store about them is scrubbed.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD (strings only), so it can be written."""
    return LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def excerpt(value: Any, limit: int = 600) -> str:
    """A short, printable copy of what was rejected (answers, questions), never image bytes."""
    try:
        s = json.dumps(value, ensure_ascii=False, default=lambda o: f"<{type(o).__name__}>")
    except (TypeError, ValueError):
        s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def row_question(row: dict[str, Any]) -> Any:
    """The question of a row at any stage: `extra_info.question`, else the last user turn, else a `question` key
    (adapt-stage drops), else the normalised `_question`. Rows dropped before validate have no `_question`."""
    extra = row.get("extra_info")
    if isinstance(extra, str) and extra:
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    if isinstance(extra, dict) and extra.get("question"):
        return extra["question"]
    users = [m.get("content") for m in row.get("prompt") or [] if isinstance(m, dict) and m.get("role") == "user"]
    if users and users[-1]:
        return users[-1]
    return row.get("question") or row.get("_question") or ""


def quarantine_record(row: dict[str, Any], stage: str, err: RowError | None = None, *, reason: str | None = None,
                      detail: str = "", field: str | None = None, dup_of: str | None = None) -> dict[str, Any]:
    lineage = row.get("lineage") or {}
    question = row_question(row)
    rec = {
        "id": row.get("id"),
        "manifest": lineage.get("manifest") or row.get("manifest"),
        "data_source": row.get("data_source"),
        "category": row.get("category"),
        "upstream_index": lineage.get("upstream_index", row.get("upstream_index")),
        "upstream_id": lineage.get("upstream_id", row.get("upstream_id")),
        "stage": stage,
        "reason": err.reason if err else reason,
        "field": err.field if err else field,
        "detail": (err.detail if err else detail)[:1000],
        "dup_of": dup_of,
        "excerpt": excerpt({"question": question, "answer": row.get("answer")}) if row else "",
    }
    return {k: scrub(v) for k, v in rec.items()}


class RowStage:
    """A stage that maps rows one by one; a row it rejects is marked with a reason (never silently dropped)."""

    name = "stage"

    def process_row(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def process_rows(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Returns (kept rows, quarantine records)."""
        kept, dropped = [], []
        for row in rows:
            try:
                kept.append(self.process_row(row))
            except RowError as e:
                dropped.append(quarantine_record(row, self.name, e))
        return kept, dropped
