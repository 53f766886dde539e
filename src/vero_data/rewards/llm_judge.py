"""llm_judge: Vero's compute_score gives accuracy 0; the judge score (1–10 → [0, 1]) replaces it at manager level."""

from __future__ import annotations

from vero_data.rewards.base import register


@register("llm_judge", extraction="raw", judge="replace", subtag="captioning", subtag_unless=("counting",))
def llm_judge(pred: str, truth: str, extra_info=None, lenient: bool = False) -> float:
    """Always 0 offline, exactly as Vero's ``compute_score``; see :class:`LLMJudge` for the real score.

    >>> llm_judge("anything", "reference")
    0.0
    """
    return 0.0


# --- the judge client (manager-level in Vero) ------------------------------------------------------------------
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from vero_data.secrets import redact_text, resolve_endpoint  # noqa: E402

logger = logging.getLogger(__name__)

DEFAULT_PROMPT = (
    "You are grading a model's answer against a reference answer.\n\nQuestion:\n{question}\n\n"
    "Reference answer:\n{reference}\n\nModel answer:\n{response}\n\n"
    "Rate how well the model answer matches the reference and answers the question on a scale from 1 (wrong) "
    "to 10 (fully correct). End with a line of the form `Score: N`."
)
_SCORE_LINE = re.compile(r"score\s*[:=]\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"\b(10|[1-9])(?:\.\d+)?\b")


def parse_judge_score(text: str) -> float | None:
    """The 1–10 score in a judge reply (``Score: N`` preferred, else the last number 1–10), or None.

    >>> parse_judge_score("Reasoning...\\nScore: 7"), parse_judge_score("no idea")
    (7.0, None)
    """
    m = _SCORE_LINE.findall(text or "")
    if m:
        value = float(m[-1])
    else:
        nums = _ANY_NUMBER.findall(text or "")
        if not nums:
            return None
        value = float(nums[-1])
    return value if 1.0 <= value <= 10.0 else None


def scale_score(score: float, scale: str = "zero_to_one") -> float:
    """1–10 → [0, 1] (``zero_to_one``: (s-1)/9; ``div10``: s/10).

    >>> scale_score(1), scale_score(10), scale_score(5.5)
    (0.0, 1.0, 0.5)
    """
    if scale == "div10":
        return score / 10.0
    return (score - 1.0) / 9.0


@dataclass
class LLMJudge:
    """An OpenAI-compatible chat-completions judge with retries, timeouts and an on-disk cache keyed by prompt.

    Args:
        base_url: server root ending in ``/v1`` (Vero runs Qwen3-32B under vLLM at ``http://localhost:51001/v1``);
            ``user:pass@`` in it is sent as HTTP Basic auth, query parameters are kept on each request.
        model: served model name.
        api_key: bearer token given directly.
        api_key_env: NAME of an environment variable holding the bearer token (an error when unset). With neither,
            ``$OPENAI_API_KEY`` is sent over https or to a loopback host, never over plain http to another host
            (see :func:`vero_data.secrets.resolve_endpoint`).
        timeout: seconds per HTTP request.
        retries: extra attempts after a failed request or an unparseable reply (exponential backoff).
        cache_dir: directory of cached replies (one JSON file per prompt hash); None disables caching.
        sampling: request fields; Vero's judge defaults (temperature 0.7, top_p 0.8, top_k 20, presence 1.5,
            frequency 1.0, max 1024 tokens).
        prompt: template with ``{question}``, ``{reference}``, ``{response}``.
        scale: ``zero_to_one`` or ``div10``.
    """

    base_url: str = "http://localhost:51001/v1"
    model: str = "qwen_vllm"
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 0.5
    cache_dir: str | os.PathLike | None = None
    sampling: dict[str, Any] = field(
        default_factory=lambda: {
            "temperature": 0.7,
            "top_p": 0.8,
            "top_k": 20,
            "presence_penalty": 1.5,
            "frequency_penalty": 1.0,
            "max_tokens": 1024,
        }
    )
    prompt: str = DEFAULT_PROMPT
    scale: str = "zero_to_one"

    def __post_init__(self) -> None:
        self._endpoint = resolve_endpoint(self.base_url, self.api_key, self.api_key_env)

    @property
    def shown_url(self) -> str:
        """The judge root with credentials masked (for logs, reports and the cache key)."""
        return self._endpoint.shown

    def _cache_path(self, prompt: str) -> Path | None:
        if self.cache_dir is None:
            return None
        # the judge (its redacted root and model) is part of the key: another judge's verdicts are never reused
        judge = self.shown_url.rstrip("/")
        key = json.dumps([judge, self.model, self.sampling, prompt], sort_keys=True)
        return Path(self.cache_dir) / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def _request(self, prompt: str) -> str:
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], **self.sampling}
        req = urllib.request.Request(
            self._endpoint.join("chat/completions"),
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **self._endpoint.headers},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            payload = json.loads(resp.read(10_000_000))
        return payload["choices"][0]["message"]["content"] or ""

    def cached_reply(self, prompt: str) -> str | None:
        """The stored reply to ``prompt`` by this judge, if any (an unreadable cache file counts as none)."""
        path = self._cache_path(prompt)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text())["reply"]
        except (OSError, ValueError, KeyError):
            return None

    def store_reply(self, prompt: str, reply: str) -> None:
        """Keep ``reply`` for ``prompt``: written to a temporary file named by process and thread, then renamed,
        so concurrent judges (eval threads, filter workers) never read half a file."""
        path = self._cache_path(prompt)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"judge": self.shown_url, "model": self.model, "prompt": prompt, "reply": reply}))
        tmp.replace(path)

    def complete(self, prompt: str) -> str | None:
        """The judge's reply to ``prompt`` (cached), or None after all retries failed."""
        if (cached := self.cached_reply(prompt)) is not None:
            return cached
        for attempt in range(self.retries + 1):
            try:
                reply = self._request(prompt)
                if parse_judge_score(reply) is None and attempt < self.retries:
                    raise ValueError("no score in reply")
                self.store_reply(prompt, reply)
                return reply
            except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError) as e:
                logger.warning("judge %s attempt %d failed: %s", self.shown_url, attempt + 1, redact_text(str(e)))
                if attempt < self.retries:
                    time.sleep(self.backoff * (2**attempt))
        return None

    def score(self, question: str, response: str, reference: str) -> float | None:
        """Judge score in [0, 1], or None when the judge could not be reached or gave no score."""
        prompt = self.prompt.format(question=question, reference=reference, response=response)
        reply = self.complete(prompt)
        value = parse_judge_score(reply) if reply is not None else None
        return None if value is None else scale_score(value, self.scale)


def score_with_judge(
    judge: LLMJudge,
    question: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict | None = None,
    format_score: float = 0.2,
    judge_weight: float = 0.5,
) -> dict[str, float]:
    """Vero's manager step for the judged types (``Verifier.judge``): ``replace`` (``llm_judge``) takes the judge's
    score as accuracy; ``blend`` (``instruction_following_llm_judge``) gives ``w·rule + (1-w)·judge``; then the format
    mix is re-applied.
    Other types are returned as :func:`compute_score_from_data_source` scores them. A failed judge counts 0.
    """
    from vero_data.rewards._text import extract_answer
    from vero_data.rewards.base import REWARDS
    from vero_data.rewards.core import coerce_extra_info, reward_type_of, score_response

    info = coerce_extra_info(extra_info)
    base = score_response(solution_str, ground_truth, info, format_score)
    rt = reward_type_of(info)
    mode = REWARDS.get(rt).judge if rt is not None else None
    if mode is None or base.format == 0.0:
        return base.as_dict()
    judged = judge.score(question, extract_answer(str(solution_str)), str(ground_truth)) or 0.0
    acc = judged if mode == "replace" else judge_weight * base.accuracy + (1 - judge_weight) * judged
    return {"score": (1 - format_score) * acc + format_score * base.format, "accuracy": acc, "format": base.format}
