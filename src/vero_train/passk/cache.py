"""The completion cache: each chunk's completions and scores, committed in one SQLite transaction, so a killed run
resumes chunk by chunk."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path

CACHE_DIR = ".passk-cache"  # not ".cache": the Hub client refuses any path through a .cache folder
LEGACY_CACHE_DIR = ".cache"  # outputs written before the rename: still read on resume, never written


def cache_files(out: Path) -> list[Path]:
    """Every rank's cache file of a filter output, the legacy ``.cache/`` ones included."""
    return [f for d in (CACHE_DIR, LEGACY_CACHE_DIR) for f in sorted((out / d).glob("passk-rank*.sqlite"))]


class CompletionCache:
    """SQLite files under ``OUT/.passk-cache``: completions + scores by (row id, model, sampling key, sample index).

    Each data-parallel rank writes its own file (no cross-process write locks); lookups read all of them, and the
    files of an output written before the rename (``OUT/.cache``, read only), so such a run resumes too.
    """

    SCHEMA = ("CREATE TABLE IF NOT EXISTS samples (row_id TEXT, model TEXT, sampling TEXT, idx INTEGER, text TEXT, "
              "n_tokens INTEGER, finish_reason TEXT, score REAL, accuracy REAL, format REAL, "
              "PRIMARY KEY (row_id, model, sampling, idx))")

    def __init__(self, root: Path, rank: int = 0):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"passk-rank{rank:03d}.sqlite"
        self.con = sqlite3.connect(self.path, timeout=60)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(self.SCHEMA)
        self.con.commit()
        self._others = [sqlite3.connect(f, timeout=60) for f in sorted(root.glob("passk-rank*.sqlite"))
                        if f != self.path]
        legacy = root.parent / LEGACY_CACHE_DIR
        self._others += [sqlite3.connect(f"{f.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
                         for f in sorted(legacy.glob("passk-rank*.sqlite"))]

    def lookup(self, ids: list[str], model: str, sampling: str, k: int) -> dict[str, list[tuple]]:
        """Rows with all k samples cached → [(idx, text, n_tokens, finish, score, accuracy, format)]."""
        found: dict[str, dict[int, tuple]] = defaultdict(dict)
        q = ("SELECT row_id, idx, text, n_tokens, finish_reason, score, accuracy, format FROM samples "
             "WHERE model = ? AND sampling = ? AND idx < ? AND row_id IN (SELECT value FROM json_each(?))")
        for con in [self.con, *self._others]:
            for r in con.execute(q, (model, sampling, k, json.dumps(ids))):
                found[r[0]][r[1]] = r[1:]
        return {rid: [s[i] for i in range(k)] for rid, s in found.items() if len(s) == k}

    def put(self, rows: list[tuple]) -> None:
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def close(self) -> None:
        for c in [self.con, *self._others]:
            c.close()
