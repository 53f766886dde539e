"""Source plumbing shared by readers, adapters and generators: the registries and their call contracts."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vero_data.registry import Registry
from vero_data.schema import CATEGORIES, REWARD_TYPES, RawSample

if TYPE_CHECKING:
    from vero_data.manifest import Manifest


@dataclass
class AdapterContext:
    """What an adapter knows besides the row: its manifest, the upstream row index and adapter params."""

    manifest: Manifest | None
    index: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reward_type(self) -> str | None:
        return self.manifest.reward_type if self.manifest else None


# An adapter maps one upstream row to one or more RawSamples, or raises vero_data.errors.RowError(reason, detail).
Adapter = Callable[[dict[str, Any], AdapterContext], "RawSample | Iterable[RawSample]"]
ADAPTERS: Registry[Adapter] = Registry("adapter")


def register_adapter(name: str):
    """Decorator: ``@register_adapter("vqa")`` on ``fn(row, ctx) -> RawSample | Iterable[RawSample]``."""
    return ADAPTERS.register(name)


@dataclass(frozen=True)
class GeneratorInfo:
    """A procedural task generator: ``fn(rng, params) -> RawSample`` plus what it emits."""

    name: str
    category: str
    reward_types: tuple[str, ...]
    fn: Callable[[random.Random, dict[str, Any]], RawSample]
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        assert self.category in CATEGORIES, self.category
        assert all(r in REWARD_TYPES for r in self.reward_types), self.reward_types


GENERATORS: Registry[GeneratorInfo] = Registry("generator")


def register_generator(name: str, category: str, reward_types: Iterable[str], description: str = "", **defaults):
    """Decorator registering ``fn(rng: random.Random, params: dict) -> RawSample`` as a generator."""

    def deco(fn):
        GENERATORS.register(
            name,
            GeneratorInfo(name, category, tuple(reward_types), fn, description or (fn.__doc__ or "").strip(), defaults),
        )
        return fn

    return deco


def row_seed(name: str, seed: int, index: int, split: str = "train") -> int:
    """Per-row seed: rows are independent (parallel, resumable) and `split` salts held-out rows apart."""
    h = hashlib.sha256(f"{name}\0{split}\0{seed}\0{index}".encode()).digest()
    return int.from_bytes(h[:8], "big")


def generate(name: str, n: int, seed: int = 0, params: dict[str, Any] | None = None, split: str = "train",
             start: int = 0) -> Iterator[tuple[int, RawSample]]:
    """Yield ``(index, RawSample)`` for rows ``start..n-1`` of generator ``name``; deterministic in (seed, index)."""
    info = GENERATORS.get(name)
    p = {**info.defaults, **(params or {})}
    for i in range(start, n):
        s = info.fn(random.Random(row_seed(name, seed, i, split)), p)
        s.split = split
        if s.upstream_id is None:
            s.upstream_id = f"{name}-{split}-{seed}-{i}"
        yield i, s
