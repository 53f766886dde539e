"""Generation backends behind one interface: batched chat requests with images → ``n`` completions each.

``transformers`` (CPU or GPU, ``generate`` with ``num_return_sequences``), ``openai`` (any OpenAI-compatible
chat-completions server, stdlib HTTP) and ``vllm`` (offline ``LLM.chat`` with ``SamplingParams(n=…)``).
Importing this module is cheap: :data:`BACKENDS` holds lazy ``"module:Class"`` entries, and each backend imports its
heavy dependency when constructed. The request types live in :mod:`vero_train.models.chat`.
"""

from __future__ import annotations

import inspect
from typing import Any

from vero_data.errors import ConfigError, requires
from vero_data.registry import Registry
from vero_train.models.chat import (
    ChatRequest,
    Completion,
    GenerationBackend,
    SamplingConfig,
    check_model_path,
    messages_from_row,
    request_from_row,
)
from vero_train.models.prompts import VERO_SYSTEM_PROMPT
from vero_train.models.tiny import resolve_model

__all__ = [
    "BACKENDS",
    "VERO_SYSTEM_PROMPT",
    "ChatRequest",
    "Completion",
    "GenerationBackend",
    "SamplingConfig",
    "check_backend_installed",
    "check_model_path",
    "get_backend",
    "messages_from_row",
    "request_from_row",
]

BACKENDS: Registry[type] = Registry("backend")
BACKENDS.register_lazy("transformers", "vero_train.models.backends.hf:TransformersBackend")
BACKENDS.register_lazy("openai", "vero_train.models.backends.openai_http:OpenAIBackend")
BACKENDS.register_lazy("vllm", "vero_train.models.backends.vllm:VLLMBackend")
# what each backend imports when constructed, and the extra that installs it: a clear "install the extra" error
# instead of a ModuleNotFoundError traceback (the openai backend is stdlib HTTP)
BACKEND_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "transformers": (("torch", "train"), ("transformers", "train")),
    "vllm": (("vllm", "vllm"),),
}
# a served model is named as the server knows it; every other backend loads a path, so `tiny` is resolved first
_SERVED = {"openai"}


def _known_options(cls: type, kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` if ``cls`` takes them all (or takes ``**kwargs``), else a ConfigError naming the unknown ones and
    listing the backend's options, instead of a TypeError traceback."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    known = [n for n, p in params.items() if n not in ("self", "model", "model_path")
             and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    bad = sorted(set(kwargs) - set(known))
    if bad:
        raise ConfigError(f"{', '.join(bad)}: not an option of the {kind} backend (--backend-opt); its options: "
                          f"{', '.join(known)}")
    return kwargs


def check_backend_installed(kind: str) -> None:
    """A one-line MissingDependencyError naming the extra when ``kind``'s library is not installed: commands call
    it before they touch their output folder."""
    for module, extra in BACKEND_NEEDS.get(kind, ()):
        requires(module, extra)


def get_backend(kind: str, model: str, **kwargs: Any) -> GenerationBackend:
    """Construct a backend by name.

    Args:
        kind: ``transformers``, ``openai`` or ``vllm`` (:data:`BACKENDS`), or ``pkg.module:Class``.
        model: HF id, local path or ``tiny`` (resolved with ``vero_train.models.resolve_model``); for ``openai``
            the model name the server knows.
        **kwargs: backend options (``device``, ``batch_size``; ``base_url``, ``concurrency``; ``tensor_parallel_size``…).
    """
    cls = BACKENDS.get(kind)  # an unknown name fails here with a did-you-mean; a dotted path is imported
    check_backend_installed(kind)
    return cls(model if kind in _SERVED else resolve_model(model), **_known_options(cls, kind, kwargs))
