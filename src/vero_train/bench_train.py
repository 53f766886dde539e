"""``vero bench train``: Vero's trainer against a bare ``trl.GRPOTrainer`` on the same steps, A/B/A/B.

Both sides get the same model, the same converted rows and the same GRPOConfig values (the CPU smoke sizes):

- **vero**: :func:`vero_train.train.train` as ``vero train`` runs it — Vero's reward functions (task routing,
  per-category logs, the learning-signal check), the category-balanced sampler, metrics.jsonl, the console line,
  the plot at every checkpoint (saving off, so only the final plot);
- **bare**: ``trl.GRPOTrainer`` with TRL's own sampler and one plain reward function (minus the completion's length
  over the budget, a cheap reward that varies like the overlong one).

Seconds per optimizer step are timed by a callback on both trainers (``on_step_begin`` → ``on_step_end``), leaving
out the first rollout batch (model warm-up); setup (data preparation, trainer construction) is timed apart. For
Vero the time spent inside the reward functions is measured too, so what remains of the difference is the rest of
the loop (sampler, callbacks, logging). Rounds alternate (vero, bare, vero, bare) so a machine that gets slower
or faster during the bench hits both alike.
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from transformers import TrainerCallback


class StepTimer(TrainerCallback):
    """Wall seconds of each optimizer step."""

    def __init__(self):
        self.seconds: list[float] = []
        self._t0 = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self._t0)


def plain_length_reward(max_len: int):
    """A plain TRL reward: ``-len(completion_ids) / max_len`` (what a bare TRL script would write)."""

    def length_reward(completions=None, completion_ids=None, **kwargs):
        return [-len(ids) / max_len for ids in completion_ids]

    return length_reward


def bare_grpo_config(cfg):
    """A plain ``trl.GRPOConfig`` with every GRPOConfig value of Vero's ``cfg`` (its own derived batch sizes)."""
    from trl import GRPOConfig

    kw = {f.name: getattr(cfg, f.name) for f in fields(GRPOConfig) if f.init and hasattr(cfg, f.name)}
    kw["generation_batch_size"] = None  # derived again from steps_per_generation, as in cfg
    kw["reward_weights"] = None  # one plain reward function
    return GRPOConfig(**kw)


def _measured(seconds: list[float], skip: int) -> float | None:
    rest = seconds[skip:]
    return sum(rest) / len(rest) if rest else None


def run_vero(cfg, timer: StepTimer) -> dict:
    """One Vero run; returns its timings."""
    from vero_train.train import train

    t0 = time.perf_counter()
    res = train(cfg, callbacks=[timer])
    return {"total_s": time.perf_counter() - t0, "reward_s": res.reward_seconds,
            "train_s": sum(timer.seconds)}


def run_bare(cfg, data: str, model_path: str, timer: StepTimer) -> dict:
    """One bare TRL run on the same converted rows."""
    from trl import GRPOTrainer

    from vero_train.callbacks import quiet_stdout
    from vero_train.data import prepare_train_dataset
    from vero_train.train import load_processor

    t0 = time.perf_counter()
    processor = load_processor(model_path, cfg)
    train_ds, _ = prepare_train_dataset(data, split=cfg.data_split, system_prompt=cfg.system_prompt,
                                        normalize_bbox_to_1000=cfg.normalize_bbox_to_1000, processor=processor,
                                        max_prompt_length=cfg.max_prompt_length)
    args = bare_grpo_config(cfg)
    args.model_init_kwargs = {"dtype": "float32"}
    trainer = GRPOTrainer(model=model_path, reward_funcs=[plain_length_reward(cfg.max_completion_length)],
                          args=args, train_dataset=train_ds, processing_class=processor, callbacks=[timer])
    quiet_stdout(trainer, "bare TRL")
    trainer.train()
    return {"total_s": time.perf_counter() - t0, "train_s": sum(timer.seconds)}


def run_train_bench(steps: int = 6, work: str | Path | None = None, model: str = "tiny", rounds: int = 2) -> dict:
    """Time ``steps`` optimizer updates of Vero's trainer and of a bare ``trl.GRPOTrainer``, ``rounds`` times each,
    alternating. Returns seconds per step for both, their ratio and where Vero's extra time goes."""
    import torch

    from vero_train.config import CPU_SMOKE, load_config
    from vero_train.models.tiny import resolve_model
    from vero_train.train import build_demo_data

    root = Path(work) if work else Path(tempfile.mkdtemp(prefix="vero-bench-train-"))
    data = str(build_demo_data(root / "data-demo"))
    model_path = resolve_model(model)
    base = {**CPU_SMOKE, "model_name_or_path": model_path, "data": data, "max_steps": steps, "save_strategy": "no",
            "report_to": []}
    # the first rollout batch (2 updates) includes one-off costs (first forward, allocations): left out of s/step
    skip = CPU_SMOKE["ppo_mini_batches"]
    if steps <= skip:
        raise ValueError(f"--steps must be more than {skip} (the first rollout batch is left out of the timing)")
    vero, bare = [], []
    for r in range(rounds):
        for side in ("vero", "bare"):
            run = root / f"run-{side}-{r}"
            shutil.rmtree(run, ignore_errors=True)
            cfg = load_config(None, None, **{**base, "output_dir": str(run)})
            timer = StepTimer()
            res = run_vero(cfg, timer) if side == "vero" else run_bare(cfg, data, model_path, timer)
            res["s_per_step"] = _measured(timer.seconds, skip)
            res["steps_timed"] = len(timer.seconds) - skip
            (vero if side == "vero" else bare).append(res)
            shutil.rmtree(run, ignore_errors=True)
    if not work:
        shutil.rmtree(root, ignore_errors=True)

    def mean(rs, k):
        vals = [x[k] for x in rs if x.get(k) is not None]
        return sum(vals) / len(vals) if vals else None

    v, b = mean(vero, "s_per_step"), mean(bare, "s_per_step")
    reward_per_step = mean(vero, "reward_s") / steps if mean(vero, "reward_s") is not None else None
    return {
        "model": model, "steps": steps, "rounds": rounds, "order": "vero, bare TRL, vero, bare TRL, …",
        "device": "cpu", "torch_threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
        "completions_per_rollout": CPU_SMOKE["global_batch_prompts"] * CPU_SMOKE["num_generations"],
        "max_completion_length": CPU_SMOKE["max_completion_length"],
        "vero_s_per_step": _r(v), "bare_trl_s_per_step": _r(b), "ratio_vero_over_bare": _r(v / b if v and b else None),
        "vero_s_per_step_each_round": [_r(x["s_per_step"]) for x in vero],
        "bare_s_per_step_each_round": [_r(x["s_per_step"]) for x in bare],
        "vero_reward_ms_per_step": _r(None if reward_per_step is None else reward_per_step * 1000),
        "vero_run_s": _r(mean(vero, "total_s")), "bare_run_s": _r(mean(bare, "total_s")),
        "vero_run_s_each_round": [_r(x["total_s"]) for x in vero], "bare_run_s_each_round": [_r(x["total_s"]) for x in bare],
        "vero_outside_steps_s": _r(mean(vero, "total_s") - mean(vero, "train_s")),
        "bare_outside_steps_s": _r(mean(bare, "total_s") - mean(bare, "train_s")),
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
