"""One reader for the YAML files users hand us (manifests, recipes, benchmark specs, suites, train configs).

Every failure is one error naming the file: missing, unreadable, not UTF-8, or invalid YAML with its line and column
(PyYAML's own text says ``in "<unicode string>"`` and spans several lines). Callers check the shape they expect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vero_data.errors import ConfigError


def load_yaml_file(path: str | Path, error: type[Exception] = ConfigError) -> Any:
    """The parsed document of ``path`` (None for an empty file); failures raise ``error`` with one line."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise error(f"{path}: not a UTF-8 text file (byte {e.start}); expected YAML text") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{path}: invalid YAML{where}: {problem or str(e).splitlines()[0]}") from None
