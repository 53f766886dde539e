"""A tiny Qwen2.5-VL-family model built locally: random weights, a BPE tokenizer trained on generated-task text.

It is the offline default for smoke runs of ``vero data filter``, ``vero train`` and ``vero eval``: the same classes
as the real policies (``Qwen2_5_VLForConditionalGeneration`` + ``Qwen2_5_VLProcessor``), saved with
``save_pretrained`` so transformers, TRL and vLLM load it by path. Everything is deterministic in ``seed``.
With ``warmup_steps > 0`` a short SFT on generated tasks teaches it the ``<think>…<answer>\\boxed{…}</answer>``
format (see :mod:`vero_train.models.warmup`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from vero_data.errors import requires
from vero_train.models.prompts import VERO_SYSTEM_PROMPT, format_response
from vero_train.models.warmup import warmup_sft

log = logging.getLogger(__name__)

# Bump when the architecture, tokenizer corpus or template changes: cached builds with another version are rebuilt.
BUILD_VERSION = 4  # bump when a build changes, so cached tiny models are rebuilt
TINY_ALIASES = {"tiny"}
# `tiny-warm` (not part of the stable alias set): the same model after the default warm-up SFT.
WARM_ALIASES = {"tiny-warm": 400}

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
    "<|video_pad|>", "<|box_start|>", "<|box_end|>",
]
# Plain added tokens: kept as single ids but still decoded with skip_special_tokens=True (as in Qwen3).
FORMAT_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"]

TEXT_DEFAULTS: dict[str, Any] = dict(
    hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=1_000_000.0, mrope_section=[4, 6, 6],
)
VISION_DEFAULTS: dict[str, Any] = dict(
    depth=2, hidden_size=64, intermediate_size=128, num_heads=4, patch_size=14, spatial_merge_size=2,
    temporal_patch_size=2, window_size=112, fullatt_block_indexes=[1],
)
# Small images: at most 64 merged image tokens per image (Qwen's 28×28 px per token, ~224×224 px), so CPU smoke
# runs stay fast; `build_tiny_model(max_pixels=…)` raises it (e.g. 28 * 28 * 256 ≈ 200K px).
MIN_PIXELS = 28 * 28 * 4
MAX_PIXELS = 28 * 28 * 64
VOCAB_SIZE = 2048


def cache_root() -> Path:
    """``$VERO_CACHE`` or ``~/.cache/vero``."""
    return Path(os.environ.get("VERO_CACHE") or Path.home() / ".cache" / "vero")


def resolve_model(name_or_path: str, seed: int = 0) -> str:
    """``"tiny"`` → the path of a cached tiny build (built on first use); anything else is returned unchanged.

    Args:
        name_or_path: ``tiny``, ``tiny-warm`` (tiny after the default warm-up SFT), an HF model id or a local path.
        seed: seed of the tiny build.
    """
    if name_or_path in TINY_ALIASES:
        return str(_cached_build(cache_root() / f"tiny-{seed}", seed=seed, warmup_steps=0))
    if name_or_path in WARM_ALIASES:
        steps = WARM_ALIASES[name_or_path]
        return str(_cached_build(cache_root() / f"tiny-{seed}-warm{steps}", seed=seed, warmup_steps=steps))
    return name_or_path


def generation_max_new_tokens(model: str) -> int | None:
    """``generation_config.max_new_tokens`` of a local model or a tiny alias, when it sets a positive one (the tiny
    model does: a random policy never stops), else None; a hub id has no local file and gives None."""
    gc = Path(resolve_model(model)) / "generation_config.json"
    if gc.is_file():
        try:
            n = json.loads(gc.read_text()).get("max_new_tokens")
        except (OSError, ValueError):
            return None
        if isinstance(n, int) and n > 0:
            return n
    return None


def _cached_build(path: Path, seed: int, warmup_steps: int) -> Path:
    marker = path / "vero_tiny.json"
    if marker.is_file():
        try:
            if json.loads(marker.read_text()).get("build_version") == BUILD_VERSION:
                return path
        except ValueError:
            pass
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    build_tiny_model(tmp, seed=seed, warmup_steps=warmup_steps)
    if path.exists():
        shutil.rmtree(path)
    try:
        os.replace(tmp, path)
    except OSError:  # another process won the race: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def chat_template(default_system_prompt: str = VERO_SYSTEM_PROMPT) -> str:
    """The tiny model's chat template (Qwen2.5-VL style; images as ``<|vision_start|><|image_pad|><|vision_end|>``).

    Without a system message it uses ``default_system_prompt``, like Vero's released templates.
    """
    body = (Path(__file__).parent / "chat_template.jinja").read_text()
    return "{%- set default_system_prompt = " + json.dumps(default_system_prompt) + " -%}\n" + body


def tokenizer_corpus(seed: int = 0, per_generator: int = 12) -> list[str]:
    """Text the tokenizer is trained on: generated questions and answers in the Vero format, plus the prompt."""
    import vero_data.sources.generators  # noqa: F401  (registers the generators)
    from vero_data.sources.base import GENERATORS, generate

    texts = [VERO_SYSTEM_PROMPT, "You are a helpful assistant.", "0123456789 +-*/=.,:;()[]{}<>\"' \\boxed{}"]
    for name in sorted(GENERATORS.names()):
        for _, s in generate(name, per_generator, seed=seed):
            q = s.question or " ".join(m["content"] for m in (s.messages or []))
            ans = s.answer if isinstance(s.answer, str) else json.dumps(s.answer)
            texts.append(q + "\n" + "\n".join(s.choices or []))
            texts.append(format_response(f"The question asks: {q[:80]}. Looking at the image.", ans))
    return texts


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE):
    """A byte-level BPE (single digits, as Qwen's) wrapped as a transformers fast tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in FORMAT_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
        model_max_length=TEXT_DEFAULTS["max_position_embeddings"],
        extra_special_tokens={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
                              "vision_start_token": "<|vision_start|>", "vision_end_token": "<|vision_end|>"},
    )
    fast.padding_side = "left"
    fast.chat_template = chat_template()
    return fast


def build_processor(tokenizer, min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS):
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    video_processor = Qwen2VLVideoProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    return Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
                               chat_template=tokenizer.chat_template)


def check_overrides(overrides: dict[str, Any]) -> None:
    """Reject override names the config would not use (a typo would otherwise build the default model or fail deep
    inside transformers) and a non-integer ``max_pixels``, before any build work."""
    from transformers import Qwen2_5_VLConfig

    from vero_data.errors import ConfigError

    base = Qwen2_5_VLConfig()
    text_fields = {*base.text_config.to_dict(), *TEXT_DEFAULTS}
    vision_fields = set(base.vision_config.to_dict())
    bad = [k for k in overrides if not (k == "max_pixels" or k in TEXT_DEFAULTS
                                        or (k.startswith("text_") and k.removeprefix("text_") in text_fields)
                                        or (k.startswith("vision_") and k.removeprefix("vision_") in vision_fields))]
    if bad:
        raise ConfigError(f"unknown tiny-model override(s) {', '.join(bad)}; valid: max_pixels, "
                          f"{', '.join(TEXT_DEFAULTS)}, {', '.join('vision_' + k for k in VISION_DEFAULTS)} "
                          "or any other text_<field> / vision_<field> of Qwen2_5_VLConfig")
    mp = overrides.get("max_pixels", MAX_PIXELS)
    if isinstance(mp, bool) or not isinstance(mp, int) or mp < MIN_PIXELS:
        raise ConfigError(f"tiny-model override max_pixels={mp!r}: expected an integer >= {MIN_PIXELS}")


def build_config(tokenizer, **overrides):
    """A ``Qwen2_5_VLConfig`` sized by ``TEXT_DEFAULTS``/``VISION_DEFAULTS``; ``overrides`` as ``text_*``/``vision_*``."""
    from transformers import Qwen2_5_VLConfig

    text = dict(TEXT_DEFAULTS)
    vision = dict(VISION_DEFAULTS)
    for k, v in overrides.items():
        if k.startswith("vision_"):
            vision[k.removeprefix("vision_")] = v
        elif k.startswith("text_"):
            text[k.removeprefix("text_")] = v
        elif k in text:
            text[k] = v
        else:
            from vero_data.errors import ConfigError

            raise ConfigError(f"unknown tiny-model override {k!r}: use text_<field> or vision_<field>")
    head_dim = text["hidden_size"] // text["num_attention_heads"]
    mrope = text.pop("mrope_section")
    if sum(mrope) * 2 != head_dim:
        mrope = [head_dim // 8, head_dim * 3 // 16, head_dim // 2 - head_dim // 8 - head_dim * 3 // 16]
    theta = text.pop("rope_theta")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab = (len(tokenizer) + 63) // 64 * 64
    vision["out_hidden_size"] = text["hidden_size"]
    return _or_override_error(overrides, lambda: Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=vocab, **text, rope_parameters={"rope_type": "default", "mrope_section": mrope,
                                                       "rope_theta": theta, "type": "mrope"},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
            tie_word_embeddings=True,
        ),
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    ))


def _or_override_error(overrides: dict[str, Any], make):
    """``make()``, with a wrong override value (``num_hidden_layers=abc``) reported in one line."""
    from vero_data.errors import ConfigError

    try:
        return make()
    except Exception as e:  # transformers' strict dataclass errors, TypeError, ValueError
        if not overrides:
            raise
        raise ConfigError(f"tiny-model overrides {overrides} rejected: {' '.join(str(e).split())}") from e


def build_tiny_model(out_dir: str | Path, seed: int = 0, warmup_steps: int = 0, **overrides: Any) -> Path:
    """Build and save a tiny Qwen2.5-VL model, its processor and chat template under ``out_dir``.

    Args:
        out_dir: where ``save_pretrained`` writes (created; existing files are overwritten).
        seed: seeds the tokenizer corpus and the weights; the same seed gives the same files.
        warmup_steps: if > 0, SFT the model this many steps on generated tasks (vero_train.models.warmup).
        **overrides: config fields, e.g. ``num_hidden_layers=4`` or ``vision_depth=1``; ``max_pixels`` sets the
            image processor's per-image pixel cap.

    Returns:
        ``out_dir`` as a Path.
    """
    for module in ("torch", "transformers", "tokenizers"):  # the tiny model is built with them: the `train` extra
        requires(module, "train")
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    from vero_data.errors import ConfigError

    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is an existing file; give a directory")
    check_overrides(overrides)
    max_pixels = int(overrides.pop("max_pixels", MAX_PIXELS))
    tokenizer = train_tokenizer(tokenizer_corpus(seed))
    processor = build_processor(tokenizer, max_pixels=max_pixels)
    config = build_config(tokenizer, **overrides)
    torch.manual_seed(seed)
    model = _or_override_error(overrides, lambda: Qwen2_5_VLForConditionalGeneration(config).to(torch.float32))
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    im_end, eot = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    model.generation_config = GenerationConfig(
        eos_token_id=[im_end, eot], pad_token_id=eot, bos_token_id=eot, do_sample=True, temperature=1.0, top_p=1.0,
        # an untrained policy rarely stops: callers that take their default length from the model (vero data filter,
        # vero eval) stop a tiny-model sample here instead of at 2048+ tokens
        max_new_tokens=256,
    )
    if warmup_steps > 0:
        model = warmup_sft(model, processor, steps=warmup_steps, seed=seed)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    info = {"build_version": BUILD_VERSION, "seed": seed, "warmup_steps": warmup_steps,
            "overrides": {**overrides, "max_pixels": max_pixels},
            "params": sum(p.numel() for p in model.parameters()), "build_seconds": round(time.perf_counter() - t0, 2)}
    (out / "vero_tiny.json").write_text(json.dumps(info, indent=1, sort_keys=True))
    log.info("tiny model: %s params in %.1fs → %s", f"{info['params']:,}", info["build_seconds"], out)
    return out


def build_fingerprint(path: str | Path) -> str:
    """sha256 over the saved weights, tokenizer and configs (to check determinism)."""
    h = hashlib.sha256()
    for f in sorted(Path(path).iterdir()):
        if f.suffix in {".safetensors", ".json", ".jinja"} and f.name != "vero_tiny.json":
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()
