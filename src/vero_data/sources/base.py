"""Source plumbing shared by readers, adapters and generators: the registries and their call contracts."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vero_data.errors import ConfigError
from vero_data.manifest import Manifest
from vero_data.registry import Registry
from vero_data.schema import CATEGORIES, REWARD_TYPES, RawSample


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
    """A procedural task generator: ``fn(rng, params) -> RawSample`` plus what it emits.

    ``levels`` maps ``easy``/``medium``/``hard`` to the knob values ``difficulty`` sets (each knob can be overridden
    in params); empty for a generator without difficulty levels.
    """

    name: str
    category: str
    reward_types: tuple[str, ...]
    fn: Callable[[random.Random, dict[str, Any]], RawSample]
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        assert self.category in CATEGORIES, self.category
        assert all(r in REWARD_TYPES for r in self.reward_types), self.reward_types


GENERATORS: Registry[GeneratorInfo] = Registry("generator")


def register_generator(name: str, category: str, reward_types: Iterable[str], description: str = "",
                       levels: dict[str, dict[str, Any]] | None = None, **defaults):
    """Decorator registering ``fn(rng: random.Random, params: dict) -> RawSample`` as a generator; ``levels`` is its
    per-difficulty knob table, ``defaults`` its params."""

    def deco(fn):
        GENERATORS.register(name, GeneratorInfo(name, category, tuple(reward_types), fn,
                                                description or (fn.__doc__ or "").strip(), defaults, levels or {}))
        return fn

    return deco


DIFFICULTIES = ("mixed", "easy", "medium", "hard")


class GeneratorParamError(ConfigError, ValueError):
    """A generator parameter is unknown or has a bad value (a ValueError too: what generators themselves raise)."""


def generator_param_names(name: str) -> set[str] | None:
    """The params generator ``name`` reads: its registered defaults + its difficulty knobs; None if it declares none
    (a plugin without defaults: any key is passed through unchecked)."""
    info = GENERATORS.get(name)
    levels = info.levels
    known = set(info.defaults) | {k for lv in levels.values() for k in lv} | ({"difficulty"} if levels else set())
    return known or None


def check_generator_params(name: str, params: dict[str, Any], where: str = "params") -> None:
    """Reject unknown keys and a bad ``difficulty`` before any row is drawn (both used to pass silently or crash
    mid-build). ``where`` names the params in the message (a manifest field or the ``--param`` flag)."""
    known = generator_param_names(name)
    if known is not None:
        bad = sorted(k for k in params if k not in known)
        if bad:
            raise GeneratorParamError(f"{where}: unknown parameter(s) {', '.join(map(repr, bad))} for generator "
                                      f"'{name}'; known: {', '.join(sorted(known))}")
    d = params.get("difficulty", "mixed")
    if (known is None or "difficulty" in known) and d not in DIFFICULTIES:
        raise GeneratorParamError(f"{where}: generator '{name}' parameter 'difficulty' must be one of "
                                  f"{', '.join(DIFFICULTIES)}; got {d!r}")


def row_seed(name: str, seed: int, index: int, split: str = "train") -> int:
    """Per-row seed: rows are independent (parallel, resumable) and `split` salts held-out rows apart."""
    h = hashlib.sha256(f"{name}\0{split}\0{seed}\0{index}".encode()).digest()
    return int.from_bytes(h[:8], "big")


def generate(name: str, n: int, seed: int = 0, params: dict[str, Any] | None = None, split: str = "train",
             start: int = 0) -> Iterator[tuple[int, RawSample]]:
    """Yield ``(index, RawSample)`` for rows ``start..n-1`` of generator ``name``; deterministic in (seed, index)."""
    info = GENERATORS.get(name)
    check_generator_params(name, params or {})
    p = {**info.defaults, **(params or {})}
    for i in range(start, n):
        try:
            s = info.fn(random.Random(row_seed(name, seed, i, split)), p)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            if not set(params or {}) - {"difficulty"}:  # no knob overridden (difficulty is checked): a bug
                raise
            # the usual cause is a knob of the wrong type or range (`--param size=abc`): one line naming them
            raise GeneratorParamError(f"generator '{name}' failed with params {params}: {type(e).__name__}: "
                                      f"{str(e)[:200]}") from e
        s.split = split
        if s.upstream_id is None:
            s.upstream_id = f"{name}-{split}-{seed}-{i}"
        yield i, s
