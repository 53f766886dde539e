"""LLM-judged benchmarks (eval_scoring.md §22–30) scored as Vero's lmms-eval fork does.

Judge prompts are the fork's texts (``judge_prompts.py``, verbatim with sources); filling, reply parsing and
aggregation below are written for this toolkit after the fork's behaviour. Without a judge (``ctx.judge is None``) a
judged sample has no score (None). MM-IFEval checks its ``rule_based`` constraints with code and sends only the others
to the judge; MM-MT-Bench is split into one doc per turn (``mm_mt_bench_turns``) and judged with the conversation so far.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from vero_data.benchmarks import judge_prompts as P
from vero_data.benchmarks.doc_fields import conversation_messages, first_field, fvqa_fields, visual_probe_question
from vero_data.benchmarks.extract import _BRACE, final_answer, strip_reasoning, unwrap_text
from vero_data.benchmarks.scoring import ScoreContext, scorer


def _judge(ctx: ScoreContext, prompt: str, parse) -> float | None:
    if ctx.judge is None:
        return None
    value, _ = ctx.judge.ask(prompt, parse)
    return value


# ----------------------------------------------------------------------------------------------- reply parsing
def json_candidate(text: str) -> dict | None:
    """The reply as a JSON object, or the span from its first ``{`` to its last ``}``; else None."""
    text = (text or "").strip()
    spans = [text]
    if "{" in text and "}" in text and text.rfind("}") > text.find("{"):
        spans.append(text[text.find("{"): text.rfind("}") + 1])
    for s in spans:
        try:
            obj = json.loads(s)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _yes_no(reply: str, keys: tuple[str, ...], yes: tuple[str, ...], no: tuple[str, ...],
            yes_words: tuple[str, ...], no_words: tuple[str, ...]) -> float:
    text = (reply or "").strip()
    obj = json_candidate(text)
    if obj is not None:
        for k in keys:
            if k not in obj:
                continue
            v = obj[k]
            if isinstance(v, bool):
                return float(v)
            if isinstance(v, str):
                low = v.strip().lower()
                if low.startswith(yes):
                    return 1.0
                if low.startswith(no):
                    return 0.0
        text = str(obj)
    low = text.lower()
    if low in yes_words:
        return 1.0
    if low in no_words:
        return 0.0
    if low.startswith(yes_words[:1] + yes_words[3:]):
        return 1.0
    if low.startswith(no_words[:1] + no_words[3:]):
        return 0.0
    if "yes" in low and "no" not in low:
        return 1.0
    return 0.0


def parse_equivalence(reply: str) -> float:
    """ChartMuseum (chartmuseum/utils.py _parse_judge_output): JSON yes/no under the usual keys, else yes/no text."""
    return _yes_no(reply, ("equivalent", "is_equivalent", "match", "verdict", "result", "answer", "decision"),
                   ("y",), ("n",), ("yes", '"yes"', "'yes'"), ("no", '"no"', "'no'"))


def parse_equivalence_tf(reply: str) -> float:
    """FVQA / VisualProbe: like :func:`parse_equivalence` but true/false count too."""
    return _yes_no(reply, ("is_equivalent", "equivalent", "result", "answer", "decision"),
                   ("y", "t"), ("n", "f"), ("yes", '"yes"', "'yes'", "true"), ("no", '"no"', "'no'", "false"))


_CORRECT, _NOT_ATTEMPTED = "\u6b63\u786e", "\u672a\u5c1d\u8bd5"
_LABELS = {"\u6b63\u786e", "\u9519\u8bef", "\u672a\u5c1d\u8bd5"}


def parse_simplevqa(reply: str) -> float:
    """SimpleVQA: first value of the reply's JSON dict; 正确 → 1, anything else (错误, 未尝试, unparsed) → 0."""
    s = (reply or "").strip()
    for fence in ("```json", "```python", "```"):
        s = s.replace(fence, "")
    s = s.strip()
    if s and not s.endswith("}"):
        s += "}"
    obj = json_candidate(s)
    if not obj:
        return 0.0
    v = next(iter(obj.values()))
    if isinstance(v, dict):
        v = v.get("conclusion", "")
    label = str(v).replace("**", "")
    if label not in _LABELS and len(label) > 3:
        label = _NOT_ATTEMPTED
    return float(label == _CORRECT)


def parse_charxiv(reply: str) -> float | None:
    """CharXiv: JSON ``{"extracted_answer", "score"}`` → int(score); None (retried) when it does not parse."""
    obj = json_candidate(reply)
    if obj is None or "extracted_answer" not in obj:
        return None
    try:
        return float(int(obj["score"]))
    except (KeyError, TypeError, ValueError):
        return None


_BRACKET = re.compile(r"\[\[(\d+\.?\d*)\]\]")


def parse_mt_rating(reply: str) -> float | None:
    """MM-MT-Bench: the FIRST ``[[N]]`` → N / 10 (the fork keeps N on 1–10; we report ×10 of its micro average);
    None when absent (the fork's −1, dropped from the averages)."""
    m = _BRACKET.search(reply or "")
    return None if m is None else float(m.group(1)) / 10.0


# ------------------------------------------------------------------------------------- equivalence benchmarks
@scorer("chartmuseum")
def score_chartmuseum(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    prompt = (P.CHARTMUSEUM.replace("[QUESTION]", first_field(doc, "question").strip())
              .replace("[ANSWER1]", str(doc.get("answer")).strip()).replace("[ANSWER2]", final_answer(response)))
    return {"judge_accuracy": _judge(ctx, prompt, parse_equivalence)}


def parse_visual_probe(reply: str) -> float:
    """visual_probe/utils.py _parse_judge_output: JSON under is_equivalent / equivalent / match / result / answer /
    decision (bool, or text starting y/t or n/f), else the yes/true – no/false text rules; anything else → 0."""
    return _yes_no(reply, ("is_equivalent", "equivalent", "match", "result", "answer", "decision"),
                   ("y", "t"), ("n", "f"), ("yes", '"yes"', "'yes'", "true"), ("no", '"no"', "'no'", "false"))


@scorer("visual_probe")
def score_visual_probe(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    """The question as the prompt builder reads it, reference ``solution`` else ``answer``, FAE prediction."""
    reference = str(doc.get("solution") or doc.get("answer") or doc.get("label") or "").strip()
    prompt = (P.VISUAL_PROBE.replace("[QUESTION]", visual_probe_question(doc)).replace("[REFERENCE]", reference)
              .replace("[PREDICTION]", final_answer(response)))
    return {"judge_accuracy": _judge(ctx, prompt, parse_visual_probe)}


@scorer("fvqa")
def score_fvqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    question, truth, cands = fvqa_fields(doc)
    prompt = (P.FVQA.replace("{question}", question).replace("{ground truth answer}", truth)
              .replace("{candidate answers}", json.dumps(cands, ensure_ascii=False))
              .replace("{model response}", final_answer(response, boxed=False)))
    return {"judge_accuracy": _judge(ctx, prompt, parse_equivalence_tf)}


@scorer("simplevqa")
def score_simplevqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    cands = f"\n[\u9884\u6d4b\u7b54\u6848{0}]\uff1a{final_answer(response)}"
    prompt = (P.SIMPLEVQA.replace("{question}", first_field(doc, "question").strip())
              .replace("{answer}", first_field(doc, "answer").strip()).replace("{candidates}", cands))
    return {"simplevqa_acc": _judge(ctx, prompt, parse_simplevqa)}


@scorer("charxiv_reasoning")
def score_charxiv(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    # the fork's inst_category is the row's reasoning_q_source (charxiv/utils.py charxiv_reasoning_process_results);
    # the graded response is extract_final_answer(parse_boxed=False): reasoning dropped, boxes kept
    try:
        cat = int(doc.get("reasoning_q_source") or doc.get("inst_category") or doc.get("reasoning_a_type") or 1)
    except (TypeError, ValueError):
        cat = 1
    inst = P.CHARXIV_INST.get(cat, P.CHARXIV_INST[1])
    prompt = P.CHARXIV_PREFIX + (inst.replace("<|question|>", first_field(doc, "reasoning_q", "question"))
                                 .replace("<|ground_truth|>", first_field(doc, "reasoning_a", "answer"))
                                 .replace("<|response|>", strip_reasoning(response)))
    v = _judge(ctx, prompt, parse_charxiv)
    return {"reasoning_acc": None if ctx.judge is None else (v or 0.0)}  # unparsed after retries: 0, as the fork


# ---------------------------------------------------------------------------------------------- MM-Vet v2
_UNIT = re.compile(r"\b(?:0(?:\.\d+)?|1(?:\.0+)?)\b")


def _unit(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if 0.0 <= v <= 1.0 else None


def parse_mmvet(reply: str) -> float | None:
    """mmvetv2/utils.py _extract_score: a JSON object's ``score`` / ``correctness`` / ``result`` / ``value`` in [0, 1];
    else the reply's first space-separated token as a number in [0, 1]; else the first standalone ``0``, ``0.x``, ``1``
    or ``1.0…`` in the text; None (asked again; 0 once the retries are spent) when none is there."""
    text = (reply or "").strip()
    if not text:
        return None
    obj = json_candidate(text)
    if obj is not None:
        for key in ("score", "correctness", "result", "value"):
            if key in obj and (v := _unit(obj[key])) is not None:
                return v
    if (v := _unit(text.split(" ")[0].strip())) is not None:
        return v
    for m in _UNIT.findall(text):
        if (v := _unit(m)) is not None:
            return v
    return None


@scorer("mmvet")
def score_mmvet(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    """mmvetv2 judge: the fork's prompt with the raw question, ``<AND>``/``<OR>`` spaced out in the ground truth and
    the FAE answer without box unwrapping (``parse_boxed=False``) as the prediction; unparsed after retries → 0."""
    answer = first_field(doc, "answer").replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    prompt = (P.MMVET.replace("[QUESTION]", first_field(doc, "question")).replace("[GROUND_TRUTH]", answer)
              .replace("[PREDICTION]", final_answer(response, boxed=False)))
    v = _judge(ctx, prompt, parse_mmvet)
    return {"gpt_eval_score": None if ctx.judge is None else (v or 0.0)}


# ---------------------------------------------------------------------------------------------- MIA-Bench
_ORD = ("first", "second", "third", "fourth", "fifth")


def mia_prompt(instruction: str, components: list[str], weights: list, response: str) -> str:
    """mia_bench/utils.py generate_prompt: the fork's wording for 1–5 components, filled the same way."""
    w = [str(x) for x in weights]
    n = len(components)
    comps = "The first component is:' " + components[0] + "'"
    for i in range(1, n):
        comps = comps[:-1] + f"', and the {_ORD[i]} component is:' " + components[i] + "'"
    if n == 1:
        score = "The first component is worth " + w[0] + " scores."
    elif n == 2:
        score = "The first and second components are each worth " + w[0] + " and " + w[1] + " scores."
    else:
        names = ", ".join(_ORD[:n - 1]) + ", and " + _ORD[n - 1]
        score = (f"The {names} components are each worth " + ", ".join(w[:-1]) + ", and " + w[-1] + " scores.")
    return ("Here is an instruction for a multimodal LLM: ' " + instruction
            + " You need to grade if the response from the model follows each component of the instruction. "
            + comps + " The response is:' " + response
            + "' You need to score the response and be strict. The total score ranges from 0 to 10, depending on if "
              "the response follows the instruction. " + score
            + " List scores of each component, and the total score in one sentence in this EXACT format: "
            + ", ".join(f"score of component {i + 1}: ?/{w[i]}" for i in range(n))
            + ", total score: ?/10. Replace each ? with the actual numeric score. Do not use markdown formatting or "
              "asterisks. Then explain your reasons.")


_MIA_COMP = (re.compile(r"(?:score\s+of\s+)?component\s+(\d+)\s*[:=]\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", re.I),
             re.compile(r"(?:score\s+of\s+)?constraint[_\s]*(\d+)\s*[:=]\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", re.I))
_MIA_TOTAL = re.compile(r"total\s+score\s*[:=]\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", re.I)


def parse_mia(reply: str, n_components: int) -> float | None:
    """mia_bench process_rawscore: read only up to the first ``.``; ``total score: a/b`` clamped to [0, 1], else the
    mean of the ``component i: a/b`` fractions; None when neither is there (the fork then gives 0)."""
    text = reply or ""
    cut = text.find(".")
    line = text[: cut + 1] if cut != -1 else text
    m = _MIA_TOTAL.search(line)
    if m:
        den = float(m.group(2))
        return max(0.0, min(1.0, float(m.group(1)) / den if den else 0.0))
    comps: dict[int, float] = {}
    for pat in _MIA_COMP:
        for idx, a, b in pat.findall(line):
            k = int(idx) - 1
            if 0 <= k < n_components:
                comps[k] = max(0.0, min(1.0, float(a) / float(b) if float(b) else 0.0))
    return sum(comps.values()) / len(comps) if comps else None


@scorer("mia_bench")
def score_mia_bench(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    comps = [str(c) for c in (doc.get("components") or [])][:5]
    weights = list(doc.get("component_weight") or [])[: len(comps)]
    if not comps:
        return {"gpt_eval_score": None}
    prompt = mia_prompt(first_field(doc, "instruction", "question"), comps, weights, final_answer(response, boxed=False))
    v = _judge(ctx, prompt, lambda r: parse_mia(r, len(comps)))
    return {"gpt_eval_score": None if ctx.judge is None else (v or 0.0)}


# ---------------------------------------------------------------------------------------------- MM-MT-Bench
def _text(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content
                       if not (isinstance(c, dict) and c.get("type") in ("image", "image_url")))
    return str(content.get("text", "")) if isinstance(content, dict) else str(content)


def mm_mt_bench_turns(rows: Iterable[dict]) -> Iterator[dict]:
    """process_docs: one doc per (user, assistant) pair, as mm_mt_bench_process_docs does. Each carries the whole
    conversation, ``turn``, ``message_index`` (of the user message), ``reference_answer``, ``category`` and
    ``question`` (that turn's user text, the prompt template's field)."""
    for row in rows:
        msgs = conversation_messages(row)
        for i in range(0, len(msgs) - 1, 2):
            if msgs[i].get("role") != "user":
                continue
            yield {**row, "conversation": json.dumps(msgs, ensure_ascii=False), "turn": i // 2, "message_index": i,
                   "reference_answer": _text(msgs[i + 1].get("content")).strip(), "question": _text(msgs[i].get("content"))}


def mt_bench_prompt(doc: dict, answer: str) -> str:
    """The text-only judge prompt: system text + replay of the turns so far (user / reference) + the model's answer."""
    msgs = conversation_messages(doc)
    idx = doc.get("message_index")
    if isinstance(idx, int):
        msgs = msgs[: idx + 1]
    questions = [_text(m.get("content")) for m in msgs if m.get("role") == "user"]
    refs = [_text(m.get("content")) for m in msgs if m.get("role") == "assistant"]
    refs.append(str(doc.get("reference_answer", "")).strip())
    body = P.MT_BENCH_START
    for q, r in zip(questions, refs, strict=False):
        body += P.MT_BENCH_USER + q + P.MT_BENCH_REFERENCE.format(ref=r)
    body += P.MT_BENCH_ANSWER.format(answer=answer) + P.MT_BENCH_END
    return P.MT_BENCH_SYSTEM.strip() + "\n" + body


@scorer("mm_mt_bench")
def score_mm_mt_bench(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    """Per-turn rating (first ``[[N]]``) / 10; micro = mean over turns, macro = mean of category means (aggregate)."""
    if not doc.get("conversation"):  # a flat row (no conversation): judge it as a single turn
        doc = {**doc, "conversation": [{"role": "user", "content": first_field(doc, "question", "prompt")},
                                       {"role": "assistant", "content": first_field(doc, "reference", "answer")}],
               "message_index": 0, "reference_answer": first_field(doc, "reference", "answer")}
    return {"micro_average_score": _judge(ctx, mt_bench_prompt(doc, final_answer(response, boxed=False)), parse_mt_rating)}


# ---------------------------------------------------------------------------------------------- MM-IFEval
def _clean(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", _clean(text)) if p.strip()]


def _sentences(text: str) -> list[str]:
    try:
        import nltk

        return nltk.sent_tokenize(text)
    except (ImportError, LookupError):  # punkt data missing: a plain splitter on . ! ? followed by space
        return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _words(text: str) -> int:
    return len(re.sub(r"[^\w\s.-]", "", text).split())


def _kw_counts(text: str, keywords: list[str]) -> list[int]:
    low = _clean(text).lower()
    return [len(re.findall(r"\b" + re.escape(k.lower()) + r"\b", low)) for k in keywords]


_NUM = re.compile(r"(?<!\w)[+-]?(?:\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?%?(?!\w)")
_ARABIC = re.compile(r"(?<![.\w])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|\d+\.\d+%?|\d+%?|\d+(?:\.\d+)?(?:[eE][+-]?\d+))(?![.\w])")


def _number_precision(text: str, precision: int) -> bool:
    for m in _NUM.finditer(text):
        mant = re.split("[eE]", m.group().replace(",", "").rstrip("%"))[0]
        if ("." in mant and len(mant.split(".")[-1]) != precision) or ("." not in mant and precision != 0):
            return False
    return True


def _percent_precision(text: str, precision: int) -> bool:
    return all("." in n and len(n.split(".")[1]) == precision for n in re.findall(r"(\d+\.\d+|\d+)\s*%", text))


# The rule_based verify functions named in MMIFEval's constraint records (mmifeval/utils.py), reimplemented.
MMIF_RULES = {
    "check_whether_response_paragraph_number_in_range": lambda r, lo, hi: lo <= len(_paragraphs(r)) <= hi,
    "check_whether_response_sentence_number_in_range": lambda r, lo, hi: lo <= len(_sentences(_clean(r))) <= hi,
    "check_whether_each_paragraph_sentence_number_in_range":
        lambda r, lo, hi: all(lo <= len(_sentences(p)) <= hi for p in _paragraphs(r)),
    "check_whether_each_paragraph_sentence_number_in_range_list":
        lambda r, ranges: len(_paragraphs(r)) == len(ranges)
        and all(a <= len(_sentences(p)) <= b for p, (a, b) in zip(_paragraphs(r), ranges, strict=False)),
    "check_whether_response_word_count_in_range": lambda r, lo, hi: lo <= _words(r) <= hi,
    "check_whether_each_paragraph_word_count_in_range":
        lambda r, lo, hi: all(lo <= _words(p) <= hi for p in _paragraphs(r)),
    "check_whether_whole_response_not_contain_certain_substrings": lambda r, subs: all(s not in r for s in subs),
    "check_whether_whole_response_not_contain_certain_substring": lambda r, s: s not in r,
    "check_whether_each_sentence_begin_with_certain_substring":
        lambda r, s: all(x.startswith(s) for x in _sentences(_clean(r))),
    "check_whether_each_paragraph_begin_with_certain_substring": lambda r, s: all(p.startswith(s) for p in _paragraphs(r)),
    "check_whether_each_paragraph_end_with_certain_substring": lambda r, s: all(p.endswith(s) for p in _paragraphs(r)),
    "check_whether_each_sentence_end_with_certain_substring":
        lambda r, s: all(x.endswith(s) for x in _sentences(_clean(r))),
    "check_whether_whole_response_begin_with_certain_substring": lambda r, s: r.strip().startswith(s),
    "check_whether_whole_response_end_with_certain_substring": lambda r, s: r.strip().endswith(s),
    "check_whether_each_keyword_in_list_metioned_in_range":
        lambda r, kws, lo, hi: all(lo <= c <= hi for c in _kw_counts(r, kws)),
    "check_whether_total_keyword_in_list_metioned_in_range": lambda r, kws, lo, hi: lo <= sum(_kw_counts(r, kws)) <= hi,
    "check_percentage_number_precision_in_response": _percent_precision,
    "check_number_precision_in_response": _number_precision,
    "check_whether_has_no_arabic_number_in_response": lambda r: not _ARABIC.findall(r),
}

_MMIF_SCORE = re.compile(r"Score\s+of\s+([a-zA-Z0-9_\-]+):\s*(\d+)\s*/\s*(\d+)", re.I)


def parse_mmif_c_level(reply: str) -> dict[str, float] | None:
    """``Score of constraint_i: x/1`` pairs (whitespace collapsed, ``*`` removed) → {"constraint_i": x}."""
    text = re.sub(r"\*", "", re.sub(r"\s+", " ", reply or "")).strip()
    found = _MMIF_SCORE.findall(text)
    return {k.strip().lower().replace(" ", "_"): int(a) / int(b) for k, a, b in found} or None


def parse_mmif_p_level(reply: str) -> float | None:
    if reply == "right":
        return 1.0
    if reply == "wrong":
        return 0.0
    if re.search("right", reply or "", re.I):
        return 1.0
    return 0.0 if re.search("wrong", reply or "", re.I) else None


def parse_mmif_cmp(reply: str) -> float | None:
    i = (reply or "").lower().rfind("summary")
    if i == -1:
        return None
    m = re.search(r"\b(true|false)\b", reply[i + len("summary"):], re.I)
    return None if m is None else float(m.group(1).lower() == "true")


def _jl(value, default):
    if isinstance(value, list | dict):
        return value
    try:
        return json.loads(value) if isinstance(value, str) else default
    except ValueError:
        return default


def mmifeval_prediction(response: object) -> str:
    """extract_final_answer(parse_boxed=False, strip_latex_wrappers=True), as mmifeval_process_results: reasoning
    dropped, every balanced ``\\boxed{…}`` replaced by its content in place (stop at an unbalanced one), then a
    ``\\text{…}`` spanning the whole answer unwrapped."""
    text = strip_reasoning(response)
    box = "\\boxed{"
    # Linear: every brace matched once with a stack, then the boxes unwrapped in order (deleting a box's opener and
    # its matching brace never changes another box's match), stopping at the first unbalanced one.
    match, stack = {}, []
    for m in _BRACE.finditer(text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            match[stack.pop()] = m.start()
    cuts, pos = [], 0
    while (i := text.find(box, pos)) >= 0:
        end = match.get(i + len(box) - 1, -1)
        if end < 0:
            break
        cuts += [(i, i + len(box)), (end, end + 1)]
        pos = i + len(box)
    cuts.sort()
    out, at = [], 0
    for a, b in cuts:
        out.append(text[at:a])
        at = b
    out.append(text[at:])
    return unwrap_text("".join(out)).strip()


def mmifeval_question(doc: dict) -> str:
    """mmifeval/utils.py mmifeval_doc_to_text (empty pre/post prompts): ``question``, else ``instruction``."""
    return str(doc.get("question") or doc.get("instruction") or "")


def mmifeval_main_docs(rows: Iterable[dict]) -> Iterator[dict]:
    """process_docs: the split holds ``infer_type: main`` rows and ``aux_cmp_gpt`` rows (the same item, one
    ``cmp_gpt`` constraint ``del_cons`` removed from its question). The fork generates for both and pairs them by
    ``id`` when aggregating; here each main doc carries ``aux_prompts`` {del_cons: aux question}, which the eval run
    generates as extra requests (same image) and hands to the scorer as ``aux_predictions``."""
    main, aux = [], {}
    for row in rows:
        if row.get("infer_type", "main") in (None, "", "main"):
            main.append(row)
        elif row.get("infer_type") == "aux_cmp_gpt" and row.get("del_cons") and row.get("id") is not None:
            aux.setdefault(row["id"], {})[row["del_cons"]] = mmifeval_question(row)
    for row in main:
        prompts = aux.get(row.get("id"))
        yield {**row, "aux_prompts": dict(prompts)} if prompts else row


@scorer("mmifeval")
def score_mmifeval(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    """P-Level: one right/wrong judgement against the answer list. C-Level: ``direct_gpt`` constraints in one judge
    call, ``rule_based`` ones by code, ``cmp_gpt`` ones by the judge with the aux response (``doc["aux_predictions"]
    [key]``, the fork's aux_cmp_gpt rows); per-item score = mean over constraints. Judge failure → 0 (failed item)."""
    pred = mmifeval_prediction(response)
    p_level = doc.get("tag") == "P-Level"
    out: dict[str, float | None] = {"mmifeval_overall_accuracy": None,
                                    "mmifeval_p_level_accuracy" if p_level else "mmifeval_c_level_accuracy": None}
    if p_level:
        if ctx.judge is None:
            return out
        gt = json.dumps(_jl(doc.get("answer"), [])) if not isinstance(doc.get("answer"), str) else doc["answer"]
        prompt = (P.MMIF_P_LEVEL.replace("{question}", first_field(doc, "question"))
                  .replace("{prediction}", pred).replace("{ground_truth}", str(_jl(gt, []))))
        v = _judge(ctx, prompt, parse_mmif_p_level) or 0.0
        return {"mmifeval_overall_accuracy": v, "mmifeval_p_level_accuracy": v}
    cons = [c for c in _jl(doc.get("constraints"), []) if isinstance(c, dict)]
    method = lambda c: (c.get("judge") or {}).get("method")  # noqa: E731
    direct = [c for c in cons if method(c) == "direct_gpt"]
    scores: dict[str, float] = {}
    if direct:
        if ctx.judge is None:
            return out
        listing = "\n".join(f"Constraint_{i + 1}: {c['value']}" for i, c in enumerate(direct))
        prompt = P.MMIF_C_LEVEL.replace("{prediction}", pred).replace("{constraints}", listing)
        n = len(direct)
        value, reply = ctx.judge.ask(prompt, lambda r: 1.0 if all(
            f"constraint_{i + 1}" in (parse_mmif_c_level(r) or {}) for i in range(n)) else None)
        if value is None:
            return {k: 0.0 for k in out}
        d = parse_mmif_c_level(reply) or {}
        for i, c in enumerate(direct):
            scores[c["key"]] = d.get(f"constraint_{i + 1}", 0.0)
    for c in cons:
        if method(c) == "rule_based":
            ok = all(MMIF_RULES[f["func"]](pred, *f.get("params", [])) for f in c["judge"].get("verify_funcs", []))
            scores[c["key"]] = float(ok)
    for c in cons:
        if method(c) == "cmp_gpt":
            aux = (doc.get("aux_predictions") or {}).get(c["key"])
            if ctx.judge is None or aux is None:
                return out if ctx.judge is None else {k: 0.0 for k in out}
            prompt = (P.MMIF_CMP.replace("{constraint}", str(c["value"])).replace("{with_constraint}", pred)
                      .replace("{without_constraint}", mmifeval_prediction(aux)))
            v = _judge(ctx, prompt, parse_mmif_cmp)
            if v is None:
                return {k: 0.0 for k in out}
            scores[c["key"]] = v
    total = sum(scores.values()) / len(scores) if scores else 0.0
    return {k: total for k in out}
