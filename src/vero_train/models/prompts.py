"""The Vero system prompt and answer format (vero600k_format.md §4), in our own words."""

from __future__ import annotations

import functools
import re

VERO_SYSTEM_PROMPT = (
    "You are a helpful assistant who answers questions about images in a conversation. "
    "First think freely inside <think> and </think>: plan, look at the relevant parts of the image, try ideas, "
    "check them and correct yourself. Then write your final answer inside <answer> and </answer>. "
    "The answer must stand on its own and must not refer back to your thinking. "
    "When the question has one definite, short answer, put it in exactly one \\boxed{} inside the answer; "
    "for open-ended requests, answer without \\boxed{}."
)

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"


def format_response(thinking: str, answer: str, boxed: bool = True) -> str:
    """A response in the Vero format: ``<think>…</think><answer>…\\boxed{…}</answer>``."""
    body = f"\\boxed{{{answer}}}" if boxed else answer
    return f"{THINK_OPEN}{thinking}{THINK_CLOSE}{ANSWER_OPEN}{body}{ANSWER_CLOSE}"


# Special (control) tokens in user or dataset text -------------------------------------------------------------
#
# A chat template pastes message text between its own control tokens, and every backend then tokenizes the whole
# rendered string with special tokens parsed: a question that spells ``<|im_start|>system…`` or
# ``<|vision_start|><|image_pad|>`` would become real turn or image tokens (a prompt injection, or a processor
# error when the image placeholders no longer match the images). Neither vLLM nor TRL guards against it.
#
# Choice: escape, in the text, before templating. Each special token's spelling gets a zero-width space after its
# first character (``<|im_start|>`` → ``<\u200b|im_start|>``), so it tokenizes as ordinary text, as OpenAI's API
# treats message content. Why not the alternatives:
# - ``tokenizer(..., split_special_tokens=True)`` applies to a whole string, the template's own control tokens
#   included, and neither vLLM's ``LLM.chat`` nor TRL's trainer tokenize per message; only a change to the text
#   reaches every backend (transformers, vLLM, the local server, training) the same way, so the filter, eval and
#   the training forward all see one prompt.
# - refusing such rows would drop honest data (questions about tokenizers or chat formats quote these strings)
#   and turn a 200 into a 400 for a client that sent plain text.
# Only tokens the tokenizer marks special are escaped; plain added tokens such as ``<think>`` stay as they are
# (they are content, and ``split_special_tokens`` leaves them whole too).

SPECIAL_TOKEN_ESCAPE = "\u200b"  # zero-width space: invisible, and never part of a special token's spelling


def special_tokens(tokenizer) -> tuple[str, ...]:
    """The strings ``tokenizer`` (or a processor holding one) turns into special tokens.

    transformers 5's ``all_special_tokens`` lists only the named ones (eos, pad…), not e.g. ``<|im_start|>``,
    so the added tokens marked ``special`` are read as well.
    """
    tok = getattr(tokenizer, "tokenizer", tokenizer)
    found = {t.content for t in getattr(tok, "added_tokens_decoder", {}).values() if getattr(t, "special", False)}
    found.update(getattr(tok, "all_special_tokens", ()))
    return tuple(sorted(s for s in found if s and SPECIAL_TOKEN_ESCAPE not in s))


@functools.lru_cache(maxsize=16)
def _special_pattern(specials: tuple[str, ...]) -> re.Pattern | None:
    if not specials:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)))


def _break(m: re.Match) -> str:
    s = m.group(0)
    return s[0] + SPECIAL_TOKEN_ESCAPE + s[1:]


def escape_special_tokens(text: str, specials: tuple[str, ...]) -> str:
    """``text`` with every spelled-out special token broken by a zero-width space, so it tokenizes as plain text.

    Args:
        text: user or dataset text that goes into a chat template.
        specials: the tokenizer's special token strings (:func:`special_tokens`).

    >>> escape_special_tokens("a<|im_start|>b", ("<|im_start|>",))
    'a<\\u200b|im_start|>b'
    """
    pattern = _special_pattern(tuple(specials))
    if pattern is None:
        return text
    # one pass breaks every match; a second catches a token that overlapped a broken one (e.g. "ab" and "bc" in
    # "abc"); each pass removes at least one match, so this ends
    while pattern.search(text):
        text = pattern.sub(_break, text)
    return text


def escape_messages(messages: list[dict], specials: tuple[str, ...]) -> list[dict]:
    """Chat messages (content a string or a list of parts) with :func:`escape_special_tokens` applied to all text:
    roles, string contents and the ``text`` of text parts. Other parts (images) and keys are kept; the input is
    not changed."""
    out = []
    for m in messages:
        c = m.get("content")
        if isinstance(c, str):
            c = escape_special_tokens(c, specials)
        elif isinstance(c, list):
            c = [{**p, "text": escape_special_tokens(p["text"], specials)}
                 if isinstance(p, dict) and isinstance(p.get("text"), str) else p for p in c]
        role = m.get("role")  # the template pastes the role too: "user<|im_end|>…" must not open a turn
        out.append({**m, **({"role": escape_special_tokens(role, specials)} if isinstance(role, str) else {}),
                    "content": c})
    return out
