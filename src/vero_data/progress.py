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
    with make_progress(enabled=True) as p:
        yield p


class _NullProgress:
    def add_task(self, *a, **k) -> int:
        return 0

    def update(self, *a, **k) -> None:
        pass

    def advance(self, *a, **k) -> None:
        pass



def make_progress(console=None, enabled: bool | None = None):
    """A started-by-the-caller rich Progress for loops driven by callbacks (a trainer), or None off a terminal."""
    if enabled is None:
        enabled = (console.is_terminal if console is not None else sys.stderr.isatty())
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if console is None:  # rich's default console is stdout, which belongs to the command's results
        from rich.console import Console

        console = Console(stderr=True)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, transient=False)
