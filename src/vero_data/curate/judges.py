"""Judge backends by name: ``transformers``, ``openai``, ``vllm`` (vero_train's generation backends, imported by
name when one is used: vero_data never depends on vero_train) or a dotted path to a user's own factory
(``my_pkg.judges:MyJudge``), called as ``factory(model=…, guided=…, **options)``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from vero_data.curate.judge import Judge
from vero_data.errors import MissingDependencyError
from vero_data.registry import Registry

JUDGES: Registry[Callable[..., Judge]] = Registry("judge backend")


def _train_backend(kind: str) -> Callable[..., Judge]:
    def make(model: str, guided: bool = True, **options: Any) -> Judge:
        try:  # by name, as the `vero` root mounts the model commands
            mod = importlib.import_module("vero_train.curate_judge")
        except ModuleNotFoundError as e:
            if not (e.name or "").startswith(("vero_train", "torch", "transformers")):
                raise
            raise MissingDependencyError(f"the {kind} judge backend needs the model extra: pip install "
                                         "'vero-toolkit[train]'") from e
        return mod.BackendJudge(kind, model, guided=guided, **options)

    make.__name__ = f"{kind}_judge"
    return make


for _kind in ("transformers", "openai", "vllm"):
    JUDGES.register(_kind, _train_backend(_kind))


def judge_factory(backend: str, model: str, *, endpoint: str | None = None, guided: bool = True,
                  **options: Any) -> Callable[[], Judge]:
    """A function that makes the judge (called only when a reply is not cached: a resumed run loads no model).

    Args:
        backend: a name in :data:`JUDGES` or a dotted path; an ``endpoint`` means ``openai``.
        model: the model to load, or the served model's name.
        endpoint: an OpenAI-compatible server URL including ``/v1``.
        guided: constrain replies to the JSON schema where the backend can.
        **options: backend options (``concurrency``, ``device``, ``max_model_len``…).
    """
    from vero_data.errors import ConfigError

    if endpoint is not None:
        if backend not in ("openai", "vllm"):  # vllm is the default backend: an endpoint switches it
            raise ConfigError(f"an endpoint is for the openai backend, not {backend}")
        backend, options = "openai", {**options, "base_url": endpoint}
    make = JUDGES.get(backend)  # unknown names fail here, with a did-you-mean, before anything runs
    return lambda: make(model=model, guided=guided, **options)
