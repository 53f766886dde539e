"""LLM-judged benchmarks against a judge served on 127.0.0.1 by the test."""

from __future__ import annotations

import json

import pytest

from vero_data.benchmarks import ScoreContext, get_benchmark, score_sample
from vero_data.benchmarks import judge_prompts as P
from vero_data.benchmarks.aggregate import benchmark_score
from vero_data.benchmarks.judge_client import BenchmarkJudge, parse_grade, parse_rating10, parse_verdict  # noqa: F401
from vero_data.benchmarks.judged import MMIF_RULES, mm_mt_bench_turns, parse_mia, parse_simplevqa
from vero_data.benchmarks.rescore import score_cases


def _yes_no(prompt: str) -> str:
    return '{"is_equivalent": "Yes"}' if "GOOD" in prompt else '{"is_equivalent": "No"}'


@pytest.fixture
def judge(judge_server, tmp_path):
    judge_server.reply_fn = _yes_no
    return BenchmarkJudge(base_url=f"http://127.0.0.1:{judge_server.server_port}/v1", model="judge",
                          cache_dir=tmp_path / "cache", backoff=0.0)


def _sent(srv) -> str:
    body = srv.requests[-1]
    assert body["temperature"] == 0.0 and body["max_tokens"] == 2048 and len(body["messages"]) == 1
    return body["messages"][0]["content"]


def test_chartmuseum_prompt_and_parse(judge_server, judge):
    doc = {"question": "What is the peak?", "answer": "1,500,000"}
    r = score_sample("ChartMuseum", doc, "<think>hm</think>\\boxed{GOOD}", ScoreContext(judge=judge))
    assert r["judge_accuracy"] == 1.0
    want = (P.CHARTMUSEUM.replace("[QUESTION]", "What is the peak?").replace("[ANSWER1]", "1,500,000")
            .replace("[ANSWER2]", "GOOD"))
    assert _sent(judge_server) == want and want.startswith("You are provided with a question and two answers.")
    judge_server.reply_fn = lambda p: "No"
    assert score_sample("ChartMuseum", doc, "\\boxed{x}", ScoreContext(judge=judge))["judge_accuracy"] == 0.0


def test_visual_probe_and_fvqa(judge_server, judge):
    judge_server.reply_fn = lambda p: '{"is_equivalent": true}' if "GOOD" in p else '{"is_equivalent": false}'
    r = score_sample("VisualProbe", {"question": "Colour?", "answer": "red"}, "\\boxed{GOOD}", ScoreContext(judge=judge))
    assert r["judge_accuracy"] == 1.0
    assert "Question: Colour?\nReference answer: red\nModel answer: GOOD\n\nRespond with a JSON object only" in \
        _sent(judge_server)
    # the fork's question keys (problem first, <image> removed) and reference (solution first); "match" is a key too
    judge_server.reply_fn = lambda p: '{"match": "true"}' if "GOOD" in p else '{"match": "false"}'
    doc = {"problem": "<image>Colour of the sign?", "solution": "blue", "answer": "ignored"}
    assert score_sample("VisualProbe", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["judge_accuracy"] == 1.0
    assert "Question: Colour of the sign?\nReference answer: blue\nModel answer: GOOD\n" in _sent(judge_server)
    assert score_sample("VisualProbe", doc, "\\boxed{x}", ScoreContext(judge=judge))["judge_accuracy"] == 0.0
    doc = {"prompt": [{"content": "<image>What is it used for?"}],
           "reward_model": {"ground_truth": "cutting", "candidate_answers": ["cut", "slicing"]}}
    assert score_sample("FVQA", doc, "bad", ScoreContext(judge=judge))["judge_accuracy"] == 0.0
    sent = _sent(judge_server)
    assert sent.startswith("You are an AI assistant tasked with evaluating the correctness")
    assert "Question: What is it used for? \nGround Truth Answer: cutting \nCandidate Answers: [\"cut\", \"slicing\"] \n" \
           "Model Response: bad \n" in sent


def test_simplevqa(judge_server, judge):
    judge_server.reply_fn = lambda p: '```json\n{"预测答案0": "正确"}\n```' if "GOOD" in p else '{"预测答案0": "未尝试"}'
    doc = {"question": "Who built it?", "answer": "Gustave Eiffel"}
    assert score_sample("SimpleVQA (English)", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["simplevqa_acc"] == 1.0
    sent = _sent(judge_server)
    assert "问题: Who built it?\n正确答案: Gustave Eiffel\n预测答案: \n[预测答案0]：GOOD\n```" in sent
    assert sent.startswith("请根据给定问题、标准答案和模型预测的答案")
    assert score_sample("SimpleVQA (English)", doc, "no idea", ScoreContext(judge=judge))["simplevqa_acc"] == 0.0
    assert parse_simplevqa('{"预测答案0": "错误"') == 0.0 and parse_simplevqa("garbage") == 0.0


def test_charxiv(judge_server, judge):
    judge_server.reply_fn = lambda p: '{"extracted_answer": "3", "score": 1}' if "GOOD" in p else \
        '{"extracted_answer": "4", "score": 0}'
    # inst_category = reasoning_q_source (3: number-in-chart rules); response = text after </think>, box kept
    doc = {"reasoning_q": "Which line is highest?", "reasoning_a": "3", "reasoning_q_source": 3, "reasoning_a_type": 1}
    assert score_sample("CharXiv", doc, "<think>x</think> \\boxed{GOOD}", ScoreContext(judge=judge))["reasoning_acc"] == 1.0
    sent = _sent(judge_server)
    assert sent.startswith(P.CHARXIV_PREFIX) and "scoring rules:\\n\n    ### Rules ###\n    * Give a score of 1 if " \
        "and only if the two numbers are exactly equal" in sent
    assert "* Question: Which line is highest?\n    * Ground Truth: 3\n    * Response: \\boxed{GOOD}\n" in sent
    assert score_sample("CharXiv", doc, "\\boxed{4}", ScoreContext(judge=judge))["reasoning_acc"] == 0.0


def test_mmvet_fork_prompt_and_score_parsing(judge_server, judge):
    judge_server.reply_fn = lambda p: '{"score": 0.7}' if "GOOD" in p else "0.2 partially right"
    doc = {"question": "<image_0> What is written?<IMG>", "answer": "hello<AND>world"}
    r = score_sample("MM-Vet v2", doc, "<think>x</think>\\boxed{GOOD}", ScoreContext(judge=judge))
    assert r["gpt_eval_score"] == 0.7
    sent = _sent(judge_server)  # mmvetv2/prompts/judge_score_prompt.txt, raw question, spaced <AND>, unboxed FAE
    assert sent == (P.MMVET.replace("[QUESTION]", "<image_0> What is written?<IMG>")
                    .replace("[GROUND_TRUTH]", "hello <AND> world").replace("[PREDICTION]", "\\boxed{GOOD}"))
    assert sent.startswith("Compare the ground truth and prediction from AI models to give a correctness score.")
    assert sent.endswith("Return JSON only with a single key `score`, for example: {\"score\": 0.7}\n"
                         "Do not output any other text.\n")
    assert score_sample("MM-Vet v2", doc, "x", ScoreContext(judge=judge))["gpt_eval_score"] == 0.2
    judge_server.reply_fn = lambda p: "no number here"  # unparsed after the retries: 0, as the fork
    assert score_sample("MM-Vet v2", doc, "y", ScoreContext(judge=judge))["gpt_eval_score"] == 0.0


@pytest.mark.parametrize("reply,want", [
    ('{"score": 0.7}', 0.7), ('{"correctness": "1.0"}', 1.0), ('{"score": 3, "value": 0.4}', 0.4),
    ("0.5", 0.5), ("Score: 0.3", 0.3), ("score 1.0 (all elements)", 1.0), ("7/10", None), ("", None),
    ("2.5 then 0.6", 0.6),
])
def test_parse_mmvet(reply, want):
    from vero_data.benchmarks.judged import parse_mmvet

    assert parse_mmvet(reply) == want


def test_mia_bench(judge_server, judge):
    judge_server.reply_fn = lambda p: ("score of component 1: 4/5, score of component 2: 5/5, total score: 9/10. Fine."
                                       if "GOOD" in p else "score of component 1: 1/5, score of component 2: 0/5. Bad.")
    doc = {"instruction": "Write two sentences.", "components": ["two sentences", "mention a cat"],
           "component_weight": [5, 5]}
    assert score_sample("MIA-Bench", doc, "<think>x</think>GOOD", ScoreContext(judge=judge))["gpt_eval_score"] == 0.9
    assert _sent(judge_server) == (
        "Here is an instruction for a multimodal LLM: ' Write two sentences. You need to grade if the response from the "
        "model follows each component of the instruction. The first component is:' two sentences', and the second "
        "component is:' mention a cat' The response is:' GOOD' You need to score the response and be strict. The total "
        "score ranges from 0 to 10, depending on if the response follows the instruction. The first and second "
        "components are each worth 5 and 5 scores. List scores of each component, and the total score in one sentence "
        "in this EXACT format: score of component 1: ?/5, score of component 2: ?/5, total score: ?/10. Replace each ? "
        "with the actual numeric score. Do not use markdown formatting or asterisks. Then explain your reasons.")
    assert score_sample("MIA-Bench", doc, "bad", ScoreContext(judge=judge))["gpt_eval_score"] == 0.1  # mean 0.2, 0
    assert parse_mia("nothing", 2) is None


def test_mm_mt_bench_turns_prompt_and_aggregation(judge_server, judge):
    row = {"category": "chart", "conversation": json.dumps([
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the chart."}]},
        {"role": "assistant", "content": "A bar chart."},
        {"role": "user", "content": "Which bar is tallest?"},
        {"role": "assistant", "content": "The red one."}])}
    docs = list(mm_mt_bench_turns([row, {**row, "category": "ocr"}]))
    assert [(d["turn"], d["message_index"], d["reference_answer"], d["question"]) for d in docs[:2]] == [
        (0, 0, "A bar chart.", "Describe the chart."), (1, 2, "The red one.", "Which bar is tallest?")]
    judge_server.reply_fn = lambda p: "Good. Rating: [[8]] then [[3]]" if "GOOD" in p else "Rating: [[2]]"
    scores = [score_sample("MM-MT-Bench", d, r, ScoreContext(judge=judge))["micro_average_score"]
              for d, r in zip(docs, ["GOOD", "meh", "GOOD", "GOOD"], strict=True)]
    assert scores == [0.8, 0.2, 0.8, 0.8]
    sent = judge_server.requests[-1]["messages"][0]["content"]
    assert sent == (P.MT_BENCH_SYSTEM.strip() + "\n<|The Start of Conversation with User|>\n\n### User:\n"
                    "Describe the chart.\n\n### Reference answer:\nA bar chart.\n\n### User:\nWhich bar is tallest?"
                    "\n\n### Reference answer:\nThe red one.\n\n\n\n### Assistant's answer:\nGOOD\n\n"
                    "<|The End of Conversation with User|>\n\n\n")
    spec = get_benchmark("MM-MT-Bench")
    out = benchmark_score(spec, [{"score": s, "category": d["category"]} for s, d in zip(scores, docs, strict=True)])
    assert out["score"] == pytest.approx(65.0) and out["metrics"]["macro_average_score"] == pytest.approx(65.0)
    out = benchmark_score(spec, [{"score": 0.8, "category": "a"}, {"score": 0.2, "category": "b"},
                                 {"score": 0.2, "category": "b"}])
    assert out["score"] == pytest.approx(40.0) and out["metrics"]["macro_average_score"] == pytest.approx(50.0)


def test_mmifeval_rules_and_judge(judge_server, judge):
    def reply(p):
        if p.startswith("Your task is to evaluate whether"):
            return "Judgement: ok\nSummary: Score of constraint_1: 1/1, **Score of constraint_2: 0/1**."
        if p.startswith("You are an expert in judging"):
            return "Reasoning: differs.\nSummary: \"True\"."
        return "right"
    judge_server.reply_fn = reply
    cons = [{"key": "tone", "value": "Be formal", "judge": {"method": "direct_gpt"}},
            {"key": "style", "value": "Use rhyme", "judge": {"method": "direct_gpt"}},
            {"key": "len", "value": "2 paragraphs", "judge": {"method": "rule_based", "verify_funcs": [
                {"func": "check_whether_response_paragraph_number_in_range", "params": [2, 2]}]}},
            {"key": "kw", "value": "say cat", "judge": {"method": "rule_based", "verify_funcs": [
                {"func": "check_whether_each_keyword_in_list_metioned_in_range", "params": [["dog"], 1, 3]}]}},
            {"key": "cmp", "value": "Be brief", "judge": {"method": "cmp_gpt"}}]
    doc = {"tag": "C-Level", "instruction": "Describe.", "constraints": json.dumps(cons),
           "aux_predictions": {"cmp": "A very long answer."}}
    r = score_sample("MM-IFEval", doc, "<think>x</think>A cat sat.\n\nThe end.", ScoreContext(judge=judge))
    assert r["mmifeval_overall_accuracy"] == pytest.approx(3 / 5) == r["mmifeval_c_level_accuracy"]  # 1,0,1,0,1
    c_prompt = next(b["messages"][0]["content"] for b in judge_server.requests
                    if b["messages"][0]["content"].startswith("Your task is"))
    assert "<start of response>\nA cat sat.\n\nThe end.\n<end of response>" in c_prompt
    assert "<start of constraint list>\nConstraint_1: Be formal\nConstraint_2: Use rhyme\n<end of constraint list>" \
        in c_prompt and "2 paragraphs" not in c_prompt  # rule-checked constraints never reach the judge
    cmp_prompt = judge_server.requests[-1]["messages"][0]["content"]
    assert "<start of response without the constraint>\nA very long answer.\n" in cmp_prompt
    p = {"tag": "P-Level", "question": "List the fruits.", "answer": '["apple", "pear"]'}
    assert score_sample("MM-IFEval", p, "apple, pear", ScoreContext(judge=judge))["mmifeval_p_level_accuracy"] == 1.0
    assert "Ground Truth List: ['apple', 'pear']" in _sent(judge_server) or "Ground Truth List: [" in _sent(judge_server)
    assert MMIF_RULES["check_whether_has_no_arabic_number_in_response"]("no digits here")
    assert not MMIF_RULES["check_number_precision_in_response"]("It is 3.1 and 2.55", 2)
    assert score_sample("MM-IFEval", doc, "x")["mmifeval_overall_accuracy"] is None  # no judge: unscored


def test_judge_cache_retries_and_offline(judge_server, tmp_path):
    judge_server.fail_first = True
    judge_server.reply_fn = _yes_no
    url = f"http://127.0.0.1:{judge_server.server_port}/v1"
    judge = BenchmarkJudge(base_url=url, model="judge", cache_dir=tmp_path / "c", backoff=0.0)
    doc = {"question": "q", "answer": "a"}
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["judge_accuracy"] == 1.0
    n = len(judge_server.requests)
    assert n == 2  # one 500, one retry
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}", ScoreContext(judge=judge))["judge_accuracy"] == 1.0
    assert len(judge_server.requests) == n  # served from the on-disk cache
    assert score_sample("ChartMuseum", doc, "\\boxed{GOOD}")["judge_accuracy"] is None  # no judge: unscored


def test_rescore_with_judge_concurrency(judge_server, tmp_path):
    judge_server.reply_fn = _yes_no
    cases = tmp_path / "cases.jsonl"
    lines = [{"benchmark": "FVQA", "doc": {"question": f"q{i}", "answer": "a"}, "response": "GOOD" if i % 2 else "x"}
             for i in range(6)]
    cases.write_text("".join(json.dumps(x) + "\n" for x in lines))
    judge = BenchmarkJudge(base_url=f"http://127.0.0.1:{judge_server.server_port}/v1", concurrency=3, backoff=0.0)
    summary = score_cases(cases, tmp_path / "out.jsonl", judge)
    got = [json.loads(x)["score"] for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert got == [0.0, 1.0] * 3 and summary["mean"]["FVQA"] == 0.5


def test_reply_parsers():
    assert parse_verdict("blah\nVerdict: **CORRECT**") == 1.0
    assert parse_verdict("Verdict: NOT_ATTEMPTED") == 0.0
    assert parse_grade("Grade: C") == 0.0 and parse_grade("nothing") is None
    assert parse_rating10("Rating: [[7]]") == 0.7


def test_mmifeval_prediction_strips_latex_wrappers_inline():
    from vero_data.benchmarks.judged import mmifeval_prediction

    assert mmifeval_prediction("<think>x</think>Total: \\boxed{\\frac{1}{2}} and \\boxed{3}.") == "Total: \\frac{1}{2} and 3."
    assert mmifeval_prediction("\\text{Hello}") == "Hello"
    assert mmifeval_prediction("a \\boxed{b") == "a \\boxed{b"
