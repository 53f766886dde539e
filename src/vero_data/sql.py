"""SQL lives in ``sql/<name>.sql`` (shipped in the wheel) and is loaded by name."""

from __future__ import annotations

from functools import cache

from vero_data.errors import ConfigError
from vero_data.paths import sql_dir


@cache
def load_sql(name: str) -> str:
    """Text of ``sql/<name>.sql``."""
    p = sql_dir() / f"{name}.sql"
    if not p.is_file():
        avail = ", ".join(sorted(x.stem for x in sql_dir().glob("*.sql")))
        raise ConfigError(f"no SQL file '{name}.sql'; available: {avail}")
    return p.read_text()

