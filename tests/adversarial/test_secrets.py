"""Credentials in judge / backend URLs and options never reach what the toolkit writes, and keys go only where they
are meant to: a named key (``--judge-api-key-env``, ``--backend-opt api_key_env=``) or ``user:pass@`` is sent, the
implicit ``$OPENAI_API_KEY`` is not sent over plain http to another host, and switching judges does not reuse
cached verdicts.

A stand-in judge on 127.0.0.1 records each request's path and headers and answers ChartMuseum's equivalence
prompt by really comparing the two answers in it.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vero_data.cli import app

runner = CliRunner(env={"COLUMNS": "1000"})
SECRET = "s3cr3t-VALUE-9f2"


def _number(text: str) -> float | None:
    t = text.strip().lower().replace(",", "").replace("$", "").rstrip("%").strip()
    try:
        return float(t)
    except ValueError:
        return None


def equivalent(a: str, b: str, strict: bool) -> bool:
    """The judge's decision: strict = identical strings; lenient = same number (1 %) or same text ignoring case."""
    if strict:
        return a.strip() == b.strip()
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return abs(x - y) <= 0.01 * max(abs(x), abs(y), 1e-9)
    return a.strip().lower() == b.strip().lower()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.split("?")[0] != "/v1/chat/completions":
            self.send_response(404)
            self.end_headers()
            return
        content = body["messages"][0]["content"]
        if "Answer 1:" in content:  # ChartMuseum equivalence prompt
            a = re.search(r"^Answer 1: (.*)$", content, re.M).group(1)
            b = re.search(r"^Answer 2: (.*)$", content, re.M).group(1)
            text = json.dumps({"is_equivalent": "Yes" if equivalent(a, b, self.server.strict) else "No"})
        else:  # a generation request (backend tests): n choices
            text = "<think>ok</think><answer>1</answer>"
        choices = [{"index": i, "message": {"content": text}, "finish_reason": "stop"}
                   for i in range(int(body.get("n") or 1))]
        data = json.dumps({"choices": choices, "usage": {"completion_tokens": 3 * len(choices)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def _serve(strict: bool = False):
    srv = HTTPServer(("127.0.0.1", 0), _Handler)
    srv.seen, srv.strict = [], strict
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture
def server():
    srv = _serve()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def other_host(monkeypatch):
    """``judge.example.test`` resolves to 127.0.0.1 for this test only: a non-loopback NAME served locally."""
    real = socket.getaddrinfo

    def fake(host, *a, **k):
        return real("127.0.0.1" if host == "judge.example.test" else host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return "judge.example.test"


def _cases(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"benchmark": "ChartMuseum", "doc": {"question": "Value?", "answer": ref},
                                        "response": f"<think>..</think>\\boxed{{{resp}}}"}) + "\n"
                            for ref, resp in pairs))
    return path


def _auth(srv) -> list[str | None]:
    return [s["headers"].get("Authorization") for s in srv.seen]


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------- written outputs
class FakeGen:
    """Stands in for evaluate._Generator (no model): answers every request with the right synthetic answer."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, spec, reqs):
        from vero_train.models.backends import Completion

        return [[Completion(text="<answer>0</answer>", n_tokens=2, finish_reason="stop")] for _ in reqs]


def test_judge_url_credentials_not_in_results_or_reports(tmp_path, monkeypatch, server, caplog):
    from vero_train import evaluate

    monkeypatch.setattr(evaluate, "_Generator", FakeGen)
    port = server.server_port
    url = f"http://alice:{SECRET}@127.0.0.1:{port}/v1?api-key={SECRET}&api-version=2024-06"
    out = tmp_path / "run"
    with caplog.at_level(logging.DEBUG):
        evaluate.run_eval(evaluate.EvalConfig(suite="synthetic", model="m", out=out, benchmarks=["synthetic_chart"],
                                              limit=1, judge_url=url, base_url=f"http://bob:{SECRET}@127.0.0.1:9/v1"))
    written = _all_text(out)
    assert SECRET not in written and SECRET not in caplog.text
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["judge_url"] == f"http://***@127.0.0.1:{port}/v1?api-key=***&api-version=2024-06"
    assert f"127.0.0.1:{port}/v1?api-key=***&api-version=2024-06" in (out / "report.md").read_text()


def test_eval_cli_judge_url_credentials_not_written(tmp_path, monkeypatch):
    from vero_train import evaluate

    monkeypatch.setattr(evaluate, "_Generator", FakeGen)
    out = tmp_path / "run"
    r = runner.invoke(app, ["eval", "--suite", "synthetic", "--model", "m", "--benchmark", "synthetic_chart",
                            "--limit", "1", "--out", str(out), "--judge-url",
                            f"https://judge.example.test/v1?token={SECRET}"])
    assert r.exit_code == 0, r.output
    assert SECRET not in _all_text(out) and SECRET not in r.output


def test_passk_report_and_logs_redact_backend_options(tmp_path, server, monkeypatch, caplog):
    from vero_train.passk import make_demo_input

    data = make_demo_input(tmp_path / "in", rows=2)
    monkeypatch.setenv("FILTER_KEY", "filter-" + SECRET)
    base = f"http://127.0.0.1:{server.server_port}/v1"
    args = ["data", "filter", "--pass-at-k", "2", "--backend", "openai", "--model", "policy", "--data", str(data),
            "--max-tokens", "4", "--keep-all", "--limit", "2"]
    with caplog.at_level(logging.DEBUG):
        r = runner.invoke(app, [*args, "--out", str(tmp_path / "o1"), "--base-url", f"{base}?sig={SECRET}",
                                "--backend-opt", f"api_key={SECRET}"])
    assert r.exit_code == 0, r.output
    assert _auth(server)[0] == f"Bearer {SECRET}"  # an explicit key is sent
    report = (tmp_path / "o1" / "passk_report.json").read_text()
    assert SECRET not in report and SECRET not in _all_text(tmp_path / "o1") and SECRET not in caplog.text
    assert json.loads(report)["config"]["backend_kwargs"]["api_key"] == "***"
    # the key from a named variable, and the variable's name (not its value) in the report
    server.seen.clear()
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "o2"), "--base-url", base,
                            "--backend-opt", "api_key_env=FILTER_KEY"])
    assert r.exit_code == 0, r.output
    assert set(_auth(server)) == {f"Bearer filter-{SECRET}"}
    cfg = json.loads((tmp_path / "o2" / "passk_report.json").read_text())["config"]
    assert cfg["backend_kwargs"]["api_key_env"] == "FILTER_KEY" and SECRET not in json.dumps(cfg)
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "o3"), "--base-url", base,
                            "--backend-opt", "api_key_env=NO_SUCH_VAR_X"])
    assert r.exit_code == 1 and "NO_SUCH_VAR_X" in r.output and "not set" in r.output


def test_backend_error_message_redacts_url():
    from vero_data.errors import VeroError
    from vero_train.models.backends import ChatRequest, SamplingConfig, get_backend

    b = get_backend("openai", "m", base_url=f"http://u:{SECRET}@127.0.0.1:9/v1?api_key={SECRET}", max_retries=0,
                    timeout=1)
    with pytest.raises(VeroError) as e:
        b.generate([ChatRequest("x", [{"role": "user", "content": "hi"}])], 1, SamplingConfig(max_tokens=2))
    assert SECRET not in str(e.value) and "127.0.0.1:9/v1" in str(e.value)


# -------------------------------------------------------------------------------------- which key goes where
def test_judge_key_from_named_env_var(tmp_path, server, monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "judge-" + SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", "implicit-" + SECRET)
    cases = _cases(tmp_path / "c.jsonl", [("1,500", "1500"), ("Blue", "red")])
    out = tmp_path / "o" / "s.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out), "--judge-url",
                            f"http://127.0.0.1:{server.server_port}/v1", "--judge-api-key-env", "MY_JUDGE_KEY"])
    assert r.exit_code == 0, r.output
    assert set(_auth(server)) == {f"Bearer judge-{SECRET}"}
    assert [json.loads(x)["score"] for x in out.read_text().splitlines()] == [1.0, 0.0]
    assert SECRET not in r.output
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(tmp_path / "o2.jsonl"),
                            "--judge-url", f"http://127.0.0.1:{server.server_port}/v1",
                            "--judge-api-key-env", "UNSET_VAR_Q"])
    assert r.exit_code == 1 and "UNSET_VAR_Q" in r.output and "not set" in r.output


def test_judge_userinfo_sent_as_basic_auth_not_in_url(tmp_path, server):
    import base64

    cases = _cases(tmp_path / "c.jsonl", [("7", "7")])
    out = tmp_path / "s.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out), "--judge-url",
                            f"http://alice:{SECRET}@127.0.0.1:{server.server_port}/v1?api-version=1"])
    assert r.exit_code == 0, r.output
    assert server.seen and server.seen[0]["path"] == "/v1/chat/completions?api-version=1"
    assert _auth(server)[0] == "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert json.loads(out.read_text())["score"] == 1.0 and SECRET not in r.output
    assert SECRET not in _all_text(tmp_path / ".judge_cache")
    # user:pass and a named key at once: refused in one line
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out), "--judge-url",
                            f"http://alice:{SECRET}@127.0.0.1:{server.server_port}/v1", "--judge-api-key-env", "X"])
    assert r.exit_code == 1 and SECRET not in r.output and "user:password" in r.output


def test_judge_query_key_goes_to_the_endpoint(tmp_path, server):
    cases = _cases(tmp_path / "c.jsonl", [("3", "3.0")])
    out = tmp_path / "s.jsonl"
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(out), "--judge-url",
                            f"http://127.0.0.1:{server.server_port}/v1/?api-key={SECRET}"])
    assert r.exit_code == 0, r.output
    assert server.seen[0]["path"] == f"/v1/chat/completions?api-key={SECRET}"
    assert json.loads(out.read_text())["score"] == 1.0


def test_implicit_openai_key_not_sent_over_plain_http_to_another_host(tmp_path, server, other_host, monkeypatch,
                                                                      caplog):
    monkeypatch.setenv("OPENAI_API_KEY", "implicit-" + SECRET)
    cases = _cases(tmp_path / "c.jsonl", [("5", "5")])
    with caplog.at_level(logging.WARNING):
        r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(tmp_path / "s.jsonl"),
                                "--judge-url", f"http://{other_host}:{server.server_port}/v1"])
    assert r.exit_code == 0, r.output
    assert server.seen and _auth(server) == [None]
    lines = [x for x in caplog.text.splitlines() if "OPENAI_API_KEY" in x]
    assert len(lines) == 1 and "plain http" in lines[0] and SECRET not in caplog.text
    # loopback over http: what users of vLLM --api-key expect (the openai client does the same)
    server.seen.clear()
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(tmp_path / "s2.jsonl"),
                            "--judge-url", f"http://localhost:{server.server_port}/v1"])
    assert r.exit_code == 0, r.output
    assert _auth(server) == [f"Bearer implicit-{SECRET}"]
    # a named variable is the user's decision: sent even there (another OUT folder: not the cached verdict)
    server.seen.clear()
    r = runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(tmp_path / "3" / "s3.jsonl"),
                            "--judge-url", f"http://{other_host}:{server.server_port}/v1",
                            "--judge-api-key-env", "OPENAI_API_KEY"])
    assert r.exit_code == 0, r.output
    assert _auth(server) == [f"Bearer implicit-{SECRET}"]


def test_openai_backend_implicit_key_policy(server, other_host, monkeypatch):
    from vero_train.models.backends import ChatRequest, SamplingConfig, get_backend

    monkeypatch.setenv("OPENAI_API_KEY", "implicit-" + SECRET)
    req = [ChatRequest("x", [{"role": "user", "content": "hi"}])]
    get_backend("openai", "m", base_url=f"http://{other_host}:{server.server_port}/v1", max_retries=0).generate(
        req, 1, SamplingConfig(max_tokens=2))
    get_backend("openai", "m", base_url=f"http://127.0.0.1:{server.server_port}/v1", max_retries=0).generate(
        req, 1, SamplingConfig(max_tokens=2))
    assert _auth(server) == [None, f"Bearer implicit-{SECRET}"]


# -------------------------------------------------------------------------------------------------- judge cache
def test_switching_judge_url_or_model_does_not_reuse_cached_verdicts(tmp_path):
    from vero_data.benchmarks import ScoreContext, score_sample
    from vero_data.benchmarks.judge_client import BenchmarkJudge

    lenient, strict = _serve(strict=False), _serve(strict=True)
    try:
        doc, resp = {"question": "Total?", "answer": "1,500"}, "\\boxed{1500}"

        def ask(srv, model="judge"):
            j = BenchmarkJudge(base_url=f"http://127.0.0.1:{srv.server_port}/v1", model=model,
                               cache_dir=tmp_path / "cache", backoff=0.0)
            return score_sample("ChartMuseum", doc, resp, ScoreContext(judge=j))["judge_accuracy"]

        assert ask(lenient) == 1.0 and len(lenient.seen) == 1
        assert ask(lenient) == 1.0 and len(lenient.seen) == 1  # same judge: the cache answers
        assert ask(strict) == 0.0 and len(strict.seen) == 1  # another judge: asked, not the cached verdict
        assert ask(strict, model="judge-2") == 0.0 and len(strict.seen) == 2
    finally:
        for s in (lenient, strict):
            s.shutdown()
            s.server_close()


def test_eval_rerun_with_another_judge_rescores_judged_samples(tmp_path, monkeypatch):
    """A resumed `vero eval` keeps generated responses, but judged scores are redone when the judge changes."""
    from PIL import Image

    from vero_train import evaluate

    monkeypatch.setattr(evaluate, "_Generator", FakeGen)  # answers "0"
    rows = {"chartmuseum_reasoning": [{"question": "Total?", "answer": "0.0", "image": Image.new("RGB", (8, 8))}]}
    lenient, strict = _serve(strict=False), _serve(strict=True)
    out = tmp_path / "run"
    try:
        got = []
        for srv in (lenient, strict, None):
            url = None if srv is None else f"http://127.0.0.1:{srv.server_port}/v1"
            cfg = evaluate.EvalConfig(suite="veroeval30", model="m", out=out, benchmarks=["chartmuseum_reasoning"],
                                      limit=1, judge_url=url)
            got.append(evaluate.run_eval(cfg, rows=rows)["veroeval"]["benchmarks"]["chartmuseum_reasoning"])
        assert got == [100.0, 0.0, None] and len(lenient.seen) == 1 and len(strict.seen) == 1
    finally:
        for s in (lenient, strict):
            s.shutdown()
            s.server_close()


# -------------------------------------------------------------------------------------------------- the helper
@pytest.mark.parametrize(("url", "want"), [
    ("http://u:p@h:1/v1", "http://***@h:1/v1"),
    ("https://h/v1?api-key=K&api-version=2", "https://h/v1?api-key=***&api-version=2"),
    ("https://h/v1?access_token=K&key=K2&max_tokens=5", "https://h/v1?access_token=***&key=***&max_tokens=5"),
    ("http://localhost:8000/v1", "http://localhost:8000/v1"),
    (None, None),
])
def test_redact_url(url, want):
    from vero_data.secrets import redact_url

    assert redact_url(url) == want


def test_redact_nested_and_text():
    from vero_data.secrets import redact, redact_text

    got = redact({"backend_kwargs": {"api_key": "K1", "Authorization": "Bearer K2", "password": "K3", "token": "K4",
                                     "api_key_env": "NAME", "max_tokens": 3, "base_url": "http://u:K5@h/v1"},
                  "list": ["https://h?secret=K6"]})
    assert got == {"backend_kwargs": {"api_key": "***", "Authorization": "***", "password": "***", "token": "***",
                                      "api_key_env": "NAME", "max_tokens": 3, "base_url": "http://***@h/v1"},
                   "list": ["https://h?secret=***"]}
    assert redact_text("POST http://h/v1?token=abc: refused") == "POST http://h/v1?token=***: refused"
