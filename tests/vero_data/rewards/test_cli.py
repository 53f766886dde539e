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
