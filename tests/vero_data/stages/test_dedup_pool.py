"""The dedup worker pool: one start for every round, results in order, the next batch read during this one."""

from __future__ import annotations

from vero_data.stages.dedup_pool import SERIAL_BELOW, DedupPool


def test_batches_come_back_in_order_and_the_next_is_read_while_this_one_computes():
    events: list[str] = []

    def batches():
        for k in range(3):
            events.append(f"read {k}")
            yield list(range(-20 * k, -20 * k - 20, -1))

    pool = DedupPool(2)
    try:
        out = []
        for res in pool.imap_batches(abs, batches(), total=60, chunksize=4):
            events.append(f"got {len(out)}")
            out.append(res)
        assert out == [list(range(20 * k, 20 * k + 20)) for k in range(3)]
        assert events == ["read 0", "read 1", "got 0", "read 2", "got 1", "got 2"]
        first = pool._pool
        assert first is not None
        assert list(pool.imap_batches(abs, iter([[-1] * 40]), total=40)) == [[1] * 40]
        assert pool._pool is first  # the second round reuses the running workers
    finally:
        pool.close()
    assert pool._pool is None


def test_few_items_are_computed_here_without_starting_workers():
    pool = DedupPool(2)
    assert list(pool.imap_batches(abs, iter([[-1, -2]]), total=SERIAL_BELOW - 1)) == [[1, 2]]
    assert pool._pool is None
