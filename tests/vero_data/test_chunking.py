"""chunk_plan: the one chunking of the filter and LLM curation."""

from __future__ import annotations

from vero_data.chunking import chunk_plan


def test_chunks_follow_input_order_and_stop_at_the_limit():
    assert chunk_plan([5, 3], 2) == ([(0, 0, 2), (0, 2, 2), (0, 4, 1), (1, 0, 2), (1, 2, 1)], 8)
    assert chunk_plan([5, 3], 2, limit=6) == ([(0, 0, 2), (0, 2, 2), (0, 4, 1), (1, 0, 1)], 6)
    assert chunk_plan([0, 4], 4) == ([(1, 0, 4)], 4)


def test_shards_after_the_limit_are_not_counted():
    counted = []

    def counts():
        for n in (4, 4, 4):
            counted.append(n)
            yield n

    assert chunk_plan(counts(), 3, limit=4) == ([(0, 0, 3), (0, 3, 1)], 4)
    assert counted == [4]
