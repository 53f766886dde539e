"""A judge that computes its verdicts from the prompt it is sent (no canned answers), and rows to curate.

Question filter: ambiguous when the reference answer says "or", relevance failed when the request carries no
image, language failed when the question has non-ASCII letters, number precision failed for 4+ decimals,
verifiable failed for answers over 100 characters. Canonicaliser: evaluates ``\\frac{a}{b}`` and arithmetic
(``+ - * /`` on numbers, via ``ast`` of digits and operators only) to a decimal; "or"/"," answers are multi-valued.
A question containing ``GARBLE`` gets a broken first reply; ``GARBLE2`` gets broken replies every time.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from fractions import Fraction
from pathlib import Path

from vero_data.curate.judge import JudgeReply

FLAGS = ("relevance_filter", "ambiguous_filter", "language_filter", "verifiable_filter", "number_precision_filter")


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if p.get("type") == "text")


def _has_image(content) -> bool:
    return isinstance(content, list) and any(p.get("type") in ("image", "image_url") for p in content)


def _between(text: str, start: str, end: str | None) -> str:
    i = text.index(start) + len(start)
    j = text.index(end, i) if end and end in text[i:] else len(text)
    return text[i:j].strip()


def _arith(expr: str) -> Fraction:
    """+ - * / over integer/decimal literals only (anything else raises ValueError)."""
    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, int | float) and not isinstance(n.value, bool):
            return Fraction(str(n.value))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            a, b = ev(n.left), ev(n.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b}[type(n.op)]
        raise ValueError("not arithmetic")
    if not re.fullmatch(r"[\d\s.+\-*/()]+", expr):
        raise ValueError("not arithmetic")
    return ev(ast.parse(expr, mode="eval"))


def canonical(answer: str) -> tuple[str, bool, str]:
    a = answer.strip()
    if re.search(r"\sor\s|,", a):
        return a, True, "several values"
    a = re.sub(r"\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}", r"(\1)/(\2)", a).replace("\\cdot", "*").replace("$", "")
    try:
        v = _arith(a)
    except (ValueError, SyntaxError, ZeroDivisionError):
        return a, False, "kept as text"
    s = f"{float(v):.6f}".rstrip("0").rstrip(".")
    return s, False, f"evaluated {answer.strip()} = {s}"


class ArithmeticJudge:
    """Deterministic judge; counts requests per kind; ``fail_after`` requests raises (a killed run)."""

    def __init__(self, model: str = "fake-judge", guided: bool = False, fail_after: int | None = None,
                 ambiguous_word: str | None = None):
        self.model, self.guided, self.fail_after = model, guided, fail_after
        self.ambiguous_word = ambiguous_word  # questions naming it are ambiguous too
        self.calls: list[str] = []
        self.schemas: list = []

    def reply_for(self, messages: list[dict]) -> str:
        system = _text(messages[0]["content"])
        first_user = messages[1]
        user = _text(first_user["content"])
        retry = any(m["role"] == "assistant" for m in messages)
        question = _between(user, "Question:", "Reference answer:")
        answer = _between(user, "Reference answer:", None)
        if "GARBLE2" in question or ("GARBLE" in question and not retry):
            return "Sure! The verdict is {relevance_filter: no"
        if "five checks" in system:
            flags = {
                "relevance_filter": not _has_image(first_user["content"]),
                "ambiguous_filter": bool(re.search(r"\sor\s", answer))
                or bool(self.ambiguous_word and self.ambiguous_word in question),
                "language_filter": any(ord(c) > 127 and c.isalpha() for c in question),
                "verifiable_filter": len(answer) > 100,
                "number_precision_filter": bool(re.search(r"\d\.\d{4,}", answer)),
            }
            why = ", ".join(k for k, v in flags.items() if v) or "fine"
            body = json.dumps({**flags, "reason": f"checked {len(question)} chars: {why}"})
        else:
            a, multi, why = canonical(answer.split("\n")[0] if "Options:" not in answer else answer)
            body = json.dumps({"answer": a, "multi_value": multi, "reason": why})
        # every other reply comes in a Markdown fence, as chat models like to send JSON
        if int(hashlib.sha256(question.encode()).hexdigest(), 16) % 2:
            body = f"```json\n{body}\n```"
        return body

    def complete(self, requests, sampling):
        out = []
        for r in requests:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise RuntimeError("judge went away")
            self.calls.append(r.id)
            self.schemas.append(r.json_schema)
            text = self.reply_for(r.messages)
            out.append(JudgeReply(text, len(text.split()), "stop"))
        return out


def write_rows(folder: Path, rows: list[dict], seed: int = 0) -> Path:
    """``folder/data/train-00000-of-00001.parquet`` with generated rows rewritten to ``rows``' fields
    (question, answer, reward_type, category, extra_info): real images, canonical schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.api import generate_to_dir
    from vero_data.schema import arrow_schema_with_features

    base = generate_to_dir("counting", len(rows), seed, folder / "_gen")
    t = pq.read_table(base["path"]).to_pylist()
    import shutil

    shutil.rmtree(folder / "_gen")
    out = []
    for i, (r, spec) in enumerate(zip(t, rows, strict=True)):
        r = dict(r)
        r["id"] = spec.get("id", f"row{i:03d}")
        q = spec.get("question", f"How many shapes are there? ({i})")
        r["prompt"] = [{"role": "user", "content": ("<image>\n" if spec.get("image", True) else "") + q}]
        if not spec.get("image", True):
            r["images"] = []
        r["answer"] = spec["answer"]
        r["reward_type"] = spec.get("reward_type", "numeric")
        r["category"] = spec.get("category", "stem")
        r["extra_info"] = json.dumps(spec.get("extra", {}))
        out.append(r)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(out).cast(arrow_schema_with_features()),
                   folder / "data" / "train-00000-of-00001.parquet")
    return folder


# Four rows for the command-line tests: one the rules settle, one only the judge can, one the filter drops, one
# captioning row that neither step touches.
ROWS_SMALL = [
    {"id": "n1", "answer": "12"},
    {"id": "frac", "answer": "1/2"},
    {"id": "amb", "answer": "3 or 4", "reward_type": "string_match", "category": "chart_ocr"},
    {"id": "cap", "answer": "a caption", "reward_type": "llm_judge", "category": "captioning_if"},
]
