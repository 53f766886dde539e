"""The curation judge (:class:`vero_data.curate.Judge`) over vero_train's generation backends.

Guided decoding where the backend has it: vLLM offline gets structured outputs from the JSON schema
(``StructuredOutputsParams(json=…)``, older releases ``GuidedDecodingParams``), an OpenAI-compatible server gets
``response_format: {"type": "json_schema", …}`` (vLLM's server honours it; one that does not ignores it). The
transformers backend samples unconstrained: its replies are parsed strictly and retried once like any other.
"""

from __future__ import annotations

import logging
from typing import Any

from vero_data.curate.judge import PAPER_MAX_TOKENS, CurateSampling, JudgeReply, JudgeRequest
from vero_train.models.backends import ChatRequest, SamplingConfig
from vero_train.models.backends.openai_http import OpenAIBackend

log = logging.getLogger(__name__)


def default_max_tokens(model: str, backend: str) -> int:
    """The model's ``generation_config.max_new_tokens`` when it sets one (the tiny model: 256), else the paper's
    8096 (vero600k_format.md §7.2). A served model (openai) gets 8096."""
    if backend != "openai":
        from vero_train.models.tiny import generation_max_new_tokens

        return generation_max_new_tokens(model) or PAPER_MAX_TOKENS
    return PAPER_MAX_TOKENS


def _sampling(s: CurateSampling, default_max: int) -> SamplingConfig:
    return SamplingConfig(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
                          max_tokens=s.max_tokens or default_max, seed=s.seed)


class BackendJudge:
    """A judge over ``get_backend(kind, model, **backend_kwargs)``; one completion per request.

    Args:
        kind: ``transformers``, ``openai`` or ``vllm``.
        model: what the backend loads (or, for openai, the served model's name); also the cache's model key.
        guided: constrain replies to the JSON schema where the backend supports it.
        **backend_kwargs: backend options (``base_url``, ``concurrency``, ``device``, ``batch_size``…).
    """

    def __init__(self, kind: str, model: str, guided: bool = True, **backend_kwargs: Any):
        self.kind = kind
        self.model = model
        if kind == "openai":
            from vero_train.models.backends import _known_options  # unknown options: one line listing the known

            self.backend = GuidedOpenAIBackend(model, **_known_options(GuidedOpenAIBackend, kind, backend_kwargs))
        else:
            from vero_train.models.backends import get_backend

            self.backend = get_backend(kind, model, **backend_kwargs)
        self.guided = guided and kind in ("openai", "vllm")
        self.default_max_tokens = default_max_tokens(model, kind)

    def complete(self, requests: list[JudgeRequest], sampling: CurateSampling) -> list[JudgeReply]:
        reqs = [ChatRequest(id=r.id, messages=r.messages, images=r.images) for r in requests]
        schema = requests[0].json_schema if requests and self.guided else None
        s = _sampling(sampling, self.default_max_tokens)
        if self.kind == "vllm" and schema is not None:
            comps = _vllm_guided(self.backend, reqs, s, schema)
        elif self.kind == "openai":
            self.backend.json_schema = schema
            comps = self.backend.generate(reqs, 1, s)
        else:
            comps = self.backend.generate(reqs, 1, s)
        out = []
        for r, cs in zip(requests, comps, strict=True):
            if not cs:
                from vero_data.errors import VeroError

                raise VeroError(f"the {self.kind} backend returned no completion for {r.id}")
            out.append(JudgeReply(cs[0].text, cs[0].n_tokens, cs[0].finish_reason,
                                  getattr(cs[0], "prompt_tokens", None)))
        return out

    def close(self) -> None:
        if hasattr(self.backend, "close"):
            self.backend.close()


class GuidedOpenAIBackend(OpenAIBackend):
    """The OpenAI-compatible backend, adding ``response_format`` with a JSON schema when one is set."""

    json_schema: dict | None = None

    def _parse(self, body: dict, n: int):
        """The completions, each carrying the request's ``usage.prompt_tokens`` when the server reports it."""
        comps = OpenAIBackend._parse(body, n)
        pt = (body.get("usage") or {}).get("prompt_tokens") if isinstance(body, dict) else None
        if isinstance(pt, int) and not isinstance(pt, bool):
            for c in comps:
                c.prompt_tokens = pt
        return comps

    def _payload(self, req, n, s):
        body = super()._payload(req, n, s)
        if self.json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "verdict", "schema": self.json_schema}}
        return body


def _vllm_guided(backend, reqs: list[ChatRequest], s: SamplingConfig, schema: dict):
    """``VLLMBackend.generate`` with the reply constrained to ``schema`` (vLLM structured outputs)."""
    from vllm import SamplingParams

    from vero_train.models.backends import Completion
    from vero_train.models.backends.vllm import vllm_messages

    try:  # vLLM >= 0.10.2
        from vllm.sampling_params import StructuredOutputsParams

        guided = {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:  # older releases
        from vllm.sampling_params import GuidedDecodingParams

        guided = {"guided_decoding": GuidedDecodingParams(json=schema)}
    params = SamplingParams(n=1, temperature=s.temperature, top_p=s.top_p,
                            **({"top_k": s.top_k} if s.top_k else {}), max_tokens=s.max_tokens, seed=s.seed,
                            **guided)
    outputs = backend.llm.chat([vllm_messages(r, backend.specials) for r in reqs], sampling_params=params,
                               use_tqdm=False)
    result = []
    for out in outputs:
        comps = [Completion(text=o.text, n_tokens=len(o.token_ids), finish_reason=o.finish_reason or "stop")
                 for o in out.outputs]
        pids = getattr(out, "prompt_token_ids", None)
        for c in comps:
            c.prompt_tokens = len(pids) if pids is not None else None
        result.append(comps)
    return result
