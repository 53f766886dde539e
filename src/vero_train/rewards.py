"""TRL reward functions for ``vero train``: ``vero_data.rewards.trl`` routed by each row's ``reward_type``, plus
per-category logging.

TRL logs ``rewards/<func>/mean`` for every function (so each keeps its ``__name__``). On top of that, the functions
built here report per category through TRL's ``log_metric`` hook:

- ``rewards/<category>/mean``: the weighted total (what the advantage sees) for that category's completions;
- ``rewards/<category>/<func>``: each function's mean for that category.

Categories are Vero-600K's six (``vero_data.schema.CATEGORIES``), read from the ``category`` column.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from vero_data.errors import RegistryError
from vero_data.registry import Registry
from vero_data.rewards import judged_reward_types
from vero_data.rewards import trl as vero_trl

log = logging.getLogger(__name__)

RewardFunc = Callable[..., list]
# TRL reward functions by name (``reward_funcs: [vero_reward]``); a dotted path imports a user's own function.
TRL_REWARDS: Registry[RewardFunc] = Registry("reward function")
for _name in ("vero_accuracy", "vero_format", "vero_reward"):
    TRL_REWARDS.register_lazy(_name, f"vero_data.rewards.trl:{_name}")
TRL_REWARDS.register("vero_overlong", vero_trl.make_overlong_reward)  # built per run from the length settings
BUILTIN = tuple(TRL_REWARDS.names())


class CategoryRewardLog:
    """Collects the outputs of every reward function for one batch; when the last one has run, logs the weighted
    total and each function's mean per category (through TRL's ``log_metric``), and counts the groups whose
    completions all got the same total (zero advantage: nothing to learn from them) with the reason
    (:meth:`take_window`)."""

    def __init__(self, names: Sequence[str], weights: Sequence[float] | None = None,
                 max_completion_length: int | None = None):
        self.names = list(names)
        self.weights = list(weights) if weights is not None else [1.0] * len(self.names)
        self.max_completion_length = max_completion_length
        self.group_size: int | None = None  # the trainer's num_generations (set once the trainer exists)
        self._batch_key: Any = None
        self._outputs: dict[str, list] = {}
        self.last: dict[str, float] = {}
        self._groups = 0
        self._flat: Counter = Counter()
        self.seconds = 0.0  # wall time inside the reward functions (scoring, routing, these logs)

    def record(self, name: str, values: list, completions: list, kwargs: dict) -> None:
        key = (id(completions), len(completions))
        if key != self._batch_key:
            self._batch_key, self._outputs = key, {}
        self._outputs[name] = values
        if len(self._outputs) < len(self.names):
            return
        categories = kwargs.get("category") or ["all"] * len(completions)
        metrics = category_means(categories, self._outputs, self.names, self.weights)
        self.last = metrics
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            for k, v in metrics.items():
                log_metric(k, v)
        self._count_flat_groups(kwargs.get("completion_ids"))
        self._batch_key, self._outputs = None, {}

    def _count_flat_groups(self, completion_ids: list | None) -> None:
        """Count the batch's groups (``group_size`` consecutive completions of one prompt, TRL's layout) and, for
        those whose totals are all equal, why: every completion cut off at ``max_completion_length``, all wrong,
        all right, or otherwise the same reward."""
        totals = [sum(w * (self._outputs[n][i] or 0.0) for n, w in zip(self.names, self.weights, strict=True))
                  for i in range(len(self._outputs[self.names[0]]))]
        acc = self._outputs.get("vero_accuracy")
        size = self.group_size or len(totals)
        for start in range(0, len(totals), size):
            idx = range(start, min(start + size, len(totals)))
            self._groups += 1
            if max(totals[i] for i in idx) - min(totals[i] for i in idx) > 1e-6:
                continue
            self._flat[flat_reason(idx, completion_ids, self.max_completion_length, acc)] += 1

    def take_window(self) -> tuple[int, Counter]:
        """(groups seen, reasons of the groups with equal rewards) since the last call; resets both."""
        out = (self._groups, self._flat)
        self._groups, self._flat = 0, Counter()
        return out


CUT_OFF, ALL_WRONG, ALL_RIGHT, SAME = "all cut off", "all wrong", "all right", "same reward"


def flat_reason(idx: Sequence[int], completion_ids: list | None, max_len: int | None, acc: list | None) -> str:
    """Why a group's completions all got the same reward.

    >>> flat_reason(range(2), [[1] * 8, [2] * 8], 8, [0.0, 0.0])
    'all cut off'
    >>> flat_reason(range(2), [[1], [2]], 8, [1.0, 1.0])
    'all right'
    """
    if completion_ids is not None and max_len and all(len(completion_ids[i]) >= max_len for i in idx):
        return CUT_OFF
    vals = [acc[i] for i in idx] if acc is not None else []
    if vals and all(v is not None and v <= 0 for v in vals):
        return ALL_WRONG
    if vals and all(v is not None and v >= 1 for v in vals):
        return ALL_RIGHT
    return SAME


def category_means(categories: Sequence[str], outputs: dict[str, list], names: Sequence[str],
                   weights: Sequence[float]) -> dict[str, float]:
    """``rewards/<category>/mean`` (weighted total) and ``rewards/<category>/<name>`` from per-function outputs.

    None (= not scored) counts as 0 in the total, as TRL's nansum does, and is skipped in a function's mean.

    >>> category_means(["stem", "stem", "knowledge"], {"a": [1.0, 0.0, None]}, ["a"], [1.0])
    {'rewards/knowledge/mean': 0.0, 'rewards/stem/mean': 0.5, 'rewards/stem/a': 0.5}
    """
    rows: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(categories):
        rows[str(c)].append(i)
    out: dict[str, float] = {}
    for cat in sorted(rows):
        idx = rows[cat]
        total = [sum(w * (outputs[n][i] or 0.0) for n, w in zip(names, weights, strict=True)) for i in idx]
        out[f"rewards/{cat}/mean"] = sum(total) / len(total)
        for n in names:
            vals = [outputs[n][i] for i in idx if outputs[n][i] is not None]
            if vals:
                out[f"rewards/{cat}/{n}"] = sum(vals) / len(vals)
    return out


def _judge_accuracy(base: list, completions: list, kwargs: dict, judge) -> list:
    """Replace the accuracy of judge-typed rows by Vero's judge blend (``score_with_judge``)."""
    from vero_data.rewards.llm_judge import score_with_judge

    types = kwargs.get("reward_type") or [None] * len(completions)
    judged_types = judged_reward_types()
    out = list(base)
    for i, (c, rt) in enumerate(zip(completions, types, strict=True)):
        if rt not in judged_types or out[i] is None:
            continue
        info = vero_trl._extra((kwargs.get("extra_info") or [None] * len(completions))[i], rt)
        prompt = (kwargs.get("prompts") or [None] * len(completions))[i]
        question = info.get("question") or _user_text(prompt)
        scored = score_with_judge(judge, question, vero_trl.completion_text(c), kwargs["answer"][i], info,
                                  format_score=vero_trl.FORMAT_WEIGHT)
        out[i] = scored["accuracy"]
    return out


def _user_text(prompt: Any) -> str:
    """Text of the last user turn of a TRL prompt (string or block contents)."""
    if not isinstance(prompt, list):
        return str(prompt or "")
    for m in reversed(prompt):
        if isinstance(m, dict) and m.get("role") == "user":
            return vero_trl.completion_text([m]).strip()
    return ""


def resolve_reward(name: str, max_completion_length: int | None = None, overlong_buffer: int = 2048,
                   overlong_factor: float = 1.0) -> RewardFunc:
    """A reward function by name (``vero_accuracy``, ``vero_format``, ``vero_overlong``, ``vero_reward``) or dotted
    import path (``pkg.module.func``), as TRL's ``reward_funcs``."""
    if name == "vero_overlong":
        fn = vero_trl.make_overlong_reward(max_completion_length or 16384, overlong_buffer, overlong_factor)
        fn.__name__ = "vero_overlong"
        return fn
    try:
        return TRL_REWARDS.get(name)
    except RegistryError as e:  # ValueError for TRL-style callers; the registry's text names the close matches
        path_hint = "" if "." in name or ":" in name else " (or a dotted import path: my_pkg.rewards.my_fn)"
        raise ValueError(f"{e}{path_hint}") from e


def _wrap(fn: RewardFunc, name: str, logger: CategoryRewardLog, judge=None) -> RewardFunc:
    def reward(prompts=None, completions=None, **kwargs):
        t0 = time.perf_counter()
        values = fn(prompts=prompts, completions=completions, **kwargs)
        values = [None if v is None else float(v) for v in values]
        if judge is not None and name in ("vero_accuracy", "vero_reward"):
            acc = _judge_accuracy(values, completions, {**kwargs, "prompts": prompts}, judge)
            if name == "vero_reward":  # rebuild the total from the judged accuracy
                fmts = vero_trl.vero_format(prompts, completions, **kwargs)
                acc = [None if a is None else (1 - vero_trl.FORMAT_WEIGHT) * a + vero_trl.FORMAT_WEIGHT * f
                       for a, f in zip(acc, fmts, strict=True)]
            values = acc
        logger.record(name, values, completions, kwargs)
        logger.seconds += time.perf_counter() - t0
        return values

    reward.__name__ = name  # TRL logs rewards/<__name__>/mean
    reward.__qualname__ = name
    reward.__doc__ = fn.__doc__
    return reward


def build_reward_funcs(names: Sequence[str | RewardFunc], weights: Sequence[float] | None = None, *,
                       max_completion_length: int | None = None, overlong_buffer: int = 2048,
                       overlong_factor: float = 1.0, judge_base_url: str | None = None,
                       judge_model: str = "qwen_vllm", judge_api_key_env: str | None = None
                       ) -> tuple[list[RewardFunc], CategoryRewardLog]:
    """The reward functions to hand to ``GRPOTrainer`` and the per-category logger they share.

    Args:
        names: names/dotted paths (see :func:`resolve_reward`) or callables.
        weights: the trainer's ``reward_weights`` (for the per-category total); None = all 1.
        max_completion_length, overlong_buffer, overlong_factor: the overlong penalty's budget.
        judge_base_url: an OpenAI-compatible judge for ``llm_judge`` rows (else they score 0, as Vero offline).
        judge_api_key_env: the environment variable holding the judge's key (:class:`LLMJudge`).
    """
    judge = None
    if judge_base_url:
        from vero_data.rewards.llm_judge import LLMJudge

        judge = LLMJudge(base_url=judge_base_url, model=judge_model, api_key_env=judge_api_key_env)
    fns = [n if callable(n) else resolve_reward(n, max_completion_length, overlong_buffer, overlong_factor)
           for n in names]
    labels = [getattr(f, "__name__", f"reward_{i}") for i, f in enumerate(fns)]
    if len(set(labels)) != len(labels):
        raise ValueError(f"reward functions need distinct names for TRL's logs: {labels}")
    logger = CategoryRewardLog(labels, weights, max_completion_length)
    return [_wrap(f, n, logger, judge) for f, n in zip(fns, labels, strict=True)], logger
