"""transformers backend: ``model.generate(num_return_sequences=n)`` on batches of prompts, CPU or GPU."""

from __future__ import annotations

import hashlib
import logging

from vero_data.hub import require_hub
from vero_train.models.chat import ChatRequest, Completion, SamplingConfig, check_model_path
from vero_train.models.prompts import escape_messages, special_tokens

log = logging.getLogger(__name__)


class TransformersBackend:
    """Generate with ``AutoModelForImageTextToText`` and the model's own chat template (via its processor).

    Sampling is seeded per batch from ``(sampling.seed, request ids)``, so the same batch always gives the same
    completions; callers that need resumable results keep batch composition fixed (``vero data filter`` does).

    Args:
        model: local path or HF id.
        device: ``cpu``, ``cuda``, ``cuda:1``… (default: cuda if available).
        batch_size: prompts per ``generate`` call (each expands to ``n`` sequences).
        dtype: torch dtype name; default float32 on CPU, bfloat16 on GPU.
    """

    def __init__(self, model: str, device: str | None = None, batch_size: int = 8, dtype: str | None = None,
                 **processor_kwargs):
        check_model_path(model)
        require_hub(model, f"model {model}")
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dt = getattr(torch, dtype) if dtype else (torch.float32 if self.device == "cpu" else torch.bfloat16)
        self.processor = AutoProcessor.from_pretrained(model, **processor_kwargs)
        self.processor.tokenizer.padding_side = "left"
        self.model = AutoModelForImageTextToText.from_pretrained(model, dtype=dt).to(self.device).eval()
        self.batch_size = batch_size
        self.model_name = model
        tok = self.processor.tokenizer
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.eos_ids.add(tok.convert_tokens_to_ids("<|im_end|>"))
        self.eos_ids.discard(None)
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else next(iter(self.eos_ids))
        self.specials = special_tokens(tok)

    def render(self, request: ChatRequest) -> str:
        """The prompt text ``generate`` tokenizes: the chat template over the request's messages, with special
        tokens spelled out in their text escaped (:mod:`vero_train.models.prompts`), so they stay plain text."""
        return self.processor.apply_chat_template(escape_messages(request.messages, self.specials),
                                                  add_generation_prompt=True, tokenize=False)

    def generate(self, requests: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        out: list[list[Completion]] = []
        for i in range(0, len(requests), self.batch_size):
            out.extend(self._generate_batch(requests[i:i + self.batch_size], n, sampling))
        return out

    def _generate_batch(self, batch: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        import torch

        texts = [self.render(r) for r in batch]
        images = [im for r in batch for im in r.images]
        inputs = self.processor(text=texts, images=images or None, return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        greedy = sampling.temperature <= 0
        kw = dict(max_new_tokens=sampling.max_tokens, pad_token_id=self.pad_id, eos_token_id=sorted(self.eos_ids))
        if greedy:
            kw.update(do_sample=False, num_return_sequences=1)
        else:
            kw.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                      top_k=sampling.top_k or 0, num_return_sequences=n)
            if sampling.presence_penalty:
                # transformers has no presence penalty; the closest is a multiplicative repetition penalty
                kw["repetition_penalty"] = 1.0 + sampling.presence_penalty
        seed = int.from_bytes(hashlib.sha256(("\0".join([str(sampling.seed), *(r.id for r in batch)])).encode())
                              .digest()[:4], "big")
        torch.manual_seed(seed)
        with torch.inference_mode():
            seqs = self.model.generate(**inputs, **kw)
        gen = seqs[:, inputs["input_ids"].shape[1]:].cpu()
        per = 1 if greedy else n
        results: list[list[Completion]] = []
        for b in range(len(batch)):
            comps = []
            for j in range(per):
                ids = gen[b * per + j].tolist()
                stop = next((t for t, x in enumerate(ids) if x in self.eos_ids), None)
                kept = ids if stop is None else ids[:stop]
                text = self.processor.tokenizer.decode(kept, skip_special_tokens=True)
                comps.append(Completion(text=text, n_tokens=len(kept) + (stop is not None),
                                        finish_reason="length" if stop is None else "stop"))
            results.append(comps * n if greedy else comps)
        return results
