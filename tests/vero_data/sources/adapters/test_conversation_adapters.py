"""finevision / conversations / cosyn: several QA turns per upstream row."""

import pytest

from tests.vero_data.sources.adapters.vero600k_fixtures import ctx, hf_image, pil, run
from vero_data.errors import RowError
from vero_data.schema import RawSample


def fv_row(turns, images=None, **ratings):
    row = {"images": images or [pil()], "texts": [{"user": u, "assistant": a, "source": "tallyqa"} for u, a in turns],
           "source": "tallyqa"}
    for col in ("relevance_ratings", "visual_dependency_ratings", "image_correspondence_ratings", "formatting_ratings"):
        row[col] = ratings.get(col, [5] * len(turns))
        row[col.replace("_ratings", "_min")] = min(row[col])
    return row


def test_finevision_counting_turns():
    row = fv_row([("How many dogs are there?", "3"), ("How many cats are there?", "Answer: 2.")])
    img = row["images"][0]
    out = run("finevision", row, ctx({"reward": "counting"}, index=4))
    assert out == [
        RawSample("How many dogs are there?", [img], "3", "counting", {"turn": 0, "finevision_source": "tallyqa"},
                  upstream_id="4-0"),
        RawSample("How many cats are there?", [img], "2", "counting",
                  {"turn": 1, "finevision_source": "tallyqa", "raw_answer": "Answer: 2."}, upstream_id="4-1"),
    ]


def test_finevision_mc_letter_multi_image_and_bad_turns():
    imgs = [hf_image(path="a.jpg"), hf_image(path="b.jpg")]
    row = fv_row([("<image><image>Which panel completes the pattern?\nA. 1\nB. 2\nC. 3\nAnswer with the letter.", "Answer: C"),
                  ("Describe the figure.", "A long description " + "word " * 40)], images=imgs)
    out = run("finevision", row, ctx({"reward": "multiple_choice"}))
    assert len(out) == 1
    s = out[0]
    assert s.images == imgs and s.answer == "C" and s.reward_type == "multiple_choice"
    assert s.question.startswith("Which panel") and "<image>" not in s.question
    assert s.extra_info["dropped_turns"] == {"long_answer": 1}


def test_finevision_min_rating_and_struct_of_lists():
    row = fv_row([("What is written on the sign?", "STOP"), ("What color is it?", "red")],
                 relevance_ratings=[2, 5])
    row["texts"] = {"user": [t["user"] for t in row["texts"]], "assistant": [t["assistant"] for t in row["texts"]],
                    "source": ["x", "x"]}
    out = run("finevision", row, ctx({"min_rating": 3}))
    assert [(s.question, s.answer, s.reward_type) for s in out] == [("What color is it?", "red", "string_match")]
    with pytest.raises(RowError) as e:
        run("finevision", {"images": [], "texts": [{"user": "q", "assistant": "a"}]}, ctx({}))
    assert e.value.reason == "missing_image"


def test_finevision_grounding_boxes_to_pixels():
    img = hf_image(200, 100)
    row = fv_row([("Locate the person.", "[100, 200, 500, 800]")], images=[img])
    s = run("finevision", row, ctx({"reward": "grounding", "bbox_format": "xyxy_norm1000"}))[0]
    assert s.answer == [{"bbox_2d": [20, 20, 100, 80]}]
    assert s.extra_info["image_sizes"] == [[200, 100]] and s.reward_type == "grounding"
    row = fv_row([("Locate the person.", "There is no person.")], images=[img])
    with pytest.raises(RowError) as e:
        run("finevision", row, ctx({"reward": "grounding"}))
    assert e.value.reason == "no_bbox"


def test_geomverse_numeric_from_solution():
    row = fv_row([("Compute the area of the ABCD shape.", "The side is 6 so the area is 6 * 6 = 36. \\boxed{36}")])
    s = run("finevision", row, ctx({"reward": "numeric", "extract": True}))[0]
    assert (s.answer, s.reward_type) == ("36", "numeric")


def test_llava_conversations_geo170k():
    row = {"id": "geo-1", "image": "geoqa_plus/images/1.png",
           "conversations": [
               {"from": "human", "value": "<image>\nAs shown in the figure, find angle BOC.\nChoices:\nA:30°\nB:45°\nC:60°\nD:90°"},
               {"from": "gpt", "value": "Since OA = OB, the angle is 60°. Therefore, the answer is option C.\nAnswer:C"}]}
    out = run("conversations", row, ctx({"image_root": "/geo", "extract": True}))
    assert out == [RawSample(
        "As shown in the figure, find angle BOC.\nChoices:\nA:30°\nB:45°\nC:60°\nD:90°", ["/geo/geoqa_plus/images/1.png"],
        "C", "multiple_choice", {"turn": 0, "raw_answer": row["conversations"][1]["value"]}, upstream_id="geo-1-0")]


def test_openai_messages_typed_parts():
    img = pil()
    row = {"image": img, "messages": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is 2+3?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The answer is: 5"}]}]}
    s = run("conversations", row, ctx({}))[0]
    assert (s.question, s.answer, s.reward_type) == ("What is 2+3?", "5", "numeric")


def test_cosyn_struct_of_lists_and_list_of_structs():
    img = pil()
    qa = {"question": ["What is the highest value in 2020?", "Which series is dashed?", "Which option is true?\nA. up\nB. down"],
          "explanation": ["...", "...", "..."], "answer": ["42.5", "Revenue", "B"]}
    row = {"id": "chart_0001", "image": img, "qa_pairs": qa, "description": "A line chart", "metadata": {}, "data": "", "code": ""}
    out = run("cosyn", row, ctx({}))
    assert out == [
        RawSample("What is the highest value in 2020?", [img], "42.5", "numeric", {"qa_index": 0}, upstream_id="chart_0001-0"),
        RawSample("Which series is dashed?", [img], "Revenue", "string_match", {"qa_index": 1}, upstream_id="chart_0001-1"),
        RawSample("Which option is true?\nA. up\nB. down", [img], "B", "multiple_choice", {"qa_index": 2},
                  upstream_id="chart_0001-2"),
    ]
    row["qa_pairs"] = [dict(zip(qa, v, strict=True)) for v in zip(*qa.values(), strict=True)]
    assert run("cosyn", row, ctx({})) == out
    with pytest.raises(RowError):
        run("cosyn", {"id": "x", "image": img, "qa_pairs": {"question": [], "answer": []}}, ctx({}))
