"""The LLM judge for VeroEval's judged benchmarks: any OpenAI-compatible endpoint, Vero's judge settings.

Reuses :class:`vero_data.rewards.llm_judge.LLMJudge` for the HTTP call and the on-disk cache; adds per-benchmark
reply parsers (verdicts, grades, fractional scores), retries on unparseable replies and bounded concurrency.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vero_data.rewards.llm_judge import LLMJudge
from vero_data.secrets import redact_text

logger = logging.getLogger(__name__)

DEFAULT_JUDGE_MODEL = "Qwen3-32B"
DEFAULT_JUDGE_URL = "http://localhost:51001/v1"
# vero-eval's vllm_judge.py defaults (veroeval30_meta.json "judge"): greedy, thinking off, 2048 tokens.
DEFAULT_JUDGE_SAMPLING: dict[str, Any] = {
    "temperature": 0.0,
    "top_p": 0.8,
    "top_k": 20,
    "max_tokens": 2048,
    "chat_template_kwargs": {"enable_thinking": False},
}

_VERDICT = re.compile(r"verdict\s*[:=]\s*\**\s*(correct|incorrect|not[_ ]attempted)", re.I)
_GRADE = re.compile(r"grade\s*[:=]\s*\**\s*([ABC])\b", re.I)
_SCORE = re.compile(r"score\s*[:=]\s*\**\s*(-?\d+(?:\.\d+)?)", re.I)
_RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")


def parse_verdict(reply: str) -> float | None:
    """``Verdict: CORRECT`` → 1, ``INCORRECT``/``NOT_ATTEMPTED`` → 0."""
    m = _VERDICT.findall(reply or "")
    return None if not m else float(m[-1].lower() == "correct")


def parse_grade(reply: str) -> float | None:
    """SimpleQA-style grade: A correct → 1, B incorrect / C not attempted → 0."""
    m = _GRADE.findall(reply or "")
    return None if not m else float(m[-1].upper() == "A")


def parse_unit_score(reply: str) -> float | None:
    """``Score: x`` with x in [0, 1]."""
    m = _SCORE.findall(reply or "")
    if not m:
        return None
    v = float(m[-1])
    return v if 0.0 <= v <= 1.0 else None


def parse_rating10(reply: str) -> float | None:
    """``[[N]]`` (or ``Score: N``) with N in 1..10 → N / 10."""
    m = _RATING.findall(reply or "") or _SCORE.findall(reply or "")
    if not m:
        return None
    v = float(m[-1])
    return v / 10.0 if 0.0 <= v <= 10.0 else None


@dataclass
class BenchmarkJudge:
    """Judge client for the eval: cache, retries with backoff, at most ``concurrency`` requests in flight.

    Args:
        base_url: OpenAI-compatible root ending in ``/v1`` (``--judge-url``); ``user:pass@`` is sent as Basic auth.
        model: served model name (``--judge-model``; the paper used Qwen3-32B under vLLM).
        api_key: bearer token given directly (Python API).
        api_key_env: NAME of the environment variable holding the key (``--judge-api-key-env``); without it and
            ``api_key``, ``$OPENAI_API_KEY`` is sent over https or to a loopback host only.
        cache_dir: one JSON file per (judge URL with credentials masked, model, settings, prompt); None disables it.
        concurrency: simultaneous requests.
        retries: extra attempts after an HTTP error or an unparseable reply.
    """

    base_url: str = DEFAULT_JUDGE_URL
    model: str = DEFAULT_JUDGE_MODEL
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    cache_dir: str | os.PathLike | None = None
    concurrency: int = 8
    retries: int = 3
    backoff: float = 0.5
    timeout: float = 300.0
    sampling: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_JUDGE_SAMPLING))

    def __post_init__(self) -> None:
        self._client = LLMJudge(base_url=self.base_url, model=self.model, api_key=self.api_key,
                                api_key_env=self.api_key_env, timeout=self.timeout, retries=0,
                                cache_dir=self.cache_dir, sampling=self.sampling)
        self._slots = threading.BoundedSemaphore(max(1, self.concurrency))
        self.calls = 0

    @property
    def shown_url(self) -> str:
        """The judge root with credentials masked: what results, reports and logs may show."""
        return self._client.shown_url

    @property
    def identity(self) -> str:
        """``model @ url`` (credentials masked): recorded with judged scores so another judge's are not reused."""
        return f"{self.model} @ {self.shown_url.rstrip('/')}"

    def ask(self, prompt: str, parse: Callable[[str], float | None]) -> tuple[float | None, str | None]:
        """(parsed value, raw reply); the value is None when every attempt failed or never parsed."""
        reply = self._client.cached_reply(prompt)
        try:
            if reply is not None and (value := parse(reply)) is not None:
                return value, reply
        except (ValueError, KeyError):  # a stored reply this parser cannot read: ask again
            pass
        reply = None
        for attempt in range(self.retries + 1):
            try:
                with self._slots:
                    self.calls += 1
                    reply = self._client._request(prompt)
                value = parse(reply)
                if value is None:
                    raise ValueError(f"unparseable judge reply: {reply[:80]!r}")
                self._client.store_reply(prompt, reply)
                return value, reply
            except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError) as e:
                logger.warning("judge %s attempt %d failed: %s", self.shown_url, attempt + 1, redact_text(str(e)))
                if attempt < self.retries:
                    time.sleep(self.backoff * (2**attempt))
        return None, reply
