"""The learning-signal check (groups with equal rewards, why, one warning per run), the end-of-run summary and the
training plot, on reward outputs and metrics written here (no model)."""

from __future__ import annotations

import doctest
import json
import logging
from types import SimpleNamespace

import pytest

pytest.importorskip("trl")

NAMES = ["vero_accuracy", "vero_format", "vero_overlong"]
WEIGHTS = [0.8, 0.2, 1.0]


def _batch(log, acc, fmt, over, lengths, categories=None):
    """Feed one rollout batch to ``log`` as TRL would: each reward function in turn, same completions list."""
    completions = [[{"role": "assistant", "content": "x"}] for _ in acc]
    kwargs = {"completion_ids": [[7] * n for n in lengths], "category": categories or ["stem"] * len(acc)}
    for name, vals in zip(NAMES, (acc, fmt, over), strict=True):
        log.record(name, vals, completions, kwargs)


def _log(group_size=2, max_len=8):
    from vero_train.rewards import CategoryRewardLog

    log = CategoryRewardLog(NAMES, WEIGHTS, max_completion_length=max_len)
    log.group_size = group_size
    return log


@pytest.mark.parametrize(("acc", "fmt", "over", "lengths", "reason"), [
    ([0.0, 0.0], [0.0, 0.0], [-1.0, -1.0], [8, 8], "all cut off"),
    ([0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [3, 5], "all wrong"),
    ([1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [3, 5], "all right"),
    ([0.5, 0.5], [1.0, 1.0], [0.0, 0.0], [3, 5], "same reward"),
])
def test_flat_group_reasons(acc, fmt, over, lengths, reason):
    log = _log()
    _batch(log, acc, fmt, over, lengths)
    groups, flat = log.take_window()
    assert groups == 1 and dict(flat) == {reason: 1}
    assert log.take_window() == (0, {})  # the window was reset


def test_groups_with_different_rewards_are_not_flat():
    log = _log()
    # group 1: one completion ended (overlong 0), one was cut off (-1); group 2: all cut off
    _batch(log, [0.0] * 4, [0.0] * 4, [0.0, -1.0, -1.0, -1.0], [5, 8, 8, 8])
    groups, flat = log.take_window()
    assert groups == 2 and dict(flat) == {"all cut off": 1}


def _state(step):
    return SimpleNamespace(global_step=step, is_world_process_zero=True)


def test_warns_once_when_a_window_has_no_signal(caplog):
    from vero_train.callbacks import LearningSignalCallback

    log = _log()
    cb = LearningSignalCallback(log, logging.getLogger("vero_train.test_signal"))
    with caplog.at_level(logging.WARNING, logger="vero_train.test_signal"):
        for step in (1, 3, 5):  # three windows, every group cut off
            _batch(log, [0.0] * 4, [0.0] * 4, [-1.0] * 4, [8] * 4)
            cb.on_log(None, _state(step), None, logs={"loss": 0.0})
            cb.on_log(None, _state(step + 1), None, logs={"loss": 0.0})  # no rollout in this window: not counted
        _batch(log, [0.0] * 4, [0.0] * 4, [0.0, -1.0, -1.0, -1.0], [5, 8, 8, 8])  # one group learns
        cb.on_log(None, _state(7), None, logs={"loss": 0.1})
    warnings = [r.getMessage() for r in caplog.records if "no learning signal" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "2 all cut off" in warnings[0] and "max_completion_length 8" in warnings[0]
    assert (cb.windows, cb.flat_windows) == (4, 3)


def test_mixed_wrong_and_right_groups_give_one_hint(caplog):
    from vero_train.callbacks import HINTS, LearningSignalCallback

    log = _log()
    cb = LearningSignalCallback(log, logging.getLogger("vero_train.test_signal"))
    with caplog.at_level(logging.WARNING, logger="vero_train.test_signal"):
        _batch(log, [0.0, 0.0, 1.0, 1.0], [1.0] * 4, [0.0] * 4, [3, 5, 3, 5])  # one group all wrong, one all right
        cb.on_log(None, _state(1), None, logs={"loss": 0.0})
    (msg,) = [r.getMessage() for r in caplog.records if "no learning signal" in r.getMessage()]
    assert "1 all wrong" in msg and "1 all right" in msg
    assert msg.count("vero data filter") == 1 and HINTS["all right"] not in msg


def test_summary_line_and_reward_first_last():
    from vero_train import train as train_mod
    from vero_train.train import TrainResult, reward_first_last

    assert doctest.testmod(train_mod, verbose=False).failed == 0
    recs = [{"loss": 0, "reward": float(i)} for i in range(20)] + [{"loss": 0}]
    assert reward_first_last(recs) == (0.5, 18.5)  # 2 of 20 rollouts each side
    assert reward_first_last([{"loss": 0}]) == (None, None)
    res = TrainResult(output_dir="o", global_step=4, metrics_path="o/m", seconds=12.3, seconds_per_step=1.0,
                      peak_rss_mb=1.0, reward_first=-1.0, reward_last=-0.5, checkpoint="o/checkpoint-4",
                      plot="o/training.png", signal={"windows": 2, "without_signal": 1})
    line = res.summary_line()
    assert "4 steps" in line and "-1.000 → -0.500" in line and "o/checkpoint-4" in line and "o/training.png" in line
    assert "no learning signal in 1 of 2" in line and "\n" not in line


def test_plot_draws_every_panel(tmp_path):
    from PIL import Image

    from vero_train.plots import plot_training, series

    recs = []
    for step in range(1, 9):
        rec = {"step": step, "loss": 0.1, "grad_norm": 0.5, "clip_ratio/region_mean": 0.0}
        if step % 2:  # a rollout every other update, as in the CPU config
            rec.update({"reward": -1 + step / 10, "rewards/vero_format/mean": step / 10,
                        "completions/mean_length": 90 - step, "completions/clipped_ratio": 1 - step / 10,
                        "rewards/stem/vero_accuracy": step / 20, "rewards/knowledge/vero_accuracy": 0.1})
        recs.append(rec)
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(r) + "\n" for r in recs))
    panels = dict(series(recs))
    assert [lab for lab, _ in panels["accuracy per category"]] == ["stem", "knowledge"]
    assert len(panels["reward (weighted total)"][0][1]) == 4  # only the logged rewards, none interpolated
    assert all(panels.values()), panels  # every panel has a line
    out = plot_training(metrics, tmp_path / "training.png")
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 600
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 3  # something was drawn besides the background and text
    assert plot_training(tmp_path / "missing.jsonl", tmp_path / "none.png") is None
