"""The verifier registry: what each ``reward_type`` means, written once where its accuracy function is.

Every fact the rest of the toolkit needs about a reward type (how its prediction is cut out of the answer, its
format rule, whether it needs image sizes or a judge, how build canonicalises its gold answer, its catalog sub-tag)
is a field of its :class:`Verifier`; the sets other modules use are derived from the registry by the functions below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from vero_data.constants import REWARD_TYPES
from vero_data.registry import Registry

# How the prediction is cut out of the answer text before the verifier sees it (rewards.md "Answer extraction"):
# the last ``\boxed{}``, a strict JSON array (grounding/clicking), or the answer text as it is.
Extraction = Literal["boxed", "json", "raw"]
# How the rule canonicaliser writes the gold answer (stages/canonicalise.py): a bare number, one option letter,
# short text (yes/no lower-cased, a final full stop dropped), verbatim (only trimmed: JSON, instructions) or
# free (whitespace runs collapsed on a one-line answer).
AnswerForm = Literal["number", "letter", "text", "verbatim", "free"]
# A judged type's accuracy at manager level (llm_judge.score_with_judge): the judge's score replaces the rule
# accuracy, or is blended with it.
JudgeMode = Literal["replace", "blend"]
# The question patterns of sql/tag_categories.sql, in the order the SQL tries them.
QUESTION_SUBTAGS = ("counting", "spatial_relation")
AccuracyFn = Callable[..., float]


@dataclass(frozen=True)
class Verifier:
    """A registered reward type: its accuracy function and everything else that depends on the type.

    Args:
        name: the ``reward_type`` it scores.
        accuracy: ``fn(pred, truth, extra_info, lenient=False) -> float`` in [0, 1].
        extraction: ``boxed`` (last ``\\boxed{}``; the format reward wants exactly one), ``json`` (strict JSON
            array; more than one ``\\boxed`` halves the format reward) or ``raw`` (answer text as is).
        needs_image_sizes: the verifier reads ``extra_info["image_sizes"]`` (build, export and training add them).
        judge: ``replace`` or ``blend`` when an LLM judge scores it at manager level; None for rule-only types.
        answer_form: how the rule canonicaliser writes the gold answer (see ``AnswerForm``).
        subtag: the catalog sub-tag of its rows (sql/tag_categories.sql).
        subtag_unless: question patterns (``QUESTION_SUBTAGS``) whose sub-tag wins over ``subtag``.
    """

    name: str
    accuracy: AccuracyFn
    extraction: Extraction = "boxed"
    needs_image_sizes: bool = False
    judge: JudgeMode | None = None
    answer_form: AnswerForm = "free"
    subtag: str = "open_answer"
    subtag_unless: tuple[str, ...] = QUESTION_SUBTAGS

    def __post_init__(self) -> None:
        unknown = set(self.subtag_unless) - set(QUESTION_SUBTAGS)
        if unknown:
            raise ValueError(f"reward '{self.name}': subtag_unless {sorted(unknown)} not in {QUESTION_SUBTAGS}")

    def __call__(self, pred: str, truth: str, extra_info: dict[str, Any] | None = None, lenient: bool = False) -> float:
        return self.accuracy(pred, truth, extra_info, lenient=lenient)


REWARDS: Registry[Verifier] = Registry("reward", imports=False)  # keyed by rows' reward_type: never an import


def register(name: str, **facts: Any) -> Callable[[AccuracyFn], AccuracyFn]:
    """Register an accuracy function under ``name`` with the facts of its type (decorator; see :class:`Verifier`).

    >>> import vero_data.rewards
    >>> REWARDS.get("clicking").extraction, REWARDS.get("clicking").needs_image_sizes
    ('json', True)
    """

    def deco(fn: AccuracyFn) -> AccuracyFn:
        REWARDS.register(name, Verifier(name, fn, **facts))
        return fn

    return deco


def reward_types() -> tuple[str, ...]:
    """Registered reward types: Vero's (``REWARD_TYPES``, in its order), then any others by name."""
    names = REWARDS.names()
    return (*(n for n in REWARD_TYPES if n in REWARDS), *(n for n in names if n not in REWARD_TYPES))


def boxed_reward_types() -> frozenset[str]:
    """Types whose prediction is the last ``\\boxed{}`` (rewards.md "Answer extraction" 2)."""
    return frozenset(n for n, v in REWARDS.items() if v.extraction == "boxed")


def image_size_reward_types() -> frozenset[str]:
    """Types whose verifier needs ``extra_info["image_sizes"]`` (without them it scores 0)."""
    return frozenset(n for n, v in REWARDS.items() if v.needs_image_sizes)


def judged_reward_types() -> frozenset[str]:
    """Types an LLM judge scores at manager level (offline, ``compute_score`` gives them accuracy 0 or rule only)."""
    return frozenset(n for n, v in REWARDS.items() if v.judge is not None)


def subtag_rows() -> list[dict[str, Any]]:
    """``reward_type, subtag, subtag_unless`` per registered type: the table sql/tag_categories.sql joins."""
    return [{"reward_type": n, "subtag": v.subtag, "subtag_unless": list(v.subtag_unless)} for n, v in REWARDS.items()]
