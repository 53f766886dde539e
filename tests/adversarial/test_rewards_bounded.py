"""Reward parsing is bounded on every thread (issue 19).

Short answers such as ``\\boxed{9^{3 \\cdot 333333333}}`` or ``\\boxed{\\binom{100000000}{50000000}}`` made
sympy/math-verify compute for minutes while holding the GIL when scored off the main thread (``vero eval score
--judge-url`` scores in threads; veRL and TRL may too), where math-verify's signal timeouts cannot work. Each case
here runs on its own thread with a generous hang guard (not a timing test) and must score 0. Extraction of
``\\boxed{}`` answers must be linear in the response length, with the old results on ordinary input.
"""

from __future__ import annotations

import json
import random
import re
import threading

import pytest

from vero_data.benchmarks import extract
from vero_data.rewards import compute_score_from_data_source
from vero_data.rewards._text import strip_text_wrapper
from vero_data.sources.adapters import _common

HANG_GUARD_S = 5.0  # far above the ~1 s bound: only a hang or a near-hang trips it

# Each spelling reached sympy's evaluation in some verifier before the fix (several evade the old regex gate:
# a 12-character window between two ``^``, four-digit exponents). Gold is 7.5: a Float gold makes math-verify
# round the prediction, which needs as many digits as the value has.
PATHOLOGICAL = [
    r"9^{3 \cdot 333333333}",
    r"\binom{100000000}{50000000}",
    r"(99999999)!",
    r"\Gamma(99999999)",
    r"10^{\displaystyle 10^{10}}",
    r"\frac{(10^8)!}{2}",
    r"\binom{10^{8}}{5\cdot 10^{\displaystyle 7}}",
    r"2^{\displaystyle 2^{\displaystyle 2^{\displaystyle 2^{\displaystyle 2^{\displaystyle 2}}}}}",
    r"\exp(10^9)",
    r"\sqrt[1000000]{7\cdot 3^{3 \cdot 3333333}}",
    r"9**(3*333333333)",
    r"\prod_{k=1}^{\displaystyle 100000000} k",
    r"\sum_{k=1}^{\displaystyle 1000000000} 2^k",
    r"(x+1)^{999}",  # no huge number: expanding it is what takes minutes (bounded by the time budget)
]
IF_TRUTH = json.dumps({"instructions": [
    {"class": "NumberOfSentences", "args": {"num_sentences": 1, "relation": "less than"}},
    {"class": "NumberOfWords", "args": {"num_words": 1, "relation": "less than"}},
]})
# (reward_type, extra_info, lenient, ground truth): every registered type, the fallback ("mystery") and the
# numeric tolerance path.
SETUPS = [
    ("numeric", {}, False, "7.5"),
    ("numeric", {"tolerance": 0.01}, False, "7.5"),
    ("numeric", {}, True, "7.5"),
    ("mystery", {}, False, "7.5"),
    ("multiple_choice", {}, False, "7.5"),
    ("string_match", {}, False, "7.5"),
    ("counting", {}, False, "7"),
    ("search", {}, False, "7.5"),
    ("list_string_match", {}, False, "['7.5']"),
    ("number_list", {}, False, "[7, 5]"),
    ("web_action", {}, False, '{"ACTION": "CLICK", "MARK": 7}'),
    ("grounding", {"image_sizes": [[1000, 800]]}, False, '[{"bbox_2d": [0, 0, 50, 50]}]'),
    ("clicking", {"image_sizes": [[1000, 800]]}, False, '[{"bbox_2d": [0, 0, 50, 50]}]'),
    ("instruction_following", {}, False, IF_TRUTH),
    ("instruction_following_llm_judge", {}, False, IF_TRUTH),
    ("llm_judge", {}, False, "7.5"),
]


def _on_thread(fn):
    """``fn()`` on a fresh thread; fails when it is still running after the hang guard."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # reported in the test thread
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG_GUARD_S)
    assert not t.is_alive(), f"still running after {HANG_GUARD_S} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.mark.parametrize("answer", PATHOLOGICAL)
def test_pathological_answer_is_bounded_for_every_reward_type(answer):
    for body in (rf"\boxed{{{answer}}}", rf"\boxed{{${answer}$}}", f"${answer}$"):
        response = f"<think>x</think><answer>{body}</answer>"
        for reward_type, info, lenient, truth in SETUPS:
            extra = {"reward_type": reward_type, **info}
            out = _on_thread(lambda r=response, t=truth, e=extra, le=lenient: compute_score_from_data_source(
                "x", r, t, e, format_score=0.2, lenient=le))
            assert out["accuracy"] == 0.0, (reward_type, info, lenient, body, out)


def test_many_one_word_sentences_are_bounded():
    """Sentence and word splitting of 200k characters of one-character sentences took seconds per checker."""
    response = "<think>x</think><answer>" + ". " * 99_000 + "</answer>"
    for reward_type in ("instruction_following", "instruction_following_llm_judge"):
        out = _on_thread(lambda rt=reward_type: compute_score_from_data_source(
            "x", response, IF_TRUTH, {"reward_type": rt}, format_score=0.2))
        assert out["accuracy"] == 0.0


def test_acceptance_six_calls_in_threads():
    """The reliability acceptance block: numeric and an unknown type, three answers, each call on a thread."""
    for answer in (r"\boxed{9^{3 \cdot 333333333}}", r"\boxed{\binom{100000000}{50000000}}", r"\boxed{(99999999)!}"):
        for reward_type in ("numeric", "mystery"):
            out = _on_thread(lambda a=answer, rt=reward_type: compute_score_from_data_source(
                "x", f"<think>x</think><answer>{a}</answer>", "7", {"reward_type": rt}))
            assert out["accuracy"] == 0.0


# ------------------------------------------------------------------------------------------ boxed extraction
def _old_last_boxed(text: str) -> str | None:
    """The extractor before the fix (one scan to the end per ``\\boxed{``), kept as the reference."""
    box = "\\boxed{"
    pos = text.rfind(box)
    while pos >= 0:
        depth = 1
        for i in range(pos + len(box), len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[pos + len(box) : i]
        pos = text.rfind(box, 0, pos)
    return None


def _old_unwrap_boxes(text: str) -> str:
    out = text
    while "\\boxed{" in out:
        i = out.find("\\boxed{")
        rest = out[i + 7 :]
        if rest.rstrip().endswith("}"):
            rest = rest.rstrip()[:-1]
        out = out[:i] + rest
    return out


def _old_unwrap_text(text: str) -> str:
    s, prev = text.strip(), None
    while prev != s:  # one scan of the whole string per \text layer
        prev = s
        s = strip_text_wrapper(s).strip()
    return s


UNITS = ["\\boxed{", "\\boxed", "{", "}", " ", "x", "\\", "oxed{", "ed{", "\\box", "\\text{", "\\text {", "}}", "\n",
         "<answer>", "</answer>", "</think>", "\\textbf{", "\t"]


def test_boxed_extraction_is_linear_and_unchanged():
    rng = random.Random(0)
    for _ in range(20_000):
        s = "".join(rng.choice(UNITS) for _ in range(rng.randint(0, 16)))
        assert extract.last_boxed(s) == _old_last_boxed(s), s
        assert extract._unwrap_boxes(s) == _old_unwrap_boxes(s), s
        assert extract.unwrap_text(s) == _old_unwrap_text(s), s
    assert extract.final_answer(r"<think>7?</think>\boxed{\text{ \text{Paris} }}") == "Paris"
    for big in ("\\boxed{" * 200_000, "\\boxed{x" * 175_000 + " }" * 1000, "\\text{" * 120_000 + "}" * 120_000,
                "<answer>" + "\\boxed{" * 150_000 + "</answer>"):
        _on_thread(lambda b=big: extract.final_answer(b))


_OLD_ANSWER_PREFIX = re.compile(r"(?:^|\n|\.\s)\s*(?:final answer|the answer is|answer)\s*[:：]\s*", re.IGNORECASE)


def _old_common_final_answer(s: str) -> str | None:
    s = s.strip()
    boxed = _common.last_boxed(s)
    if boxed:
        return boxed
    matches = list(_OLD_ANSWER_PREFIX.finditer(s))
    if matches:
        tail = s[matches[-1].end() :].strip()
        tail = tail.splitlines()[0].strip() if tail else tail
        if tail:
            return tail.rstrip(".").strip()
    return s.rstrip(".").strip() if not _common.is_number(s) else s


def test_source_final_answer_is_linear_and_unchanged():
    """The source adapters' ``final_answer`` rescanned a blank run once per newline in it (minutes on 1 MB)."""
    units = ["answer", "Answer", "ANSWER", ":", "：", " ", "\n", ".", "final answer", "the answer is", "x", "\t",
             "\\boxed{1}", "\u3000", ". ", "\n\n"]
    rng = random.Random(1)
    for _ in range(20_000):
        s = "".join(rng.choice(units) for _ in range(rng.randint(0, 12)))
        assert _common.final_answer(s, None) == _old_common_final_answer(s), s
    for big in ("x" + "\n" * 1_000_000 + "y", "x" + "\n " * 500_000 + "y answer: z"):
        _on_thread(lambda b=big: _common.final_answer(b, None))


def test_mmifeval_prediction_is_linear_in_the_number_of_boxes():
    """1.4 MB of balanced boxes: each one was unwrapped by re-slicing the whole text (about 20 s)."""
    from vero_data.benchmarks.judged import mmifeval_prediction

    text = "<answer>" + "\\boxed{ab} " * 130_000 + "</answer>"
    done: list = []
    t = threading.Thread(target=lambda: done.append(mmifeval_prediction(text)), daemon=True)
    t.start()
    t.join(HANG_GUARD_S)
    assert done and done[0].startswith("ab ab")
