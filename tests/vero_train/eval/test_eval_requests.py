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
