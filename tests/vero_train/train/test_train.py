"""A few GSPO steps of the tiny model on CPU: gradients flow, weights move, per-category logs, resume.

A random tiny model ends a completion with p ≈ 1/800 per token: within the CPU budget (96 tokens) only some groups
get different rewards. A logit bias on the end-of-turn token (generation only) makes every group's lengths vary
and keeps the completions short, so the test is fast; the overlong ramp is stretched over the whole budget here so
those short lengths give different rewards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[3]
CATEGORIES = {"chart_ocr", "stem", "spatial_action", "knowledge", "grounding_counting_search", "captioning_if"}


def _eos_bias(model_dir) -> dict:
    from transformers import AutoTokenizer

    eos = AutoTokenizer.from_pretrained(model_dir).convert_tokens_to_ids("<|im_end|>")
    return {"sequence_bias": [[[eos], 5.5]]}


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_gspo_steps_train_log_and_resume(tiny_model_dir, vero_shards, tmp_path):
    from safetensors.torch import load_file
    from typer.testing import CliRunner

    from vero_data.cli import app
    from vero_train.config import CPU_SMOKE, load_config
    from vero_train.train import train

    out = tmp_path / "run"
    gen = _eos_bias(tiny_model_dir)
    cfg = load_config(None, None, **{**CPU_SMOKE, "model_name_or_path": str(tiny_model_dir), "data": str(vero_shards),
                                     "output_dir": str(out), "max_steps": 2, "generation_kwargs": gen,
                                     "overlong_buffer": CPU_SMOKE["max_completion_length"]})
    res = train(cfg)
    assert res.global_step == 2 and (out / "checkpoint-2").is_dir()

    logs = [r for r in _records(out / "metrics.jsonl") if "loss" in r]
    assert len(logs) == 2
    assert any(r["grad_norm"] > 0 for r in logs), logs
    first = logs[0]
    assert first["reward_std"] > 0
    assert {k.split("/")[1] for k in first if k.startswith("rewards/") and k.count("/") == 2
            and k.endswith("/mean") and not k.startswith("rewards/vero_")} == CATEGORIES
    assert first["rewards/stem/vero_overlong"] <= 0

    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    changed = [k for k in before if k in after and not (before[k] == after[k]).all()]
    assert changed, "no weight changed"
    assert any("visual" in k for k in changed) or any("layers" in k for k in changed)

    # Resume through the CLI: continues from checkpoint-2 up to step 3.
    r = CliRunner().invoke(app, ["train", "--model", str(tiny_model_dir), "--data", str(vero_shards), "--out",
                                 str(out), "--config", str(ROOT / "configs/train/tiny-cpu.yaml"), "--max-steps", "3",
                                 "--resume", "--generation_kwargs", json.dumps(gen), "--json",
                                 "--overlong_buffer", str(CPU_SMOKE["max_completion_length"])])
    assert r.exit_code == 0, r.output
    # stdout is the result alone (transformers' printers would put a log dict per step there)
    summary = json.loads(r.stdout)
    assert summary["global_step"] == 3 and "loss" in summary["last_log"]
    result = json.loads((out / "train_result.json").read_text())
    assert result["global_step"] == 3 and result["resumed_from"].endswith("checkpoint-2")
    steps = [rec["step"] for rec in _records(out / "metrics.jsonl") if "loss" in rec]
    assert steps == [1, 2, 3]


def test_unknown_reward_type_stops_before_training(tiny_model_dir, vero_shards, tmp_path):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.errors import VeroError
    from vero_train.config import CPU_SMOKE, load_config
    from vero_train.train import train

    data = tmp_path / "bad"
    shutil.copytree(vero_shards, data)
    f = sorted((data / "data").glob("*.parquet"))[0]
    t = pq.read_table(f)
    t = t.set_column(t.schema.get_field_index("reward_type"), "reward_type",
                     pa.array(["ordering"] * t.num_rows))
    pq.write_table(t, f)
    cfg = load_config(None, None, **{**CPU_SMOKE, "model_name_or_path": str(tiny_model_dir), "data": str(data),
                                     "output_dir": str(tmp_path / "run"), "max_steps": 1})
    with pytest.raises(VeroError, match="unknown reward_type 'ordering'"):
        train(cfg)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
