"""``train()``: GSPO on Vero shards with TRL's ``GRPOTrainer`` (what ``vero train`` calls).

    from vero_train.config import load_config
    from vero_train.train import train
    result = train(load_config("configs/train/tiny-cpu.yaml", model_name_or_path="tiny", recipe="demo",
                               output_dir="runs/tiny", max_steps=2))

The steps: resolve the model (``tiny`` → a cached local build), build the demo data if asked, load + validate +
convert the shards (vero_train.data), build the reward functions (vero_train.rewards), then run
``VeroGRPOTrainer`` — TRL's trainer with the category-balanced rollout sampler — and save the final model.
Logs go to the console (rich), to ``OUT/metrics.jsonl`` and to whatever ``report_to`` names; ``OUT/training.png``
draws them (:mod:`vero_train.plots`), and a window where no group had a learning signal is warned about once
(:class:`vero_train.callbacks.LearningSignalCallback`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trl import GRPOTrainer

from vero_data.errors import ConfigError, VeroError
from vero_data.hub import require_hub
from vero_train.callbacks import (
    JsonlLogCallback,
    LearningSignalCallback,
    PlotCallback,
    RichLogCallback,
    json_default,
    peak_rss_mb,
    quiet_stdout,
)
from vero_train.config import VeroGSPOConfig
from vero_train.data import CategoryBalancedSampler, prepare_train_dataset
from vero_train.rewards import build_reward_funcs

if TYPE_CHECKING:
    from vero_data.outdir import OutputClaim

log = logging.getLogger(__name__)


class VeroGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose rollout batches hold an equal share of every category (``balance_categories``)."""

    def _get_train_sampler(self, dataset=None):
        args = self.args
        if not getattr(args, "balance_categories", False):
            return super()._get_train_sampler(dataset)
        dataset = self.train_dataset if dataset is None else dataset
        return CategoryBalancedSampler(
            dataset["category"],
            batch_size=args.generation_batch_size // self.num_generations,
            weights=args.category_weights,
            seed=args.sampler_seed,
            mini_repeat_count=self.num_generations,
            repeat_count=self.num_iterations * args.steps_per_generation,
        )


@dataclass
class TrainResult:
    """What a run produced: where, how far, how fast."""

    output_dir: str
    global_step: int
    metrics_path: str
    seconds: float
    seconds_per_step: float | None
    peak_rss_mb: float
    data: dict = field(default_factory=dict)
    last_log: dict = field(default_factory=dict)
    resumed_from: str | None = None
    reward_first: float | None = None
    reward_last: float | None = None
    checkpoint: str | None = None
    plot: str | None = None
    signal: dict = field(default_factory=dict)
    reward_seconds: float = 0.0

    def summary_line(self) -> str:
        """One line for the end of a run: steps, reward first → last, time, where the model, checkpoint, plot are."""
        r = ("reward n/a" if self.reward_first is None
             else f"reward {self.reward_first:.3f} → {self.reward_last:.3f} (mean of the first → last 10% of rollouts)")
        flat = self.signal.get("without_signal", 0)
        sig = f", no learning signal in {flat} of {self.signal.get('windows', 0)} logging windows" if flat else ""
        where = f"model {self.output_dir}"
        if self.checkpoint:
            where += f", checkpoint {self.checkpoint}"
        if self.plot:
            where += f", plot {self.plot}"
        return f"vero train: {self.global_step} steps in {self.seconds:.0f} s, {r}{sig}; {where}"


PLOT_FILE = "training.png"


def read_metrics(path: str | Path) -> list[dict]:
    """The training logs (records with a ``loss``) of an ``OUT/metrics.jsonl``."""
    from vero_train.plots import read_metrics as _read

    return _read(path)


def reward_first_last(records: list[dict], frac: float = 0.1) -> tuple[float | None, float | None]:
    """Mean logged reward over the first and the last ``frac`` of the rollouts (at least one each).

    >>> reward_first_last([{"reward": -1.0}, {"loss": 0}, {"reward": 0.0}, {"reward": 0.5}])
    (-1.0, 0.5)
    """
    rewards = [float(r["reward"]) for r in records if isinstance(r.get("reward"), int | float)]
    if not rewards:
        return None, None
    k = max(1, int(len(rewards) * frac))
    return sum(rewards[:k]) / k, sum(rewards[-k:]) / k


def build_demo_data(out_dir: str | Path, recipe: str = "demo") -> Path:
    """Build ``recipe`` into ``out_dir`` unless shards are already there (the offline smoke path)."""
    from vero_train.data import shard_files

    out = Path(out_dir)
    if shard_files(out):
        return out
    from vero_data.api import build

    log.info("building the %s recipe into %s", recipe, out)
    build(out=out, recipe=recipe)
    return out


def load_processor(model_path: str, config: VeroGSPOConfig):
    """The model's processor, left-padded, with the config's pixel limits (transformers 5 ``size`` keys)."""
    from transformers import AutoProcessor

    from vero_train.models.backends import check_model_path

    check_model_path(model_path)
    require_hub(model_path, f"model {model_path}")
    try:
        processor = AutoProcessor.from_pretrained(model_path, padding_side="left", truncation_side="left",
                                                  trust_remote_code=config.trust_remote_code)
    except (OSError, ValueError) as e:  # not a model folder, no processor files, not on the hub
        raise ConfigError(f"cannot load the processor of model {model_path}: {' '.join(str(e).split())}") from e
    ip = getattr(processor, "image_processor", None)
    if ip is not None and (config.max_pixels or config.min_pixels):
        size = dict(getattr(ip, "size", None) or {})
        if config.max_pixels:
            size["longest_edge"] = config.max_pixels
            if hasattr(ip, "max_pixels"):
                ip.max_pixels = config.max_pixels
        if config.min_pixels:
            size["shortest_edge"] = config.min_pixels
            if hasattr(ip, "min_pixels"):
                ip.min_pixels = config.min_pixels
        ip.size = size
    return processor


def find_checkpoint(output_dir: str | Path) -> str | None:
    """The newest ``checkpoint-N`` under ``output_dir``, if any."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


# What a run writes at OUT's top level: a folder holding any of them holds a run.
RUN_FILES = ("metrics.jsonl", "run.json", "train_result.json")


def is_train_output(folder: Path) -> bool:
    """A run folder written before output markers existed."""
    return any((folder / f).exists() for f in RUN_FILES) or find_checkpoint(folder) is not None


def prepare_out(out: Path, *, resume: bool, overwrite: bool, inputs: tuple = ()) -> OutputClaim | None:
    """Claim OUT (rank 0; see :mod:`vero_data.outdir`): refuse a folder holding a run (its checkpoints would be
    overwritten and metrics.jsonl would mix two runs) unless ``resume`` or ``overwrite``; under ``overwrite`` the
    new run is written beside OUT and replaces it only when it finishes. Other ranks get None and write where rank 0
    does (:func:`work_dir`)."""
    from vero_data.outdir import claim_output

    if resume and overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: pick one")
    if int(os.environ.get("RANK", "0")) != 0:
        return None
    claim = claim_output(out, "train", inputs=inputs, overwrite=overwrite, resume=resume, legacy=is_train_output)
    try:
        if not (resume or overwrite) and claim.work.is_dir():
            checkpoint = find_checkpoint(claim.work)
            if checkpoint:
                raise ConfigError(f"{out} has {Path(checkpoint).name}: pass --resume to continue it or --overwrite to "
                                  "start over")
            earlier = [f for f in RUN_FILES if (claim.work / f).exists()]
            if earlier:
                raise ConfigError(f"{out} holds an earlier run ({', '.join(earlier)}): pass --overwrite to start over "
                                  "or another --out")
    except BaseException:
        claim.abort()
        raise
    return claim


def work_dir(out: Path, claim: OutputClaim | None, *, resume: bool, overwrite: bool) -> Path:
    """Where this process writes: rank 0's claimed folder; on other ranks the same path, decided from OUT."""
    from vero_data.outdir import staging_for

    return claim.work if claim is not None else staging_for(out, overwrite=overwrite, resume=resume)


def train(config: VeroGSPOConfig, *, resume: bool = False, overwrite: bool = False, reward_funcs: list | None = None,
          callbacks: list | None = None, console=None) -> TrainResult:
    """Train ``config.model_name_or_path`` with GSPO on ``config.data`` (or the built ``config.recipe``).

    Args:
        config: the run; ``output_dir`` receives checkpoints, the final model, ``metrics.jsonl`` and ``run.json``.
        resume: continue from the newest checkpoint in ``output_dir`` (a warning and a fresh start if none).
            Without it (or ``overwrite``) an ``output_dir`` holding a run is refused.
        overwrite: replace ``output_dir`` (a previous run) when this run finishes; until then the new run is written
            beside it (``.NAME.vero-partial``), so a failed run leaves the previous one as it was.
        reward_funcs: extra reward callables appended to ``config.reward_funcs`` (one weight each in
            ``config.reward_weights`` if that is set).
        callbacks: extra ``TrainerCallback``s.
        console: a rich Console for the per-log lines (stderr by default).
    """
    t0 = time.perf_counter()
    if not config.model_name_or_path:
        raise VeroError("no model: pass --model (tiny, a local path or an HF id)")
    final_out = Path(config.output_dir)
    claim = prepare_out(final_out, resume=resume, overwrite=overwrite, inputs=(config.data,))
    try:
        with claim.guard() if claim is not None else contextlib.nullcontext():  # ranks > 0 hold no claim
            out = work_dir(final_out, claim, resume=resume, overwrite=overwrite)
            config.output_dir = str(out)
            result = _train_in(config, out, final_out, resume=resume, reward_funcs=reward_funcs,
                               callbacks=callbacks, console=console, t0=t0)
            if claim is not None:
                claim.commit()
    finally:
        config.output_dir = str(final_out)
    return result


def _train_in(config: VeroGSPOConfig, out: Path, final_out: Path, *, resume: bool, reward_funcs, callbacks, console,
              t0: float) -> TrainResult:
    """The run proper, writing into ``out`` (OUT, or its partial sibling under --overwrite)."""
    from vero_train.models.tiny import resolve_model

    out.mkdir(parents=True, exist_ok=True)
    data = config.data
    if data is None:
        if not config.recipe:
            raise VeroError("no data: pass --data DIR_OR_HUB_ID, or --recipe demo to build the demo dataset")
        data = str(build_demo_data(out / f"data-{Path(config.recipe).stem}", config.recipe))

    model_path = resolve_model(config.model_name_or_path)
    processor = load_processor(model_path, config)
    train_ds, data_info = prepare_train_dataset(
        data, split=config.data_split, max_rows=config.max_train_rows, system_prompt=config.system_prompt,
        normalize_bbox_to_1000=config.normalize_bbox_to_1000, processor=processor,
        max_prompt_length=config.max_prompt_length,
    )
    # demo data built inside the run folder is named where it will be once the run is swapped into OUT
    built_here = Path(data).exists() and Path(data).resolve().is_relative_to(out.resolve())
    data_info["source"] = str(final_out / Path(data).resolve().relative_to(out.resolve())) if built_here else str(data)
    _write_quarantine(out, data_info.pop("quarantine"))
    log.info("training on %d rows: %s", data_info["rows"], data_info["categories"])

    names: list = list(config.reward_funcs) + list(reward_funcs or [])
    weights = config.reward_weights
    if weights is not None and len(weights) != len(names):
        weights = list(weights) + [1.0] * (len(names) - len(weights))
        config.reward_weights = weights
    funcs, reward_log = build_reward_funcs(
        names, weights, max_completion_length=config.max_completion_length, overlong_buffer=config.overlong_buffer,
        overlong_factor=config.overlong_factor, judge_base_url=config.judge_base_url, judge_model=config.judge_model,
        judge_api_key_env=config.judge_api_key_env,
    )

    if config.model_init_kwargs is None:
        config.model_init_kwargs = {"dtype": "bfloat16" if config.bf16 else "float32"}
    metrics_path = out / "metrics.jsonl"
    signal = LearningSignalCallback(reward_log, log)
    plot_path = out / PLOT_FILE
    cbs = [JsonlLogCallback(metrics_path), RichLogCallback(console), signal, PlotCallback(metrics_path, plot_path),
           *(callbacks or [])]
    trainer = VeroGRPOTrainer(model=model_path, reward_funcs=funcs, args=config, train_dataset=train_ds,
                              processing_class=processor, callbacks=cbs)
    reward_log.group_size = trainer.num_generations
    quiet_stdout(trainer, "train", console)

    checkpoint = find_checkpoint(out) if resume else None
    if resume and checkpoint is None:
        log.warning("--resume: no checkpoint under %s, starting from scratch", out)
    _write_run_json(out, config, data_info, model_path, checkpoint, final_out)
    start_step = 0
    if checkpoint:
        state_file = Path(checkpoint) / "trainer_state.json"
        start_step = json.loads(state_file.read_text()).get("global_step", 0) if state_file.is_file() else 0
    t_train = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - t_train
    trainer.save_model(str(out))
    if trainer.accelerator.is_main_process:
        processor.save_pretrained(str(out))
    steps_done = trainer.state.global_step - start_step
    logs = [h for h in trainer.state.log_history if "loss" in h]
    plotted = None
    if trainer.accelerator.is_main_process:
        from vero_train.plots import plot_training

        plotted = plot_training(metrics_path, plot_path)
    first, last = reward_first_last(read_metrics(metrics_path))
    checkpoint_last = find_checkpoint(out)
    result = TrainResult(
        output_dir=str(final_out), global_step=trainer.state.global_step,
        metrics_path=str(final_out / metrics_path.relative_to(out)),
        seconds=time.perf_counter() - t0, seconds_per_step=train_seconds / steps_done if steps_done else None,
        peak_rss_mb=peak_rss_mb(), data={k: v for k, v in data_info.items() if k != "dropped_prompt_too_long"},
        last_log=logs[-1] if logs else {}, resumed_from=checkpoint,
        reward_first=first, reward_last=last,
        checkpoint=None if checkpoint_last is None else str(final_out / Path(checkpoint_last).relative_to(out)),
        plot=None if plotted is None else str(final_out / PLOT_FILE),
        signal={"windows": signal.windows, "without_signal": signal.flat_windows}, reward_seconds=reward_log.seconds,
    )
    result.data["dropped_prompt_too_long"] = len(data_info["dropped_prompt_too_long"])
    if trainer.accelerator.is_main_process:
        (out / "train_result.json").write_text(json.dumps(result.__dict__, indent=1, default=json_default))
        _link_plot_in_card(out / "README.md", plotted, result.summary_line())
    trainer.accelerator.wait_for_everyone()  # every rank's files are written before rank 0 swaps OUT in
    return result


def _link_plot_in_card(card: Path, plot: Path | None, summary: str) -> None:
    """Add the curves and the run's summary line to the model card TRL wrote (OUT/README.md), the run's report."""
    if plot is None or not card.is_file():
        return
    text = card.read_text()
    marker = "## Training curves (vero train)"
    text = text.split(marker)[0].rstrip() + f"\n\n{marker}\n\n{summary}\n\n![training curves]({plot.name})\n"
    card.write_text(text)


def _write_quarantine(out: Path, records: list[dict]) -> None:
    """``OUT/quarantine.parquet`` (the build's quarantine schema, stage ``train``): the rows left out of training
    (id, data_source, reason, detail); an older one from this folder is removed when nothing was left out."""
    path = out / "quarantine.parquet"
    if int(os.environ.get("RANK", "0")) != 0:
        return
    if not records:
        path.unlink(missing_ok=True)
        return
    from vero_data.layout import write_quarantine

    cols = ("id", "data_source", "reason", "detail")
    write_quarantine([{"stage": "train", **{c: r.get(c) for c in cols}} for r in records], path)
    counts = Counter(r["reason"] for r in records)
    log.warning("left %d rows out of training (%s): %s", len(records),
                ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), path)


def _write_run_json(out: Path, config: VeroGSPOConfig, data_info: dict, model_path: str,
                    checkpoint: str | None, final_out: Path | None = None) -> None:
    """``OUT/run.json``: the resolved config, model path, data summary (+ dropped ids) and resume point."""
    if int(os.environ.get("RANK", "0")) != 0:
        return
    cfg = {k: v for k, v in config.to_dict().items() if not k.startswith("_")}
    if final_out is not None:  # the folder the run is for, not the partial one it is written in under --overwrite
        cfg["output_dir"] = str(final_out)
    from vero_data.secrets import redact

    cfg = redact(cfg)  # a judge URL with a key or user:pass in it is not written out
    (out / "run.json").write_text(json.dumps({"model_path": model_path, "resumed_from": checkpoint,
                                              "data": data_info, "config": cfg}, indent=1, default=json_default))
