"""TRL reward functions: ``(prompts, completions, **columns) -> list[float]``, routed per row by ``reward_type``.

TRL passes every extra dataset column as a keyword list (``answer``, ``reward_type``, ``extra_info`` …) and logs
``rewards/<__name__>/mean``, so each function here has a real name. ``vero_reward`` is the total
``(1-w)·accuracy + w·format``; ``vero_accuracy`` and ``vero_format`` are the parts (use reward_weights 0.8/0.2 to
get the same total); ``vero_overlong`` is the length penalty from ``completion_ids``.
"""

from __future__ import annotations

import json
from typing import Any

from vero_data.rewards.core import score_response

FORMAT_WEIGHT = 0.2


def completion_text(completion: Any) -> str:
    """A completion as text: a string, or the content of a conversational message list.

    >>> completion_text([{"role": "assistant", "content": "hi"}])
    'hi'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        parts = []
        for m in completion:
            content = m.get("content", "") if isinstance(m, dict) else m
            if isinstance(content, list):  # multimodal content blocks
                content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
            parts.append(str(content))
        return "".join(parts)
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return str(completion)


def _extra(row_extra: Any, reward_type: Any) -> dict:
    if isinstance(row_extra, str):
        try:
            row_extra = json.loads(row_extra) if row_extra else {}
        except ValueError:
            row_extra = {}
    info = dict(row_extra) if isinstance(row_extra, dict) else {}
    if reward_type is not None:
        info["reward_type"] = reward_type
    return info


def _rows(completions: list, kwargs: dict) -> list[tuple[str, Any, dict]]:
    n = len(completions)
    answers = kwargs.get("answer") or kwargs.get("solution") or kwargs.get("ground_truth") or [None] * n
    types = kwargs.get("reward_type") or [None] * n
    extras = kwargs.get("extra_info") or [None] * n
    return [(completion_text(c), answers[i], _extra(extras[i], types[i])) for i, c in enumerate(completions)]


def _scores(completions, kwargs) -> list:
    lenient = bool(kwargs.get("lenient", False))
    out = []
    for text, answer, info in _rows(completions, kwargs):
        if answer is None:
            out.append(None)  # TRL: None = not scored by this function
            continue
        out.append(score_response(text, answer, info, FORMAT_WEIGHT, lenient))
    return out


def vero_reward(prompts=None, completions=None, **kwargs) -> list[float | None]:
    """Total Vero reward per completion: ``0.8·accuracy + 0.2·format`` (accuracy 0 when format is 0).

    >>> vero_reward(None, ["<think>r</think><answer>\\\\boxed{4}</answer>"], answer=["4"], reward_type=["numeric"])
    [1.0]
    """
    return [None if s is None else s.score for s in _scores(completions, kwargs)]


def vero_accuracy(prompts=None, completions=None, **kwargs) -> list[float | None]:
    """Accuracy per completion (0 when the format is 0, as in Vero)."""
    return [None if s is None else s.accuracy for s in _scores(completions, kwargs)]


def vero_format(prompts=None, completions=None, **kwargs) -> list[float | None]:
    """Format reward per completion (0, 0.5 or 1)."""
    out = []
    from vero_data.rewards.core import format_score_for, reward_type_of

    for text, _, info in _rows(completions, kwargs):
        out.append(format_score_for(text, reward_type_of(info)))
    return out


def vero_overlong(prompts=None, completions=None, completion_ids=None, max_response_length: int = 16384,
                  overlong_buffer: int = 2048, overlong_factor: float = 1.0, **kwargs) -> list[float]:
    """Overlong penalty per completion from its token count (``completion_ids``), 0 down to −factor."""
    from vero_data.rewards.core import overlong_penalty

    if completion_ids is None:
        return [0.0] * len(completions)
    return [overlong_penalty(len(ids), max_response_length, overlong_buffer, overlong_factor) for ids in completion_ids]


def make_overlong_reward(max_response_length: int = 16384, buffer: int = 2048, factor: float = 1.0):
    """An overlong reward function bound to a length budget (a named function, not a partial, for TRL's logs)."""

    def vero_overlong_penalty(prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        return vero_overlong(prompts, completions, completion_ids, max_response_length, buffer, factor)

    return vero_overlong_penalty


TRL_REWARD_FUNCS = (vero_accuracy, vero_format, vero_overlong)
