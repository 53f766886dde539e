"""Error hierarchy. The library raises these; the CLI prints one red line and exits 1.

Bad *rows* are never raised: they are quarantined with a reason (see ``vero_data.quarantine``).
"""

from __future__ import annotations


class VeroError(Exception):
    """Base class for every error the CLI turns into a one-line message."""


class ConfigError(VeroError):
    """A manifest, recipe or config file is invalid (the message names file, field and value)."""


class RegistryError(ConfigError, KeyError):
    """An unknown name was looked up in a registry (a config error: the name came from a flag or a file)."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class SourceUnavailableError(VeroError):
    """A source cannot be read (hub unreachable, files missing)."""


class MissingDependencyError(VeroError):
    """An optional dependency is not installed; the message names the extra to install."""


class RowError(Exception):
    """One row cannot be used. Raised inside adapters/stages and turned into a quarantine record.

    Args:
        reason: a short snake_case reason code (``undecodable_image``, ``empty_answer``…).
        detail: free text for humans (field name, value excerpt).
        field: the offending field, if any.
    """

    def __init__(self, reason: str, detail: str = "", field: str | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.field = field


def requires(module: str, extra: str) -> None:
    """Raise a clear error naming the extra to install when an optional module is missing."""
    import importlib.util

    try:
        missing = importlib.util.find_spec(module) is None
    except (ImportError, ValueError):  # a parent package missing, or a module blocked with sys.modules[name] = None
        missing = True
    if missing:
        raise MissingDependencyError(
            f"'{module}' is not installed; install the extra: pip install 'vero-toolkit[{extra}]'"
            f" (from a checkout: pip install -e '.[{extra}]')"
        )
