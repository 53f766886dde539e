"""Prompts built for fixture rows against the fork's doc_to_text (zlab-princeton/vero @ 995e475b), and the MMMU-Pro
letter parser against the fork's parse_mcq behaviour."""

from __future__ import annotations

import pytest

from vero_data.benchmarks import get_benchmark, score_sample
from vero_data.benchmarks.choice import MMMU_ANSWER_PHRASES, mmmu_letter
from vero_data.benchmarks.loader import build_turn

from .conftest import png

CURLY = "[\u2019Answer1\u2019, \u2019Answer2\u2019]"


def _text(name: str, doc: dict) -> str:
    msgs, _ = build_turn(get_benchmark(name), doc)
    return msgs[0]["content"][-1]["text"]


def test_chartqa_pro_factoid_alt_template():
    doc = {"Question": ["Which year had the highest sales?"], "Question Type": "Factoid", "Answer": ["2010"],
           "image": {"bytes": png()}}
    assert _text("ChartQA-Pro", doc) == (
        "Which year had the highest sales? If the question is unanswerable based on the information in the provided "
        f"image, your boxed answer should be \"unanswerable\". If there are multiple answers, put them in brackets "
        f"using this format {CURLY}.")


def test_chartqa_pro_fact_checking_alt_template():
    doc = {"Question": ["Sales doubled."], "Question Type": "Fact Checking", "Answer": ["true"]}
    assert _text("ChartQA-Pro", doc) == (
        "You are given a fact statement that you need to assess based on the provided image.\n\n"
        "Statement: Sales doubled. \nYour boxed answer should be either \"true\" or \"false\", or if the question is "
        "unanswerable based on the information in the provided image, your boxed answer should be \"unanswerable\".")


def test_chartqa_pro_conversational_alt_template_and_score():
    doc = {"Question": ["What is the max?", "And the min?", "Difference?"], "Question Type": "Conversational",
           "Answer": ["10", "2", "8"], "Year": ["NO", "NO", "NO"]}
    assert _text("ChartQA-Pro", doc) == (
        "Conversation history: \nQuestion: What is the max?\n\nAnswer: 10Question: And the min?\n\nAnswer: 2 \n\n"
        "Question: Difference? \nIf the question is unanswerable based on the information in the provided image, "
        f"your boxed answer should be \"unanswerable\". If there are multiple answers, your boxed answer should use "
        f"format {CURLY}.")
    assert score_sample("ChartQA-Pro", doc, "<think>10-2</think>\\boxed{8}")["relaxed_overall"] == 1.0


@pytest.mark.parametrize("qtype,head,tail", [
    ("Multi Choice", "You are given a question along with different possible answers.",
     "\n\nQuestion: Which bar is tallest? a) x b) y"),
    ("Hypothetical", "You are given a hypothetical question that you need to answer based on the provided image.",
     "\n\nQuestion: Which bar is tallest? a) x b) y"),
])
def test_chartqa_pro_other_types_use_the_forks_original_files(qtype, head, tail):
    text = _text("ChartQA-Pro", {"Question": ["Which bar is tallest? a) x b) y"], "Question Type": qtype})
    assert text.startswith(head) and text.endswith(tail) and CURLY in text


def test_chartqa_pro_unknown_type_is_an_error():
    with pytest.raises(ValueError, match="Question Type"):
        _text("ChartQA-Pro", {"Question": ["q"], "Question Type": "Riddle"})


def test_mmmu_pro_vision_fixed_text():
    msgs, imgs = build_turn(get_benchmark("MMMU-Pro Vision"), {"image": {"bytes": png()}, "options": "['a', 'b']"})
    assert len(imgs) == 1
    assert msgs[0]["content"][-1]["text"] == ("Solve this math problem. Your final answer should be the option "
                                              "letter from the given choices.")


def test_mmvet_v2_prompt_and_images():
    doc = {"question": "<image_0>Compare <image_1> with the first.<IMG>", "image_0": {"bytes": png()},
           "image_1": {"bytes": png(w=6)}, "image_2": {"bytes": png()}}
    msgs, imgs = build_turn(get_benchmark("MM-Vet v2"), doc)
    assert msgs[0]["content"][-1]["text"] == "<image_0>Compare <image_1> with the first."
    assert len(imgs) == 2


def test_visual_probe_prompt_is_the_question_alone():
    assert _text("VisualProbe", {"problem": "<image>What colour is the flag on the boat?", "images": [{"bytes": png()}]}) == \
        "What colour is the flag on the boat?"


def test_mmmu_answer_phrases_are_the_forks():
    assert MMMU_ANSWER_PHRASES[:4] == ("the answer is", "answer is", "the correct answer is", "correct answer is")
    assert MMMU_ANSWER_PHRASES[-3:] == ("i pick", "my answer is", "my choice is") and len(MMMU_ANSWER_PHRASES) == 25


OPTS = ["red", "green", "blue", "yellow"]


@pytest.mark.parametrize("text,want", [
    ("\\boxed{\\text{(d)}}", "D"),                 # boxed, nested braces, any case
    ("\\boxed{A} or \\boxed{C}", "C"),             # the last boxed letter
    ("B", "B"),
    ("Because the sky is blue", "B"),               # starts-with rule fires on the first letter, as upstream
    ("The answer is (C) 20 m/s.", "A"),             # phrase rule: earliest letter after "the answer is" = A of ANSWER
    ("I think it is x, option D.", "D"),            # ends with the letter (after the '.' is stripped)
    ("so maybe the colour green fits here", "B"),   # option text, > 5 words, no other candidate
    ("", ""),
])
def test_mmmu_letter_fork_behaviour(text, want):
    assert mmmu_letter(text, OPTS) == want


def test_mmmu_pro_scores_through_fae():
    doc = {"options": str(OPTS), "answer": "C", "subject": "Art", "id": "x"}
    assert score_sample("MMMU-Pro Standard", doc, "<think>..</think>Final: \\boxed{C}")["mmmu_acc"] == 1.0
    assert score_sample("MMMU-Pro Standard", doc, "<think>..</think>\\boxed{B}")["mmmu_acc"] == 0.0


@pytest.mark.parametrize("name", ["ChartQA", "EvoChart", "CountBenchQA"])
def test_question_only_prompts(name):
    # the fork's *_reasoning tasks set empty pre/post prompts: the user text is the question itself
    assert _text(name, {"question": "How many bars are red?"}) == "How many bars are red?"


# --------------------------------------------------------------- multiple-choice and short-answer tasks (fork texts)
def test_blink_prompt_is_the_hub_prompt_and_set_images():
    doc = {"idx": "val_Art_Style_1", "question": "Which image shares the style?", "sub_task": "Art_Style",
           "image_1": {"bytes": png()}, "image_2": {"bytes": png(w=6)}, "image_3": {"bytes": png()}, "image_4": None,
           "choices": ["(A) the second image", "(B) the third image"], "answer": "(B)",
           "prompt": "Which image shares the style?\nSelect from the following choices.\n(A) the second image\n"
                     "(B) the third image"}
    msgs, imgs = build_turn(get_benchmark("BLINK"), doc)
    assert msgs[0]["content"][-1]["text"] == doc["prompt"] and len(imgs) == 3


def test_cv_bench_prompt_is_the_hub_prompt():
    doc = {"idx": 0, "type": "2D", "task": "Count", "image": {"bytes": png()}, "question": "How many cars?",
           "choices": ["3", "2"], "answer": "(B)", "source": "COCO",
           "prompt": "How many cars are in the image? Select from the following choices.\n(A) 3\n(B) 2"}
    assert _text("CV-Bench", doc) == doc["prompt"]


def test_embspatial_options_block():
    doc = {"question_id": "q1", "question": "Which object is left of the chair?", "answer_options": ["lamp", "desk"],
           "answer": 1, "relation": "left", "image": {"bytes": png()}}
    assert _text("EmbSpatial", doc) == "Which object is left of the chair?\nOptions:\nA. lamp\nB. desk"


def test_erqa_removes_instruction_and_reformats_choices():
    doc = {"question_id": 1, "question_type": "Other", "answer": "B", "images": [{"bytes": png()}],
           "question": "Where should the gripper go? Choices: A. left B. right C. up D. down. "
                       "Please answer directly with only the letter of the correct option and nothing else."}
    assert _text("ERQA", doc) == "Where should the gripper go?\nChoices:\nA. left\nB. right\nC. up\nD. down."


def test_realworldqa_removepost():
    doc = {"question": "Which way is the car turning?\n\nA. Left\nB. Right\nC. Straight\n\nPlease answer directly "
                       "with only the letter of the correct option and nothing else.", "answer": "A",
           "image": {"bytes": png()}}
    assert _text("RealWorldQA", doc) == "Which way is the car turning?\nChoices:\nA. Left\nB. Right\nC. Straight\n"
    short = {"question": "How many lanes are there? Please answer directly with a single word or number.",
             "answer": "3"}
    assert _text("RealWorldQA", short) == "How many lanes are there?\n"


def test_mme_realworld_choices_and_post_prompt_base64_image():
    import base64

    doc = {"index": 7, "question": "What is the colour of the car?", "multi-choice options":
           ["(A) red", "(B) blue", "(C) green", "(D) white", "(E) This image doesn't feature the color."],
           "answer": "A", "category": "Perception/Monitoring", "l2-category": "attribute/color",
           "bytes": base64.b64encode(png()).decode()}
    msgs, imgs = build_turn(get_benchmark("MME-RealWorld-Lite"), doc)
    assert msgs[0]["content"][-1]["text"] == (
        "What is the colour of the car? The choices are listed below:\n(A) red\n(B) blue\n(C) green\n(D) white\n"
        "(E) This image doesn't feature the color.\n\n"
        "Select the best answer to the above multiple-choice question based on the image.")
    assert imgs == [png()]


def test_vstar_strips_instruction_and_reformats_options():
    doc = {"question_id": 3, "category": "direct_attributes", "label": "B", "image": {"bytes": png()},
           "text": "What is the color of the umbrella?\n(A) red\n(B) black\n(C) white\n(D) blue\n"
                   "Answer with the option's letter from the given choices directly."}
    assert _text("V*Bench", doc) == "What is the color of the umbrella?\nA. red\nB. black\nC. white\nD. blue"


def test_mathvision_choices_and_image_tags():
    doc = {"id": "5", "question": "<image1>Which shape comes next?", "options": ["A", "B", "C"], "answer": "C",
           "decoded_image": {"bytes": png()}}
    assert _text("MathVision", doc) == "Which shape comes next?\nChoices: A. A\nB. B\nC. C"
    assert _text("MathVision", {"question": "How long is x? <image1>", "options": []}) == "How long is x?"


def test_mathvista_direct_query():
    doc = {"pid": "1", "question": "What is the value of the red bar?", "unit": "m", "choices": None,
           "question_type": "free_form", "answer_type": "integer", "precision": None, "answer": "5",
           "query": "Hint: Please answer the question requiring an integer answer ...\nQuestion: ...",
           "decoded_image": {"bytes": png()}}
    assert _text("MathVista", doc) == "What is the value of the red bar? (Unit: m)"
    mc = {"question": "Which is largest?", "choices": ["3", "5"], "unit": "", "question_type": "multi_choice"}
    assert _text("MathVista", mc) == "Which is largest?\nChoices:\n(A) 3\n(B) 5"


def test_infovqa_question_alone():
    assert _text("InfoVQA", {"questionId": 1, "question": "What percentage own a car?", "answers": ["40%"]}) == \
        "What percentage own a car?"


def test_countqa_question_after_expansion():
    from vero_data.benchmarks.loader import load_docs

    row = {"id": 3, "questions": ["How many mugs are on the shelf? "], "answers": ["4"], "image": {"bytes": png()}}
    doc = next(load_docs(get_benchmark("CountQA"), rows=[row]))
    assert _text("CountQA", doc) == "How many mugs are on the shelf?"
    assert _text("CountQA", {"questions": []}) == "How many objects are present?"


def test_aerialvg_first_region_prompt_and_score():
    from vero_data.benchmarks.loader import load_docs

    row = {"filename": "a.png", "width": 100, "height": 80, "image": {"bytes": png()},
           "grounding": {"caption": "An aerial view of a parking lot.",
                         "regions": [{"phrase": "the white car", "realation": "next to the tree",
                                      "bbox": [10, 10, 30, 30]}, {"phrase": "a bus", "bbox": [1, 1, 2, 2]}]}}
    docs = list(load_docs(get_benchmark("AerialVG"), rows=[row, {"filename": "b.png", "grounding": {"regions": []}}]))
    assert len(docs) == 1
    assert _text("AerialVG", docs[0]) == (
        "An aerial view of a parking lot. Where is the white car located? Relation: next to the tree. Output the "
        "bounding box(es) in a JSON array format: [{\"bbox_2d\": [x_min, y_min, x_max, y_max], \"label\": "
        "\"<class name>\"}]. For a single object, return one array element; for multiple objects, return one "
        "element per object in the array.")
    resp = '<think>..</think>[{"bbox_2d": [10, 10, 30, 30], "label": "car"}]'
    assert score_sample("AerialVG", docs[0], resp)["aerialvg_acc@0.5"] == 1.0


def test_fvqa_question_from_prompt_field():
    doc = {"prompt": [{"role": "user", "content": "<image>Which animal in the image can fly?"}],
           "reward_model": {"ground_truth": "bird", "candidate_answers": ["bird"]}, "image": {"bytes": png()}}
    assert _text("FVQA", doc) == "Which animal in the image can fly?"


@pytest.mark.parametrize("name", ["ChartMuseum", "SimpleVQA (English)"])
def test_judged_open_question_alone(name):
    assert _text(name, {"question": "  What is the peak value? ", "answer": "42"}) == "What is the peak value?"


# charxiv/utils.py charxiv_reasoning_doc_to_text_cot + constant.py REASONING_RESP_INST, stripped by doc_to_messages
def test_charxiv_text_in_chart_prompt():
    doc = {"reasoning_q": "Which subplot has the highest peak?", "reasoning_q_source": 1, "reasoning_a": "(b)",
           "image": {"bytes": png()}}
    msgs, imgs = build_turn(get_benchmark("CharXiv"), doc)
    assert len(imgs) == 1 and msgs[0]["content"][0] == {"type": "image"}
    assert msgs[0]["content"][-1]["text"] == (
        "Which subplot has the highest peak?\n"
        "    * Your final answer must be grounded to some text that is explicitly written and relevant to the question "
        "in the chart.\n"
        "    * If you need to answer multiple terms, separate them with commas.\n"
        "    * Unless specified in the question (such as answering with a letter), you are required to answer the full "
        "names of subplots and/or labels by default.")
    assert "boxed" not in msgs[0]["content"][-1]["text"]


@pytest.mark.parametrize("answer,line", [
    ("12", "* Your final answer must be an exact integer."),
    ("0.25", "* Your final answer must be a number with 2 decimal places."),
    ("-3.5", "* Your final answer must be a number with 1 decimal places."),
])
def test_charxiv_number_in_general_prompt(answer, line):
    doc = {"reasoning_q": "What is the gap?", "reasoning_q_source": 4, "reasoning_a": answer}
    assert _text("CharXiv", doc) == f"What is the gap?\n    {line}"


def test_charxiv_other_sources_and_bad_source():
    t2 = _text("CharXiv", {"reasoning_q": "Q?", "reasoning_q_source": 2, "reasoning_a": "up"})
    assert t2.startswith("Q?\n    * If there are options in the question, your final answer must conform to one")
    assert t2.endswith("you are allowed to respond with a short phrase only.")
    t3 = _text("CharXiv", {"reasoning_q": "Q?", "reasoning_q_source": "3", "reasoning_a": "4"})
    assert t3.endswith("* You are allowed to extract numbers within some text when needed.")
    assert "exlicitly written" in t3  # the fork's spelling, kept
    with pytest.raises(ValueError, match="reasoning_q_source"):
        _text("CharXiv", {"reasoning_q": "Q?", "reasoning_q_source": 7})


# game_qa/utils.py game_qa_doc_to_text with game_qa_lite_reasoning.yaml's empty pre/post prompts
def test_game_qa_prompt_is_the_question_alone():
    doc = {"question": "  Which move wins?\nOptions: 1: up 2: down \n", "answer": "2", "image": {"bytes": png()},
           "images": [{"bytes": png()}]}
    msgs, imgs = build_turn(get_benchmark("GameQA-Lite"), doc)
    assert msgs[0]["content"][-1]["text"] == "Which move wins?\nOptions: 1: up 2: down"
    assert len(imgs) == 1  # doc_to_visual: doc["image"] only


# utils_point.py screenspot_point_doc_to_text_abs + screenspotpro_point_in_box_reasoning.yaml pre/post prompts
@pytest.mark.parametrize("name", ["ScreenSpot", "ScreenSpot-Pro"])
@pytest.mark.parametrize("instruction,shown", [
    ("  open settings ", "open settings."), ("Is it on?", "Is it on?"), ("Close it!", "Close it!")])
def test_screenspot_prompt(name, instruction, shown):
    assert _text(name, {"instruction": instruction, "bbox": [0, 0, 1, 1]}) == (
        f"Provide the point for the command: {shown} Output the point in a JSON array format: "
        '[{"point_2d": [x, y]}].')


def test_screenspot_prompt_falls_back_to_instruction_cn():
    assert _text("ScreenSpot-Pro", {"instruction": "", "instruction_cn": "打开设置"}).startswith(
        "Provide the point for the command: 打开设置. Output")


def test_mm_mt_bench_messages_without_image_drop_the_placeholder():
    doc = {"conversation": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]},
                            {"role": "assistant", "content": "Hello"}], "message_index": 0}
    msgs, imgs = build_turn(get_benchmark("MM-MT-Bench"), doc)
    assert msgs == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}] and imgs == []
