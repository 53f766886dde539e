"""On-disk cache of judge replies, keyed by (model, prompt version, sampling, row content, attempt).

A rerun into the same output folder (a killed run, or a run with a larger ``--limit``) asks the model only for
rows it has no reply for; a changed prompt, model or sampling setting misses the cache instead of reusing
verdicts made under other settings. Replies are stored raw and parsed again on every run, so a parser fix
applies to cached replies too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

CACHE_DIR = ".curate-cache"  # not ".cache": the Hub client refuses paths through a .cache folder


def cache_key(model: str, prompt_version: str, sampling: str, content: str, attempt: int) -> str:
    return hashlib.sha256(json.dumps([model, prompt_version, sampling, content, attempt]).encode()).hexdigest()


class ReplyCache:
    """``OUT/.curate-cache/replies.sqlite``: one committed transaction per batch of replies."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, kind TEXT, row_id TEXT, text TEXT, "
              "n_tokens INTEGER, finish_reason TEXT)")

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "replies.sqlite"
        self.con = sqlite3.connect(self.path, timeout=60)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(self.SCHEMA)
        self.con.commit()

    def get_many(self, keys: list[str]) -> dict[str, tuple[str, int, str]]:
        """``key → (text, n_tokens, finish_reason)`` for the keys cached."""
        q = "SELECT key, text, n_tokens, finish_reason FROM replies WHERE key IN (SELECT value FROM json_each(?))"
        return {k: (t, n, f) for k, t, n, f in self.con.execute(q, (json.dumps(keys),))}

    def put_many(self, rows: list[tuple[str, str, str, str, int, str]]) -> None:
        """``(key, kind, row_id, text, n_tokens, finish_reason)`` rows, in one transaction."""
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO replies VALUES (?,?,?,?,?,?)", rows)

    def close(self) -> None:
        self.con.close()
