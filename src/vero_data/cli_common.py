"""What every `vero` command module shares: the rich console and the one-line error exit.

Error text is printed escaped (a message may hold ``[...]``, e.g. a type ``list[int]`` or a JSON excerpt, which rich
would otherwise read as markup) and soft-wrapped, so a long message stays one line when stderr is a file or a pipe.
"""

from __future__ import annotations

from typing import NoReturn

import typer


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def print_error(e: BaseException | str) -> None:
    from rich.markup import escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)


def fail(e: BaseException | str) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit 1."""
    print_error(e)
    raise typer.Exit(1)
