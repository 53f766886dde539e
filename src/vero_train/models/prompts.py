"""The Vero system prompt and answer format (vero600k_format.md §4), in our own words."""

from __future__ import annotations

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
