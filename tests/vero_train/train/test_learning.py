"""GSPO learns on CPU: the untrained tiny model, a reward that varies within every group, a few rollouts.

An untrained model earns nothing from Vero's own rewards (it never writes ``<answer>``), so this test rewards what
any policy can change from its first step: the share of completion tokens with an even id (half the vocabulary,
~0.5 at random, with a spread of ~0.12 over 16 tokens, so every group has a non-zero advantage). The run goes
through ``vero_train.train.train`` exactly as ``vero train`` does (category-balanced sampler, GSPO loss, logging);
the reward is passed as an extra reward function, as a user's own would be.

Measured (8 updates = 4 rollouts, lr 3e-2, 2 shared CPU cores): the mean reward of the last two rollouts minus the
first two was +0.10 (seed 0: 0.516 0.547 0.549 0.716), +0.12 (seed 1) and +0.26 (seed 2); a seed's run repeats
exactly on one machine (seed 0 gave the same rewards in two runs). At lr 3e-3 it stays within noise (±0.03) for 12
updates, hence the high rate. The assertion asks for half the smallest gain.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

STEPS = 8  # 4 rollout batches of 6 prompts × 4 completions, 2 updates each
LR = 3e-2  # the warm-up SFT uses 4e-3; RL on a random 2-layer model needs more to move in 4 rollouts
MARGIN = 0.05  # half the smallest measured gain (see above)


def even_token_share(prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
    """Share of a completion's tokens whose id is even."""
    return [sum(t % 2 == 0 for t in ids) / max(len(ids), 1) for ids in completion_ids]


@pytest.mark.slow
def test_gspo_raises_a_reward_the_model_can_reach(tiny_model_dir, vero_shards, tmp_path):
    from vero_train.config import CPU_SMOKE, load_config
    from vero_train.train import train

    out = tmp_path / "run"
    cfg = load_config(None, None, **{
        **CPU_SMOKE, "model_name_or_path": str(tiny_model_dir), "data": str(vero_shards), "output_dir": str(out),
        "max_steps": STEPS, "max_completion_length": 16, "overlong_buffer": 16, "reward_funcs": [],
        "reward_weights": None, "learning_rate": LR, "seed": 0, "sampler_seed": 0, "save_steps": STEPS,
    })
    res = train(cfg, reward_funcs=[even_token_share])
    recs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    grads = [r["grad_norm"] for r in recs if "grad_norm" in r]
    rewards = [r["reward"] for r in recs if "reward" in r]
    assert len(grads) == STEPS and all(g > 0 for g in grads), grads
    assert len(rewards) == STEPS // 2  # one rollout per two updates (ppo_mini_batches 2)
    first, last = sum(rewards[:2]) / 2, sum(rewards[-2:]) / 2
    assert last - first > MARGIN, rewards
    assert res.signal == {"windows": STEPS // 2, "without_signal": 0}
    assert res.reward_first is not None and res.plot and (out / "training.png").is_file()
    assert "![training curves](training.png)" in (out / "README.md").read_text()  # linked from the model card

