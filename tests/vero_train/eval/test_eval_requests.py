"""What `vero eval` sends to the backend: chat history for MM-MT-Bench turns, the extra constraint-free generation
for MM-IFEval's cmp_gpt items (fake generator, no model)."""

from __future__ import annotations

import io
import json

from PIL import Image

from vero_data.benchmarks import get_benchmark
from vero_train.evaluate import EvalConfig, evaluate_benchmark
from vero_train.models.backends import VERO_SYSTEM_PROMPT, Completion


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, format="PNG")
    return buf.getvalue()


class FakeGen:
    def __init__(self, reply=lambda req: f"answer to {req.id}"):
        self.requests = []
        self.reply = reply

    def __call__(self, spec, reqs):
        self.requests += reqs
        return [[Completion(text=self.reply(r), n_tokens=3, finish_reason="stop")] for r in reqs]


MT_ROW = {"category": "chart", "image": {"bytes": _png()}, "conversation": json.dumps([
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the chart."}]},
    {"role": "assistant", "content": "A bar chart."},
    {"role": "user", "content": [{"type": "text", "text": "Which bar is "}, {"type": "text", "text": "tallest?"}]},
    {"role": "assistant", "content": "The red one."}])}


def test_mm_mt_bench_turns_get_the_reference_history(tmp_path):
    # mm_mt_bench/utils.py mm_mt_bench_doc_to_messages: conversation[: message_index + 1]
    cfg = EvalConfig(suite="veroeval30", model="fake", out=tmp_path)
    gen = FakeGen()
    recs = evaluate_benchmark(get_benchmark("MM-MT-Bench"), cfg, gen, None, [MT_ROW])
    first, second = gen.requests
    assert first.messages == [
        {"role": "system", "content": VERO_SYSTEM_PROMPT},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the chart."}]}]
    assert second.messages[1:] == [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the chart."}]},
        {"role": "assistant", "content": "A bar chart."},
        {"role": "user", "content": "Which bar is tallest?"}]
    assert len(first.images) == len(second.images) == 1
    assert [r["prompt"] for r in recs] == ["Describe the chart.", "Which bar is tallest?"]
    assert [r["response"] for r in recs] == [f"answer to {first.id}", f"answer to {second.id}"]


def _mmif_rows():
    cons = [{"key": "len", "value": "2 paragraphs", "judge": {"method": "rule_based", "verify_funcs": [
                {"func": "check_whether_response_paragraph_number_in_range", "params": [2, 2]}]}},
            {"key": "cmp", "value": "Be brief", "judge": {"method": "cmp_gpt"}}]
    main = {"id": "7", "tag": "C-Level", "infer_type": "main", "question": "Describe it. Be brief.",
            "constraints": json.dumps(cons), "image": {"bytes": _png()}}
    aux = {"id": "7", "tag": "C-Level", "infer_type": "aux_cmp_gpt", "del_cons": "cmp", "question": "Describe it.",
           "constraints": json.dumps(cons), "image": {"bytes": _png()}}
    plain = {"id": "8", "tag": "C-Level", "infer_type": "main", "instruction": "Say hi.", "constraints": "[]",
             "image": {"bytes": _png()}}
    return [aux, main, plain]


class FakeJudge:
    """Says the constrained answer differs (cmp_gpt "True"); records the prompts."""

    concurrency = 1

    def __init__(self):
        self.prompts = []

    def ask(self, prompt, parse):
        self.prompts.append(prompt)
        reply = 'Reasoning: differs.\nSummary: "True".'
        return parse(reply), reply


def test_mmifeval_generates_the_aux_response_and_scores_with_it(tmp_path):
    # the split's aux_cmp_gpt row (constraint removed) is generated as an extra request and fed to cmp_gpt
    cfg = EvalConfig(suite="veroeval30", model="fake", out=tmp_path)
    gen = FakeGen(lambda r: "Long text.\n\nMore." if r.id.endswith("#aux:cmp") else "Short.\n\nDone.")
    judge = FakeJudge()
    spec = get_benchmark("MM-IFEval")
    recs = evaluate_benchmark(spec, cfg, gen, judge, _mmif_rows())
    texts = [r.messages[-1]["content"][-1]["text"] for r in gen.requests]
    assert texts == ["Describe it. Be brief.", "Say hi.", "Describe it."]  # main docs, then the aux request
    assert gen.requests[2].id == f"{recs[0]['doc_id']}#aux:cmp" and len(gen.requests[2].images) == 1
    assert gen.requests[2].messages[0] == {"role": "system", "content": VERO_SYSTEM_PROMPT}
    assert recs[0]["aux_responses"] == {"cmp": "Long text.\n\nMore."} and "aux_responses" not in recs[1]
    cmp_prompt = [p for p in judge.prompts if p.startswith("You are an expert in judging")][0]
    assert "Short.\n\nDone." in cmp_prompt and "Long text.\n\nMore." in cmp_prompt
    assert recs[0]["score"] == 1.0  # rule: 2 paragraphs ✓; cmp judged True
    # resume: nothing is generated again
    gen2 = FakeGen()
    again = evaluate_benchmark(spec, cfg, gen2, judge, _mmif_rows())
    assert gen2.requests == [] and again[0]["aux_responses"] == recs[0]["aux_responses"]
