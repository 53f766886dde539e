"""`vero bench train` compares like with like: the bare TRL side gets every GRPOConfig value of Vero's config."""

from __future__ import annotations

from dataclasses import fields

import pytest

pytest.importorskip("trl")


def test_bare_config_matches_vero_config(tmp_path):
    from trl import GRPOConfig

    from vero_train.bench_train import _measured, bare_grpo_config, plain_length_reward
    from vero_train.config import CPU_SMOKE, load_config

    cfg = load_config(None, None, **{**CPU_SMOKE, "model_name_or_path": "tiny", "output_dir": str(tmp_path / "r"),
                                     "max_steps": 6, "save_strategy": "no", "report_to": []})
    bare = bare_grpo_config(cfg)
    assert type(bare) is GRPOConfig
    differ = {f.name for f in fields(GRPOConfig) if f.init and getattr(cfg, f.name) != getattr(bare, f.name)}
    assert differ == {"reward_weights"}  # one plain reward function instead of Vero's three
    assert (bare.generation_batch_size, bare.steps_per_generation) == (cfg.generation_batch_size,
                                                                       cfg.steps_per_generation)
    assert plain_length_reward(8)(completion_ids=[[1] * 8, [1, 2]]) == [-1.0, -0.25]
    assert _measured([9.0, 5.0, 1.0, 3.0], skip=2) == 2.0 and _measured([9.0], skip=2) is None
