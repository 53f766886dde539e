"""vLLM offline backend: ``LLM.chat`` with ``SamplingParams(n=k, seed=…)`` and multimodal inputs.

Install the GPU extra (``pip install 'vero-toolkit[vllm]'``, vllm>=0.22,<=0.31, the range TRL 1.16 supports).
Prompts are built by ``LLM.chat`` with the model's own template, so the engine's image processing and the
placeholder count always agree (pitfalls §2). For several GPUs per model use ``tensor_parallel_size``; for more
throughput run one process per GPU (see ``vero data filter --data-parallel``).
"""

from __future__ import annotations

import logging

from vero_data.hub import require_hub
from vero_train.models.chat import ChatRequest, Completion, SamplingConfig, check_model_path, fill_image_parts
from vero_train.models.prompts import escape_messages, special_tokens

log = logging.getLogger(__name__)


def vllm_messages(req: ChatRequest, specials: tuple[str, ...] = ()) -> list[dict]:
    """``{"type": "image"}`` parts → ``{"type": "image_pil", "image_pil": PIL}`` with the request's images; the
    ``specials`` (the tokenizer's special tokens) spelled out in the text are escaped, as the transformers
    backend does (``LLM.chat`` parses special tokens in the rendered prompt; see :mod:`vero_train.models.prompts`).
    """
    messages = fill_image_parts(req, lambda im: {"type": "image_pil", "image_pil": im})
    return escape_messages(messages, specials) if specials else messages


class VLLMBackend:
    """Args:
        model: local path or HF id.
        tensor_parallel_size: GPUs per model replica.
        max_images: ``limit_mm_per_prompt={"image": max_images, "video": 0}`` (video 0 shrinks profiling memory).
        max_model_len: must cover prompt text + image tokens + max_tokens.
        gpu_memory_utilization: fraction of GPU memory vLLM may take.
        max_pixels: per-image pixel cap passed through ``mm_processor_kwargs`` (transformers 5 ``size`` form).
        **engine_kwargs: anything else ``vllm.LLM`` accepts (``enforce_eager``, ``dtype``…).
    """

    def __init__(self, model: str, tensor_parallel_size: int = 1, max_images: int = 4, max_model_len: int = 8192,
                 gpu_memory_utilization: float = 0.85, max_pixels: int | None = None, seed: int = 0, **engine_kwargs):
        check_model_path(model)
        require_hub(model, f"model {model}")
        try:
            from vllm import LLM
        except ImportError as e:
            from vero_data.errors import MissingDependencyError

            raise MissingDependencyError("the vllm backend needs vLLM: pip install 'vero-toolkit[vllm]'") from e
        mm_kwargs = {}
        if max_pixels:
            mm_kwargs["size"] = {"shortest_edge": 28 * 28 * 4, "longest_edge": max_pixels}
        self.llm = LLM(
            model=model, tensor_parallel_size=tensor_parallel_size,
            limit_mm_per_prompt={"image": max_images, "video": 0}, max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization, seed=seed,
            **({"mm_processor_kwargs": mm_kwargs} if mm_kwargs else {}), **engine_kwargs,
        )
        self.specials = special_tokens(self.llm.get_tokenizer())

    def generate(self, requests: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=n, temperature=sampling.temperature, top_p=sampling.top_p, **({"top_k": sampling.top_k} if sampling.top_k else {}),
            max_tokens=sampling.max_tokens, seed=sampling.seed, presence_penalty=sampling.presence_penalty,
        )
        outputs = self.llm.chat([vllm_messages(r, self.specials) for r in requests], sampling_params=params,
                                use_tqdm=False)
        return [[Completion(text=o.text, n_tokens=len(o.token_ids), finish_reason=o.finish_reason or "stop")
                 for o in out.outputs] for out in outputs]
