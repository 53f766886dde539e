"""Per-row prompt builders for benchmarks whose fork ``doc_to_text`` is more than a format string.

Template texts are copied verbatim from Vero's eval fork, ``zlab-princeton/vero`` @
995e475b65fde5331ce2ecba1d6805b733734eab, ``vero-eval/lmms_eval/tasks/`` (path per constant); the code that selects and
fills them is ours, written after the fork's behaviour. A builder takes the row and returns the user text, or
``(text, image_fields)`` when the row decides which image fields are shown. Referenced from a task YAML as
``prompt.builder: vero_data.benchmarks.prompts:<name>``.
"""

from __future__ import annotations

import ast
import re

from vero_data.benchmarks.doc_fields import conversation_messages, fvqa_fields, visual_probe_question

# ----------------------------------------------------------------------------------------------- ChartQA-Pro
# The *_reasoning task uses chartqa_pro_doc_to_text_alt, which reads chartqa_pro/chartqa_pro_prompts_alt/<type>.txt.
# chartqa_pro/chartqa_pro_prompts_alt/Factoid.txt
CHARTQA_PRO_FACTOID = (
    "<question> If the question is unanswerable based on the information in the provided image, your boxed answer "
    "should be \"unanswerable\". If there are multiple answers, put them in brackets using this format "
    "[\u2019Answer1\u2019, \u2019Answer2\u2019]."
)
# chartqa_pro/chartqa_pro_prompts_alt/Fact_Checking.txt
CHARTQA_PRO_FACT_CHECKING = (
    "You are given a fact statement that you need to assess based on the provided image.\n\nStatement: <question> \n"
    "Your boxed answer should be either \"true\" or \"false\", or if the question is unanswerable based on the "
    "information in the provided image, your boxed answer should be \"unanswerable\"."
)
# chartqa_pro/chartqa_pro_prompts_alt/Conversational.txt
CHARTQA_PRO_CONVERSATIONAL = (
    "Conversation history: \n<conversation> \n\nQuestion: <question> \nIf the question is unanswerable based on the "
    "information in the provided image, your boxed answer should be \"unanswerable\". If there are multiple answers, "
    "your boxed answer should use format [\u2019Answer1\u2019, \u2019Answer2\u2019]."
)
# chartqa_pro_prompts_alt/Multi_Choice.txt and Hypothetical.txt are loaded by the fork but are not in the source
# index we read, so these two types use the fork's original (non-alt) files instead (docs/benchmarks.md says so).
# chartqa_pro/chartqa_pro_prompts/Multi_Choice.txt
CHARTQA_PRO_MULTI_CHOICE = (
    "You are given a question along with different possible answers. You need to select the correct answer from them "
    "based on the provided image.\n\nYour answer should be one of the options letters only: a, b, c or d. If the "
    "question is unanswerable based on the information in the provided image, your answer should be "
    "\"unanswerable\".\n\nIf there are multiple answers, put them in brackets using this format "
    "[\u2019Answer1\u2019, \u2019Answer2\u2019].\n\nQuestion: <question>"
)
# chartqa_pro/chartqa_pro_prompts/Hypothetical.txt
CHARTQA_PRO_HYPOTHETICAL = (
    "You are given a hypothetical question that you need to answer based on the provided image.\n\nYour answer should "
    "be a single word, number, or phrase. If the question is unanswerable based on the information in the provided "
    "image, your answer should be \"unanswerable\". Do not generate units. But if numerical units such as million, m, "
    "billion, B, or K are required, use the exact notation shown in the chart.\n\nIf there are multiple answers, put "
    "them in brackets using this format [\u2019Answer1\u2019, \u2019Answer2\u2019].\n\nQuestion: <question>"
)
CHARTQA_PRO_TEMPLATES = {
    "Factoid": CHARTQA_PRO_FACTOID,
    "Multi Choice": CHARTQA_PRO_MULTI_CHOICE,
    "Hypothetical": CHARTQA_PRO_HYPOTHETICAL,
    "Fact Checking": CHARTQA_PRO_FACT_CHECKING,
    "Conversational": CHARTQA_PRO_CONVERSATIONAL,
}


def chartqa_pro(doc: dict) -> str:
    """The template of the row's ``Question Type``. Single-turn types use the first question; Conversational puts the
    earlier (question, answer) pairs as ``Question: q\\n\\nAnswer: a`` blocks, joined with nothing between them (as
    the fork's alt builder does), and asks the last question."""
    qtype = doc.get("Question Type")
    if qtype not in CHARTQA_PRO_TEMPLATES:
        raise ValueError(f"ChartQA-Pro: unknown Question Type {qtype!r}")
    question = doc.get("Question")
    template = CHARTQA_PRO_TEMPLATES[qtype]
    if qtype != "Conversational":
        q = question[0] if isinstance(question, list) else question
        return template.replace("<question>", str(q))
    turns = list(question) if isinstance(question, list) else [question]
    answers = doc.get("Answer")
    past_answers = list(answers[:-1]) if isinstance(answers, list) else []
    history = "".join(f"Question: {q}\n\nAnswer: {a}" for q, a in zip(turns[:-1], past_answers, strict=False))
    return template.replace("<conversation>", history).replace("<question>", str(turns[-1]))


# --------------------------------------------------------------------------------------------------- MMMU-Pro
_MMMU_IMAGE_TOKEN = re.compile(r"<image \d+>")


def _option_list(value) -> list:
    if isinstance(value, list | tuple):
        return list(value)
    try:
        got = ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        return [value]
    return list(got) if isinstance(got, list | tuple) else [got]


def mmmu_pro_standard(doc: dict) -> tuple[str, list[str]]:
    """mmmu_pro/utils.py construct_prompt with the reasoning task's empty post_prompt
    (mmmu_pro_standard_reasoning.yaml): ``question\\nA. opt\\nB. opt…\\n\\n``; ``<image N>`` tokens stay in the text
    (interleaved_format false) and only the images they name are shown, ordered by name."""
    options = "\n".join(f"{chr(ord('A') + i)}. {o}" for i, o in enumerate(_option_list(doc.get("options"))))
    text = f"{doc.get('question', '')}\n{options}\n\n"
    fields = sorted({t.strip("<>").replace(" ", "_") for t in _MMMU_IMAGE_TOKEN.findall(text)})
    return text, fields


# ---------------------------------------------------------------------------------------------------- MM-Vet v2
_MMVET_IMAGE_TOKEN = re.compile(r"<image_\d+>")


def mmvet_v2(doc: dict) -> tuple[str, list[str]]:
    """mmvetv2/utils.py doc_to_text (interleaved_format false, empty pre/post prompts): the question with ``<IMG>``
    markers removed and ``<image_N>`` tokens kept; the images are the ``image_N`` fields those tokens name, in order.
    (The fork pastes them into one labelled strip; here they are sent as separate images.)"""
    question = str(doc.get("question", ""))
    fields = [t.strip("<>") for t in _MMVET_IMAGE_TOKEN.findall(question)]
    return "".join(question.split("<IMG>")), fields or ["image"]


# ---------------------------------------------------------------------------------------------------- VisualProbe
def visual_probe(doc: dict) -> str:
    """The reasoning tasks set empty pre/post prompts, so the text is the question alone."""
    return visual_probe_question(doc)


# ------------------------------------------------------------------------------------- multiple-choice builders
# The *_reasoning tasks below all set empty pre/post prompts (except MME-RealWorld); the texts are the fork's
# doc_to_text output for that setting. Paths are under vero-eval/lmms_eval/tasks/.
def _options(value) -> list:
    if value is None:
        return []
    return _option_list(value) if not isinstance(value, list | tuple) else list(value)


def blink(doc: dict) -> tuple[str, list[str]]:
    """blink/utils.py blink_doc_to_text: ``prompt + "\\n" + post_prompt`` stripped (the hub ``prompt`` already holds
    the lettered choices); images = every ``image_N`` field that is set, in field order (blink_doc_to_visual)."""
    fields = [k for k in doc if re.fullmatch(r"image_\d+", k) and doc[k] is not None]
    return (str(doc.get("prompt", "")) + "\n").strip(), fields


def cv_bench(doc: dict) -> str:
    """cv_bench/utils.py cv_bench_doc_to_text: ``pre + "\\n" + prompt + "\\n" + post`` stripped = the hub prompt."""
    return ("\n" + str(doc.get("prompt", "")) + "\n").strip()


def embspatial(doc: dict) -> str:
    """embspatial/utils.py embspatial_doc_to_text: ``question\\nOptions:\\nA. …\\nB. …`` (stripped)."""
    lines = ["Options:"] + [f"{chr(65 + i)}. {o}" for i, o in enumerate(_options(doc.get("answer_options")))]
    return (str(doc.get("question", "")) + "\n" + "\n".join(lines) + "\n").strip()


# realworldqa/utils.py and erqa/utils.py: REPLACE_PROMPT and the option-marker pattern of _extract_mcq_from_question.
MCQ_DIRECT_INSTRUCTION = "Please answer directly with only the letter of the correct option and nothing else."
RWQA_SHORT_INSTRUCTION = "Please answer directly with a single word or number."
_MCQ_OPTION = re.compile(r"(?:^|\s)[\(\[]?([A-D])[\)\]]?\s*[\.:\)]\s*", re.IGNORECASE)


def _split_mcq(question: str, drop_choices_label: bool) -> tuple[str, list[tuple[str, str]]] | None:
    """Question text and (letter, option) pairs found in the question, from the first ``A`` marker on; None when
    fewer than two options are found (the fork then leaves the question as it is)."""
    marks = list(_MCQ_OPTION.finditer(question))
    first = next((i for i, m in enumerate(marks) if m.group(1).upper() == "A"), None)
    if first is None:
        return None
    marks = marks[first:]
    opts = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(question)
        text = question[m.end():end].strip()
        if text:
            opts.append((m.group(1).upper(), text))
    if len(opts) < 2:
        return None
    head = question[: marks[0].start()].strip()
    if drop_choices_label:
        head = re.sub(r"\bChoices:?\s*$", "", head, flags=re.IGNORECASE).strip()
    return head, opts


def _format_mcq(question: str, drop_choices_label: bool = False) -> str:
    got = _split_mcq(question, drop_choices_label)
    if got is None:
        return question
    head, opts = got
    body = "Choices:\n" + "\n".join(f"{letter}. {text}" for letter, text in opts)
    return f"{head}\n{body}" if head else body


def realworldqa(doc: dict) -> str:
    """realworldqa/utils.py realworldqa_doc_to_text_removepost (empty pre/post): the question stripped, its two
    answer-instruction sentences removed, options found in the text rewritten as ``Choices:\\nA. …``; then ``\\n``."""
    q = str(doc.get("question", "")).strip()
    for sentence in (RWQA_SHORT_INSTRUCTION, MCQ_DIRECT_INSTRUCTION):
        if sentence in q:
            q = q.replace(sentence, "").strip()
    return f"{_format_mcq(q)}\n"


def erqa(doc: dict) -> str:
    """erqa/utils.py erqa_doc_to_text_removepost (empty pre/post): the instruction sentence removed, options in the
    text rewritten as ``Choices:\\nA. …`` (a trailing ``Choices:`` label in the question is dropped first)."""
    q = str(doc.get("question", "")).strip().replace(MCQ_DIRECT_INSTRUCTION, "").strip()
    return _format_mcq(q, drop_choices_label=True).strip()


# mme_realworld/mme_realworld_lite_reasoning.yaml post_prompt
MME_REALWORLD_POST_PROMPT = "\nSelect the best answer to the above multiple-choice question based on the image."


def mme_realworld(doc: dict) -> tuple[str, list[str]]:
    """mme_realworld/utils.py mme_realworld_doc_to_text_cot: ``question The choices are listed below:\\n(A) …\\n``
    + the reasoning task's post_prompt. The image is the row's ``image`` when set, else its base64 ``bytes`` field
    (mme_realworld_doc_to_visual)."""
    opts = "\n".join(str(o) for o in _options(doc.get("multi-choice options")))
    text = f"{doc.get('question', '')} The choices are listed below:\n{opts}\n{MME_REALWORLD_POST_PROMPT}"
    return text, ["image"] if doc.get("image") is not None else ["bytes"]


# vstar_bench/utils.py vstar_doc_to_text (strip_answer_instruction: true in vstar_bench_reasoning.yaml)
VSTAR_ANSWER_INSTRUCTION = "Answer with the option's letter from the given choices directly."
_VSTAR_OPTION = re.compile(r"\([A-D]\)\s*([^()]+?)(?=\s*\([A-D]\)|$)")


def vstar(doc: dict) -> str:
    """The answer instruction removed, ``(A) x (B) y`` options rewritten as ``question\\nA. x\\nB. y``."""
    q = str(doc.get("text", ""))
    q = q.replace(f"\n{VSTAR_ANSWER_INSTRUCTION}", "").replace(VSTAR_ANSWER_INSTRUCTION, "").strip()
    found = _VSTAR_OPTION.findall(q)
    if found:
        head = q.split("(A)")[0].strip()
        q = f"{head}\n" + "\n".join(f"{'ABCD'[i]}. {o.strip()}" for i, o in enumerate(found[:4]))
    return q


_MATHVISION_IMAGE_TAGS = tuple(f"<image{i}>" for i in range(1, 9)) + ("<image>",)


def mathvision(doc: dict) -> str:
    """mathvision/utils.py mathvision_doc_to_text_custom (empty mc_prompt): ``question\\nChoices: A. x\\nB. y`` when
    there are options, else the question; ``<image1>``…``<image8>``/``<image>`` tags removed; stripped."""
    opts = _options(doc.get("options"))
    q = str(doc.get("question", ""))
    if opts:
        q = f"{q}\nChoices: " + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(opts))
    for tag in _MATHVISION_IMAGE_TAGS:
        q = q.replace(tag, "")
    return q.strip()


def mathvista(doc: dict) -> str:
    """mathvista/mathvista_evals.py create_one_query with the reasoning task's shot_type ``direct``, 0 shots, no
    caption/OCR: ``question (Unit: u)`` and ``Choices:\\n(A) x\\n(B) y`` joined by newlines, no hint."""
    q = str(doc.get("question", ""))
    if doc.get("unit"):
        q += f" (Unit: {doc['unit']})"
    opts = _options(doc.get("choices"))
    parts = [q]
    if opts:
        parts.append("\n".join(["Choices:"] + [f"({chr(65 + i)}) {o}" for i, o in enumerate(opts)]))
    return "\n".join(p for p in parts if p != "").strip()


# -------------------------------------------------------------------------------------------------- counting/grounding
def countqa(doc: dict) -> str:
    """countqa/utils.py countqa_doc_to_text (empty pre/post): ``question`` (else the first of ``questions``),
    stripped; without one, the fork's fallback question."""
    q = doc.get("question")
    if not q:
        qs = doc.get("questions") or []
        q = qs[0] if qs else None
    return str(q).strip() if q else "How many objects are present?"


# aerialvg/aerialvg_bbox_reasoning.yaml post_prompt
AERIALVG_POST_PROMPT = (
    ' Output the bounding box(es) in a JSON array format: [{"bbox_2d": [x_min, y_min, x_max, y_max], "label": '
    '"<class name>"}]. For a single object, return one array element; for multiple objects, return one element per '
    'object in the array.'
)


def aerialvg(doc: dict) -> str:
    """aerialvg/utils.py aerialvg_doc_to_text: ``caption Where is the <phrase without a/an/the> located?`` +
    `` Relation: r.`` when the region has one + the post_prompt (which starts with a space)."""
    caption = str(doc.get("caption") or "").strip()
    phrase = re.sub(r"^(?:a|an|the)\s+", "", str(doc.get("phrase") or "").strip(), flags=re.IGNORECASE)
    relation = doc.get("relation")
    rel = f" Relation: {relation}." if relation else ""
    return f"{caption} Where is the {phrase} located?{rel}{AERIALVG_POST_PROMPT}"


# ------------------------------------------------------------------------------------------------- judged, open
def fvqa(doc: dict) -> str:
    """fvqa/utils.py fvqa_doc_to_text (empty pre/post): the question alone, read as the judge reads it
    (``prompt[0].content``, else ``question``; ``<image>`` removed)."""
    return fvqa_fields(doc)[0]


# ------------------------------------------------------------------------------------------------------- CharXiv
# charxiv/constant.py REASONING_RESP_INST, used by charxiv/utils.py charxiv_reasoning_doc_to_text_cot (the
# charxiv_val_reasoning_reasoning task, empty post_prompt); keys are the row's reasoning_q_source.
CHARXIV_REASONING_RESP_INST = {
    1: """{}
    * Your final answer must be grounded to some text that is explicitly written and relevant to the question in the chart.
    * If you need to answer multiple terms, separate them with commas.
    * Unless specified in the question (such as answering with a letter), you are required to answer the full names of subplots and/or labels by default.
    """,  # noqa: E501
    2: """{}
    * If there are options in the question, your final answer must conform to one of the options.
    * If there are additional instructions in the question, follow them accordingly.
    * If there are neither options nor additional instructions, you are allowed to respond with a short phrase only.
    """,
    3: """{}
    * Your final answer must be grounded to a number that is exlicitly written and relevant to the question in the chart, even if it's an approximate value.
    * You are allowed to extract numbers within some text when needed.
    """,  # noqa: E501
    4: """{}
    {}
    """,
}
# charxiv/reasoning_utils.py get_number_instruction (the two instruction lines)
CHARXIV_INTEGER_INST = "* Your final answer must be an exact integer."
CHARXIV_DECIMAL_INST = "* Your final answer must be a number with {} decimal places."


def charxiv_number_instruction(answer: str) -> str:
    """The decimal-places line for a number-in-general question: integer when the answer has no ``.``, else the
    count of characters after the first ``.`` (up to a second one), as the fork's split does."""
    parts = str(answer).split(".")
    return CHARXIV_INTEGER_INST if len(parts) == 1 else CHARXIV_DECIMAL_INST.format(len(parts[1]))


def charxiv(doc: dict) -> str:
    """charxiv_reasoning_doc_to_text_cot (+ the empty post_prompt), stripped as doc_to_messages does: the instruction
    block of the row's ``reasoning_q_source`` (1 text-in-chart, 2 text-in-general, 3 number-in-chart, 4
    number-in-general with the answer's decimal places)."""
    try:
        source = int(doc.get("reasoning_q_source"))
    except (TypeError, ValueError):
        source = None
    if source not in CHARXIV_REASONING_RESP_INST:
        raise ValueError(f"CharXiv: reasoning_q_source must be 1-4, got {doc.get('reasoning_q_source')!r}")
    inst = CHARXIV_REASONING_RESP_INST[source]
    question = str(doc.get("reasoning_q", ""))
    if source == 4:
        text = inst.format(question, charxiv_number_instruction(doc.get("reasoning_a", "")))
    else:
        text = inst.format(question)
    return text.strip()


# ------------------------------------------------------------------------------------------- ScreenSpot (+ Pro)
# screenspotpro/screenspotpro_point_in_box_reasoning.yaml lmms_eval_specific_kwargs (pre_prompt, post_prompt); the
# fork's ScreenSpot utils_point.py is the same doc_to_text (its task YAML is not in the source index we read).
SCREENSPOT_PRE_PROMPT = "Provide the point for the command:"
SCREENSPOT_POST_PROMPT = ' Output the point in a JSON array format: [{"point_2d": [x, y]}].'


def screenspot(doc: dict) -> str:
    """utils_point.py screenspot_point_doc_to_text_abs: the instruction (else ``instruction_cn``), stripped, with a
    ``.`` added unless it ends in ``.?!``; a space after the pre-prompt and before the post-prompt."""
    instruction = str(doc.get("instruction") or doc.get("instruction_cn") or "").strip()
    if instruction and not instruction.endswith((".", "?", "!")):
        instruction += "."
    pre, post = SCREENSPOT_PRE_PROMPT, SCREENSPOT_POST_PROMPT
    if pre and not pre.endswith((" ", "\n", "\t")):
        pre += " "
    if post and not post.startswith((" ", "\n", "\t")):
        post = " " + post
    return f"{pre}{instruction}{post}"


# ---------------------------------------------------------------------------------------------------- MM-MT-Bench
def mm_mt_bench(doc: dict) -> list[dict]:
    """mm_mt_bench/utils.py mm_mt_bench_doc_to_messages: the conversation up to and including this turn's user
    message (``message_index``), so earlier turns come as chat history with the dataset's reference answers as the
    assistant turns. Image chunks become ``{"type": "image"}`` parts (the doc's image at each, as the fork does);
    text chunks are kept verbatim; a turn with text only is a plain string (same chat-template rendering)."""
    msgs = conversation_messages(doc)
    idx = doc.get("message_index")
    if isinstance(idx, int) and msgs:
        msgs = msgs[: idx + 1]
    out = []
    for m in msgs:
        content = m.get("content")
        parts: list[dict] = []
        if isinstance(content, list):
            for item in content:
                if isinstance(item, dict):
                    if item.get("type") in ("image", "image_url"):
                        parts.append({"type": "image"})
                    elif item.get("type") == "text" or "text" in item:
                        parts.append({"type": "text", "text": str(item.get("text", ""))})
                elif isinstance(item, str):
                    parts.append({"type": "text", "text": item})
        elif content is not None:
            parts.append({"type": "text", "text": str(content)})
        if not parts:
            parts.append({"type": "text", "text": ""})
        if all(p["type"] == "text" for p in parts):
            out.append({"role": m.get("role", "user"), "content": "".join(p["text"] for p in parts)})
        else:
            out.append({"role": m.get("role", "user"), "content": parts})
    return out
