"""`vero data export --format trl`: rows TRL's own data utilities read with the images where ``<image>`` stood,
and the columns a plain reward function routes on."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.helpers import png_bytes
from vero_data.cli import app
from vero_data.schema import ARROW_SCHEMA, dumps_extra
from vero_data.trl_export import prompt_with_image_parts

trl_data_utils = pytest.importorskip("trl.data_utils")
runner = CliRunner()
BOX = [{"bbox_2d": [10, 10, 30, 30], "label": "dog"}]


def _img(i: int, size=(64, 48)) -> dict:
    return {"bytes": png_bytes(Image.new("RGB", size, (i * 40, 0, 0))), "path": f"{i}.png"}


def _row(i: int, content: str, n_images: int, reward_type="numeric", answer="3") -> dict:
    return {"id": f"id{i}", "data_source": "src", "category": "chart_ocr",
            "prompt": [{"role": "user", "content": content}],
            "images": [_img(i * 3 + k) for k in range(n_images)], "answer": answer, "reward_type": reward_type,
            "extra_info": dumps_extra({"question": "q", "tolerance": 0.5}), "split": "train", "license": "x",
            "lineage": {"manifest": "m", "manifest_version": "1", "upstream_id": str(i), "upstream_index": i},
            "pass_count": None, "k": None}


ROWS = [
    _row(0, "<image>\nWhat is the peak value?", 1),
    _row(1, "Compare <image> and <image>\nWhich bar is taller, left or right?", 2, "string_match", "left"),
    _row(2, "Locate the dog.", 1, "grounding", json.dumps(BOX)),  # no placeholder: image first, as TRL does
]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("trl")
    (root / "build" / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(ROWS, schema=ARROW_SCHEMA),
                   root / "build" / "data" / "train-00000-of-00001.parquet")
    res = runner.invoke(app, ["data", "export", "--data", str(root / "build"), "--out", str(root / "t"),
                              "--format", "trl"])
    assert res.exit_code == 0, res.output
    from datasets import load_dataset

    return load_dataset(str(root / "t"), split="train")


def _texts(messages) -> list[str]:
    return [p["text"] for m in messages for p in m["content"] if p["type"] == "text"]


def test_trl_helper_on_raw_shards_misplaces_the_images():
    """Why the export exists: string content puts every image first and keeps our literal placeholders."""
    msgs = trl_data_utils.prepare_multimodal_messages(ROWS[1]["prompt"], images=["L", "R"])
    assert [p["type"] for p in msgs[0]["content"]] == ["image", "image", "text"]
    assert "<image>" in _texts(msgs)[0]


def test_prepare_multimodal_messages_fills_the_parts_in_place(export):
    row = export[1]
    assert len(row["images"]) == 2 and all(isinstance(im, Image.Image) for im in row["images"])
    msgs = trl_data_utils.prepare_multimodal_messages(row["prompt"], images=row["images"])
    parts = msgs[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image", "text", "image", "text"]
    assert [p["image"] for p in parts if p["type"] == "image"] == row["images"]  # in order
    assert _texts(msgs) == ["Compare ", " and ", "Which bar is taller, left or right?"]
    no_placeholder = trl_data_utils.prepare_multimodal_messages(export[2]["prompt"], images=export[2]["images"])
    assert [p["type"] for p in no_placeholder[0]["content"]] == ["image", "text"]


def test_chat_template_puts_vision_tokens_where_the_images_stood(export):
    pytest.importorskip("transformers")
    from vero_train.models.tiny import build_processor, tokenizer_corpus, train_tokenizer

    processor = build_processor(train_tokenizer(tokenizer_corpus(0)))
    row = export[1]
    prompt = trl_data_utils.prepare_multimodal_messages(row["prompt"], images=row["images"])
    text = trl_data_utils.maybe_apply_chat_template({"prompt": prompt}, processor)["prompt"]
    user = text[text.rindex("<|im_start|>user"):]  # the template's default system turn has text of its own
    vision = "<|vision_start|><|image_pad|><|vision_end|>"
    assert "<image>" not in text and text.count(vision) == 2
    assert user.startswith("<|im_start|>user\nCompare " + vision + " and " + vision + "Which bar is taller"), user


def test_reward_function_receives_the_routing_columns(export):
    from vero_data.rewards.trl import vero_reward

    rows = [export[0], export[2]]
    # GRPOTrainer._calculate_rewards: every column but prompt/completion(_ids) goes to the reward function
    kwargs = {k: [r[k] for r in rows] for k in rows[0] if k not in ("prompt", "completion", "completion_ids")}
    assert {"answer", "reward_type", "extra_info"} <= set(kwargs)
    completions = ["<think>r</think><answer>\\boxed{3.4}</answer>",  # within the row's tolerance 0.5
                   "<think>r</think><answer>" + json.dumps(BOX) + "</answer>"]
    assert vero_reward(prompts=[r["prompt"] for r in rows], completions=completions, **kwargs) == [1.0, 1.0]
    assert json.loads(export[2]["extra_info"])["image_sizes"] == [[64, 48]]  # grounding reads the image size


def test_placeholder_count_must_match_images():
    with pytest.raises(ValueError, match="2 <image> placeholder"):
        prompt_with_image_parts([{"role": "user", "content": "<image><image> what?"}], 1)


def test_a_bad_row_is_one_line_naming_shard_and_row(tmp_path):
    (tmp_path / "b" / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([ROWS[0], _row(9, "<image> and <image>?", 1)], schema=ARROW_SCHEMA),
                   tmp_path / "b" / "data" / "train-00000-of-00001.parquet")
    res = runner.invoke(app, ["data", "export", "--data", str(tmp_path / "b"), "--out", str(tmp_path / "t"),
                              "--format", "trl"])
    assert res.exit_code == 1
    assert "train-00000-of-00001.parquet: row 2 cannot be exported for TRL: prompt has 2" in res.output
    assert not list((tmp_path / "t" / "data").glob("*.parquet"))
