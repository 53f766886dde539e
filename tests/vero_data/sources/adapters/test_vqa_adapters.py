"""vqa / multiple_choice / vqa_answers / aokvqa on rows shaped like their upstream datasets."""

import pytest

from tests.vero_data.sources.adapters.vero600k_fixtures import ctx, hf_image, pil, run
from vero_data.errors import RowError
from vero_data.schema import RawSample


def test_chartqa_label_list_numeric():
    img = pil()
    row = {"image": img, "query": "What is the value of the tallest bar?", "label": ["1,250"], "human_or_machine": 0}
    c = ctx({"question": "query", "answer": "label", "answer_list": "first"}, ["numeric", "string_match"])
    assert run("vqa", row, c) == [
        RawSample("What is the value of the tallest bar?", [img], "1250", "numeric", {"raw_answer": "1,250"})
    ]


def test_vqa_string_answer_and_tolerance_and_image_tokens():
    img = hf_image()
    row = {"image": img, "question": "<image>\nWhich country has the highest share?", "answer": "Brazil", "id": 7}
    out = run("vqa", row, ctx({}))
    assert out == [RawSample("Which country has the highest share?", [img], "Brazil", "string_match", {}, upstream_id="7")]
    row2 = {"image": img, "question": "Growth rate?", "answer": "3.5"}
    assert run("vqa", row2, ctx({"tolerance": 0.01}))[0].extra_info == {"tolerance": 0.01}


def test_vqa_extracts_final_answer_from_solution():
    img = hf_image()
    row = {"image": img, "question": "Find x.", "answer": "Since the angles sum to 180, x = 180 - 70 - 50. \\boxed{60}"}
    s = run("vqa", row, ctx({"extract": True}))[0]
    assert (s.answer, s.reward_type) == ("60", "numeric")


def test_vqa_inline_options_become_letter():
    img = hf_image()
    row = {"image": img, "question": "Which shape is next?\nA. circle\nB. square\nC. star", "answer": "(B)"}
    s = run("vqa", row, ctx({}, ["multiple_choice", "numeric"]))[0]
    assert (s.answer, s.reward_type, s.choices) == ("B", "multiple_choice", None)


def test_pathvqa_drops_yes_no_and_image_root(tmp_path):
    row = {"image": "img_001.jpg", "question": "Is this malignant?", "answer": "yes"}
    with pytest.raises(RowError) as e:
        run("vqa", row, ctx({"drop_yes_no": True, "image_root": str(tmp_path)}))
    assert e.value.reason == "binary_answer"
    row["answer"] = "adenocarcinoma"
    s = run("vqa", row, ctx({"drop_yes_no": True, "image_root": str(tmp_path)}))[0]
    assert s.images == [str(tmp_path / "img_001.jpg")] and s.reward_type == "string_match"


def test_gqa_image_id_column():
    row = {"imageId": "2354786", "question": "What color is the car?", "answer": "red", "fullAnswer": "The car is red."}
    s = run("vqa", row, ctx({"image": "imageId", "image_suffix": ".jpg", "image_root": "/data/gqa", "max_words": 4}))[0]
    assert s.images == ["/data/gqa/2354786.jpg"] and s.answer == "red"


def test_viquae_answer_list():
    img = hf_image()
    row = {"input": "Which city is this monument in?", "image": img, "id": "q1",
           "output": {"answer": ["Paris", "paris", "City of Light"], "original_answer": "Paris"}}
    c = ctx({"question": "input", "answer": "output.answer", "answer_list": "all", "id": "id"})
    assert run("vqa", row, c) == [
        RawSample("Which city is this monument in?", [img], ["Paris", "paris", "City of Light"], "list_string_match", {},
                  upstream_id="q1")
    ]


def test_vqa_missing_and_long_answers_raise():
    with pytest.raises(RowError) as e:
        run("vqa", {"image": hf_image(), "question": "q?", "answer": ""}, ctx({}))
    assert e.value.reason == "empty_answer"
    with pytest.raises(RowError) as e:
        run("vqa", {"image": None, "question": "q?", "answer": "a"}, ctx({}))
    assert e.value.reason == "missing_image"
    long = " ".join(["word"] * 40)
    with pytest.raises(RowError) as e:
        run("vqa", {"image": hf_image(), "question": "q?", "answer": long}, ctx({"extract": True}))
    assert e.value.reason == "long_answer"
    with pytest.raises(RowError) as e:
        run("vqa", {"image": hf_image(), "question": "q?", "answer": "blue"}, ctx({}, ["numeric"]))
    assert e.value.reason == "unsupported_answer"


def test_arxivqa_options_with_prefixes():
    img = hf_image()
    row = {"id": "x1", "image": "images/2310.1234_fig1.jpg", "question": "What does the figure show?",
           "options": ["A. A rising trend", "B. A falling trend", "C. No trend", "D. A cycle"], "label": "B",
           "rationale": "The curve goes down."}
    c = ctx({"question": "question", "choices": "options", "answer": "label", "image": "image", "image_root": "/arx"})
    assert run("multiple_choice", row, c) == [
        RawSample("What does the figure show?", ["/arx/images/2310.1234_fig1.jpg"], "B", "multiple_choice", {},
                  choices=["A rising trend", "A falling trend", "No trend", "A cycle"], upstream_id="x1")
    ]
    del img


def test_robo2vlm_answer_index():
    img = pil()
    row = {"id": "r-9", "image": img, "question": "Is the gripper open?", "choices": ["Open", "Closed", "Unknown"],
           "correct_answer": 1}
    s = run("multiple_choice", row, ctx({"answer": "correct_answer"}))[0]
    assert (s.answer, s.choices, s.upstream_id) == ("B", ["Open", "Closed", "Unknown"], "r-9")
    row["correct_answer"] = 5
    with pytest.raises(RowError):
        run("multiple_choice", row, ctx({"answer": "correct_answer"}))


def test_vqav2_confident_answers():
    img = pil()
    answers = [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1}
               for i, a in enumerate(["red", "red", "red", "dark red", "red", "maroon", "red", "dark red", "dark red", "blue"])]
    row = {"question_id": 1, "question": "What color is the bus?", "image": img, "answers": answers,
           "multiple_choice_answer": "red", "answer_type": "other"}
    s = run("vqa_answers", row, ctx({"min_agree": 3, "id": "question_id"}))[0]
    assert s == RawSample("What color is the bus?", [img], ["red", "dark red"], "list_string_match",
                          {"annotator_counts": {"red": 5, "dark red": 3, "maroon": 1, "blue": 1}}, upstream_id="1")


def test_vizwiz_unanswerable_and_yes_no():
    img = pil()
    row = {"question": "What is this?", "image": img, "answers": ["unanswerable"] * 10, "answerable": 0}
    with pytest.raises(RowError) as e:
        run("vqa_answers", row, ctx({}))
    assert e.value.reason == "unanswerable"
    row = {"question": "Is it on?", "image": img, "answers": ["yes"] * 6 + ["no"] * 4, "answer_type": "yes/no"}
    with pytest.raises(RowError) as e:
        run("vqa_answers", row, ctx({}))
    assert e.value.reason == "binary_answer"
    row = {"question": "What brand?", "image": img, "answers": ["heinz"] * 3 + ["ketchup"] * 7}
    assert run("vqa_answers", row, ctx({"min_agree": 3}))[0].answer == ["ketchup", "heinz"]


def test_aokvqa_direct_and_mc():
    img = pil()
    row = {"image": img, "question_id": "22MexNkBPpdZGX6sxbxVBH", "question": "What is the man by the bags awaiting?",
           "choices": ["skateboarder", "train", "delivery", "cab"], "correct_choice_idx": 3,
           "direct_answers": "['ride', 'ride', 'bus', 'taxi', 'travelling', 'traffic', 'taxi', 'cab', 'cab', 'his ride']",
           "difficult_direct_answer": False, "rationales": ["A train would not be on the street."]}
    assert run("aokvqa", row, ctx({})) == [
        RawSample("What is the man by the bags awaiting?", [img],
                  ["ride", "bus", "taxi", "travelling", "traffic", "cab", "his ride"], "list_string_match", {},
                  upstream_id="22MexNkBPpdZGX6sxbxVBH")
    ]
    s = run("aokvqa", row, ctx({"mode": "mc"}))[0]
    assert (s.answer, s.reward_type, s.choices) == ("D", "multiple_choice", ["skateboarder", "train", "delivery", "cab"])
