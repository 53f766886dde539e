"""Grounding, clicking, counting, search, web-action, jigsaw, captioning and IF adapters."""

import hashlib
import json

import pytest

from tests.vero_data.sources.adapters.vero600k_fixtures import ctx, hf_image, pil, png, run
from vero_data.errors import RowError
from vero_data.schema import RawSample
from vero_data.sources.adapters.grounding import CLICK_TEMPLATE, GROUNDING_TEMPLATE


def test_refcocog_xywh_to_absolute_xyxy():
    row = {"ref_id": 5, "ann_id": 1, "image_id": 9, "split": "train", "category_id": 1,
           "sentences": [{"raw": "the man in a red shirt", "sent": "the man in a red shirt", "sent_id": 1}],
           "captions": ["the man in a red shirt", "a man wearing red"], "bbox": [10.5, 20.0, 100.0, 50.0],
           "raw_image_info": json.dumps({"file_name": "COCO_train2014_000000000009.jpg", "height": 480, "width": 640}),
           "raw_anns": json.dumps({"bbox": [10.5, 20.0, 100.0, 50.0]}),
           "image_path": "coco/train2014/COCO_train2014_000000000009.jpg"}
    out = run("refcocog", row, ctx({"image_root": "/data"}))
    assert out == [RawSample(GROUNDING_TEMPLATE.format(what='the object described as "the man in a red shirt"'),
                             ["/data/coco/train2014/COCO_train2014_000000000009.jpg"],
                             [{"bbox_2d": [10, 20, 110, 70]}], "grounding", {"image_sizes": [[640, 480]]},
                             upstream_id="5-0")]
    assert len(run("refcocog", row, ctx({"image_root": "/data", "sentences": "all"}))) == 2


def test_aerialvg_regions_clipped():
    img = hf_image(100, 80)
    row = {"id": "av1", "image": img, "width": 100, "height": 80,
           "grounding": {"caption": "Two cars near a roundabout.",
                         "regions": [{"phrase": "the white car", "bbox": [10, 10, 50, 40], "realation": "left of the bus"},
                                     {"phrase": "the bus", "bbox": [60, 30, 120, 90]}]}}
    out = run("aerialvg", row, ctx({}))
    assert [s.answer for s in out] == [[{"bbox_2d": [10, 10, 50, 40]}], [{"bbox_2d": [60, 30, 100, 80]}]]
    assert out[0].question == GROUNDING_TEMPLATE.format(what='"the white car" (left of the bus)')
    assert out[1].extra_info == {"image_sizes": [[100, 80]], "caption": "Two cars near a roundabout."}


def test_groundui_clicking_and_degenerate_box():
    img = pil(300, 200)
    row = {"image": img, "instruction": "Open the settings menu.", "bbox": [250, 10, 290, 40], "resolution": [300, 200],
           "source": "omniact", "platform": "desktop"}
    assert run("bbox_click", row, ctx({})) == [RawSample(
        CLICK_TEMPLATE.format(what="open the settings menu"), [img], [{"bbox_2d": [250, 10, 290, 40]}], "clicking",
        {"image_sizes": [[300, 200]], "platform": "desktop", "source": "omniact"})]
    row["bbox"] = [400, 300, 500, 400]
    with pytest.raises(RowError) as e:
        run("bbox_click", row, ctx({}))
    assert e.value.reason == "degenerate_bbox"


def test_kvg_normalised_box_from_image_size():
    img = hf_image(200, 100)
    row = {"image": img, "question": "the bird species native to Australia", "bbox": "[0.1, 0.2, 0.5, 0.6]"}
    s = run("bbox_click", row, ctx({"question": "question", "bbox_format": "xyxy_norm1"}))[0]
    assert s.answer == [{"bbox_2d": [20, 20, 100, 60]}] and s.extra_info["image_sizes"] == [[200, 100]]


def test_osatlas_elements():
    row = {"img_filename": "windows/shot_1.png", "image_width": 1920, "image_height": 1080,
           "elements": [{"instruction": "Close the window", "bbox": [1880, 0, 1920, 30]},
                        {"instruction": "", "bbox": [0, 0, 10, 10]}]}
    out = run("osatlas", row, ctx({"image_root": "/os"}))
    assert out == [RawSample(CLICK_TEMPLATE.format(what="close the window"), ["/os/windows/shot_1.png"],
                             [{"bbox_2d": [1880, 0, 1920, 30]}], "clicking", {"image_sizes": [[1920, 1080]]},
                             upstream_id="windows/shot_1.png-0")]


def test_pixmo_count_from_image_dir_and_fetch_off(tmp_path):
    data = png()
    sha = hashlib.sha256(data).hexdigest()
    (tmp_path / sha).write_bytes(data)
    row = {"image_url": "https://example.org/a.jpg", "image_sha256": sha, "label": "boat", "count": 4,
           "points": [{"x": 1.0, "y": 2.0}] * 4}
    assert run("pixmo_count", row, ctx({"image_dir": str(tmp_path)})) == [RawSample(
        "How many boats are in this image?", [str(tmp_path / sha)], "4", "counting", {"label": "boat"}, upstream_id=sha)]
    row["image_sha256"] = "0" * 64
    with pytest.raises(RowError) as e:
        run("pixmo_count", row, ctx({"image_dir": str(tmp_path), "fetch": False}))
    assert e.value.reason == "image_url_only"


def test_pixmo_qa_and_caption_with_embedded_image():
    img = pil()
    row = {"image": img, "image_sha256": "abc", "question": "[USER] What breed is the dog? [ASSISTANT]", "answer": "A corgi."}
    assert run("pixmo_qa", row, ctx({})) == [RawSample("What breed is the dog?", [img], "A corgi.", "llm_judge",
                                                         {"reference": "A corgi."}, upstream_id="abc")]
    row = {"image": img, "image_sha256": "abc", "caption": "A corgi on grass.", "transcripts": ["..."]}
    s = run("pixmo_caption", row, ctx({}))[0]
    assert (s.answer, s.reward_type, s.question) == ("A corgi on grass.", "llm_judge", "Describe this image in detail.")


def test_visual_probe_and_pixelreasoner(tmp_path):
    row = {"problem": "<image>\nWhat is the number on the small boat?", "solution": "17", "images": ["data/1.jpg"]}
    assert run("visual_probe", row, ctx({"image_root": "/vp"})) == [
        RawSample("What is the number on the small boat?", ["/vp/data/1.jpg"], "17", "search", {})]
    row = {"qid": "pr1", "question": "<image>What brand is on the cup?", "image": ["imgs/cup.jpg"],
           "answer": ["\\boxed{\\text{Starbucks}}"], "is_video": False}
    assert run("pixelreasoner", row, ctx({"image_root": "/pr"}))[0].answer == "Starbucks"
    row["is_video"] = True
    with pytest.raises(RowError) as e:
        run("pixelreasoner", row, ctx({}))
    assert e.value.reason == "video_row"


def test_zebra_cot_counting_multi_image():
    a, b = pil(), pil(16, 16)
    row = {"Question": "How many red cubes appear in both views? <image_start>[problem_image_1]<image_end> "
                       "<image_start>[problem_image_2]<image_end>",
           "Text Reasoning Trace": "...", "Final Answer": "3", "problem_image_1": a, "problem_image_2": b,
           "problem_image_3": None, "reasoning_image_1": pil()}
    assert run("zebra_cot", row, ctx({})) == [
        RawSample("How many red cubes appear in both views?", [a, b], "3", "counting", {})]
    row["Final Answer"] = "a red cube"
    with pytest.raises(RowError) as e:
        run("zebra_cot", row, ctx({}))
    assert e.value.reason == "not_a_count"


def test_magma_som_actions():
    img = pil()
    row = {"id": "m2w-1", "image": img, "conversations": [
        {"from": "human", "value": "<image>\nTask: book a flight to Paris. Previous actions: None. What is the next action?"},
        {"from": "gpt", "value": '{"ACTION": "TYPE", "MARK": 12, "VALUE": "Paris"}'}]}
    assert run("magma_som", row, ctx({})) == [RawSample(
        "Task: book a flight to Paris. Previous actions: None. What is the next action?", [img],
        {"ACTION": "TYPE", "MARK": 12, "VALUE": "Paris"}, "web_action",
        {"raw_answer": '{"ACTION": "TYPE", "MARK": 12, "VALUE": "Paris"}'}, upstream_id="m2w-1-0")]
    row["conversations"][1]["value"] = "ACTION: CLICK, MARK: 5, VALUE: None"
    assert run("magma_som", row, ctx({}))[0].answer == {"ACTION": "CLICK", "MARK": 5, "VALUE": "None"}
    row["conversations"][1]["value"] = "I don't know"
    with pytest.raises(RowError):
        run("magma_som", row, ctx({}))


def test_visual_jigsaw_2d_and_3d():
    row = {"id": "jig1", "image": "coco/000001.jpg", "conversations": [
        {"from": "human", "value": "<image>\nThe image is split into 4 shuffled pieces. Give the original order."},
        {"from": "gpt", "value": "\\boxed{3, 1, 4, 2}"}]}
    assert run("visual_jigsaw", row, ctx({"image_root": "/c"})) == [RawSample(
        "The image is split into 4 shuffled pieces. Give the original order.", ["/c/coco/000001.jpg"], [3, 1, 4, 2],
        "number_list", {"n_pieces": 4}, upstream_id="jig1")]
    frames = [hf_image(path=f"f{i}.jpg") for i in range(3)]
    row3 = {"images": frames, "question": "Order the frames by depth.", "answer": "[2, 3, 1]"}
    s = run("visual_jigsaw", row3, ctx({}))[0]
    assert s.images == frames and s.answer == [2, 3, 1]
    row3["answer"] = "[1, 1, 2]"
    with pytest.raises(RowError):
        run("visual_jigsaw", row3, ctx({}))


def test_flickr30k_split_and_references():
    img = pil()
    caps = ["Two dogs run on a beach.", "Dogs playing.", "A pair of dogs.", "Beach dogs.", "Two animals running."]
    row = {"image": img, "caption": caps, "sentids": ["1", "2", "3", "4", "5"], "split": "train", "img_id": "10",
           "filename": "100.jpg"}
    assert run("flickr30k", row, ctx({"keep_split": "train"})) == [RawSample(
        "Write a one-sentence caption for this image.", [img], caps[0], "llm_judge", {"references": caps}, upstream_id="10")]
    row["split"] = "test"
    with pytest.raises(RowError) as e:
        run("flickr30k", row, ctx({"keep_split": "train"}))
    assert e.value.reason == "other_split"


def test_mmif_constraints_and_fallback():
    img = pil()
    row = {"id": "if1", "image": img, "conversations": [
        {"from": "human", "value": "<image>\nDescribe the scene in exactly 3 bullet points, without commas."},
        {"from": "gpt", "value": "* a\n* b\n* c"}],
        "instruction_id_list": ["detectable_format:number_bullet_lists", "punctuation:no_comma"],
        "kwargs": [{"num_bullets": 3, "prompt_to_repeat": None}, {}]}
    assert run("mmif", row, ctx({})) == [RawSample(
        "Describe the scene in exactly 3 bullet points, without commas.", [img],
        {"instructions": [{"class": "detectable_format:number_bullet_lists", "args": {"num_bullets": 3}},
                          {"class": "punctuation:no_comma", "args": {}}]},
        "instruction_following", {"reference": "* a\n* b\n* c"}, upstream_id="if1")]
    del row["instruction_id_list"]
    s = run("mmif", row, ctx({}))[0]
    assert (s.reward_type, s.answer) == ("llm_judge", "* a\n* b\n* c")
