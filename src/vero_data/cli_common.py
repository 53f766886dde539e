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


def emit_json(obj) -> None:
    """One JSON document on stdout, written plainly: rich would wrap long strings at the console width."""
    import json
    import sys

    sys.stdout.write(json.dumps(obj, indent=1, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def stdout_is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()


def print_table(table) -> None:
    """A rich table on a terminal; piped or redirected, the same cells as tab-separated lines under a header row,
    every value whole (rich would fold and ellipsize them to 80 columns). The title, which often carries counts,
    comes first as a ``# `` comment line (``pandas.read_csv(sep="\\t", comment="#")``, ``grep -v '^#'``)."""
    if stdout_is_terminal():
        console().print(table)
        return
    import sys

    from rich.text import Text

    def plain(cell) -> str:
        if isinstance(cell, Text):
            s = cell.plain
        elif isinstance(cell, str):
            try:
                s = Text.from_markup(cell).plain
            except Exception:  # noqa: BLE001 (a cell that is not valid markup is shown as it is)
                s = cell
        else:
            s = str(cell)
        return s.replace("\t", " ").replace("\r", " ").replace("\n", " ")

    cols = [[plain(c) for c in col.cells] for col in table.columns]
    out = [f"# {plain(table.title)}"] if table.title else []
    out += ["\t".join(plain(col.header) for col in table.columns)]
    out += ["\t".join(row) for row in zip(*cols, strict=True)] if cols else []
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def print_key_values(title: str, values: dict) -> None:
    """A two-column table of a result's fields (nested values as compact JSON), through :func:`print_table`."""
    import json

    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, show_header=True)
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for k, v in values.items():  # Text, not markup: a value may hold "[...]"
        t.add_row(Text(str(k)), Text(v if isinstance(v, str) else json.dumps(v, default=str)))
    print_table(t)
