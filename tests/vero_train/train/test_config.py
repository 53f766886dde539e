"""VeroGSPOConfig: the paper's defaults, batch derivation, YAML + flag loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("trl")

from vero_train.config import CPU_SMOKE, VeroGSPOConfig, load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]

# vero600k_format.md §8 (and §5/§6 for rewards and the sampler), in TRL's field names.
PAPER = dict(
    importance_sampling_level="sequence", loss_type="grpo", beta=0.0, epsilon=3e-4, epsilon_high=4e-4,
    learning_rate=1e-6, rollout_warmup_steps=40, rollout_steps=4000, num_generations=8, global_batch_prompts=256,
    ppo_mini_batches=2, temperature=1.0, top_p=1.0, max_completion_length=16384, max_prompt_length=12288,
    max_pixels=3072 * 3072, overlong_buffer=2048, overlong_factor=1.0, reward_weights=[0.8, 0.2, 1.0],
    reward_funcs=["vero_accuracy", "vero_format", "vero_overlong"], sampler_seed=18, balance_categories=True,
    scale_rewards="group", num_iterations=1, vllm_mode="colocate", vllm_gpu_memory_utilization=0.7,
)


def test_defaults_equal_the_paper(tmp_path):
    c = VeroGSPOConfig(output_dir=str(tmp_path))
    bad = {k: (getattr(c, k), v) for k, v in PAPER.items() if getattr(c, k) != v}
    assert not bad
    assert c.system_prompt and "<think>" in c.system_prompt and "\\boxed{}" in c.system_prompt
    assert c.activation_checkpointing and c.gradient_checkpointing_kwargs == {"use_reentrant": False}


def test_paper_units_map_onto_trl_fields(tmp_path):
    c = VeroGSPOConfig(output_dir=str(tmp_path))
    # 256 prompts × 8 rollouts per rollout step, two optimizer updates of 1024 completions each.
    assert c.generation_batch_size == 256 * 8
    assert c.steps_per_generation == 2 * c.gradient_accumulation_steps
    assert c.per_device_train_batch_size * c.gradient_accumulation_steps == 1024  # one process
    assert c.max_steps == 8000 and c.warmup_steps == 80 and c.save_steps == 80
    assert not c.bf16  # CPU here: bf16 follows the hardware instead of failing


def test_world_size_divides_the_accumulation(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "8")
    c = VeroGSPOConfig(output_dir=str(tmp_path))
    assert c.gradient_accumulation_steps == 16 and c.steps_per_generation == 32
    with pytest.raises(ValueError, match="not divisible"):
        VeroGSPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=7)


def test_yaml_then_flags(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({**CPU_SMOKE, "learning_rate": 3e-6, "max_completion_length": 32}))
    c = load_config(f, ["--learning-rate", "5e-6", "--category_weights", '{"stem": 2.0}'], output_dir=str(tmp_path),
                    max_steps=7)
    assert c.learning_rate == 5e-6 and c.max_completion_length == 32 and c.max_steps == 7
    assert c.category_weights == {"stem": 2.0} and c.use_cpu and not c.bf16


def test_unknown_yaml_field_is_named(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("learning_rat: 1.0e-6\n")
    with pytest.raises(ValueError, match="learning_rat.*learning_rate"):
        load_config(f, output_dir=str(tmp_path))


def test_shipped_configs_load_and_cpu_yaml_matches_preset(tmp_path):
    shipped = sorted((ROOT / "configs" / "train").glob("*.yaml"))
    assert {p.name for p in shipped} >= {"paper.yaml", "tiny-cpu.yaml"}
    for p in shipped:
        c = load_config(p, output_dir=str(tmp_path), use_cpu=True, bf16=False)
        assert c.importance_sampling_level == "sequence" and c.beta == 0.0, p.name
    assert yaml.safe_load((ROOT / "configs/train/tiny-cpu.yaml").read_text()) == CPU_SMOKE
    paper = load_config(ROOT / "configs/train/paper.yaml", output_dir=str(tmp_path), use_cpu=True, bf16=False)
    assert all(getattr(paper, k) == v for k, v in PAPER.items())
