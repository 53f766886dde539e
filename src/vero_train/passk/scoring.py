"""Scoring one response with the task-routed rewards, finding rows that cannot be scored, and a row's pass
statistics and keep decision."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vero_train.passk.config import PassAtKConfig

from vero_data.rewards import judged_reward_types

log = logging.getLogger(__name__)

# Rewards that cannot be computed offline (the judge score replaces accuracy at manager level): annotated, never
# dropped by the bounds, since their pass count says nothing about difficulty. Derived from the verifier registry.
UNSCORED_REWARD_TYPES = tuple(sorted(judged_reward_types()))


def score_completion(row: dict, text: str, format_score: float = 0.2) -> dict[str, float]:
    """Vero's task-routed reward for one response: ``{"score", "accuracy", "format"}``."""
    from vero_data.rewards import compute_score_from_data_source

    try:
        extra = json.loads(row.get("extra_info") or "{}")
    except ValueError:
        extra = {}
    extra = {**extra, "reward_type": row["reward_type"]}
    try:
        return compute_score_from_data_source(row["data_source"], text, row["answer"], extra,
                                              format_score=format_score)
    except Exception as e:  # a verifier bug must not kill a long run: count the sample as failed
        log.warning("scoring %s failed: %s", row.get("id"), e)
        return {"score": 0.0, "accuracy": 0.0, "format": 0.0}


def row_problem(row: dict) -> tuple[str, str] | None:
    """``(reason, detail)`` when a row cannot be scored, found before any generation is spent on it: a reward
    type no verifier handles would be scored by the fallback, an empty answer against the text "None"."""
    from vero_data.schema import REWARD_TYPES

    rt = row.get("reward_type")
    if rt not in REWARD_TYPES:
        return "unknown_reward_type", f"row {row['id']}: reward_type {rt!r} is not one of {', '.join(REWARD_TYPES)}"
    ans = row.get("answer")
    if ans is None or not str(ans).strip():
        return "missing_answer", f"row {row['id']}: answer is {'null' if ans is None else 'empty'}"
    n = prompt_chars(row.get("prompt"))
    if n > MAX_PROMPT_CHARS:  # a 5 MB question from an older build must not take the run down with it
        return "question_too_long", f"row {row['id']}: prompt of {n:,} chars > {MAX_PROMPT_CHARS:,}"
    return None


# The build's default cap (recipe filters.max_question_chars): rows over it never reach a model.
MAX_PROMPT_CHARS = 32_768


def prompt_chars(prompt: Any) -> int:
    """Characters of text in a prompt (a list of messages, their JSON text, or a string)."""
    if isinstance(prompt, str):
        return len(prompt)
    if isinstance(prompt, list):
        return sum(prompt_chars(m.get("content")) if isinstance(m, dict) else prompt_chars(m) for m in prompt)
    return 0



def keep_reason(stats: dict[str, Any], cfg: PassAtKConfig) -> str | None:
    """None when the row is kept, else the quarantine reason."""
    if cfg.keep_all or stats["reward_type"] in UNSCORED_REWARD_TYPES:
        return None
    if stats["pass_count"] < cfg.min_pass:
        return "pass_count_below_min" if cfg.min_pass > 1 else "never_solved"
    if stats["pass_count"] > cfg.max_pass:
        return "pass_count_above_max" if cfg.max_pass < cfg.k - 1 else "always_solved"
    return None


def row_stats(row: dict, samples: list[tuple], cfg: PassAtKConfig) -> dict[str, Any]:
    """A row's ``difficulty`` entry from its k samples ``(idx, text, n_tokens, finish, score, accuracy, format)``."""
    k = cfg.k
    passes = sum(1 for s in samples if s[5] >= cfg.pass_threshold)
    return {
        "id": row["id"], "data_source": row["data_source"], "category": row["category"],
        "reward_type": row["reward_type"], "split": row["split"], "k": k, "pass_count": passes,
        "pass_rate": passes / k, "mean_reward": sum(s[4] for s in samples) / k,
        "mean_accuracy": sum(s[5] for s in samples) / k,
        "format_rate": sum(1 for s in samples if s[6] > 0) / k,
        "mean_tokens": sum(s[2] for s in samples) / k,
        "truncated": sum(1 for s in samples if s[3] == "length"),
    }


def unsampled_stats(rid: str, row: dict, k: int) -> dict[str, Any]:
    """A ``difficulty`` row for a row quarantined before sampling: no pass count (null), not a 0 of k."""
    return {"id": rid, "data_source": row.get("data_source"), "category": row.get("category"),
            "reward_type": row.get("reward_type"), "split": row.get("split"), "k": k, "pass_count": None,
            "pass_rate": None, "mean_reward": None, "mean_accuracy": None, "format_rate": None, "mean_tokens": None,
            "truncated": None}


def rescored(row: dict, samples: list[tuple], format_score: float) -> list[tuple]:
    """Cached samples with their rewards computed again (``--rescore``: after a verifier changed)."""
    out = []
    for j, text, n_tokens, finish, *_ in samples:
        s = score_completion(row, text, format_score)
        out.append((j, text, n_tokens, finish, s["score"], s["accuracy"], s["format"]))
    return out
