"""Rows in input order cut into fixed-size chunks: the unit of generation, cache commits and resume for the two
model-driven passes over a dataset (LLM curation in :mod:`vero_data.curate`, the pass@k filter in
``vero_train.passk``), so both cut, limit and resume the same way."""

from __future__ import annotations

from collections.abc import Iterable


def chunk_plan(row_counts: Iterable[int], batch_size: int, limit: int | None = None
               ) -> tuple[list[tuple[int, int, int]], int]:
    """``(shard index, start, length)`` per chunk of ``batch_size`` rows, shard after shard, cut at ``limit`` rows,
    and the number of rows the chunks hold. ``row_counts`` is read lazily: shards after the limit are not counted.

    >>> chunk_plan([5, 3], 2)
    ([(0, 0, 2), (0, 2, 2), (0, 4, 1), (1, 0, 2), (1, 2, 1)], 8)
    >>> chunk_plan([5, 3], 2, limit=3)
    ([(0, 0, 2), (0, 2, 1)], 3)
    """
    plan: list[tuple[int, int, int]] = []
    total = 0
    for si, n in enumerate(row_counts):
        if limit is not None:
            n = min(n, limit - total)
        for start in range(0, n, batch_size):
            plan.append((si, start, min(batch_size, n - start)))
        total += max(n, 0)
        if limit is not None and total >= limit:
            break
    return plan, total
