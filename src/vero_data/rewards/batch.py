"""Score many responses at once, in worker processes (math-verify's signal timeouts work in their main thread)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from vero_data.rewards.core import reward_type_of, score_response

CHUNK = 256


def _case_fields(case: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    info = case.get("extra_info")
    if isinstance(info, str):
        import json

        try:
            info = json.loads(info) if info else {}
        except ValueError:
            info = {}
    info = dict(info) if isinstance(info, Mapping) else {}
    if case.get("reward_type") is not None:
        info["reward_type"] = case["reward_type"]
    response = case.get("response", case.get("solution_str", ""))
    answer = case.get("answer", case.get("ground_truth", ""))
    return response, answer, info


def case_problem(case: Mapping[str, Any]) -> str | None:
    """Why a case cannot be scored as meant (missing/mistyped field), or None; scoring it would just give 0."""
    response = case.get("response", case.get("solution_str"))
    if response is None:
        return "missing field 'response'"
    if not isinstance(response, str):
        return f"'response' must be a string, got {type(response).__name__}"
    if case.get("answer", case.get("ground_truth")) is None:
        return "missing field 'answer'" if "answer" not in case and "ground_truth" not in case else "'answer' is null"
    info = case.get("extra_info")
    if isinstance(info, str) and info:
        import json

        try:
            info = json.loads(info)
        except ValueError:
            return "'extra_info' is not valid JSON"
    if info is not None and info != "" and not isinstance(info, Mapping):
        return f"'extra_info' must be a JSON object, got {type(info).__name__}"
    return None


def case_reward_type(case: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The case's ``reward_type`` as given (top level, else in extra_info) and what Vero routes it to (None: fallback)."""
    _, _, info = _case_fields(case)
    return info.get("reward_type"), reward_type_of(info)


def score_case(case: Mapping[str, Any], format_score: float = 0.2, lenient: bool = False) -> dict[str, Any]:
    """Score one case ``{reward_type, response, answer, extra_info?}`` → score/accuracy/format/reason."""
    response, answer, info = _case_fields(case)
    s = score_response(response, answer, info, format_score, lenient)
    return {"score": s.score, "accuracy": s.accuracy, "format": s.format, "reason": s.reason}


def _score_chunk(args: tuple[list[Mapping[str, Any]], float, bool]) -> list[dict[str, Any]]:
    cases, format_score, lenient = args
    out = []
    for c in cases:
        try:
            out.append(score_case(c, format_score, lenient))
        except Exception as e:  # never lose a batch to one case
            out.append({"score": 0.0, "accuracy": 0.0, "format": 0.0, "reason": f"error:{type(e).__name__}"})
    return out


def score_batch(
    cases: Iterable[Mapping[str, Any]], workers: int | None = None, format_score: float = 0.2, lenient: bool = False
) -> list[dict[str, Any]]:
    """Score cases in order; ``workers`` processes (default: all cores, 1 = in this process).

    Args:
        cases: mappings with ``reward_type``, ``response``, ``answer`` and optional ``extra_info`` (dict or JSON).
        workers: number of processes; ``1`` scores in the calling process.
        format_score: weight of the format reward (Vero trains with 0.2).
        lenient: opt in to the documented fixes of Vero's quirks.

    >>> score_batch([{"reward_type": "counting", "response": "<think>r</think><answer>\\\\boxed{3}</answer>",
    ...               "answer": "3"}], workers=1)[0]["score"]
    1.0
    """
    cases = list(cases)
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(cases) <= CHUNK:
        return _score_chunk((cases, format_score, lenient))
    chunks = [(cases[i : i + CHUNK], format_score, lenient) for i in range(0, len(cases), CHUNK)]
    out: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_score_chunk, chunks):
            out.extend(part)
    return out
