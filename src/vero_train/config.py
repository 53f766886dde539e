"""``VeroGSPOConfig``: TRL's ``GRPOConfig`` with Vero's GSPO recipe as the defaults.

Every TRL field stays available (it *is* a ``GRPOConfig``). The defaults are the paper's run
(../shared/spec/vero600k_format.md §8 = Vero's ``gspo_llmjudge_shared.yaml``; pitfalls.md §1 for TRL's spelling of
GSPO). Each default says where it comes from in its ``help``.

Units. Vero counts *rollout steps*: one batch of 256 prompts × 8 rollouts, used for 2 PPO mini-batch updates
(``ppo_mini_batch_size`` 128). TRL counts *optimizer updates* in ``max_steps``/``warmup_steps``/``save_steps``. The
paper-unit fields (``rollout_steps``, ``rollout_warmup_steps``, ``rollout_save_steps``, ``global_batch_prompts``,
``ppo_mini_batches``) fill TRL's fields in ``__post_init__`` unless those are set explicitly:
``max_steps = rollout_steps · ppo_mini_batches`` and ``steps_per_generation = ppo_mini_batches · GA`` so that each
generation batch is split into ``ppo_mini_batches`` optimizer updates, as in veRL.

Loading: :func:`load_config` reads ``--config FILE.yaml`` and applies flag overrides (TRL's
``TrlParser.parse_args_and_config`` semantics: YAML sets values, flags win).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trl import GRPOConfig

from vero_data.errors import ConfigError
from vero_data.registry import close_matches
from vero_train.models.prompts import VERO_SYSTEM_PROMPT

log = logging.getLogger(__name__)

SPEC = "vero600k_format.md"


class TrainConfigError(ConfigError, ValueError):
    """A bad config file, field or flag (a ValueError too, as load_config raised before)."""

DEFAULT_REWARD_FUNCS = ["vero_accuracy", "vero_format", "vero_overlong"]


@dataclass
class VeroGSPOConfig(GRPOConfig):
    """GSPO on Vero-format shards. TRL's ``GRPOConfig`` plus the data/reward/sampler knobs ``vero train`` needs.

    Args:
        model_name_or_path: policy to train: ``tiny``, a local path or a hub id.
        data: shards from ``vero data build``/``vero data filter``: a directory holding ``data/*.parquet`` (or
            ``*.parquet``), a parquet file/glob, or a hub dataset id.
        recipe: build this recipe into ``OUT/data-<recipe>`` first when ``data`` is not given (``demo`` offline).
    """

    _VALID_DICT_FIELDS = GRPOConfig._VALID_DICT_FIELDS + ["category_weights"]

    # ---------------------------------------------------------------------------------------------- inputs
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Policy: `tiny`, a local path or an HF model id."}
    )
    data: str | None = field(
        default=None,
        metadata={"help": "Vero shards: DIR (with data/*.parquet), a parquet file/glob, or an HF dataset id."},
    )
    recipe: str | None = field(
        default=None,
        metadata={"help": "Build this recipe (e.g. `demo`) into OUT/data-<recipe> when `data` is not given."},
    )
    data_split: str = field(default="train", metadata={"help": "Rows whose `split` column equals this are used."})
    max_train_rows: int | None = field(default=None, metadata={"help": "Use at most N rows (debugging)."})

    # ---------------------------------------------------------------------------------------------- GSPO
    importance_sampling_level: str = field(
        default="sequence",
        metadata={"help": "GSPO: sequence-level importance ratio (Vero `loss_mode: gspo`, spec §8; pitfalls §1)."},
    )
    loss_type: str = field(
        default="grpo",
        metadata={"help": "`grpo` = per-sequence token mean, then batch mean: Vero `loss_agg_mode: "
                  "seq-mean-token-mean` (spec §8). `sequence` + dapo/bnpo/dr_grpo length-weights (pitfalls §1)."},
    )
    beta: float = field(default=0.0, metadata={"help": "No KL: Vero kl_coef 0, use_kl_loss false (spec §8)."})
    epsilon: float = field(default=3e-4, metadata={"help": "Lower clip ε: Vero clip_ratio_low 3e-4 (spec §8)."})
    epsilon_high: float | None = field(
        default=4e-4, metadata={"help": "Upper clip ε_high: Vero clip_ratio_high 4e-4 (spec §8)."}
    )
    scale_rewards: str = field(
        default="group",
        metadata={"help": "GRPO group advantages normalised by the group std: Vero `adv_estimator: grpo` (veRL "
                  "norm_adv_by_std_in_grpo default True; spec §8)."},
    )
    num_iterations: int = field(default=1, metadata={"help": "One pass per rollout batch (veRL ppo_epochs 1)."})

    # ---------------------------------------------------------------------------------------------- optimiser
    learning_rate: float = field(default=1e-6, metadata={"help": "Vero actor lr 1e-6 (spec §8)."})
    lr_scheduler_type: str = field(
        default="constant_with_warmup",
        metadata={"help": "Warm-up then constant: veRL's default actor `warmup_style: constant` (spec §8 names "
                  "only the 40 warm-up steps)."},
    )
    weight_decay: float = field(default=0.01, metadata={"help": "veRL actor optimiser default weight_decay 0.01."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "veRL actor grad_clip 1.0."})
    rollout_steps: int = field(
        default=4000,
        metadata={"help": "Rollout steps (batches of `global_batch_prompts` prompts): Vero 4,000 (spec §8). "
                  "Sets max_steps = rollout_steps × ppo_mini_batches unless max_steps is given."},
    )
    rollout_warmup_steps: int = field(
        default=40,
        metadata={"help": "LR warm-up in rollout steps: Vero 40 (spec §8). Sets warmup_steps unless given."},
    )
    rollout_save_steps: int = field(
        default=40,
        metadata={"help": "Checkpoint every N rollout steps: Vero save_freq 40 (spec §8). Sets save_steps unless "
                  "given."},
    )

    # ---------------------------------------------------------------------------------------------- batch
    num_generations: int | None = field(default=8, metadata={"help": "Rollouts per prompt: Vero n=8 (spec §8)."})
    global_batch_prompts: int | None = field(
        default=256,
        metadata={"help": "Prompts per rollout step across all processes: Vero train_batch_size 256 (spec §8). "
                  "Derives gradient_accumulation_steps from per_device_train_batch_size × WORLD_SIZE; "
                  "None = use TRL's batch fields as given."},
    )
    ppo_mini_batches: int = field(
        default=2,
        metadata={"help": "Optimizer updates per rollout batch: Vero ppo_mini_batch_size 128 of 256 → 2 (spec §8). "
                  "GSPO's clipping only acts from the second update on (pitfalls §1)."},
    )
    per_device_train_batch_size: int = field(
        default=8, metadata={"help": "Completions per device per micro-batch (memory knob; not in the paper)."}
    )

    # ---------------------------------------------------------------------------------------------- generation
    temperature: float = field(default=1.0, metadata={"help": "Rollout temperature 1.0 (spec §8)."})
    top_p: float = field(default=1.0, metadata={"help": "Rollout top_p 1.0 (spec §8)."})
    max_completion_length: int | None = field(
        default=16384, metadata={"help": "Max response tokens: Vero default 16,384 (spec §8)."}
    )
    max_prompt_length: int | None = field(
        default=12288,
        metadata={"help": "Rows whose prompt (text + image tokens) is longer are dropped before training, never "
                  "truncated: Vero max_prompt 12,288, overlong prompts filtered (spec §8; pitfalls §1)."},
    )
    max_pixels: int | None = field(
        default=9437184,
        metadata={"help": "Per-image pixel cap given to the processor: Vero 3072² (spec §8). None = the model's."},
    )
    min_pixels: int | None = field(default=None, metadata={"help": "Per-image minimum pixels (None = the model's)."})
    system_prompt: str | None = field(
        default=VERO_SYSTEM_PROMPT,
        metadata={"help": "System turn added to every prompt: the Vero system prompt (spec §4). Empty = none."},
    )
    vllm_mode: str = field(
        default="colocate",
        metadata={"help": "vLLM mode, set explicitly because TRL's default changed across versions (pitfalls §1): "
                  "`colocate` (Vero's hybrid engine) or `server` (`trl vllm-serve`)."},
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.7, metadata={"help": "Vero rollout gpu_memory_utilization 0.7 (spec §8); TRL's default is 0.3."}
    )
    vllm_enable_sleep_mode: bool = field(
        default=True,
        metadata={"help": "Offload vLLM weights/KV cache during the update, as veRL's hybrid engine frees them."},
    )

    # ---------------------------------------------------------------------------------------------- rewards
    reward_funcs: list[str] = field(
        default_factory=lambda: list(DEFAULT_REWARD_FUNCS),
        metadata={"help": "Reward functions by name (vero_accuracy, vero_format, vero_overlong, vero_reward) or "
                  "dotted import path. R = 0.8·acc + 0.2·fmt + overlong (spec §5)."},
    )
    reward_weights: list[float] | None = field(
        default_factory=lambda: [0.8, 0.2, 1.0],
        metadata={"help": "Weights of `reward_funcs`: Vero format_score 0.2 → 0.8/0.2, overlong added (spec §5)."},
    )
    overlong_buffer: int = field(
        default=2048, metadata={"help": "Overlong penalty ramps over the last N tokens: Vero 2,048 (spec §5)."}
    )
    overlong_factor: float = field(
        default=1.0, metadata={"help": "Overlong penalty at the length limit is −factor: Vero 1.0 (spec §5)."}
    )
    normalize_bbox_to_1000: bool | None = field(
        default=None,
        metadata={"help": "Grounding/clicking coordinate convention written into every row's extra_info: False = "
                  "absolute pixels (Vero's default, spec §4), True = 0–1000 grid; None = keep the row's own."},
    )
    judge_base_url: str | None = field(
        default=None,
        metadata={"help": "OpenAI-compatible judge for llm_judge rows (Vero: Qwen3-32B at "
                  "http://localhost:51001/v1, spec §5). None = those rows score accuracy 0, as Vero offline."},
    )
    judge_model: str = field(default="qwen_vllm", metadata={"help": "Served model name of the judge."})
    judge_api_key_env: str | None = field(
        default=None,
        metadata={"help": "Name of the environment variable holding the judge's key (sent only to judge_base_url; "
                  "without it $OPENAI_API_KEY is sent over https or to a loopback host only)."},
    )

    # ---------------------------------------------------------------------------------------------- sampler
    balance_categories: bool = field(
        default=True,
        metadata={"help": "Every rollout batch takes an equal share of each category: Vero PerBatchDomainSampler "
                  "(spec §6)."},
    )
    category_weights: dict[str, float] | str | None = field(
        default=None, metadata={"help": "Per-category batch shares (JSON/dict); None = uniform 1/6 (spec §6)."}
    )
    sampler_seed: int = field(default=18, metadata={"help": "Category sampler seed: Vero seed 18 (spec §6)."})

    # ---------------------------------------------------------------------------------------------- infra/logging
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision. None = on where the GPU supports it, off on CPU (TRL would fail)."},
    )
    gradient_checkpointing: bool | None = field(
        default=None, metadata={"help": "Deprecated alias of activation_checkpointing (transformers 5)."}
    )
    activation_checkpointing: bool | None = field(
        default=True, metadata={"help": "Activation (gradient) checkpointing, non-reentrant (see the kwargs)."}
    )
    activation_checkpointing_kwargs: dict[str, Any] | str | None = field(
        default_factory=lambda: {"use_reentrant": False},
        metadata={"help": "use_reentrant=False: reentrant mode leaves vision-tower grads empty (pitfalls §1)."},
    )
    logging_steps: float = field(default=1, metadata={"help": "Log every optimizer update."})
    save_total_limit: int | None = field(default=3, metadata={"help": "Keep the last N checkpoints."})
    report_to: None | str | list[str] = field(
        default="none",
        metadata={"help": "Extra loggers (wandb, tensorboard, trackio). Console and OUT/metrics.jsonl are always on."},
    )

    def __post_init__(self):
        if self.bf16 is None and not self.fp16:
            from transformers.utils import is_torch_bf16_gpu_available

            self.bf16 = bool(is_torch_bf16_gpu_available()) and not self.use_cpu
        if self.system_prompt == "":
            self.system_prompt = None
        if self.global_batch_prompts is not None:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            completions = self.global_batch_prompts * (self.num_generations or 1)
            per_update = self.ppo_mini_batches * self.per_device_train_batch_size * world
            if completions % per_update:
                raise ValueError(
                    f"global_batch_prompts ({self.global_batch_prompts}) × num_generations ({self.num_generations}) "
                    f"= {completions} completions is not divisible by ppo_mini_batches ({self.ppo_mini_batches}) × "
                    f"per_device_train_batch_size ({self.per_device_train_batch_size}) × world size ({world})."
                )
            self.gradient_accumulation_steps = completions // per_update
            self.steps_per_generation = self.ppo_mini_batches * self.gradient_accumulation_steps
            self.generation_batch_size = None
        elif self.steps_per_generation is None and self.generation_batch_size is None:
            self.steps_per_generation = self.ppo_mini_batches * self.gradient_accumulation_steps
        if self.max_steps is not None and (self.max_steps == 0 or self.max_steps < -1):
            raise ValueError(f"max_steps must be ≥ 1, or -1 (TrainingArguments' 'not set': rollout_steps × "
                             f"ppo_mini_batches), got {self.max_steps}")
        if self.max_steps is None or self.max_steps < 0:
            self.max_steps = self.rollout_steps * self.ppo_mini_batches
        if not self.warmup_steps:
            self.warmup_steps = self.rollout_warmup_steps * self.ppo_mini_batches
        if self.save_steps == 500:  # TrainingArguments' default: not set by the user
            self.save_steps = self.rollout_save_steps * self.ppo_mini_batches
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [s for s in self.reward_funcs.split(",") if s]
        if self.reward_weights is not None and len(self.reward_weights) != len(self.reward_funcs):
            if list(self.reward_weights) == [0.8, 0.2, 1.0]:  # our default, with other funcs: weigh them equally
                self.reward_weights = None
            else:
                raise ValueError(f"reward_weights {self.reward_weights} must have one weight per reward_funcs "
                                 f"entry {self.reward_funcs}")
        if self.importance_sampling_level == "sequence" and self.loss_type in ("dapo", "bnpo", "dr_grpo"):
            log.warning("importance_sampling_level='sequence' with loss_type=%r length-weights the GSPO loss "
                        "(trl#3823); the paper's aggregation is loss_type='grpo'", self.loss_type)
        import json

        for name in self._VALID_DICT_FIELDS:  # the parent json.loads these strings; its error names no field
            v = getattr(self, name, None)
            if isinstance(v, str) and v.lstrip().startswith("{"):
                try:
                    json.loads(v)
                except ValueError as e:
                    raise ValueError(f"{name}: expected a mapping or its JSON, got {v!r} ({e})") from None
        super().__post_init__()
        if isinstance(self.category_weights, str):  # a JSON string left over when the parent did not parse it
            try:
                self.category_weights = json.loads(self.category_weights)
            except ValueError as e:
                raise ValueError(f"category_weights: expected a mapping or its JSON, got {self.category_weights!r} "
                                 f"({e})") from None

    @property
    def rollout_batch_completions(self) -> int:
        """Completions per generation batch (all processes)."""
        return self.generation_batch_size


def load_config(config_file: str | Path | None = None, args: list[str] | None = None,
                **overrides: Any) -> VeroGSPOConfig:
    """A ``VeroGSPOConfig`` from a YAML file, then ``--flag value`` strings, then keyword overrides (last wins).

    Args:
        config_file: YAML mapping of field names to values (TRL/accelerate-style keys).
        args: remaining CLI strings such as ``["--learning_rate", "2e-6"]`` (dashes or underscores).
        **overrides: field values that win over both (what the `vero train` flags set); None values are ignored.

    >>> load_config(output_dir="/tmp/x", bf16=False).epsilon_high
    0.0004
    """
    from trl import TrlParser

    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(read_config_file(config_file))
    given = {k: v for k, v in overrides.items() if v is not None}
    check_fields(given, "load_config")
    values.update(given)
    values.setdefault("output_dir", "vero-gspo")
    parser = TrlParser(VeroGSPOConfig)
    parser.allow_abbrev = False  # `--learning_rat 1` is a typo, not --learning_rate
    parser.error = _flag_error  # argparse would print its ~190-line usage and exit
    # Defaults from YAML + overrides, then flags on top: parse_args_and_config semantics without --config.
    parser.set_defaults(**values)
    try:
        (cfg,) = parser.parse_args_and_config(list(args or []))
    except ValueError as e:
        if "not used by the HfArgumentParser" not in str(e):
            raise
        flags = [a for a in (args or []) if a.startswith("--")]
        names = [f.name.replace("_", "-") for f in VeroGSPOConfig.__dataclass_fields__.values()]
        bad = [a for a in flags if a[2:].split("=")[0].replace("_", "-") not in names]
        raise TrainConfigError(f"unknown flag(s): {'; '.join(_hint(b[2:].split('=')[0], names, '--') for b in bad) or e}"
                          ) from None
    return cfg


def _flag_error(message: str):
    """argparse's error hook: one line naming the flag and the expected type."""
    raise TrainConfigError(f"flag {message.removeprefix('argument ')}")


def _hint(name: str, names: Any, prefix: str = "") -> str:
    close = close_matches(name.replace("_", "-") if prefix else name, names, n=2, cutoff=0.6)  # 200+ fields: strict
    return f"{prefix}{name}" + (f" (did you mean {', '.join(prefix + c for c in close)}?)" if close else "")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A ``--config`` YAML as a dict of VeroGSPOConfig fields; a bad file is one error naming it, the line or the
    field and the expected type (TRL's parser would print its whole usage instead)."""
    from vero_data.yaml_file import load_yaml_file

    path = Path(path)
    data = load_yaml_file(path, TrainConfigError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path}: expected a mapping of VeroGSPOConfig fields (field: value), got a "
                          f"{type(data).__name__}")
    check_fields(data, str(path))
    return data


def check_fields(values: dict[str, Any], source: str) -> None:
    """Every key is a VeroGSPOConfig field and every value fits the field's type (numbers may be strings, as YAML
    reads ``1e-6``); ``source`` (a file, ``load_config``) starts the message."""
    hints = _field_types()
    unknown = [k for k in values if k not in hints]
    if unknown:
        raise TrainConfigError(f"{source}: unknown config field(s): {'; '.join(_hint(str(u), hints) for u in unknown)}")
    for k, v in values.items():
        tp = hints[k]
        if not _fits(v, tp):
            raise TrainConfigError(f"{source}: field {k}: expected {_type_name(tp)}, got {v!r}")


def _field_types() -> dict[str, Any]:
    import typing

    hints = typing.get_type_hints(VeroGSPOConfig)
    return {f: hints.get(f, Any) for f in VeroGSPOConfig.__dataclass_fields__}


def _fits(v: Any, tp: Any) -> bool:
    """Whether TRL's parser can take ``v`` for a field typed ``tp`` (unknown types: yes)."""
    import enum
    import types
    import typing

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(v, a) for a in args)
    if tp is type(None):
        return v is None
    if origin is typing.Literal:
        return v in args
    if tp is bool:
        return isinstance(v, bool) or (isinstance(v, str) and v.lower() in ("true", "false", "yes", "no", "1", "0"))
    if tp in (int, float):
        if isinstance(v, str):
            try:
                tp(v)
                return True
            except ValueError:
                return False
        return not isinstance(v, bool) and (isinstance(v, int) or (tp is float and isinstance(v, float)))
    if tp is str:
        return isinstance(v, str)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return isinstance(v, tp) or v in {m.value for m in tp}
    if tp is list or origin is list:
        return isinstance(v, list | tuple) and (not args or all(_fits(x, args[0]) for x in v))
    if tp is dict or origin is dict:
        return isinstance(v, dict) and (len(args) < 2 or all(_fits(x, args[1]) for x in v.values()))
    return True


def _type_name(tp: Any) -> str:
    import types
    import typing

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_type_name(a) for a in args))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", type(None): "null",
             dict: "a mapping", list: "a list"}
    if tp in names:
        return names[tp]
    if origin is list:
        return f"a list of {_type_name(args[0]).removeprefix('a ').removeprefix('an ')}s" if args else "a list"
    if origin is dict:
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


# The offline CPU smoke preset (`vero train` without --config on a machine without a GPU); mirrored by
# configs/train/tiny-cpu.yaml. Same algorithm as the paper recipe, only the sizes shrink.
CPU_SMOKE: dict[str, Any] = {
    "use_cpu": True,
    "bf16": False,
    "activation_checkpointing": False,
    "dataloader_num_workers": 0,
    "global_batch_prompts": 6,
    "num_generations": 4,
    "ppo_mini_batches": 2,
    "per_device_train_batch_size": 12,
    "rollout_steps": 2,
    "rollout_warmup_steps": 0,
    "save_steps": 2,
    # An untrained tiny model ends a turn with p ≈ 1/860 per token (its two end ids among 1,600, measured): within
    # 128 tokens ~15-25% of completions end (17% and 25% in two rollouts), so most groups of 4 get different
    # overlong rewards (0 or a ramp vs -1 when cut off); at 96 tokens a whole rollout was cut off now and then. The
    # penalty starts at 128 - 64 = 64 tokens, above tiny-warm's answers (``<think>I look.</think><answer>\boxed{…}
    # </answer>``, mostly under 40 tokens), as the paper's last 2,048 of 16,384 sit above its policy's answers.
    "max_completion_length": 128,
    "overlong_buffer": 64,
    "max_prompt_length": 1024,
    "max_pixels": 50176,
    "min_pixels": 3136,
    "learning_rate": 1.0e-4,  # docs/training.md: moves held-out accuracy on the filtered demo pool; 1e-5 does not
}


def has_accelerator() -> bool:
    """A CUDA/XPU/MPS device torch can train on."""
    import torch

    if torch.cuda.is_available():
        return True
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())
