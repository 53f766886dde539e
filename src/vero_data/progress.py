"""One rich progress helper for every long loop; silent when stderr is not a terminal (CI, pipes, tests)."""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def progress_bar(enabled: bool | None = None):
    """Yield a rich Progress (or a no-op stand-in off a terminal)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _NullProgress()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
    ) as p:
        yield p


class _NullProgress:
    def add_task(self, *a, **k) -> int:
        return 0

    def update(self, *a, **k) -> None:
        pass

    def advance(self, *a, **k) -> None:
        pass

