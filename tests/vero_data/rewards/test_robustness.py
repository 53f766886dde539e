"""Adversarial inputs finish and score cleanly; edge cases per verifier; thread safety; property test."""

import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vero_data.rewards import compute_score_from_data_source, score_response

B = r"\boxed"
BIG = "x" * 2_000_000
ADVERSARIAL = [
    ("numeric", "1", "<think>r</think><answer>" + B + "{" + "{" * 50_000 + "}</answer>"),
    ("numeric", "1", "<think>r</think><answer>" + B + "{" + "2^" * 2_000 + "2}</answer>"),
    ("numeric", "1", "<think>r</think><answer>" + B + r"{\frac{" * 3000 + "}</answer>"),
    ("numeric", "1", "<think>r</think><answer>" + B + "{9^{9^{9^{9}}}}</answer>"),
    ("numeric", "1", "<think>r</think><answer>" + B + "{99999!}</answer>"),
    ("string_match", "a", BIG),
    ("string_match", "a", "<think>" + "r" * 500_000 + "</think><answer>" + B + "{a}</answer>"),
    ("number_list", "[1]", "<think>r</think><answer>" + B + "{" + "9" * 100_000 + "}</answer>"),
    ("web_action", '{"action": "CLICK"}', "<think>r</think><answer>" + B + "{" + "[" * 100_000 + "}</answer>"),
    ("list_string_match", "[" * 50_000, "<think>r</think><answer>" + B + "{a}</answer>"),
    ("grounding", '[{"bbox_2d": [0, 0, 5, 5]}]',
     "<think>r</think><answer>" + json.dumps([{"bbox_2d": [i, i, i + 5, i + 5]} for i in range(10_000)]) + "</answer>"),
    ("grounding", json.dumps([{"bbox_2d": [i, i, i + 5, i + 5]} for i in range(3000)]),
     "<think>r</think><answer>" + json.dumps([{"bbox_2d": [i, i, i + 5, i + 5]} for i in range(3000)]) + "</answer>"),
    ("grounding", '[{"bbox_2d": [0, 0, 5, 5]}]', "<think>r</think><answer>[" + '["[{", ' * 20_000 + "1]</answer>"),
    ("clicking", '[{"bbox_2d": [0, 0, 5, 5]}]', "<think>r</think><answer>" + "[" * 100_000 + "</answer>"),
    ("instruction_following", '{"instructions": [{"class": "NumberOfWords", "args": {"num_words": 5}}]}',
     "<think>r</think><answer>" + "word. " * 30_000 + "</answer>"),
    ("multiple_choice", "Answer: " + "A " * 50_000, "<think>r</think><answer>" + B + "{A}</answer>"),
    ("exact_match", "1", "<think>r</think><answer>" + "(" * 5000 + "</answer>"),
    ("string_match", "\u0000\ud800", "<think>\u202e</think><answer>" + B + "{\ufeff\u0301}</answer>"),
]


@pytest.mark.parametrize("reward_type,truth,response", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_inputs_finish_and_score_cleanly(reward_type, truth, response):
    extra = {"reward_type": reward_type, "image_sizes": [[20000, 20000]]}
    out = compute_score_from_data_source(None, response, truth, extra, format_score=0.2)
    assert set(out) == {"score", "accuracy", "format"}
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in out.values())


@pytest.mark.parametrize(
    "response",
    [None, "", 12, b"bytes", ["list"], {"a": 1}, "<think>", "</answer><answer>", "<think>r</think><answer>\\boxed{"],
)
def test_odd_response_types(response):
    out = compute_score_from_data_source(None, response, "1", {"reward_type": "numeric"})
    assert out["score"] in (0.0, 0.25)


def test_oversized_response_has_reason():
    assert score_response("x" * 2_000_001, "1", {"reward_type": "numeric"}).reason == "response_too_large"


def test_scoring_from_threads_is_bounded():
    """math-verify's signal timeout cannot run off the main thread; the caps keep thread calls bounded."""
    cases = [(B + "{9^{9^{9^{9^{9}}}}}", "1"), (B + "{0.5}", r"\frac{1}{2}"), (B + "{25%}", "0.25")]
    results = {}

    def work(i, ans, truth):
        results[i] = compute_score_from_data_source(
            None, f"<think>r</think><answer>{ans}</answer>", truth, {"reward_type": "numeric"}, format_score=0.2
        )["score"]

    threads = [threading.Thread(target=work, args=(i, a, t)) for i, (a, t) in enumerate(cases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert results == {0: 0.2, 1: 1.0, 2: 1.0}


EDGE = [
    # numeric
    (B + "{3/4}", "0.75", "numeric", {}, False, 1.0),
    # plain decimals skip math-verify under a tolerance; the readings are the same floats
    (B + "{2.5}", "2", "numeric", {"tolerance": 0.25}, False, 1.0),
    (B + "{2.51}", "2", "numeric", {"tolerance": 0.25}, False, 0.2),
    (B + "{-0}", "0", "numeric", {"tolerance": 0}, False, 1.0),
    (B + "{x = 2.5}", "2", "numeric", {"tolerance": 0.25}, False, 1.0),
    (B + r"{\frac{3}{4}}", "0.75", "numeric", {}, False, 1.0),
    (B + "{1,000}", "1000", "numeric", {}, False, 1.0),
    (B + "{-5}", "-5", "numeric", {}, False, 1.0),
    (B + "{5}", "-5", "numeric", {}, False, 0.2),
    (B + "{0.1234567}", "0.1234568", "numeric", {}, False, 1.0),
    (B + "{1e3}", "1000", "numeric", {}, True, 1.0),
    (B + r"{\$25}", "25", "numeric", {}, True, 1.0),
    (B + r"{\dfrac{3}{4}}", "0.75", "numeric", {}, True, 1.0),
    (B + r"{25\%}", "0.25", "numeric", {}, True, 1.0),
    (B + "{12 cm}", "12", "numeric", {}, False, 1.0),
    (B + "{abc}", "12", "numeric", {}, False, 0.2),
    (B + "{100}", "0", "numeric", {"tolerance": 0.5}, False, 0.2),
    (B + "{0.3}", "0", "numeric", {"tolerance": 0.5}, False, 1.0),
    (B + "{2^10}", "1024", "numeric", {"tolerance": 0}, False, 1.0),
    # math-verify reads 1e5 as its mantissa: Vero's verdict 1e5 = 1 is kept by default, lenient reads the number
    (B + "{1e5}", "1", "numeric", {}, False, 1.0),
    (B + "{1e5}", "1", "numeric", {}, True, 0.2),
    (B + "{1e5}", "100000", "numeric", {}, True, 1.0),
    (B + "{2E-3}", "0.002", "numeric", {}, True, 1.0),
    # multiple choice
    (B + "{B}", "B", "multiple_choice", {}, False, 1.0),
    (B + "{(B)}", "(B)", "multiple_choice", {}, False, 1.0),
    (B + "{B. a cat}", "B", "multiple_choice", {}, False, 0.2),
    (B + "{B. a cat}", "B", "multiple_choice", {}, True, 1.0),
    (B + "{a cat}", "B", "multiple_choice", {"choices": ["a dog", "a cat"]}, True, 1.0),
    (B + "{C) dog}", "C", "multiple_choice", {}, True, 1.0),
    # strings / counting
    (B + r"{\text{Paris}}", "paris", "string_match", {}, False, 1.0),
    (B + "{the}", "the", "string_match", {}, False, 1.0),
    (B + "{three}", "3", "counting", {}, True, 1.0),
    (B + "{03}", "3", "counting", {}, True, 1.0),
    ("answer " + B + "[Paris]", "paris", "search", {}, False, 0.9),
    # lists / ordering / web
    (B + "{cat}", "cat", "list_string_match", {}, False, 1.0),
    (B + "{2}", "[1, 2]", "list_string_match", {}, False, 1.0),
    (B + "{1 2 2}", "[1, 2, 2]", "number_list", {}, False, 0.2),
    (B + "{1, 3, 2}", "1, 2, 3", "number_list", {}, False, 0.2 + 0.8 * 0.2 / 3),
    (B + "{{'action': 'CLICK', 'mark': 3}}", "{'ACTION': 'CLICK', 'MARK': 3}", "web_action", {}, False, 1.0),
    (B + '{{"action": "CLICK", "mark": 3.0}}', '{"ACTION": "CLICK", "MARK": 3}', "web_action", {}, True, 1.0),
    (B + "{not json}", '{"ACTION": "CLICK"}', "web_action", {}, False, 0.2),
    (B + '{{"action": "CLICK"}}', '{"ACTION": "CLICK", "MARK": -1, "VALUE": null}', "web_action", {}, False, 1.0),
    # grounding: absolute and 0-1000 conventions
    ('[{"bbox_2d": [0, 0, 500, 500]}]', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding",
     {"image_sizes": [[100, 100]], "normalize_bbox_to_1000": True}, False, 1.0),
    ('[{"bbox_2d": [0, 0, 50, 50]}]', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding",
     {"image_sizes": [[100, 100]], "normalize_bbox_to_1000": True}, False, 0.2),
    ('[{"bbox_2d": [0, 0, 50, 50]}]', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding",
     {"image_sizes": [{"width": 100, "height": 100}]}, False, 1.0),
    ('[{"bbox_2d": [50, 50, 0, 0]}]', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding", {"image_sizes": [[100, 100]]},
     False, 0.2),
    (B + '{[{"bbox_2d": [0, 0, 50, 50]}]}', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding",
     {"image_sizes": [[100, 100]]}, False, 1.0),
    ('```json\n[{"bbox_2d": [0, 0, 50, 50]}]\n```', '[{"bbox_2d": [0, 0, 50, 50]}]', "grounding",
     {"image_sizes": [[100, 100]]}, True, 1.0),
    ('[{"bbox_2d": [0, 0, 50, 50]}, {"bbox_2d": [60, 60, 90, 90]}]',
     '[{"bbox_2d": [0, 0, 50, 50]}, {"bbox_2d": [60, 60, 90, 90]}]', "grounding", {"image_sizes": [[100, 100]]},
     False, 1.0),
    ('[{"bbox_2d": [0, 0, 50, 50]}]', '[{"bbox_2d": [0, 0, 50, 50]}, {"bbox_2d": [60, 60, 90, 90]}]', "grounding",
     {"image_sizes": [[100, 100]]}, False, 1.0),  # 1 + 0.75·2/3 − 0.125 clips to 1
    ('{"results": [{"x_min": 0, "y_min": 0, "x_max": 500, "y_max": 500}]}', '[{"bbox_2d": [0, 0, 50, 50]}]',
     "grounding", {"image_sizes": [[100, 100]], "normalize_bbox_to_1000": True, "model_family": "molmo2"}, False, 1.0),
    # clicking
    ('[{"point_2d": [350, 350]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking",
     {"image_sizes": [[100, 100]], "normalize_bbox_to_1000": True}, False, 1.0),
    ('[{"point_2d": [350, 350]}]', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", {"image_sizes": [[100, 100]]},
     False, 0.2),
    ('<points coords="0 1 350 350"/>', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking",
     {"image_sizes": [[100, 100]], "normalize_bbox_to_1000": True, "model_family": "molmo2"}, False, 1.0),
    ('{"point_2d": [35, 35]}', '[{"bbox_2d": [10, 10, 60, 60]}]', "clicking", {"image_sizes": [[100, 100]]}, True,
     1.0),
]


@pytest.mark.parametrize("answer,truth,reward_type,extra,lenient,expected", EDGE)
def test_edge_cases(score, answer, truth, reward_type, extra, lenient, expected):
    assert score(answer, truth, reward_type, lenient=lenient, **extra)["score"] == pytest.approx(expected)


TEXT = st.text(st.characters(codec="utf-8", exclude_characters="{}\\<>"), min_size=1, max_size=30).filter(
    lambda s: any(c.isalnum() for c in s)
)
NUM = st.one_of(st.integers(-10**9, 10**9).map(str), st.decimals(-1e6, 1e6, places=3, allow_nan=False).map(str))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.tuples(st.sampled_from(["string_match", "search", "counting", "list_string_match"]), TEXT),
        st.tuples(st.just("numeric"), NUM),
        st.tuples(st.just("multiple_choice"), st.sampled_from("ABCDEFGH")),
        st.tuples(st.just("number_list"), st.permutations(range(6)).map(lambda p: ", ".join(map(str, p)))),
    )
)
def test_own_ground_truth_scores_one(case):
    reward_type, truth = case
    response = f"<think>work</think><answer>The answer is \\boxed{{{truth}}}</answer>"
    out = compute_score_from_data_source(None, response, truth, {"reward_type": reward_type}, format_score=0.2)
    assert out["score"] == 1.0, (reward_type, truth, out)
