"""How benchmark documents' fields are read: shared by the prompt builders (``prompts``) and the judged scorers
(``judged``), so the question a model was asked and the one its judge is shown come from one function, and neither
module imports the other."""

from __future__ import annotations

import json


def first_field(doc: dict, *keys: str) -> str:
    """The first of ``keys`` that ``doc`` holds non-empty, as text ("" when none)."""
    for k in keys:
        if doc.get(k) not in (None, ""):
            return str(doc[k])
    return ""


def fvqa_fields(doc: dict) -> tuple[str, str, list]:
    """Question, ground truth, candidates: the fork reads ``prompt[0].content`` / ``reward_model``; flat rows too."""
    question = ""
    if isinstance(doc.get("prompt"), list) and doc["prompt"]:
        first = doc["prompt"][0]
        question = str((first.get("content") if isinstance(first, dict) else first) or "")
    question = (question or first_field(doc, "question")).replace("<image>", "").strip()
    rm = doc.get("reward_model") if isinstance(doc.get("reward_model"), dict) else {}
    truth = str(rm.get("ground_truth") or first_field(doc, "answer")).strip()
    cands = rm.get("candidate_answers", doc.get("candidate_answers", doc.get("answers"))) or []
    return question, truth, list(cands) if isinstance(cands, list | tuple) else [cands]


def conversation_messages(doc: dict) -> list[dict]:
    """MM-MT-Bench's ``conversation`` (a JSON string or a list) as a list of messages; [] when unreadable."""
    conv = doc.get("conversation")
    if isinstance(conv, str):
        try:
            conv = json.loads(conv)
        except ValueError:
            return []
    return conv if isinstance(conv, list) else []


def visual_probe_question(doc: dict) -> str:
    """visual_probe/utils.py: ``problem``, else ``extra_info.question``, ``prompt``, ``instruction`` (here also
    ``question``), with ``<image>`` removed and stripped."""
    extra = doc.get("extra_info") if isinstance(doc.get("extra_info"), dict) else {}
    q = (doc.get("problem") or extra.get("question") or doc.get("prompt") or doc.get("instruction")
         or doc.get("question") or "")
    return str(q).replace("<image>", "").strip()
