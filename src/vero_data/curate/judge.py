"""What the curation engine asks of a model: chat requests in, reply texts out.

vero_data holds no model code; ``vero_train.curate_judge`` wraps its generation backends (transformers, vLLM,
OpenAI-compatible HTTP) in this interface, and tests use small deterministic judges.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

# Paper defaults for the curation rollouts (vero600k_format.md §7.2: temperature 0.6, top_p 0.8, top_k 20,
# max_new_tokens 8096, seed 42).
PAPER_TEMPERATURE = 0.6
PAPER_TOP_P = 0.8
PAPER_TOP_K = 20
PAPER_MAX_TOKENS = 8096
PAPER_SEED = 42


@dataclass
class CurateSampling:
    """Sampling settings of the judge (defaults: the paper's, §7.2)."""

    temperature: float = PAPER_TEMPERATURE
    top_p: float = PAPER_TOP_P
    top_k: int | None = PAPER_TOP_K
    max_tokens: int | None = None  # None: the judge's default (the model's generation_config, else 8096)
    seed: int = PAPER_SEED

    def key(self) -> str:
        """A stable string for cache keys."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class JudgeRequest:
    """One chat request: OpenAI-style ``messages`` whose image parts are ``{"type": "image"}``, the decoded images
    in that order, and the JSON schema the reply must follow (for backends with guided decoding)."""

    id: str
    messages: list[dict]
    images: list[Any] = field(default_factory=list)
    json_schema: dict | None = None


@dataclass
class JudgeReply:
    text: str
    n_tokens: int
    finish_reason: str = "stop"
    prompt_tokens: int | None = None  # when the backend reports them (vLLM, an OpenAI-compatible server's usage)


class Judge(Protocol):
    """``model`` names the model in cache keys; ``guided`` says whether replies are constrained to the schema."""

    model: str
    guided: bool

    def complete(self, requests: list[JudgeRequest], sampling: CurateSampling) -> list[JudgeReply]:
        """One reply per request, in request order."""
        ...
