"""Safe literal parsing: JSON, then ``ast.literal_eval``, both behind a size cap (never ``eval``)."""

from __future__ import annotations

import ast
import json
from typing import Any

MAX_LITERAL_CHARS = 100_000
_FAIL = object()


def literal(text: str, *, json_first: bool = True) -> Any:
    """Parse ``text`` as JSON (if ``json_first``) or a Python literal; returns ``FAIL`` when neither works.

    >>> literal("['a', 'b']")
    ['a', 'b']
    """
    if len(text) > MAX_LITERAL_CHARS:
        return _FAIL
    if json_first:
        try:
            return json.loads(text)
        except Exception:
            pass
    try:
        return ast.literal_eval(text)
    except BaseException as e:  # RecursionError/MemoryError on hostile nesting are just "not a literal"
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        return _FAIL


FAIL = _FAIL
