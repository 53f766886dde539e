"""One small registry class for sources, adapters, generators, stages, rewards and benchmarks."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from vero_data.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → object map with "did you mean" errors and dotted-path fallback.

    Like lm-eval's registries: an unknown name lists close matches and every available name; a name
    containing a dot or a colon (``my_pkg.rewards:my_fn``) is imported instead, as TRL's ``reward_funcs`` does.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; usable as a decorator."""

        def _add(o: T) -> T:
            if name in self._items and self._items[name] is not o:
                raise RegistryError(f"{self.kind} '{name}' is already registered")
            self._items[name] = o
            return o

        return _add(obj) if obj is not None else _add

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        if "." in name or ":" in name:
            return _import_dotted(name, self.kind)
        close = difflib.get_close_matches(name, self._items, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise RegistryError(
            f"unknown {self.kind} '{name}'.{hint} Available: {', '.join(sorted(self._items)) or '(none)'}"
        )

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def names(self) -> list[str]:
        return sorted(self._items)


def _import_dotted(path: str, kind: str):
    module, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise RegistryError(f"cannot import {kind} '{path}': {e}") from e
