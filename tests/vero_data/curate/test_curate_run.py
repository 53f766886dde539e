"""The curation engine end to end against a judge that computes its verdicts from the prompts it gets."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from tests.vero_data.curate.fake_judge import ArithmeticJudge, write_rows
from vero_data.curate import CurateConfig, curate
from vero_data.errors import ConfigError

ROWS = [
    {"id": "ok_number", "answer": "12"},  # rules settle it
    {"id": "frac", "answer": "\\frac{3}{4}"},  # rules cannot: the judge evaluates it
    {"id": "expr", "answer": "2*3+1"},
    {"id": "amb", "answer": "3 or 4", "reward_type": "string_match", "category": "chart_ocr"},  # QF: ambiguous
    {"id": "multi", "answer": "red, blue", "reward_type": "string_match"},  # canonicaliser: multi-valued
    {"id": "caption", "answer": "a long caption", "reward_type": "llm_judge", "category": "captioning_if"},
    {"id": "noimg", "answer": "5", "image": False},  # QF: relevance
    {"id": "garble", "answer": "7", "question": "GARBLE: how many?"},  # bad first reply, good retry
    {"id": "garble2", "answer": "8", "question": "GARBLE2: how many?"},  # bad twice: judge_unparseable
    {"id": "mc", "answer": "(b) blue", "reward_type": "multiple_choice", "category": "knowledge",
     "extra": {"choices": ["red", "blue"]}},
]


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return write_rows(tmp_path_factory.mktemp("curate-in") / "build", ROWS)


def _run(build_dir, out, judge, **kw):
    cfg = CurateConfig(data=build_dir, out=out, question_filter=kw.pop("qf", True),
                       canonicalise=kw.pop("canon", True), model=judge.model, progress=False, **kw)
    return curate(cfg, lambda: judge)


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_filter_and_canonicalise(build_dir, tmp_path):
    before = _digest(build_dir)
    judge = ArithmeticJudge()
    res = _run(build_dir, tmp_path / "out", judge, batch_size=4)
    assert _digest(build_dir) == before  # the input build is never modified
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    reasons = dict(zip(q["id"], q["reason"], strict=True))
    assert reasons == {"amb": "question_filter:ambiguous_filter", "noimg": "question_filter:relevance_filter",
                       "multi": "canonicalise_multi_value", "garble2": "judge_unparseable"}
    assert q.filter(pl.col("id") == "amb")["ambiguous_filter"].item() is True
    assert q.filter(pl.col("id") == "amb")["relevance_filter"].item() is False
    assert "retry:" in q.filter(pl.col("id") == "garble2")["detail"].item()
    kept = pl.read_parquet(tmp_path / "out" / "data" / "*.parquet")
    assert res.rows_in == len(ROWS) == kept.height + q.height
    ans = dict(zip(kept["id"], kept["answer"], strict=True))
    raw = dict(zip(kept["id"], kept["answer_raw"], strict=True))
    assert ans["frac"] == "0.75" and raw["frac"] == "\\frac{3}{4}"
    assert ans["expr"] == "7" and raw["expr"] == "2*3+1"
    assert ans["ok_number"] == "12" and raw["ok_number"] is None
    assert ans["mc"] == "B" and raw["mc"] == "(b) blue"  # the rules map an option text to its letter
    cur = {i: json.loads(c) for i, c in zip(kept["id"], kept["curation"], strict=True)}
    assert cur["caption"]["question_filter"] is None and cur["caption"]["canonicalise"]["by"] == "skip"
    assert cur["frac"]["canonicalise"] == {"model": "fake-judge", "by": "llm", "reason": "evaluated \\frac{3}{4} = 0.75"}
    assert cur["ok_number"]["canonicalise"]["by"] == "rules" and cur["ok_number"]["canonicalise"]["model"] is None
    flags = cur["ok_number"]["question_filter"]["flags"]
    assert len(flags) == 5 and not any(flags.values())
    # the captioning row was never sent to the judge; garble was asked twice for the filter
    assert not any(c.startswith("caption:") for c in judge.calls)
    assert judge.calls.count("garble:question_filter:0") == 1 and "garble:question_filter:1" in judge.calls
    assert res.retries == 2 and res.canonicalised_by == {"rules": 3, "llm": 3, "skip": 1}
    assert res.answers_changed == 3
    report = json.loads((tmp_path / "out" / "curate_report.json").read_text())
    assert report["rows_kept"] == kept.height and report["requests"] == len(judge.calls)
    card = (tmp_path / "out" / "README.md").read_text()
    assert f"{kept.height} of {len(ROWS)} rows kept" in card and "question_filter:ambiguous_filter" in card


def test_rerun_resumes_from_the_cache_without_loading_the_model(build_dir, tmp_path):
    out = tmp_path / "out"
    judge = ArithmeticJudge()
    first = _run(build_dir, out, judge, limit=4)
    assert first.rows_in == 4

    def no_model():
        raise AssertionError("the model was loaded although every reply is cached")

    again = curate(CurateConfig(data=build_dir, out=out, question_filter=True, canonicalise=True,
                                model=judge.model, limit=4, progress=False), no_model)
    assert again.requests == 0 and again.cached_replies == first.requests
    assert again.rows_kept == first.rows_kept
    more = ArithmeticJudge()
    _run(build_dir, out, more)  # a larger limit asks only about the new rows
    assert more.calls and not any(c.split(":")[0] in ("ok_number", "frac", "expr", "amb") for c in more.calls)


def test_a_killed_run_resumes_where_it_stopped(build_dir, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="went away"):
        _run(build_dir, out, ArithmeticJudge(fail_after=5), batch_size=3)
    assert not (out / "curate_report.json").exists()
    judge = ArithmeticJudge()
    res = _run(build_dir, out, judge, batch_size=3)
    assert res.cached_replies >= 3  # the first chunk's replies were committed before the judge died
    full = ArithmeticJudge()
    ref = _run(build_dir, tmp_path / "ref", full, batch_size=3)
    assert len(judge.calls) == len(full.calls) - res.cached_replies
    assert res.dropped == ref.dropped and res.rows_kept == ref.rows_kept


def test_an_edited_prompt_is_not_answered_from_the_cache(build_dir, tmp_path):
    out = tmp_path / "out"
    _run(build_dir, out, ArithmeticJudge(), canon=False, limit=3)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    from importlib import resources

    src = resources.files("vero_data") / "_resources" / "curate_prompts" / "question_filter_stem.yaml"
    (prompts / "question_filter_stem.yaml").write_text(src.read_text().replace("You review", "You carefully review"))
    judge = ArithmeticJudge()
    res = _run(build_dir, out, judge, canon=False, limit=3, prompts=prompts)
    assert res.requests == 3 and res.cached_replies == 0  # all three rows are stem rows


def test_guided_judges_get_the_schema(build_dir, tmp_path):
    judge = ArithmeticJudge(guided=True)
    _run(build_dir, tmp_path / "out", judge, limit=3)
    assert judge.schemas and all(s is not None and "required" in s for s in judge.schemas)


def test_only_canonicalise_needs_no_images(build_dir, tmp_path):
    judge = ArithmeticJudge()
    res = _run(build_dir, tmp_path / "out", judge, qf=False)
    assert all(":canonicalise:" in c for c in judge.calls)
    assert res.dropped == {"canonicalise_multi_value": 2}  # "3 or 4" and "red, blue"; no question filter
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert sorted(q["id"]) == ["amb", "multi"] and q["relevance_filter"].is_null().all()


def test_filter_then_canonicalise_in_two_runs_keeps_both_verdicts(build_dir, tmp_path):
    _run(build_dir, tmp_path / "qf", ArithmeticJudge(model="vlm"), canon=False)
    _run(tmp_path / "qf", tmp_path / "both", ArithmeticJudge(model="text-llm"), qf=False)
    kept = pl.read_parquet(tmp_path / "both" / "data" / "*.parquet")
    cur = {i: json.loads(c) for i, c in zip(kept["id"], kept["curation"], strict=True)}
    assert cur["frac"]["question_filter"]["model"] == "vlm" and cur["frac"]["canonicalise"]["model"] == "text-llm"
    assert dict(zip(kept["id"], kept["answer_raw"], strict=True))["frac"] == "\\frac{3}{4}"
    assert "amb" not in set(kept["id"])  # dropped by the first run's filter
    import duckdb

    con = duckdb.connect(str(tmp_path / "both" / "catalog.duckdb"), read_only=True)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT id, ambiguous_filter, canonicalised_by, drop_reason FROM curation").fetchall()}
    assert rows["amb"] == (True, None, "question_filter:ambiguous_filter")  # the first run's row stays
    assert rows["frac"] == (False, "llm", None)  # the second run's row, with the first run's flags


def test_config_errors(build_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(build_dir)  # DIR given as "." still gets its output beside it, not inside it
    assert CurateConfig(data=".", canonicalise=True, model="m").out == build_dir.parent / "build-curated"
    with pytest.raises(ConfigError, match="nothing to do"):
        CurateConfig(data=build_dir, model="m")
    with pytest.raises(ConfigError, match="--model"):
        CurateConfig(data=build_dir, question_filter=True)
    with pytest.raises(ConfigError, match="differ from the input"):
        curate(CurateConfig(data=build_dir, out=build_dir, question_filter=True, model="m"), ArithmeticJudge())
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a `vero data curate` output"):
        curate(CurateConfig(data=build_dir, out=tmp_path / "x", question_filter=True, model="m", overwrite=True),
               ArithmeticJudge())
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


class _CutJudge(ArithmeticJudge):
    """Replies cut short by the token limit: the first 20 characters of the real verdict, finish_reason length."""

    def complete(self, requests, sampling):
        from vero_data.curate.judge import JudgeReply

        return [JudgeReply(r.text[:20], 20, "length") for r in super().complete(requests, sampling)]


def test_a_reply_cut_by_the_token_limit_says_so(build_dir, tmp_path):
    res = _run(build_dir, tmp_path / "out", _CutJudge(), canon=False, limit=2)
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert res.dropped == {"judge_unparseable": 2} and res.retries == 2
    assert all(d.count("cut at --max-tokens") == 2 for d in q["detail"])
