"""Every generated row scores 1.0 on its own answer under the project's reward, and low on a wrong one."""

from __future__ import annotations

import json

import pytest

import vero_data.sources.generators  # noqa: F401
from vero_data.schema import answer_to_string
from vero_data.sources import GENERATORS, generate
from vero_data.sources.generators import satisfying_response

rewards = pytest.importorskip("vero_data.rewards", reason="vero_data.rewards (the reward stack) is not importable")
score_fn = rewards.compute_score_from_data_source

NAMES = GENERATORS.names()
THINK = "<think>reading the image</think>"


def _score(row, response: str) -> float:
    extra = json.loads(json.dumps({**row.extra_info, "reward_type": row.reward_type}))
    return score_fn("gen", response, answer_to_string(row.answer), extra, format_score=0.2)["score"]


def _boxed(text: str) -> str:
    return THINK + "<answer>\\boxed{" + text + "}</answer>"


def _right_and_wrong(row) -> tuple[list[str], str]:
    """Responses that must score 1.0, and one that must score < 1."""
    rt, ans = row.reward_type, answer_to_string(row.answer)
    if rt.startswith("instruction_following"):
        return [THINK + f"<answer>{satisfying_response(ans)}</answer>"], THINK + "<answer>ok</answer>"
    if rt == "clicking":
        x1, y1, x2, y2 = row.answer[0]["bbox_2d"]
        w, h = row.extra_info["image_sizes"][0]
        far = [x2 + 20, y2 + 20] if x2 + 20 < w and y2 + 20 < h else [max(0, x1 - 20), max(0, y1 - 20)]
        point = json.dumps([{"point_2d": [(x1 + x2) // 2, (y1 + y2) // 2]}])
        return [THINK + f"<answer>{point}</answer>"], THINK + f"<answer>{json.dumps([{'point_2d': far}])}</answer>"
    right = [_boxed(ans)]
    if rt == "list_string_match":
        # a synonym list restated whole ("dog, puppy") scores 0 by design; each accepted item must score 1
        right = [_boxed(item) for item in row.answer] + ([_boxed(ans)] if len(row.answer) == 1 else [])
    if rt in ("numeric", "counting"):
        wrong = str(int(float(ans) * 3 + 17)) if rt == "numeric" else str(int(ans) + 1)
    elif rt == "multiple_choice":
        wrong = "A" if ans != "A" else "B"
    elif rt == "number_list":
        wrong = json.dumps(row.answer[::-1] if len(row.answer) > 1 else [row.answer[0] + 1])
    elif rt == "web_action":
        wrong = json.dumps({**row.answer, "MARK": row.answer["MARK"] + 1, "ACTION": "SCROLL"})
    elif rt == "grounding":
        wrong = json.dumps([{"bbox_2d": [b["bbox_2d"][0] + 400, b["bbox_2d"][1] + 300, b["bbox_2d"][2] + 400,
                                         b["bbox_2d"][3] + 300]} for b in row.answer])
    else:
        wrong = "zzz wrong"
    return right, _boxed(wrong)


@pytest.mark.parametrize("name", NAMES)
def test_own_answer_scores_one_and_wrong_answer_scores_low(name):
    rows = [s for _, s in generate(name, 24, seed=7)]
    if name in ("shape_colour", "object_icons"):
        rows += [s for _, s in generate(name, 12, seed=7, params={"synonyms": True})]
    scored = 0
    for row in rows:
        if row.reward_type == "llm_judge":  # scored by a judge model, not by rules
            assert row.extra_info["reference"] == row.answer
            continue
        right, wrong = _right_and_wrong(row)
        for resp in right:
            assert _score(row, resp) == pytest.approx(1.0), (row.reward_type, row.answer, resp)
        assert _score(row, wrong) < 0.9, (row.reward_type, row.answer, wrong)
        scored += 1
    assert scored >= 12
