"""Every worked example in rewards.md, as a table."""

import pytest

from vero_data.rewards import compute_score_from_data_source, overlong_penalty

B = r"\boxed"
IMG = {"image_sizes": [[100, 100]]}
G50 = '[{"bbox_2d": [0, 0, 50, 50]}]'

CASES = [
    # (answer text, truth, reward_type, extra_info, expected score)
    (B + "{The Eiffel Tower}", "eiffel tower", "string_match", {}, 1.0),
    (B + "{São Paulo}", "Sao Paulo", "string_match", {}, 1.0),
    (B + "{2,500}", "2500", "string_match", {}, 1.0),
    (B + "{7.50}", "7.5", "string_match", {}, 0.2),
    ("blue", "blue", "string_match", {}, 0.9),
    (B + "{3.0}", "3", "counting", {}, 1.0),
    (B + "{three}", "3", "counting", {}, 0.2),
    (B + "{03}", "3", "counting", {}, 0.2),
    (B + "{c}", "C", "multiple_choice", {}, 1.0),
    (B + "{(D)}", "D", "multiple_choice", {}, 1.0),
    (B + "{D}", "D. a horse", "multiple_choice", {}, 1.0),
    (B + "{a horse}", "D. a horse", "multiple_choice", {}, 0.2),
    (B + "{Option D}", "D", "multiple_choice", {}, 0.2),
    (B + "{(C)}", "C", "multiple_choice", {}, 1.0),
    (B + "{C.}", "C", "multiple_choice", {}, 1.0),
    (B + "{C) dog}", "C", "multiple_choice", {}, 0.2),
    (B + "{AC}", "C", "multiple_choice", {}, 0.2),
    (B + "{C}", "Answer: C", "multiple_choice", {}, 1.0),
    (B + "{C}", "C. dog", "multiple_choice", {}, 1.0),
    (B + "{0.25}", r"\frac{1}{4}", "numeric", {}, 1.0),
    (B + "{25%}", "0.25", "numeric", {}, 1.0),
    (B + "{25%}", "25", "numeric", {}, 1.0),
    (B + r"{25\%}", "0.25", "numeric", {}, 0.2),
    (B + r"{25\%}", "25", "numeric", {}, 1.0),
    (B + "{3.2}", "3.0", "numeric", {"tolerance": 0.1}, 1.0),
    (B + "{3.2}", "3.0", "numeric", {"tolerance": 0.05}, 0.2),
    (B + "{2e2}", "200", "numeric", {}, 0.2),
    (B + "{2e2}", "200", "numeric", {"tolerance": 0.01}, 1.0),
    (B + "{1e3}", "1000", "numeric", {}, 0.2),
    (B + r"{\$25}", "25", "numeric", {}, 0.2),
    (B + r"{\dfrac{3}{4}}", "0.75", "numeric", {}, 0.2),
    (B + "{3:4}", "0.75", "numeric", {}, 0.2),
    (B + r"{5 \text{ cm}}", "5", "numeric", {}, 1.0),
    (B + r"{90^\circ}", "90", "numeric", {}, 1.0),
    (B + "{x = 5}", "5", "numeric", {}, 1.0),
    (B + "{3.2}", "3.0", "numeric", {"tolerance": "abc"}, 0.2),
    (B + "{3.0}", "3.0", "numeric", {"tolerance": -1}, 1.0),
    (B + "{Puppy}", "['dog', 'puppy']", "list_string_match", {}, 1.0),
    (B + "{dog, puppy}", "['dog', 'puppy']", "list_string_match", {}, 0.2),
    (B + "{3, 1, 2}", "[3, 1, 2]", "number_list", {}, 1.0),
    (B + "{3, 2, 1}", "[3, 1, 2]", "number_list", {}, 0.2 + 0.8 * 0.2 / 3),
    (B + "{1, 2}", "[1, 2, 3]", "number_list", {}, 0.2),
    (B + '{{"action":"CLICK","mark":"5"}}', '{"action":"CLICK","mark":5,"value":"None"}', "web_action", {}, 1.0),
    (B + '{{"action":"click","mark":5}}', '{"action":"CLICK","mark":5,"value":"None"}', "web_action", {}, 0.6),
    (
        B + '{{"action":"TYPE","mark":2,"value":"paris"}}',
        '{"ACTION":"TYPE","MARK":2,"VALUE":"Paris"}',
        "web_action",
        {},
        0.2 + 0.8 * 2 / 3,
    ),
    (B + '{{"action":"CLICK","mark":12.0}}', '{"action":"CLICK","mark":12}', "web_action", {}, 0.6),
    ('[{"bbox_2d": [0, 0, 50, 50]}]', G50, "grounding", IMG, 1.0),
    ('[{"bbox_2d": [0, 0, 30, 50]}]', G50, "grounding", IMG, 1.0),
    ('[{"bbox_2d": [0, 0, 20, 50]}]', G50, "grounding", IMG, 0.2),
    (
        '[{"bbox_2d": [0, 0, 30, 50]}, {"bbox_2d": [60, 60, 90, 90]}, {"bbox_2d": [70, 0, 99, 20]}]',
        G50,
        "grounding",
        IMG,
        0.2 + 0.8 * (0.6 + 0.75 * 0.5 - 0.5 * 0.5 * (2 / 3)),
    ),
    ('[{"bbox_2d": [0, 0, 50, 50]}]', G50, "grounding", {}, 0.2),
    ('```json\n[{"bbox_2d": [0, 0, 50, 50]}]\n```', G50, "grounding", IMG, 0.2),
    ('[{"point_2d": [35, 35]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", IMG, 1.0),
    ('[{"point_2d": [60, 60]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", IMG, 1.0),
    ('[{"point_2d": [61, 35]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", IMG, 0.2),
    ('[{"point_2d": [35, 35]}]', '[{"bbox_2d": [60, 60, 10, 10]}]', "clicking", IMG, 0.2),
    ('[{"point_2d": [35, 35]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", {}, 0.2),
]


@pytest.mark.parametrize("answer,truth,reward_type,extra,expected", CASES)
def test_rewards_md_examples(score, answer, truth, reward_type, extra, expected):
    assert score(answer, truth, reward_type, **extra)["score"] == pytest.approx(expected, abs=1e-9)


FORMAT_CASES = [
    # (response, reward_type, expected format)
    ("<think>r</think><answer>\\boxed{4}</answer>", "numeric", 1.0),
    ("<think>r</think>\n\n<answer>\\boxed{4}</answer>\n", "numeric", 1.0),
    ("<think>r</think><answer>4</answer>", "numeric", 0.5),
    ("<think>r</think><answer>\\boxed{4} \\boxed{5}</answer>", "numeric", 0.5),
    ("<think>r</think><answer>\\boxed{}</answer>", "numeric", 0.5),
    ("<think> </think><answer>\\boxed{4}</answer>", "numeric", 0.0),
    ("<think>r</think><answer> </answer>", "numeric", 0.0),
    ("x<think>r</think><answer>4</answer>", "numeric", 0.0),
    ("<think>r</think>x<answer>4</answer>", "numeric", 0.0),
    ("<think>r</think><answer>4</answer>x", "numeric", 0.0),
    ("<think>r</think><answer>4</answer><answer>5</answer>", "numeric", 0.0),
    ("<Think>r</Think><answer>4</answer>", "numeric", 0.0),
    ("", "numeric", 0.0),
    ("<think>r</think><answer>[]</answer>", "grounding", 1.0),
    ("<think>r</think><answer>\\boxed{[]} \\boxed{[]}</answer>", "grounding", 0.5),
    ("<think>r</think><answer>free text</answer>", "instruction_following", 1.0),
    ("<think>r</think><answer>\\boxed{4} \\boxed{5}</answer>", "llm_judge", 1.0),
    ("<think>r</think><answer>4</answer>", "exact_match", 1.0),
]


@pytest.mark.parametrize("response,reward_type,expected", FORMAT_CASES)
def test_format_reward(response, reward_type, expected):
    out = compute_score_from_data_source(None, response, "4", {"reward_type": reward_type}, format_score=0.2)
    assert out["format"] == expected
    if expected == 0.0:
        assert out["score"] == 0.0 and out["accuracy"] == 0.0


def test_default_format_score_is_half():
    out = compute_score_from_data_source(None, "<think>r</think><answer>4</answer>", "5", {"reward_type": "numeric"})
    assert out == {"score": 0.25, "accuracy": 0.0, "format": 0.5}


@pytest.mark.parametrize(
    "tokens,expected", [(0, 0.0), (14336, 0.0), (15360, -0.5), (16384, -1.0), (17408, -1.5)]
)
def test_overlong_penalty(tokens, expected):
    assert overlong_penalty(tokens) == pytest.approx(expected)


@pytest.mark.parametrize(
    "extra",
    [None, {}, {"reward_type": None}, {"reward_type": 3}, {"reward_type": "exact_match"}, {"reward_type": "ordering"}],
)
def test_unrecognised_types_fall_back(extra):
    out = compute_score_from_data_source(None, "<think>r</think><answer>1/2</answer>", "0.5", extra, format_score=0.2)
    assert out == {"score": 1.0, "accuracy": 1.0, "format": 1.0}


def test_routing_is_case_and_space_insensitive():
    r = "<think>r</think><answer>\\boxed{Paris}</answer>"
    out = compute_score_from_data_source(None, r, "paris", {"reward_type": "  String_Match "}, format_score=0.2)
    assert out["score"] == 1.0
