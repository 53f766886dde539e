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
def visual_probe_question(doc: dict) -> str:
    """visual_probe/utils.py: ``problem``, else ``extra_info.question``, ``prompt``, ``instruction`` (here also
    ``question``), with ``<image>`` removed and stripped."""
    extra = doc.get("extra_info") if isinstance(doc.get("extra_info"), dict) else {}
    q = (doc.get("problem") or extra.get("question") or doc.get("prompt") or doc.get("instruction")
         or doc.get("question") or "")
    return str(q).replace("<image>", "").strip()


def visual_probe(doc: dict) -> str:
    """The reasoning tasks set empty pre/post prompts, so the text is the question alone."""
    return visual_probe_question(doc)
