"""`vero reward score|check` with bad inputs: one clear line, line numbers, no silent 0s in the means."""

import json

import pytest
from typer.testing import CliRunner

from vero_data.rewards.cli import app

GOOD = "<think>r</think><answer>\\boxed{3}</answer>"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _flat(text):
    """Output with rich's panel borders and line wrapping removed."""
    return " ".join(text.replace("│", " ").split())


def _jsonl(path, lines):
    path.write_bytes(b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines))
    return path


def test_score_refuses_an_unknown_reward_type_with_a_suggestion():
    r = _run("score", "--reward-type", "numerc", "--response", GOOD, "--answer", "3")
    assert r.exit_code == 2
    out = _flat(r.output)
    assert "unknown reward type 'numerc'. Did you mean 'numeric'" in out and "'fallback'" in out
    assert "Traceback" not in r.output


def test_score_fallback_is_explicit_and_names_are_normalised_like_vero():
    r = _run("score", "--reward-type", "fallback", "--response", "<think>r</think><answer>3</answer>", "--answer", "3")
    assert r.exit_code == 0, r.output
    assert "1.0000" in r.output
    r = _run("score", "--reward-type", " Counting ", "--response", GOOD, "--answer", "3")
    assert r.exit_code == 0, r.output
    assert "reward: counting" in r.output and "1.0000" in r.output


@pytest.mark.parametrize("value", ["5", "-0.1"])
def test_format_score_is_bounded(tmp_path, value):
    r = _run("score", "--reward-type", "numeric", "--response", GOOD, "--answer", "3", "--format-score", value)
    assert r.exit_code == 2 and "--format-score" in r.output
    f = _jsonl(tmp_path / "c.jsonl", [{"reward_type": "counting", "response": GOOD, "answer": "3"}])
    r = _run("check", f, "--format-score", value)
    assert r.exit_code == 2 and "--format-score" in r.output


@pytest.mark.parametrize("value", ["0", "-5"])
def test_check_workers_must_be_positive(tmp_path, value):
    f = _jsonl(tmp_path / "c.jsonl", [{"reward_type": "counting", "response": GOOD, "answer": "3"}])
    r = _run("check", f, "--workers", value)
    assert r.exit_code == 2 and "--workers" in r.output


def test_check_lists_bad_lines_and_leaves_them_out_of_the_means(tmp_path):
    f = _jsonl(tmp_path / "cases.jsonl", [
        {"reward_type": "counting", "response": GOOD, "answer": "3"},                          # 1 good, score 1
        b'{"reward_type": "counting", "response": ',                                           # 2 not JSON
        [1, 2],                                                                                # 3 not an object
        {"reward_type": "counting", "answer": "3"},                                            # 4 no response
        {"reward_type": "counting", "response": 123, "answer": "3"},                           # 5 response not str
        {"reward_type": "counting", "response": GOOD, "answer": None},                         # 6 answer null
        {"reward_type": "counting", "response": GOOD, "answer": "3", "extra_info": "{bad"},    # 7 extra_info not JSON
        {"reward_type": "counting", "response": GOOD, "answer": "3", "extra_info": [1]},       # 8 not an object
        {"reward_type": "counting", "response": GOOD},                                         # 9 no answer
    ])
    r = _run("check", f)
    assert r.exit_code == 0, r.output
    err = r.stderr
    assert "8 bad line(s) left out" in err
    for n, why in [(2, "not JSON"), (3, "not a JSON object"), (4, "missing field 'response'"),
                   (5, "'response' must be a string"), (6, "'answer' is null"), (7, "'extra_info' is not valid JSON"),
                   (8, "'extra_info' must be a JSON object"), (9, "missing field 'answer'")]:
        assert f"cases.jsonl:{n}: {why}" in err
    out = " ".join(r.stdout.split())
    assert "1 cases" in out and "2 unreadable" in out and "6 invalid" in out
    # only the good case is in the mean: the broken ones would have pulled it to 1/8
    assert "counting\t1\t1.0000\t1.0000\t1.0000" in r.stdout.splitlines()  # piped: tab-separated rows
    assert _run("check", f, "--strict").exit_code == 1


def test_check_lists_only_the_first_bad_lines_then_a_count(tmp_path):
    f = _jsonl(tmp_path / "c.jsonl", [{"reward_type": "counting", "response": GOOD, "answer": "3"}]
               + [{"reward_type": "counting", "answer": "3"}] * 25)
    r = _run("check", f)
    assert r.exit_code == 0, r.output
    assert "c.jsonl:21: missing field" in r.stderr and "c.jsonl:22:" not in r.stderr
    assert "and 5 more bad line(s)" in r.stderr


def test_check_warns_about_unknown_or_missing_reward_types(tmp_path):
    f = _jsonl(tmp_path / "c.jsonl", [
        {"reward_type": "counting", "response": GOOD, "answer": "3"},
        {"reward_type": "nope", "response": "<think>r</think><answer>3</answer>", "answer": "3"},
        {"response": "<think>r</think><answer>3</answer>", "answer": "3"},
        {"response": GOOD, "answer": "3", "extra_info": {"reward_type": "counting"}},  # routed by extra_info
    ])
    r = _run("check", f)
    assert r.exit_code == 0, r.output
    assert "2 case(s) with an unknown or missing reward_type" in r.stderr
    assert "line(s) 2 ('nope'), 3 (missing)" in r.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in r.stdout.splitlines() if "\t" in line}
    assert rows["nope"] == "1" and rows["(missing)"] == "1" and rows["counting"] == "2"
    r = _run("check", f, "--strict")
    assert r.exit_code == 1 and "--strict: 0 bad line(s), 2 unknown reward_type(s)" in r.stderr


def test_check_non_utf8_file_is_one_line_naming_file_and_line(tmp_path):
    f = _jsonl(tmp_path / "bin.jsonl", [b"\x89PNG\r\x1a\x00\xff\xfe"])
    r = _run("check", f)
    assert r.exit_code == 1
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output and "UnicodeDecodeError" not in r.output
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "bin.jsonl: no usable case" in errors[0] and "line 1: not UTF-8" in errors[0]
    mixed = _jsonl(tmp_path / "mixed.jsonl", [{"reward_type": "counting", "response": GOOD, "answer": "3"},
                                              b"\xff\xfe{}"])
    r = _run("check", mixed)
    assert r.exit_code == 0, r.output
    assert "mixed.jsonl:2: not UTF-8 text" in r.stderr


def test_check_empty_file_fails(tmp_path):
    f = tmp_path / "empty.jsonl"
    f.write_text("\n\n")
    r = _run("check", f)
    assert r.exit_code == 1 and "no usable case (the file is empty)" in r.stderr
