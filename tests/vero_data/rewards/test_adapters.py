"""TRL adapter with mixed reward types, the batch API, and the LLM judge against a local HTTP server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import send_chat_reply
from vero_data.rewards import compute_score_from_data_source
from vero_data.rewards.batch import score_batch
from vero_data.rewards.llm_judge import LLMJudge, parse_judge_score, score_with_judge
from vero_data.rewards.trl import make_overlong_reward, vero_accuracy, vero_format, vero_overlong, vero_reward

OK = "<think>r</think><answer>\\boxed{4}</answer>"
ROWS = [
    # (completion, answer, reward_type, extra_info, total)
    (OK, "4", "numeric", "{}", 1.0),
    ([{"role": "assistant", "content": OK}], "4", "counting", None, 1.0),
    ("<think>r</think><answer>4</answer>", "4", "string_match", {}, 0.9),
    ("no tags", "4", "numeric", "", 0.0),
    ('<think>r</think><answer>[{"point_2d": [5, 5]}]</answer>', '[{"bbox_2d": [0, 0, 10, 10]}]', "clicking",
     json.dumps({"image_sizes": [[100, 100]]}), 1.0),
    ("<think>r</think><answer>a b c</answer>", json.dumps({"instructions": [{"class": "CommaChecker"}]}),
     "instruction_following", "not json", 1.0),
]


def _kwargs():
    return {
        "answer": [r[1] for r in ROWS],
        "reward_type": [r[2] for r in ROWS],
        "extra_info": [r[3] for r in ROWS],
    }


def test_trl_mixed_batch():
    completions = [r[0] for r in ROWS]
    assert vero_reward([None] * len(ROWS), completions, **_kwargs()) == pytest.approx([r[4] for r in ROWS])
    acc = vero_accuracy(None, completions, **_kwargs())
    fmt = vero_format(None, completions, **_kwargs())
    assert [0.8 * a + 0.2 * f for a, f in zip(acc, fmt, strict=True)] == pytest.approx([r[4] for r in ROWS])


def test_trl_function_names_and_overlong():
    assert [f.__name__ for f in (vero_reward, vero_accuracy, vero_format, vero_overlong)] == [
        "vero_reward", "vero_accuracy", "vero_format", "vero_overlong"]
    fn = make_overlong_reward(max_response_length=100, buffer=20)
    assert fn.__name__ == "vero_overlong_penalty"
    assert fn(None, ["a", "b", "c"], completion_ids=[[0] * 80, [0] * 90, [0] * 100]) == [0.0, -0.5, -1.0]


def test_trl_missing_answer_is_none():
    assert vero_reward(None, [OK], reward_type=["numeric"]) == [None]


@pytest.mark.parametrize("workers", [1, 2])
def test_score_batch_matches_single_calls(workers):
    cases = [
        {"reward_type": r[2], "response": r[0] if isinstance(r[0], str) else r[0][0]["content"], "answer": r[1],
         "extra_info": r[3]}
        for r in ROWS
    ] * 50
    out = score_batch(cases, workers=workers)
    assert len(out) == len(cases)
    for case, got in zip(cases, out, strict=True):
        info = case["extra_info"]
        info = json.loads(info) if isinstance(info, str) and info.startswith("{") else (
            info if isinstance(info, dict) else {})
        expect = compute_score_from_data_source(None, case["response"], case["answer"],
                                                {**info, "reward_type": case["reward_type"]}, format_score=0.2)
        assert got["score"] == expect["score"]


class _Judge(BaseHTTPRequestHandler):
    replies: list = []
    calls = 0

    def do_POST(self):  # noqa: N802
        type(self).calls += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = type(self).replies.pop(0) if type(self).replies else "Score: 10"
        if reply == "500":
            self.send_response(500)
            self.end_headers()
            return
        send_chat_reply(self, f"{reply} ({body['model']})")

    def log_message(self, *a):
        pass


@pytest.fixture
def judge_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Judge.calls, _Judge.replies = 0, []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_judge_retries_scales_and_caches(judge_server, tmp_path):
    _Judge.replies = ["500", "I cannot say", "Reasoning\nScore: 7"]
    judge = LLMJudge(base_url=judge_server, model="m", retries=3, backoff=0.01, cache_dir=tmp_path, timeout=5)
    assert judge.score("q?", "resp", "ref") == pytest.approx(6 / 9)
    assert _Judge.calls == 3
    assert judge.score("q?", "resp", "ref") == pytest.approx(6 / 9)  # from the cache
    assert _Judge.calls == 3


def test_judge_unreachable_returns_none(tmp_path):
    judge = LLMJudge(base_url="http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=1)
    assert judge.score("q", "r", "ref") is None


def test_score_with_judge_blends(judge_server):
    judge = LLMJudge(base_url=judge_server, retries=0, timeout=5)
    resp = "<think>r</think><answer>a b c</answer>"
    out = score_with_judge(judge, "q", resp, "ref", {"reward_type": "llm_judge"})
    assert out == {"score": 1.0, "accuracy": 1.0, "format": 1.0}
    truth = json.dumps({"instructions": [{"class": "CommaChecker"}, {"class": "PunctuationDotChecker"},
                                         {"class": "KeywordChecker", "args": {"keywords": ["zzz"]}},
                                         {"class": "KeywordChecker", "args": {"keywords": ["yyy"]}}]})
    out = score_with_judge(judge, "q", resp, truth, {"reward_type": "instruction_following_llm_judge"})
    assert out["accuracy"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)


@pytest.mark.parametrize("text,expected", [("Score: 8", 8.0), ("**Score:** 3", 3.0), ("I give it 9", 9.0),
                                           ("Score: 11", None), ("", None)])
def test_parse_judge_score(text, expected):
    assert parse_judge_score(text) == expected
