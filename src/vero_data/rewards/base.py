"""The verifier registry: one accuracy function per ``reward_type``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from vero_data.registry import Registry

# How the prediction is cut out of the answer text before the verifier sees it (rewards.md "Answer extraction").
Extraction = Literal["boxed", "json", "raw"]
AccuracyFn = Callable[..., float]


@dataclass(frozen=True)
class Verifier:
    """A registered accuracy function.

    Args:
        name: the ``reward_type`` it scores.
        accuracy: ``fn(pred, truth, extra_info, lenient=False) -> float`` in [0, 1].
        extraction: ``boxed`` (last ``\\boxed{}``), ``json`` (strict JSON array) or ``raw`` (answer text as is).
    """

    name: str
    accuracy: AccuracyFn
    extraction: Extraction = "boxed"

    def __call__(self, pred: str, truth: str, extra_info: dict[str, Any] | None = None, lenient: bool = False) -> float:
        return self.accuracy(pred, truth, extra_info, lenient=lenient)


REWARDS: Registry[Verifier] = Registry("reward")


def register(name: str, extraction: Extraction = "boxed") -> Callable[[AccuracyFn], AccuracyFn]:
    """Register an accuracy function under ``name`` (decorator)."""

    def deco(fn: AccuracyFn) -> AccuracyFn:
        REWARDS.register(name, Verifier(name, fn, extraction))
        return fn

    return deco
