"""Routing and combination: ``compute_score_from_data_source`` and the overlong penalty (rewards.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from vero_data.rewards import _limits
from vero_data.rewards._text import extract_answer, format_score, unbox
from vero_data.rewards.base import REWARDS, Verifier
from vero_data.rewards.fallback import fallback_accuracy

# The format rule of each extraction (``_text.format_score``'s ``boxed``): one box wanted, more than one box costs
# 0.5, or no box rule. An unrecognised type (the fallback) has no box rule.
_BOX_RULE = {"boxed": True, "json": None, "raw": False}
# Responses longer than this are refused (score 0, reason ``response_too_large``); 16k tokens is about 80k chars.
MAX_RESPONSE_CHARS = 1_000_000
MAX_TRUTH_CHARS = 1_000_000


@dataclass(frozen=True)
class RewardWeights:
    """How accuracy, format and length combine (Vero's training values by default).

    Args:
        format_score: weight of the format reward; accuracy gets ``1 - format_score`` (Vero trains with 0.2).
        max_response_length: the response token budget L (Vero: 16384).
        overlong_buffer: the last B tokens of the budget over which the penalty ramps (Vero: 2048).
        overlong_factor: the penalty at L tokens is ``-overlong_factor`` (Vero: 1.0).
        judge_weight: rule weight w in ``w·rule + (1-w)·judge`` for ``instruction_following_llm_judge`` (Vero: 0.5).
    """

    format_score: float = field(default=0.2, metadata={"help": "format weight; Vero gspo config format_score=0.2"})
    max_response_length: int = field(default=16384, metadata={"help": "Vero max_response_length"})
    overlong_buffer: int = field(default=2048, metadata={"help": "Vero overlong_buffer.len"})
    overlong_factor: float = field(default=1.0, metadata={"help": "Vero overlong_buffer.penalty_factor"})
    judge_weight: float = field(default=0.5, metadata={"help": "Vero instruction_following_llm_judge rule weight"})


def overlong_penalty(
    num_tokens: int, max_response_length: int = 16384, buffer: int = 2048, factor: float = 1.0
) -> float:
    """Linear penalty from 0 at ``L - B`` tokens to ``-factor`` at ``L`` tokens (DAPO-style, as Vero's manager).

    >>> overlong_penalty(14336), overlong_penalty(15360), overlong_penalty(16384)
    (0.0, -0.5, -1.0)
    """
    if buffer <= 0:
        return 0.0
    expected = max_response_length - buffer
    return min(-(num_tokens - expected) / buffer * factor, 0.0)


def reward_type_of(extra_info: Any) -> str | None:
    """The routing key: ``extra_info["reward_type"]`` stripped and lower-cased, if a verifier is registered for it."""
    if not isinstance(extra_info, dict):
        return None
    rt = extra_info.get("reward_type")
    if type(rt) is str and rt in REWARDS:
        return rt
    if not isinstance(rt, str):
        return None
    rt = rt.strip().lower()
    return rt if rt in REWARDS else None


def coerce_extra_info(extra_info: Any) -> Any:
    """A JSON-string ``extra_info`` (as stored in Parquet) is decoded; anything else is returned unchanged."""
    if isinstance(extra_info, str):
        try:
            return json.loads(extra_info)
        except ValueError:
            return None
    return extra_info


@dataclass
class Scored:
    """One scored response, with the reason when accuracy was refused or short-circuited."""

    score: float
    accuracy: float
    format: float
    reason: str = ""
    raw_accuracy: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"score": self.score, "accuracy": self.accuracy, "format": self.format}


def prediction_for(answer: str, verifier: Verifier | None, extra_info: Any, lenient: bool = False) -> str | None:
    """The string the verifier compares, as its ``extraction`` says: un-boxed, a strict JSON array, or as is (also
    for an unrecognised type, ``verifier`` None)."""
    extraction = verifier.extraction if verifier is not None else "raw"
    if extraction == "boxed":
        return unbox(answer)
    if extraction == "json":
        from vero_data.rewards._boxes import box_payload

        return box_payload(answer, verifier.name, extra_info, lenient)
    return answer


def accuracy_of(
    answer: str, truth: str, verifier: Verifier | None, extra_info: Any, lenient: bool = False
) -> tuple[float, str]:
    """Accuracy of an extracted answer text (the fallback when ``verifier`` is None), with a reason when it is 0 for a
    structural cause."""
    pred = prediction_for(answer, verifier, extra_info, lenient)
    if not pred:
        return 0.0, "no_json_array" if verifier is not None and verifier.extraction == "json" else "empty_answer"
    fn = fallback_accuracy if verifier is None else verifier.accuracy
    _limits.take_expired()
    try:
        acc = float(fn(pred, truth, extra_info, lenient=lenient))
    except RecursionError:
        return 0.0, "too_deep"
    except Exception as e:  # a verifier bug or hostile input must not crash a batch
        return 0.0, f"error:{type(e).__name__}"
    except _limits.Deadline:  # the verifiers catch their own; this is a last line of defence
        return 0.0, "timeout"
    return acc, "timeout" if _limits.take_expired() else ""


def score_response(
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    format_score: float = 0.5,
    lenient: bool = False,
    raw_accuracy: bool = False,
) -> Scored:
    """Score one response; like :func:`compute_score_from_data_source` but keeps the reason.

    Args:
        raw_accuracy: also compute the accuracy of a badly formatted response (kept in ``Scored.raw_accuracy``).
    """
    response = str(solution_str)
    truth = str(ground_truth)
    extra_info = coerce_extra_info(extra_info)
    if len(response) > MAX_RESPONSE_CHARS:
        return Scored(0.0, 0.0, 0.0, "response_too_large")
    if len(truth) > MAX_TRUTH_CHARS:
        return Scored(0.0, 0.0, 0.0, "ground_truth_too_large")
    reward_type = reward_type_of(extra_info)
    verifier = REWARDS.get(reward_type) if reward_type is not None else None
    fmt = _format(response, verifier)
    if fmt == 0.0 and not raw_accuracy:
        return Scored(0.0, 0.0, 0.0, "bad_format")  # Vero zeroes accuracy when format is 0: skip the work
    acc, reason = accuracy_of(extract_answer(response), truth.strip(), verifier, extra_info, lenient)
    if fmt == 0.0:
        return Scored(0.0, 0.0, 0.0, reason or "bad_format", raw_accuracy=acc)
    return Scored((1.0 - format_score) * acc + format_score * fmt, acc, fmt, reason, raw_accuracy=acc)


def format_score_for(response: str, reward_type: str | None) -> float:
    """The format reward for this routed reward type (None: an unrecognised type)."""
    return _format(response, REWARDS.get(reward_type) if reward_type is not None else None)


def _format(response: str, verifier: Verifier | None) -> float:
    """The format reward: the verifier's ``extraction`` decides the box rule; an unrecognised type has none."""
    return format_score(response, _BOX_RULE[verifier.extraction if verifier is not None else "raw"])


def compute_score_from_data_source(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    use_boxed: bool = False,
    format_score: float = 0.5,
    **kwargs: Any,
) -> dict[str, float]:
    """Vero's veRL reward entry point: ``{"score", "accuracy", "format"}`` routed by ``extra_info["reward_type"]``.

    ``data_source`` and ``use_boxed`` are accepted and ignored, as in Vero. ``score = (1 - format_score)·accuracy +
    format_score·format``, with accuracy forced to 0 when format is 0. Pass ``lenient=True`` to opt in to the
    documented fixes of Vero's quirks (``1e3`` = ``1000``, ``Option C`` = ``C``, …).

    Args:
        data_source: ignored.
        solution_str: the model response (converted with ``str()``).
        ground_truth: the gold answer (converted with ``str()``).
        extra_info: dict (or JSON string) with ``reward_type`` and verifier inputs (tolerance, image_sizes, …).
        use_boxed: ignored.
        format_score: weight of the format reward (Vero's function default 0.5; its training config passes 0.2).

    >>> r = "<think>r</think><answer>\\\\boxed{The Eiffel Tower}</answer>"
    >>> compute_score_from_data_source("x", r, "eiffel tower", {"reward_type": "string_match"}, format_score=0.2)
    {'score': 1.0, 'accuracy': 1.0, 'format': 1.0}
    """
    lenient = bool(kwargs.get("lenient", False)) if kwargs else False
    s = score_response(solution_str, ground_truth, extra_info, format_score, lenient)
    return {"score": s.score, "accuracy": s.accuracy, "format": s.format}


def compute_score(
    predict_str: Any, ground_truth: Any, use_boxed: bool = False, format_score: float = 0.5, extra_info: Any = None,
    lenient: bool = False,
) -> dict[str, float]:
    """Vero's ``compute_score`` signature (``predict_str, ground_truth, use_boxed, format_score, extra_info``)."""
    return score_response(predict_str, ground_truth, extra_info, format_score, lenient).as_dict()
