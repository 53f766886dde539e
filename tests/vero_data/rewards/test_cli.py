import json

from typer.testing import CliRunner

from vero_data.rewards.cli import app


def test_score_and_check(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["score", "--reward-type", "numeric", "--response",
                            "<think>r</think><answer>\\boxed{2e2}</answer>", "--answer", "200", "--lenient"])
    assert r.exit_code == 0, r.output
    assert "1.0000" in r.output
    f = tmp_path / "cases.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in [
        {"reward_type": "counting", "response": "<think>r</think><answer>\\boxed{3}</answer>", "answer": "3"},
        {"reward_type": "counting", "response": "bad", "answer": "3"},
    ]) + "\nnot json\n")
    r = runner.invoke(app, ["check", str(f)])
    assert r.exit_code == 0, r.output
    assert "counting" in r.output and "0.5000" in r.output and "1 unreadable" in r.output


def test_bench_small():
    r = CliRunner().invoke(app, ["bench", "--n-cases", "110", "--workers", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["n_cases"] == 110


def test_score_and_check_json(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["score", "--reward-type", "numeric", "--response",
                            "<think>r</think><answer>\\boxed{200}</answer>", "--answer", "200", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) | {"reason": None} == {"reward_type": "numeric", "score": 1.0, "accuracy": 1.0,
                                                        "format": 1.0, "reason": None}
    f = tmp_path / "reward-cases.jsonl"
    f.write_text(json.dumps({"reward_type": "counting", "response": "<think>r</think><answer>\\boxed{3}</answer>",
                             "answer": "3"}) + "\n" + json.dumps({"reward_type": "counting", "response": "bad",
                                                                  "answer": "3"}) + "\nnot json\n")
    doc = json.loads(runner.invoke(app, ["check", str(f), "--json"]).stdout)
    assert doc["cases"] == 2 and doc["per_type"]["counting"]["count"] == 2
    assert doc["per_type"]["counting"]["accuracy"] == 0.5 and [b["line"] for b in doc["left_out"]] == [3]


def test_bench_rewards_is_reward_bench():
    from vero_data.cli import app as root

    r = CliRunner().invoke(root, ["bench", "rewards", "--n", "110", "--workers", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_cases"] == 110
