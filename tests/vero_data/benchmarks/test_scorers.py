"""Every worked example of eval_scoring.md, per benchmark, with the row in its hub layout → exact score."""

from __future__ import annotations

import pytest

from vero_data.benchmarks import ScoreContext, get_benchmark, score_sample
from vero_data.benchmarks.extract import final_answer

OPTS4 = "['red', 'green', 'blue', 'yellow']"
OPTS10 = str([f"o{i}" for i in range(10)])
RWQA_Q = "Which way is the car facing?\nA. left\nB. right\nC. forward\nD. backward"

CASES = [
    # (benchmark, doc, response, headline score)
    ("ChartQA", {"answer": "80", "type": "human_test"}, "<think>...</think>The value is \\boxed{83}", 1.0),
    ("ChartQA", {"answer": "80", "type": "human_test"}, "\\boxed{85}", 0.0),
    ("ChartQA", {"answer": "Blue", "type": "augmented_test"}, "<answer>blue</answer>", 1.0),
    ("ChartQA", {"answer": "25%", "type": "augmented_test"}, "\\boxed{25}", 1.0),
    ("ChartQA", {"answer": "0.25", "type": "augmented_test"}, "\\boxed{25}", 1.0),
    ("ChartQA-Pro", {"Answer": ["2010"], "Question Type": "Factoid", "Year": ["YES"]}, "\\boxed{2011}", 0.0),
    ("ChartQA-Pro", {"Answer": ["60"], "Question Type": "Factoid", "Year": ["NO"]}, "\\boxed{62}", 1.0),
    ("ChartQA-Pro", {"Answer": ["['A', 'B', 'C']"], "Question Type": "Factoid", "Year": []}, "['A', 'B']", 2 / 3),
    ("ChartQA-Pro", {"Answer": ["True"], "Question Type": "Fact Checking", "Year": ["NO"]}, "\\boxed{true}", 1.0),
    ("ChartQA-Pro", {"Answer": ["[China, India]"], "Question Type": "Factoid", "Year": []}, "[China, India]", 1.0),
    ("InfoVQA", {"answers": ["25%"], "questionId": 1}, "<answer>25</answer>", 1.0),
    ("InfoVQA", {"answers": ["london"], "questionId": 2}, "London, UK", 0.6),
    ("InfoVQA", {"answers": ["apples and pears"], "questionId": 3}, "apples & pears", 1.0),
    ("InfoVQA", {"answers": ["$1,000"], "questionId": 4}, "\\boxed{1000}", 1.0),
    ("EvoChart", {"answer": "1,250", "is_clear": True}, "\\boxed{1250}", 1.0),
    ("EvoChart", {"answer": "50", "is_clear": True}, "\\boxed{51}", 0.0),
    ("EvoChart", {"answer": "50", "is_clear": False}, "\\boxed{51}", 1.0),
    ("MMMU-Pro Standard", {"options": OPTS4, "answer": "B", "subject": "art", "id": "a"}, "Hence \\boxed{B}", 1.0),
    ("MMMU-Pro Standard", {"options": OPTS4, "answer": "B", "subject": "art", "id": "b"}, "The answer is B", 1.0),
    ("MMMU-Pro Vision", {"options": OPTS4, "answer": "D", "subject": "art", "id": "c"}, "<answer>D</answer>", 1.0),
    ("MMMU-Pro Standard", {"options": OPTS10, "answer": "C", "id": "d"}, "The answer is (C) 20 m/s.", 0.0),
    ("MMMU-Pro Standard", {"options": OPTS10, "answer": "H", "id": "e"}, "The answer is (C) 20 m/s.", 1.0),
    ("MathVision", {"answer": "6", "options": [], "id": "1"}, "so the area is \\boxed{6}", 1.0),
    ("MathVision", {"answer": "E", "options": ["1", "2", "3", "4", "5"], "id": "2"}, "\\boxed{5}", 1.0),
    ("MathVision", {"answer": "2\\sqrt{3}", "options": [], "id": "3"}, "\\boxed{2\\sqrt3}", 1.0),
    ("MathVision", {"answer": "\\frac{1}{2}", "options": [], "id": "4"}, "\\boxed{\\frac12}", 0.0),
    ("MathVision", {"answer": "\\frac{1}{2}", "options": [], "id": "5"}, "\\boxed{0.5}", 1.0),
    ("MathVision", {"answer": "\\frac{1}{2}", "options": [], "id": "6"}, "\\boxed{1/2}", 1.0),
    ("MathVista", {"question_type": "multi_choice", "answer_type": "text", "choices": ["yes", "no"], "answer": "no",
                   "pid": "1", "precision": None}, "\\boxed{B}", 1.0),
    ("MathVista", {"question_type": "free_form", "answer_type": "float", "choices": None, "answer": "3.14",
                   "precision": 2, "pid": "2"}, "\\boxed{3.1416}", 1.0),
    ("MathVista", {"question_type": "free_form", "answer_type": "integer", "choices": None, "answer": "14",
                   "pid": "3"}, "\\boxed{14.5}", 0.0),
    ("MathVista", {"question_type": "free_form", "answer_type": "list", "choices": None, "answer": "[1,2,3]",
                   "pid": "4"}, "\\boxed{[1, 2, 3]}", 0.0),
    ("BLINK", {"answer": "(B)", "choices": ["left", "right"], "idx": "x", "sub_task": "Counting"}, "\\boxed{B}", 1.0),
    ("BLINK", {"answer": "(D)", "choices": ["1", "2", "3", "4"], "idx": "y"}, "<think>..</think>Answer: (D)", 1.0),
    ("ERQA", {"answer": "D", "question": "Which tool? A. knife B. spoon C. cup D. fork", "question_id": 1},
     "\\boxed{D}", 1.0),
    ("ERQA", {"answer": "B", "question": "Is it safe to move?", "question_id": 2}, "B, because", 1.0),
    ("GameQA-Lite", {"answer": "3"}, "Answer: 3", 1.0),
    ("GameQA-Lite", {"answer": "yes"}, "Yes", 0.0),
    ("GameQA-Lite", {"answer": "B", "choices": ["A. up", "B. down"]}, "\\boxed{2}", 1.0),
    ("EmbSpatial", {"answer": 0, "answer_options": ["a", "b", "c", "d"], "question_id": 1}, "\\boxed{A}", 1.0),
    ("EmbSpatial", {"answer": 2, "answer_options": ["a", "b", "c", "d"], "question_id": 2}, "(B)", 0.0),
    ("CV-Bench", {"answer": "(A)", "choices": ["1", "2"], "idx": 1}, "\\boxed{A}", 1.0),
    ("CV-Bench", {"answer": "(B)", "choices": ["1", "2"], "idx": 2}, "(B) 2", 1.0),
    ("RealWorldQA", {"answer": "C", "question": RWQA_Q}, "\\boxed{C}", 1.0),
    ("RealWorldQA", {"answer": "2", "question": "How many cars are there?"}, "2 cars", 0.0),
    ("RealWorldQA", {"answer": "2", "question": "How many cars are there?"}, "\\boxed{2.}", 1.0),
    ("CountBenchQA", {"number": 7}, "I see 7 dogs.", 1.0),
    ("CountBenchQA", {"number": 7}, "\\boxed{7.0}", 0.0),
    ("CountQA", {"answer": "9", "question": "How many?"}, "There are nine", 1.0),
    ("CountQA", {"answer": "17", "question": "How many?"}, "seventeen", 1.0),
    ("MME-RealWorld-Lite", {"answer": "C", "category": "Perception/OCR with Complex Context", "index": 1},
     "The correct answer is (C).", 1.0),
    ("MME-RealWorld-Lite", {"answer": "A", "category": "Reasoning/Monitoring", "index": 2}, "D", 0.0),
    ("V*Bench", {"label": "C", "category": "direct_attributes"}, "\\boxed{C}", 1.0),
    ("V*Bench", {"label": "D", "category": "relative_position"}, "Definitely the left one", 1.0),
    ("V*Bench", {"label": "B", "category": "direct_attributes"}, "black", 1.0),
    ("AerialVG", {"bbox": [10, 10, 110, 110], "width": 500, "height": 500, "image": "x.png"},
     '{"bbox_2d": [20, 20, 120, 120]}', 1.0),
    ("AerialVG", {"bbox": [10, 10, 110, 110], "width": 500, "height": 500}, "[10, 10, 60, 110]", 1.0),
    ("AerialVG", {"bbox": [10, 10, 110, 110], "width": 500, "height": 500}, "[110, 110, 10, 10]", 1.0),
    ("AerialVG", {"bbox": [10, 10, 110, 110], "width": 500, "height": 500}, "no box", 0.0),
    ("ScreenSpot", {"bbox": [0.1, 0.1, 0.2, 0.2], "width": 2000, "height": 1000, "data_type": "text"},
     "(300, 150)", 1.0),
    ("ScreenSpot", {"bbox": [0.1, 0.1, 0.2, 0.2], "width": 2000, "height": 1000, "data_type": "text"},
     "(500, 150)", 0.0),
    ("ScreenSpot-Pro", {"bbox": [200, 100, 400, 200], "width": 1000, "height": 800}, '{"point_2d": [250, 120]}', 1.0),
    ("ScreenSpot-Pro", {"bbox": [200, 100, 400, 200], "width": 1000, "height": 800}, "[100, 120]", 0.0),
]


@pytest.mark.parametrize(("bench", "doc", "response", "want"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_spec_examples(bench, doc, response, want):
    spec = get_benchmark(bench)
    got = score_sample(spec, doc, response, ScoreContext(key="k"))
    assert got[spec.metric] == pytest.approx(want, abs=1e-6)


def test_aerialvg_all_metrics():
    got = score_sample("AerialVG", {"bbox": [10, 10, 110, 110], "width": 500, "height": 500},
                       '{"bbox_2d": [20, 20, 120, 120]}')
    assert got["aerialvg_iou"] == pytest.approx(0.6807, abs=1e-3)
    assert (got["aerialvg_acc@0.5"], got["aerialvg_acc@0.75"]) == (1.0, 0.0)


def test_chartqa_split_keys():
    assert "relaxed_human_split" in score_sample("ChartQA", {"answer": "1", "type": "human_test"}, "1")
    assert "relaxed_augmented_split" in score_sample("ChartQA", {"answer": "1", "type": "augmented"}, "1")


@pytest.mark.parametrize(("text", "want"), [
    ("<think>7?</think>\\boxed{8}", "8"),
    ("abc</think><answer>\\boxed{\\text{Paris}}</answer>", "Paris"),
    ("x \\boxed{1} then \\boxed{2}", "2"),
    ("\\text{a} and b", "\\text{a} and b"),
    ("\\boxed{a \\boxed{b}", "b"),
    ("\\boxed{5", "5"),
    (None, ""),
    ("  ", ""),
])
def test_final_answer(text, want):
    assert final_answer(text) == want


def test_random_fallback_is_seeded():
    spec = get_benchmark("BLINK")
    doc = {"answer": "(A)", "choices": ["1", "2", "3", "4"]}
    a = [score_sample(spec, doc, "\\boxed{3}", ScoreContext(key="s1"))["blink_acc"] for _ in range(3)]
    assert len(set(a)) == 1


# point parsing and coordinate conventions of the fork's utils_point.py
@pytest.mark.parametrize("response,point", [
    ('<think>x</think>[{"point_2d": [12, 34]}]', [12.0, 34.0]),
    ('{"result": {"point_2d": [5.5, 6]}}', [5.5, 6.0]),
    ('see ```json\n[{"point_2d": [1, 2]}]\n``` and ```json\n[{"point_2d": [3, 4]}]\n```', [3.0, 4.0]),
    ('"point_2d": [7, 8, 9] then point_2d: [10 20]', [10.0, 20.0]),
    ("click (1, 2) or [30, 40] or [50,60]", [50.0, 60.0]),
    ("x = .5 and y = 1e2", [0.5, 100.0]),
    ("nothing", None),
])
def test_screenspot_point_parse_order(response, point):
    from vero_data.benchmarks.grounding import screenspot_point

    assert screenspot_point(response) == point


def test_screenspot_unparsed_point_is_origin():
    # no point → (0, 0), which a box touching the origin contains (as the fork)
    assert score_sample("ScreenSpot-Pro", {"bbox": [0, 0, 50, 50], "width": 100, "height": 100},
                        "no idea")["screenspot_PointInBox_ACC"] == 1.0
    assert score_sample("ScreenSpot", {"bbox": [0.0, 0.0, 0.2, 0.2], "width": 100, "height": 100},
                        "no idea")["screenspot_PointInBox_ACC"] == 1.0
    # ScreenSpot: pixel point ÷ size against the normalised box; Pro: box clamped to the image
    assert score_sample("ScreenSpot", {"bbox": [0.2, 0.1, 0.1, 0.2], "width": 1000, "height": 1000},
                        '[{"point_2d": [150, 150]}]')["screenspot_PointInBox_ACC"] == 1.0
    assert score_sample("ScreenSpot-Pro", {"bbox": [90, 90, 300, 300], "width": 100, "height": 100},
                        '[{"point_2d": [500, 95]}]')["screenspot_PointInBox_ACC"] == 1.0


@pytest.mark.parametrize("doc,response,score", [
    ({"answer": "2", "options": ["up", "down"]}, "The answer is B", 1.0),   # letter ↔ digit by option index
    ({"answer": "C"}, "<think>..</think>answer: (c)", 1.0),
    ({"answer": "12"}, "there are 12 cells", 1.0),                          # not a choice: first integer
    ({"answer": "blue"}, "Blue", 0.0),                                      # case-sensitive strings
    ({"answer": "blue"}, "blue", 1.0),
    ({"answer": 3, "choices": ["(A) x", "(B) y", "(C) z"]}, "\\boxed{C}", 1.0),
])
def test_game_qa_fork_rules(doc, response, score):
    assert score_sample("GameQA-Lite", doc, response)["game_qa_acc"] == score
