"""`vero data export --format verl`: records veRL loads from any working directory, with Vero's reward settings.

veRL's RLHFDataset opens string image paths as they are (qwen-vl-utils ``fetch_image``), i.e. relative to the
trainer's working directory; the export writes them absolute. The last test loads the export with veRL's own
dataset class when verl is installed.
"""

from __future__ import annotations

import importlib
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from tests.helpers import png_bytes
from vero_data.cli import app
from vero_data.errors import VeroError
from vero_data.schema import ARROW_SCHEMA, dumps_extra
from vero_data.stages.export import export_verl_dir

runner = CliRunner()
BOX = [{"bbox_2d": [10, 10, 30, 30], "label": "dog"}]


def _row(i: int, reward_type: str = "counting", answer: str | None = None, extra: dict | None = None) -> dict:
    return {"id": f"id{i}", "data_source": "src", "category": "grounding_counting_search",
            "prompt": [{"role": "user", "content": f"<image>\nHow many dogs? ({i})"}],
            "images": [{"bytes": png_bytes(Image.new("RGB", (64, 48), (i, 0, 0))), "path": f"{i}.png"}],
            "answer": answer if answer is not None else str(i), "reward_type": reward_type,
            "extra_info": dumps_extra({"question": "How many dogs?", **(extra or {})}),
            "split": "train", "license": "x",
            "lineage": {"manifest": "m", "manifest_version": "1", "upstream_id": str(i), "upstream_index": i},
            "pass_count": None, "k": None}


@pytest.fixture
def build(tmp_path):
    """A build folder with one shard: two counting rows and a grounding row without image_sizes."""
    data = tmp_path / "build" / "data"
    data.mkdir(parents=True)
    rows = [_row(1), _row(2), _row(3, "grounding", json.dumps(BOX))]
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data / "train-00000-of-00001.parquet")
    return tmp_path / "build"


def _records(path):
    if path.suffix == ".jsonl":
        return [json.loads(x) for x in path.read_text().splitlines()]
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize(("fmt", "name"), [("verl", "vero_600k_train.verl.parquet"),
                                           ("verl-jsonl", "vero_600k_train.verl.jsonl")])
def test_image_paths_resolve_from_another_directory(build, tmp_path, monkeypatch, fmt, name):
    out = tmp_path / "export"
    monkeypatch.chdir(tmp_path)  # a relative --out, as users type it
    res = runner.invoke(app, ["data", "export", "--data", "build", "--out", "export", "--format", fmt])
    assert res.exit_code == 0, res.output
    assert str(out / name) in res.output and str(out / "verl_config.yaml") in res.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where the trainer starts: neither the export folder nor its parent
    recs = _records(out / name)
    paths = [p for r in recs for p in r["images"]]
    assert len(recs) == 3 and len(paths) == 3
    assert all(isinstance(p, str) and os.path.isabs(p) and os.path.isfile(p) for p in paths), paths
    assert all(p.startswith(str(out.resolve()) + "/images/train/") for p in paths)


def test_parquet_loads_with_datasets_as_verl_does(build, tmp_path):
    """verl's RLHFDataset: datasets.load_dataset("parquet", data_files=f)["train"], then the prompt/images keys."""
    import datasets

    export_verl_dir([build / "data" / "train-00000-of-00001.parquet"], tmp_path / "v")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "v" / "vero_600k_train.verl.parquet"))["train"]
    row = ds[0]
    assert row["prompt"] == [{"role": "user", "content": "<image>\nHow many dogs? (1)"}]
    assert isinstance(row["images"][0], str) and row["extra_info"]["reward_type"] == "counting"
    assert row["reward_model"] == {"style": "rule", "ground_truth": "1"}


def test_image_root_is_absolute_at_write_time(build, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["data", "export", "--data", "build", "--out", "v", "--image-root", "mnt/verl"])
    assert res.exit_code == 0, res.output
    recs = _records(tmp_path / "v" / "vero_600k_train.verl.parquet")
    assert recs[0]["images"][0].startswith(str(tmp_path / "mnt" / "verl" / "images" / "train") + "/")
    cfg = yaml.safe_load((tmp_path / "v" / "verl_config.yaml").read_text())
    assert cfg["data"]["train_files"] == [str(tmp_path / "mnt" / "verl" / "vero_600k_train.verl.parquet")]
    res = runner.invoke(app, ["data", "export", "--data", "build", "--out", "t", "--format", "trl",
                              "--image-root", "x"])
    assert res.exit_code == 1 and "--image-root applies to the veRL formats" in res.output


def _reward_as_verl_calls_it(cfg: dict):
    """verl's get_custom_reward_fn: load ``path``/``name`` (pkg:// = an importable module) and merge
    ``reward_kwargs`` over the call's keyword arguments (verl/trainer/ppo/reward.py, 0.9.1)."""
    spec = cfg["reward"]["custom_reward_function"]
    assert spec["path"].startswith("pkg://")
    fn = getattr(importlib.import_module(spec["path"].removeprefix("pkg://").replace("/", ".")), spec["name"])
    extra = dict(spec.get("reward_kwargs") or {})
    return lambda **kw: fn(**{**kw, **extra})


def test_config_reward_scores_like_vero_training(build, tmp_path):
    export_verl_dir([build / "data" / "train-00000-of-00001.parquet"], tmp_path / "v")
    cfg = yaml.safe_load((tmp_path / "v" / "verl_config.yaml").read_text())
    assert cfg["data"]["prompt_key"] == "prompt" and cfg["data"]["image_key"] == "images"
    assert cfg["data"]["train_files"] == [str((tmp_path / "v" / "vero_600k_train.verl.parquet").resolve())]
    score = _reward_as_verl_calls_it(cfg)
    recs = {r["id"]: r for r in _records(tmp_path / "v" / "vero_600k_train.verl.parquet")}
    counting, grounding = recs["id1"], recs["id3"]
    wrong = "<think>r</think><answer>\\boxed{7}</answer>"
    s = score(data_source=counting["data_source"], solution_str=wrong,
              ground_truth=counting["reward_model"]["ground_truth"], extra_info=counting["extra_info"])
    assert s["score"] == pytest.approx(0.2)  # Vero's format_score, not the function's default 0.5
    # grounding needs the image size, which the download script's seven extra_info keys do not carry
    assert grounding["extra_info"]["image_sizes"] == [[64, 48]]
    right = "<think>r</think><answer>" + json.dumps(BOX) + "</answer>"
    s = score(data_source=grounding["data_source"], solution_str=right,
              ground_truth=grounding["reward_model"]["ground_truth"], extra_info=grounding["extra_info"])
    assert s["score"] == pytest.approx(1.0)


def test_an_image_path_outside_the_export_is_refused(tmp_path):
    evil = _row(1, extra={"verl": {"id": "x", "ability": "counting_grounding_search", "style": "rule",
                                   "images": ["../../escaped.png"], "extra_split": "train"}})
    data = tmp_path / "b" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([evil], schema=ARROW_SCHEMA), data / "train-00000-of-00001.parquet")
    with pytest.raises(VeroError, match=r"row 1 cannot be exported to veRL: image path '\.\./\.\./escaped\.png'"):
        export_verl_dir([data / "train-00000-of-00001.parquet"], tmp_path / "deep" / "out")
    assert not (tmp_path / "escaped.png").exists()


def test_real_verl_dataset_keeps_every_row_from_another_directory(build, tmp_path, monkeypatch):
    """verl's RLHFDataset with a real Qwen2.5-VL processor (the tiny model's) keeps all rows when started outside
    the export folder; with relative paths it kept none."""
    rl_dataset = pytest.importorskip("verl.utils.dataset.rl_dataset")
    pytest.importorskip("qwen_vl_utils")
    from omegaconf import OmegaConf

    from vero_train.models.tiny import build_processor, tokenizer_corpus, train_tokenizer

    export_verl_dir([build / "data" / "train-00000-of-00001.parquet"], tmp_path / "v")
    processor = build_processor(train_tokenizer(tokenizer_corpus(0)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = yaml.safe_load((tmp_path / "v" / "verl_config.yaml").read_text())
    config = OmegaConf.create({**cfg["data"], "max_prompt_length": 4096, "filter_overlong_prompts": True,
                               "filter_overlong_prompts_workers": 1, "cache_dir": str(tmp_path / "verl-cache")})
    ds = rl_dataset.RLHFDataset(cfg["data"]["train_files"], processor.tokenizer, config, processor=processor)
    assert len(ds) == 3
    parts = ds[0]["raw_prompt"][0]["content"]
    assert parts[0]["type"] == "image" and os.path.isfile(parts[0]["image"])
