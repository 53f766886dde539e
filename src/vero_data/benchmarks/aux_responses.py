"""Extra generations a scorer compares against: a doc's ``aux_prompts`` {key: user text} (MM-IFEval's
``aux_cmp_gpt`` questions, one constraint removed) are asked with the doc's images, and each response is kept in
the doc's sample record under ``aux_responses[key]``, so a rerun resumes them too."""

from __future__ import annotations


def aux_request_id(doc_id: str, key: str) -> str:
    """The request id of a doc's aux generation ``key``."""
    return f"{doc_id}#aux:{key}"


def pending_aux(docs: list[dict], done: dict[str, dict]) -> list[tuple[dict, str, str]]:
    """``(doc, key, user text)`` of every aux prompt whose response is not in the doc's record yet."""
    return [(d, k, t) for d in docs if isinstance(d.get("aux_prompts"), dict)
            for k, t in d["aux_prompts"].items() if k not in (done[d["_id"]].get("aux_responses") or {})]


def aux_turn(messages: list[dict], text: str) -> list[dict]:
    """The user turn of an aux prompt: the images of the doc's first turn, then ``text``."""
    content = [p for p in messages[0]["content"] if p.get("type") == "image"] + [{"type": "text", "text": text}]
    return [{"role": "user", "content": content}]


def store_aux(rec: dict, key: str, response: str) -> None:
    """Keep an aux response in the doc's record; the record is scored again with it."""
    rec["aux_responses"] = {**(rec.get("aux_responses") or {}), key: response}
    rec["score"] = None


def doc_with_aux(doc: dict, rec: dict) -> dict:
    """The doc as its scorer sees it: generated aux responses as ``aux_predictions`` (kept if the doc has them)."""
    if not rec.get("aux_responses"):
        return doc
    return {**doc, "aux_predictions": {**rec["aux_responses"], **(doc.get("aux_predictions") or {})}}
