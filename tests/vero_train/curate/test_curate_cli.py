"""`vero data curate` through real backends: the tiny model with transformers (its verdicts are noise, the plumbing
is real), the tiny model behind `vero model serve`, and an OpenAI-compatible server computing real verdicts."""

from __future__ import annotations

import http.server
import json
import threading

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.vero_data.curate.fake_judge import ROWS_SMALL, ArithmeticJudge, write_rows
from vero_data.cli import app

runner = CliRunner(env={"COLUMNS": "1000"})


def _curate(*args):
    res = runner.invoke(app, ["data", "curate", *args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    return write_rows(tmp_path_factory.mktemp("curate-cli") / "build", ROWS_SMALL)


def _conserved(out, n):
    kept = pl.read_parquet(out / "data" / "*.parquet")
    q = pl.read_parquet(out / "quarantine.parquet") if (out / "quarantine.parquet").exists() else pl.DataFrame(
        {"id": [], "reason": []}, schema={"id": pl.String, "reason": pl.String})
    assert kept.height + q.height == n and not set(kept["id"]) & set(q["id"])
    return kept, q


def test_tiny_model_transformers_end_to_end(small_build, tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    args = [str(small_build), "--question-filter", "--canonicalise", "--model", str(tiny_model_dir), "--backend",
            "transformers", "--max-tokens", "8", "--batch-size", "2", "--out", str(out), "--json"]
    rep = json.loads(_curate(*args).stdout.strip().splitlines()[-1])
    assert rep["rows_in"] == len(ROWS_SMALL) and rep["requests"] > 0 and rep["tokens"] > 0
    assert 0 <= rep["share_outside_generation"] < 1 and rep["guided"] is False
    kept, q = _conserved(out, len(ROWS_SMALL))
    # a random model's replies are not the JSON asked for: quarantined after one retry, never kept unjudged
    allowed = {"judge_unparseable", "canonicalise_multi_value", "canonicalise_invalid"}
    assert set(q["reason"]) <= allowed | {f"question_filter:{f}" for f in
                                          ("relevance_filter", "ambiguous_filter", "language_filter",
                                           "verifiable_filter", "number_precision_filter")}
    for c, cat in zip(kept["curation"], kept["category"], strict=True):  # kept: judged, or not for judging
        cur = json.loads(c)
        assert cur["question_filter"] is not None or cat == "captioning_if"
    again = json.loads(_curate(*args).stdout.strip().splitlines()[-1])  # a rerun answers from the cache
    assert again["requests"] == 0 and again["cached_replies"] == rep["requests"] and again["load_seconds"] == 0
    assert again["guided"] is None  # no model was loaded to ask


class _JudgeServer(http.server.BaseHTTPRequestHandler):
    """/v1/chat/completions answered by ArithmeticJudge; the request bodies are kept for the test."""

    judge = ArithmeticJudge()
    bodies: list[dict] = []
    prompt_tokens: list[int] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        text = self.judge.reply_for(body["messages"])
        prompt_tokens = len(json.dumps(body["messages"])) // 4  # the body's size stands in for a tokenizer
        type(self).prompt_tokens.append(prompt_tokens)
        data = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop"}],
                           "usage": {"completion_tokens": len(text.split()), "prompt_tokens": prompt_tokens}}
                          ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def test_openai_endpoint_gets_the_schema_and_sampling(small_build, tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JudgeServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
        res = _curate(str(small_build), "--question-filter", "--canonicalise", "--model", "judge-x", "--endpoint",
                      url, "--concurrency", "3", "--out", str(tmp_path / "out"))
        rep = json.loads((tmp_path / "out" / "curate_report.json").read_text())
    finally:
        srv.shutdown()
        srv.server_close()
    assert "guided decoding: yes" in res.output
    assert rep["prompt_tokens"] == sum(_JudgeServer.prompt_tokens) > 0  # the server's usage, summed
    assert rep["prompt_tokens_requests"] == rep["requests"] == len(_JudgeServer.bodies)
    bodies = _JudgeServer.bodies
    assert bodies and all(b["response_format"]["type"] == "json_schema" for b in bodies)
    assert {(b["temperature"], b["top_p"], b["top_k"], b["seed"]) for b in bodies} == {(0.6, 0.8, 20, 42)}
    qf = [b for b in bodies if "five checks" in b["messages"][0]["content"]]
    assert qf and all(any(p.get("type") == "image_url" for p in b["messages"][1]["content"]) for b in qf
                      if isinstance(b["messages"][1]["content"], list))
    kept, q = _conserved(tmp_path / "out", len(ROWS_SMALL))
    assert dict(zip(q["id"], q["reason"], strict=True)) == {"amb": "question_filter:ambiguous_filter"}
    assert dict(zip(kept["id"], kept["answer"], strict=True))["frac"] == "0.5"


def test_tiny_model_behind_vero_model_serve(small_build, tiny_model_dir, tmp_path):
    from vero_train.models.serve import make_server

    srv = make_server(str(tiny_model_dir), "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
        res = _curate(str(small_build), "--question-filter", "--model", "tiny", "--endpoint", url, "--max-tokens",
                      "6", "--limit", "2", "--out", str(tmp_path / "out"), "--json")
    finally:
        srv.shutdown()
        srv.server_close()
    rep = json.loads(res.stdout.strip().splitlines()[-1])
    assert rep["rows_in"] == 2 and rep["requests"] >= 2
    _conserved(tmp_path / "out", 2)


def test_bad_flags_are_one_line(small_build, tmp_path):
    res = runner.invoke(app, ["data", "curate", str(small_build), "--model", "m"])
    assert res.exit_code == 1 and "nothing to do" in res.output
    res = runner.invoke(app, ["data", "curate", str(small_build), "--canonicalise", "--model", "m", "--backend",
                              "transformer"])
    assert res.exit_code == 1 and "did you mean 'transformers'" in res.output.lower()
    res = runner.invoke(app, ["data", "curate", str(tmp_path / "nope"), "--canonicalise", "--model", "m"])
    assert res.exit_code == 1 and "not a folder" in res.output
