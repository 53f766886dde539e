"""The worker processes of one dedup run: started once, on first use, and fed batch after batch.

Starting a spawn pool costs about half a second (a fresh interpreter importing numpy, PIL, scipy and this package
in each worker), and dedup's image checks run in several rounds (thumbnails per batch of candidates, then the
detail check), so one pool serves them all. Batches are pipelined: while the workers compute one batch, this
process reads the images of the next from the row store, so the workers do not wait for the reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

SERIAL_BELOW = 33  # items: fewer are computed here (a pool's start costs more than it saves)


class DedupPool:
    """``workers`` spawn processes, started by the first parallel map; :meth:`close` ends them (a later map starts
    them again)."""

    def __init__(self, workers: int = 1):
        self.workers = workers
        self._pool = None

    def imap_batches(self, fn: Callable[[Any], Any], batches: Iterable[list], *, total: int,
                     chunksize: int = 1) -> Iterator[list]:
        """``[fn(x) for x in batch]`` for each batch, in order. ``total`` (items in all batches) decides whether the
        pool is worth starting; the next batch is drawn from ``batches`` while the workers compute this one, so at
        most three batches are held at once (computing, queued, being read)."""
        if self.workers <= 1 or total < SERIAL_BELOW:
            for batch in batches:
                yield [fn(x) for x in batch]
            return
        if self._pool is None:
            import multiprocessing as mp

            self._pool = mp.get_context("spawn").Pool(self.workers)
        pending = None
        for batch in batches:
            job = self._pool.map_async(fn, batch, chunksize)
            if pending is not None:
                yield pending.get()
            pending = job
        if pending is not None:
            yield pending.get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
