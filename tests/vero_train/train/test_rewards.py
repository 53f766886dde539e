"""Task-routed TRL rewards: mixed reward types in one batch, grounding/clicking sizes, per-category logs."""

from __future__ import annotations

import json

import pytest

from vero_train.data import with_box_info
from vero_train.rewards import build_reward_funcs, category_means

R = "<think>looked</think><answer>{}</answer>"

# One batch, five reward types, two categories; each completion is right for its own row.
BATCH = [
    ("stem", "numeric", "23", R.format("\\boxed{23}"), "{}"),
    ("knowledge", "multiple_choice", "C", R.format("\\boxed{C}"), '{"choices": ["a", "b", "c"]}'),
    ("grounding_counting_search", "grounding", '[{"bbox_2d": [10, 10, 50, 50], "label": "x"}]',
     R.format('[{"bbox_2d": [11, 10, 50, 49], "label": "x"}]'), "{}"),
    ("grounding_counting_search", "clicking", '[{"bbox_2d": [100, 100, 140, 120]}]',
     R.format('[{"point_2d": [120, 110]}]'), "{}"),
    ("captioning_if", "instruction_following",
     json.dumps({"instructions": [{"class": "KeywordChecker", "args": {"keywords": ["star"]}}]}),
     R.format("A purple star."), "{}"),
]


def _kwargs(sizes=True):
    cats, types, answers, comps, extras = zip(*BATCH, strict=True)
    extras = [with_box_info(e, t, [[640, 480]] if sizes else None, None) for e, t in zip(extras, types, strict=True)]
    return dict(category=list(cats), reward_type=list(types), answer=list(answers), extra_info=extras), list(comps)


def test_mixed_reward_types_route_per_row():
    logged = {}
    funcs, _ = build_reward_funcs(["vero_accuracy", "vero_format", "vero_overlong"], [0.8, 0.2, 1.0],
                                  max_completion_length=64, overlong_buffer=16)
    kw, comps = _kwargs()
    completions = [[{"role": "assistant", "content": c}] for c in comps]
    ids = [[1] * 10, [1] * 10, [1] * 10, [1] * 10, [1] * 56]
    out = {f.__name__: f(prompts=[None] * 5, completions=completions, completion_ids=ids,
                         log_metric=logged.__setitem__, **kw) for f in funcs}
    assert out["vero_accuracy"] == [1.0] * 5
    assert out["vero_format"] == [1.0] * 5
    assert out["vero_overlong"] == [0.0, 0.0, 0.0, 0.0, -0.5]
    assert logged["rewards/grounding_counting_search/mean"] == pytest.approx(1.0)
    assert logged["rewards/captioning_if/mean"] == pytest.approx(0.5)
    assert logged["rewards/stem/vero_accuracy"] == 1.0
    assert {k.split("/")[1] for k in logged} == {"stem", "knowledge", "grounding_counting_search", "captioning_if"}


def test_box_rewards_need_the_image_size():
    (acc,), _ = build_reward_funcs(["vero_accuracy"])
    kw, comps = _kwargs(sizes=False)
    assert acc(completions=comps, **kw)[2:4] == [0.0, 0.0]  # without sizes: silently 0, hence with_box_info
    kw, comps = _kwargs(sizes=True)
    assert acc(completions=comps, **kw)[2:4] == [1.0, 1.0]


def test_names_and_errors():
    funcs, _ = build_reward_funcs(["vero_reward", "vero_overlong"])
    assert [f.__name__ for f in funcs] == ["vero_reward", "vero_overlong"]
    with pytest.raises(ValueError, match="Did you mean 'vero_format'"):
        build_reward_funcs(["vero_formt"])


def test_category_means_counts_none_as_zero_in_total():
    m = category_means(["a", "a"], {"x": [1.0, None], "y": [0.5, 0.5]}, ["x", "y"], [1.0, 2.0])
    assert m == {"rewards/a/mean": 1.5, "rewards/a/x": 1.0, "rewards/a/y": 0.5}
