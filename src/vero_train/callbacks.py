"""Trainer callbacks: metrics to OUT/metrics.jsonl, one readable line per log and a progress bar on stderr.

stdout belongs to the command's result (`vero train --json` is one JSON document), so transformers' own printers —
``PrinterCallback`` (``print(logs)``) and ``ProgressCallback`` (``tqdm.write(str(logs))``, also stdout) — are replaced
by :func:`quiet_stdout` on every trainer we run (GSPO training, the tiny model's warm-up).
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def json_default(o: Any):
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


class JsonlLogCallback(TrainerCallback):
    """Appends every log (loss, rewards, ``rewards/<category>/…``, timing) as one JSON line to ``path``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._t_last: float | None = None
        self._step_last = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._t_last, self._step_last = time.perf_counter(), state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        now = time.perf_counter()
        rec = {"step": state.global_step, "epoch": state.epoch, **logs}
        if self._t_last is not None and state.global_step > self._step_last:
            rec["seconds_per_step"] = (now - self._t_last) / (state.global_step - self._step_last)
        self._t_last, self._step_last = now, state.global_step
        rec["peak_rss_mb"] = peak_rss_mb()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(rec, default=json_default) + "\n")


class RichLogCallback(TrainerCallback):
    """One line per log on the console: step, loss, total reward and the per-category means."""

    def __init__(self, console=None):
        self.console = console

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        from rich.console import Console

        con = self.console or Console(stderr=True)
        cats = {k.split("/")[1]: v for k, v in logs.items()
                if k.startswith("rewards/") and k.endswith("/mean") and k.count("/") == 2
                and not k.split("/")[1].startswith("vero_") and v is not None}
        cat_txt = " ".join(f"{c}={v:.3f}" for c, v in sorted(cats.items()))
        reward = logs.get("reward")
        con.print(f"[bold]step {state.global_step}/{state.max_steps}[/] loss={logs.get('loss', 0):.4g} "
                  f"reward={reward if reward is None else f'{reward:.3f}'} "
                  f"grad_norm={logs.get('grad_norm', float('nan')):.3g} [dim]{cat_txt}[/]", highlight=False)


HINTS = {
    "all cut off": "raise max_completion_length (or overlong_buffer) so completions can end",
    "all wrong": "train on rows the model solves sometimes (`vero data filter --pass-at-k 8`, 0 < passes < k)",
    "all right": "the rows are too easy for this model (`vero data filter --pass-at-k 8`, 0 < passes < k)",
    "same reward": "check the reward functions: they score every completion of a prompt alike",
}


class LearningSignalCallback(TrainerCallback):
    """Warns once per run when every group in a logging window got equal rewards (GRPO's advantage is then 0 and so
    are the loss and the gradient), saying why; counts such windows for the end-of-run summary.

    Groups are those this process scored (each process sees its own share of the rollout batch)."""

    def __init__(self, reward_log, logger=None):
        self.reward_log = reward_log
        self.log = logger or logging.getLogger("vero_train.train")
        self.windows = 0
        self.flat_windows = 0
        self.warned = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        groups, flat = self.reward_log.take_window()
        if not groups:  # no rollout in this window (the second update of a rollout batch, or an end-of-train log)
            return
        self.windows += 1
        if sum(flat.values()) < groups:
            return
        self.flat_windows += 1
        if self.warned or not state.is_world_process_zero:
            return
        self.warned = True
        why = ", ".join(f"{n} {r}" for r, n in flat.most_common())
        reasons = [r for r, _ in flat.most_common() if r in HINTS]
        if "all wrong" in reasons and "all right" in reasons:  # one hint: rows it solves sometimes
            reasons.remove("all right")
        hints = "; ".join(HINTS[r] for r in reasons)
        cut = f" (max_completion_length {self.reward_log.max_completion_length})" if "all cut off" in flat else ""
        self.log.warning("no learning signal: all %d groups up to step %d got equal rewards within the group, so the "
                         "advantage, loss and gradient are 0 — %s%s. %s (warned once; the end-of-run line counts "
                         "such windows).", groups, state.global_step, why, cut, hints[:1].upper() + hints[1:])


class PlotCallback(TrainerCallback):
    """Redraws ``OUT/training.png`` from ``OUT/metrics.jsonl`` at every checkpoint (the end of the run is drawn by
    :func:`vero_train.train.train` after the last log)."""

    def __init__(self, metrics_path: str | Path, plot_path: str | Path):
        self.metrics_path, self.plot_path = Path(metrics_path), Path(plot_path)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from vero_train.plots import plot_training

            plot_training(self.metrics_path, self.plot_path)


class RichProgressCallback(TrainerCallback):
    """A rich progress bar with ETA over optimizer steps, on stderr when it is a terminal; log lines printed through
    the same console land above the bar."""

    def __init__(self, description: str, console=None):
        self.description = description
        self.console = console
        self._progress = None
        self._task = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from vero_data.progress import make_progress

        self._progress = make_progress(self.console)
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=state.max_steps or None,
                                                 completed=state.global_step, rate="")

    def on_step_end(self, args, state, control, **kwargs):
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)
            self._progress.stop()
            self._progress = None


def quiet_stdout(trainer, description: str, console=None) -> None:
    """Take transformers' stdout printers off ``trainer`` and put a stderr progress bar in their place."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(RichProgressCallback(description, console))
