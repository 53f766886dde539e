"""One registry class for everything looked up by name, one "did you mean" text and one dotted-path import.

Sources kinds, adapters, generators, stages, rewards, benchmarks and generation backends all use
:class:`Registry`. An entry is an object or a lazy ``"module:attr"`` string imported on first :meth:`Registry.get`,
so registering a heavy backend costs nothing at import time and ``vero --help`` stays fast.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from vero_data.errors import RegistryError

T = TypeVar("T")


def close_matches(name: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The names in ``choices`` closest to ``name``, best first (difflib ratio >= ``cutoff``)."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=cutoff)


def suggest(name: str, choices: Iterable[str]) -> str:
    """The one "did you mean" text: close matches, then every available name (lm-eval's ``_build_key_error_msg``).

    >>> suggest("numerc", ["numeric", "exact"])
    "Did you mean 'numeric'? Available: exact, numeric"
    """
    choices = sorted(choices)
    close = close_matches(name, choices)
    hint = f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    return f"{hint}Available: {', '.join(choices) or '(none)'}"


def import_object(path: str, kind: str = "object"):
    """The object a dotted path names: ``pkg.mod:attr`` or ``pkg.mod.attr`` (TRL's ``reward_funcs`` style).

    Raises:
        RegistryError: naming ``kind``, the path and what failed (module not found, attribute missing); the
            original ImportError or AttributeError is its ``__cause__``.
    """
    module, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not attr:
        raise RegistryError(f"cannot import {kind} '{path}': expected 'package.module:name' or 'package.module.name'")
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise RegistryError(f"cannot import {kind} '{path}': {e}") from e
    try:
        return getattr(mod, attr)
    except AttributeError as e:
        raise RegistryError(f"cannot import {kind} '{path}': module '{module}' has no attribute '{attr}'") from e


class _Lazy(str):
    """A ``"module:attr"`` entry, imported on first lookup."""


class Registry(Generic[T]):
    """Name → object map with "did you mean" errors, lazy entries and a dotted-path fallback.

    Like lm-eval's registries: an unknown name lists close matches and every available name; a name containing a
    dot or a colon (``my_pkg.rewards:my_fn``) is imported instead, as TRL's ``reward_funcs`` does — unless
    ``imports=False``: a registry looked up with names from dataset rows (reward types, instruction classes) must
    never turn untrusted text into an import.
    """

    def __init__(self, kind: str, *, imports: bool = True):
        self.kind = kind
        self.imports = imports
        self._items: dict[str, T | _Lazy] = {}

    def register(self, name: str, obj: T | None = None) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; usable as a decorator."""

        def _add(o: T) -> T:
            if name in self._items and self._items[name] is not o:
                raise RegistryError(f"{self.kind} '{name}' is already registered")
            self._items[name] = o
            return o

        return _add(obj) if obj is not None else _add

    def register_lazy(self, name: str, path: str) -> None:
        """Register ``"module:attr"`` under ``name``: imported by the first :meth:`get`, not now."""
        if name in self._items and self._items[name] != path:
            raise RegistryError(f"{self.kind} '{name}' is already registered")
        self._items[name] = _Lazy(path)

    def get(self, name: str) -> T:
        if name in self._items:
            obj = self._items[name]
            if isinstance(obj, _Lazy):
                obj = self._items[name] = import_object(obj, self.kind)
            return obj
        if self.imports and isinstance(name, str) and ("." in name or ":" in name):
            return import_object(name, self.kind)
        raise RegistryError(f"unknown {self.kind} '{name}'. {suggest(name, self._items)}")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, T]]:
        """Every entry, sorted by name (lazy entries are imported)."""
        return [(name, self.get(name)) for name in sorted(self._items)]

    def names(self) -> list[str]:
        return sorted(self._items)
