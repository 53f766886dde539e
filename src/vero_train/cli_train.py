"""`vero train` (GSPO with TRL) and `vero bench train`.

Flags → :class:`vero_train.config.VeroGSPOConfig` → :func:`vero_train.train.train` → a rich summary. Any config
field is also a flag (``--learning-rate 2e-6``, ``--vllm-mode server`` …), passed through TRL's parser; ``--config``
YAML sets values that flags override. Nothing heavy is imported at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import emit_json, print_key_values
from vero_data.cli_common import fail as _fail

PRESETS = ("auto", "paper", "cpu")


def build_config(model: str | None, data: str | None, out: Path, config: Path | None = None,
                 max_steps: int | None = None, recipe: str | None = None, preset: str = "auto",
                 extra_args: list[str] | None = None):
    """The run's ``VeroGSPOConfig``: preset (paper defaults, or the CPU smoke sizes without a GPU), then the YAML
    file, then the named options, then extra ``--field value`` flags."""
    from vero_train.config import CPU_SMOKE, has_accelerator, load_config, read_config_file

    if preset not in PRESETS:
        raise ValueError(f"--preset must be one of {', '.join(PRESETS)}")
    base: dict = {}
    use_cpu_preset = preset == "cpu" or (preset == "auto" and config is None and not has_accelerator())
    if use_cpu_preset:
        base = dict(CPU_SMOKE)
    if config is not None:
        base.update(read_config_file(config))  # a bad file or field: one error naming it
    named = {"model_name_or_path": model, "data": data, "output_dir": str(out), "max_steps": max_steps,
             "recipe": recipe}
    # YAML (and preset) values and the named options are the parser's defaults; extra --field flags go on top
    return load_config(None, extra_args, **{**base, **{k: v for k, v in named.items() if v is not None}}), use_cpu_preset


def train_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", "--output_dir",
                                      help="run directory: checkpoints, final model, metrics.jsonl (--output_dir: TRL's name)")],
    model: Annotated[str | None, typer.Option(help="policy: `tiny`, a local path or an HF model id")] = None,
    data: Annotated[str | None, typer.Option(help="shards: DIR (DIR/data/*.parquet), parquet glob, or hub id")
                    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML of VeroGSPOConfig fields "
                                                "(configs/train/*.yaml); flags override it")] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="optimizer updates to run (TRL max_steps; the paper's "
                                                  "4,000 rollout steps = 8,000 updates); default: rollout_steps × "
                                                  "ppo_mini_batches")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue from the newest checkpoint in OUT")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace OUT, an earlier run, when this run finishes")
                         ] = False,
    recipe: Annotated[str | None, typer.Option(help="without --data: build this recipe (e.g. `demo`) into "
                                               "OUT/data-<recipe> first")] = None,
    preset: Annotated[str, typer.Option(help="auto: paper recipe on GPU, CPU smoke sizes without one (when no "
                                        "--config); paper; cpu")] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="print the run summary as one JSON document")] = False,
) -> None:
    """Train a VLM with GSPO on Vero shards (TRL GRPOTrainer, task-routed rewards, category-balanced batches).

    Every VeroGSPOConfig/GRPOConfig field is also a flag, e.g. --learning-rate 2e-6 --use-vllm true.
    """
    import logging

    from vero_data.errors import VeroError

    try:
        cfg, cpu = build_config(model, data, out, config, max_steps, recipe, preset, list(ctx.args))
    except (ValueError, VeroError, OSError) as e:
        _fail(e)
    except SystemExit as e:  # argparse exiting on its own (e.g. -h among the extra flags)
        _fail(ValueError(f"invalid flags {ctx.args}: see `vero train --help` and VeroGSPOConfig's fields ({e})"))
    con = _console(stderr=True)
    if cpu:
        con.print("[yellow]no GPU: using the CPU smoke sizes (configs/train/tiny-cpu.yaml); pass --config or "
                  "--preset paper for the paper recipe[/]", highlight=False)
    logging.getLogger("vero_train").setLevel(logging.INFO)
    from vero_train.train import train

    try:
        res = train(cfg, resume=resume, overwrite=overwrite, console=con)
    except VeroError as e:
        _fail(e)
    summary = {"output_dir": res.output_dir, "global_step": res.global_step, "metrics": res.metrics_path,
               "resumed_from": res.resumed_from, "seconds": round(res.seconds, 1),
               "seconds_per_step": None if res.seconds_per_step is None else round(res.seconds_per_step, 3),
               "peak_rss_mb": round(res.peak_rss_mb, 1), "rows": res.data.get("rows"),
               "reward_first": res.reward_first, "reward_last": res.reward_last, "checkpoint": res.checkpoint,
               "plot": res.plot, "logging_windows_without_signal": res.signal.get("without_signal"),
               "last_log": res.last_log}
    con.print(res.summary_line(), highlight=False, soft_wrap=True)
    if json_out:
        emit_json(summary)
    else:
        print_key_values(f"vero train: {res.global_step} steps", {k: v for k, v in summary.items() if k != "last_log"})


def bench_train(
    steps: Annotated[int, typer.Option(help="optimizer updates per run (the first rollout batch is not timed)")] = 6,
    rounds: Annotated[int, typer.Option(min=1, help="runs of each side, alternating vero / bare TRL")] = 2,
    out: Annotated[Path | None, typer.Option(help="work directory (default: a temp dir)")] = None,
    model: Annotated[str, typer.Option(help="model to time (default: the tiny model)")] = "tiny",
    json_out: Annotated[bool, typer.Option("--json", help="one JSON document on stdout")] = False,
) -> None:
    """Seconds per GSPO step of `vero train` vs a bare trl.GRPOTrainer (same model, data, config; a plain reward),
    A/B/A/B on CPU with the smoke sizes: both s/step, the ratio, and Vero's time in reward functions."""
    from vero_train.bench_train import run_train_bench

    try:
        res = run_train_bench(steps=steps, work=out, model=model, rounds=rounds)
    except ValueError as e:
        _fail(e)
    if json_out:
        emit_json(res)
    else:
        print_key_values("vero bench train: vero vs bare TRL", res)


def register(app, data_app, bench_app) -> None:
    """Mount `vero train` and `vero bench train`."""
    app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(train_cmd)
    bench_app.command("train")(bench_train)
