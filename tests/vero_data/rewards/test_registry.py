"""Each reward type is one registered Verifier; every per-type set and table is derived from the registry."""

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from vero_data.catalog import _reward_subtags
from vero_data.constants import REWARD_TYPES
from vero_data.rewards import (
    REWARDS,
    Verifier,
    boxed_reward_types,
    compute_score_from_data_source,
    image_size_reward_types,
    judged_reward_types,
    reward_types,
    subtag_rows,
)
from vero_data.rewards.base import QUESTION_SUBTAGS
from vero_data.rewards.cli import app as reward_app
from vero_data.rewards.llm_judge import score_with_judge
from vero_data.sql import load_sql
from vero_data.stages.canonicalise import RuleCanonicaliser
from vero_data.verl import _with_reward_inputs

# The values the toolkit spelled out by hand before the registry held them (constants.BOXED_REWARD_TYPES,
# verl/vero_train BOX_REWARD_TYPES, passk UNSCORED_REWARD_TYPES, the CASE of sql/tag_categories.sql).
OLD_BOXED = {"string_match", "multiple_choice", "number_list", "web_action", "numeric", "list_string_match", "counting",
             "search"}
OLD_IMAGE_SIZES = {"grounding", "clicking"}
OLD_JUDGED = {"llm_judge", "instruction_following_llm_judge"}
OLD_SUBTAG = {"grounding": "grounding", "clicking": "clicking", "search": "visual_search", "counting": "counting",
              "web_action": "ui_action", "number_list": "ordering", "instruction_following": "instruction_following",
              "instruction_following_llm_judge": "instruction_following", "llm_judge": "captioning",
              "multiple_choice": "multiple_choice", "numeric": "numeric", "string_match": "open_answer",
              "list_string_match": "open_answer"}


def test_registry_holds_exactly_veros_reward_types_in_order():
    assert set(REWARDS.names()) == set(REWARD_TYPES)
    assert reward_types() == REWARD_TYPES


def test_derived_sets_equal_the_old_hand_written_ones():
    assert boxed_reward_types() == OLD_BOXED
    assert image_size_reward_types() == OLD_IMAGE_SIZES
    assert judged_reward_types() == OLD_JUDGED
    assert {r["reward_type"]: r["subtag"] for r in subtag_rows()} == OLD_SUBTAG
    assert {n for n, v in REWARDS.items() if v.extraction == "json"} == {"grounding", "clicking"}
    assert {n for n, v in REWARDS.items() if v.extraction == "raw"} == OLD_JUDGED | {"instruction_following"}


def test_answer_forms_are_the_old_canonicaliser_groups():
    forms = {n: v.answer_form for n, v in REWARDS.items()}
    assert {n for n, f in forms.items() if f == "number"} == {"numeric", "counting"}
    assert {n for n, f in forms.items() if f == "letter"} == {"multiple_choice"}
    assert {n for n, f in forms.items() if f == "text"} == {"string_match", "search", "list_string_match"}
    assert {n for n, f in forms.items() if f == "verbatim"} == {"grounding", "clicking", "web_action",
                                                                "instruction_following",
                                                                "instruction_following_llm_judge"}


def test_question_patterns_named_in_python_are_the_sqls():
    sql = load_sql("tag_categories")
    for name in QUESTION_SUBTAGS:
        assert f"list_contains(r.subtag_unless, '{name}')" in sql and f"THEN '{name}'" in sql


def test_unknown_question_pattern_is_refused():
    with pytest.raises(ValueError, match="subtag_unless"):
        Verifier("x", lambda *a, **k: 0.0, subtag_unless=("colour",))


class _Judge:
    def score(self, question, response, reference):
        return 0.4


def _exact(pred, truth, extra_info=None, lenient=False):
    return 1.0 if pred == truth else 0.0


@pytest.fixture
def new_type(monkeypatch):
    """A verifier registered for one test (the Registry has no unregister; monkeypatch removes it again)."""
    spec = Verifier("exact_json", _exact, extraction="json", needs_image_sizes=True, judge="blend",
                    answer_form="verbatim", subtag="exact_thing", subtag_unless=("counting",))
    monkeypatch.setitem(REWARDS._items, spec.name, spec)
    return spec


def _tags(rows):
    con = duckdb.connect()
    con.register("samples", pl.DataFrame(rows, schema={"id": pl.String, "data_source": pl.String,
                                                       "category": pl.String, "reward_type": pl.String,
                                                       "question": pl.String}))
    con.register("reward_subtags", _reward_subtags())
    return {r[0]: r[2] for r in con.sql(load_sql("tag_categories")).fetchall()}


def test_a_new_verifier_shows_up_in_every_derived_view(new_type):
    name = new_type.name
    assert reward_types() == (*REWARD_TYPES, name)
    assert name in image_size_reward_types() and name in judged_reward_types() and name not in boxed_reward_types()
    assert {"reward_type": name, "subtag": "exact_thing", "subtag_unless": ["counting"]} in subtag_rows()
    rows = [{"id": "1", "data_source": "d", "category": "stem", "reward_type": name, "question": "Which is left?"},
            {"id": "2", "data_source": "d", "category": "stem", "reward_type": name, "question": "How many?"}]
    assert _tags(rows) == {"1": "exact_thing", "2": "counting"}
    assert RuleCanonicaliser().canonicalise("  [1,  2] \n", name, {}) == "[1,  2]"
    # routed to its own accuracy with its extraction (a strict JSON array) and format rule (no box needed)
    response = '<think>r</think><answer>[{"a": 1}]</answer>'
    scored = compute_score_from_data_source("x", response, '[{"a": 1}]', {"reward_type": name}, format_score=0.2)
    assert scored == {"score": 1.0, "accuracy": 1.0, "format": 1.0}
    judged = score_with_judge(_Judge(), "q", response, '[{"a": 1}]', {"reward_type": name}, format_score=0.2)
    assert judged["accuracy"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.4)  # blend: w·rule + (1-w)·judge
    rec = {"extra_info": {"reward_type": name}}
    _with_reward_inputs(rec, {"extra_info": '{"image_sizes": [[10, 20]]}'})
    assert rec["extra_info"]["image_sizes"] == [[10, 20]]
    r = CliRunner().invoke(reward_app, ["score", "--reward-type", name, "--response", response, "--answer",
                                        '[{"a": 1}]', "--json"])
    assert r.exit_code == 0, r.output


def test_subtags_of_the_old_case_are_kept():
    """Each type against a plain, a counting and a spatial question, as the old CASE on reward_type tagged them."""
    questions = {"plain": "Describe it", "count": "How many dogs?", "spatial": "Is the cup left of the plate?"}
    yields_to_counting = {"web_action", "number_list", "instruction_following", "instruction_following_llm_judge",
                          "llm_judge", "multiple_choice", "numeric", "string_match", "list_string_match"}
    yields_to_spatial = {"multiple_choice", "numeric", "string_match", "list_string_match"}
    rows = [{"id": f"{rt}/{k}", "data_source": "d", "category": "stem", "reward_type": rt, "question": q}
            for rt in (*REWARD_TYPES, "not_a_type") for k, q in questions.items()]
    tags = _tags(rows)
    for rt in REWARD_TYPES:
        assert tags[f"{rt}/plain"] == OLD_SUBTAG[rt]
        assert tags[f"{rt}/count"] == ("counting" if rt in yields_to_counting else OLD_SUBTAG[rt])
        assert tags[f"{rt}/spatial"] == ("spatial_relation" if rt in yields_to_spatial else OLD_SUBTAG[rt])
    assert [tags[f"not_a_type/{k}"] for k in questions] == ["open_answer", "counting", "spatial_relation"]
