"""Warm-up SFT for the tiny model: a few hundred steps of TRL's ``SFTTrainer`` on generated tasks.

A randomly initialised model never writes ``<answer>`` and every pass count would be 0. After the warm-up it
answers in the Vero format (``<think>…</think><answer>\\boxed{…}</answer>``) and has learnt each task's answer
*prior* (the letters of multiple choice, small counts and slopes, the category names of charts, where the buttons
of a UI sit, the keywords an instruction asks for), so at temperature 1 it solves some rows sometimes and others
often: pass counts spread over 0..k and the filter has something to separate.

Choices that make this work in a few CPU minutes (measured, docs/models.md):

- one fixed, short thought (``<think>I look at the image.</think>``): the format costs few tokens and is learnt
  in a few dozen steps, so almost every sample is in format;
- every generator of the demo recipe (all six categories), weighted towards tasks where the format plus a
  plausible guess earns reward; each target is the gold answer in the form its reward parses (checked with
  ``compute_score_from_data_source``: accuracy 1), e.g. a click point at the box centre, an
  instruction-following text built to satisfy the row's checkers;
- a high learning rate (4e-3, cosine) on batches of short sequences, 400 steps by default over up to 2,400
  generated examples (~1.3 epochs); 80 steps gave the format but half the accuracy, 1,000 steps no more;
- images resized once, before the dataset is built, to the size the image processor would give them
  (``fit_images``): each TRL step then costs ~0.15 s on 2 cores instead of ~0.25 s, and building the Arrow
  dataset ~0.6 s instead of ~7 s (PNG-encoding full-size images);
- afterwards the final norm is scaled by ``sharpen`` (3): every logit ×3, i.e. sampling at temperature 1 behaves
  like the trained model at 1/3. Undertrained format tokens (p ≈ 0.9 each) become near-certain, so ~95% of
  samples are in format instead of ~60%, while the answer prior stays spread enough for pass counts 0..k.
"""

from __future__ import annotations

import json
import logging
import random
import re
import tempfile
from pathlib import Path

from vero_data.rewards import judged_reward_types
from vero_train.models.chat import messages_from_row
from vero_train.models.prompts import ANSWER_CLOSE, ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, VERO_SYSTEM_PROMPT

log = logging.getLogger(__name__)
_WS = re.compile(r"\s+")

THOUGHT = "I look."
# Generator → relative weight in the warm-up mix: every category, only tasks whose answer is short and where
# format + a plausible guess is often right. JSON answers (boxes, clicks, actions, routes) are left out: in 80 steps
# a 2-layer model mixes their pieces into every other answer (measured at 80 steps).
WARMUP_MIX: dict[str, float] = {
    "relative_position": 3, "shape_colour": 3, "object_icons": 3, "equation": 2, "geometry": 2,  # multiple choice
    "counting": 3, "function_plot": 3, "pie_chart": 2, "table_lookup": 1, "bar_chart": 1,  # short answers
    "constrained_description": 2, "scene_caption": 1,  # instruction following: the asked keywords
}
# Kept for callers of the old API: the easy generators.
WARMUP_GENERATORS = ("relative_position", "shape_colour", "counting", "object_icons")


def _mix_counts(n: int, mix: dict[str, float]) -> dict[str, int]:
    total = sum(mix.values())
    counts = {g: int(n * w / total) for g, w in mix.items()}
    for g in sorted(mix, key=lambda g: -mix[g])[: n - sum(counts.values())]:
        counts[g] += 1
    return {g: c for g, c in counts.items() if c > 0}


def _if_text(instructions: list[dict]) -> str:
    """A short text meant to satisfy the instruction checkers (keywords, word counts, bullets, title, …)."""
    by = {i["class"]: i.get("args") or {} for i in instructions}
    words = list(by.get("KeywordChecker", {}).get("keywords", [])) or ["shapes"]
    forbidden = {w.lower() for w in by.get("ForbiddenWords", {}).get("forbidden_words", [])}
    lo = by.get("CheckWhetherResponseWordCountInRange", {}).get("lower_bound", 0)
    # pad word counts with the keywords again: no other words the model has to learn
    filler = [w for w in words if w.lower() not in forbidden] or ["shapes"]
    n_bullets = by.get("BulletListChecker", {}).get("num_bullets", 0)
    n_high = by.get("HighlightSectionChecker", {}).get("num_highlights", 0)
    extra = [by["ConstrainedStartChecker"]["starter"]] if "ConstrainedStartChecker" in by else []
    if "TitleChecker" in by:
        extra.append("<<shapes>>")
    n_words = len(words) + len(extra) + (2 if "PostscriptChecker" in by else 0) + 3 * ("EndChecker" in by)
    i = 0
    while n_words < lo and filler:
        words.append(filler[i % len(filler)])
        i, n_words = i + 1, n_words + 1
    if n_high:
        words = [f"*{w}*" if j < n_high else w for j, w in enumerate(words)] + [f"*{filler[0]}*"] * max(
            0, n_high - len(words))
    if n_bullets:
        per = max(1, -(-len(words) // n_bullets))
        chunks = [words[j * per:(j + 1) * per] or [filler[0]] for j in range(n_bullets)]
        body = "\n".join("- " + " ".join(c) for c in chunks)
    else:
        body = " ".join(words)
    text = "\n".join([*extra, body])
    if "PostscriptChecker" in by:
        text += f"\n{by['PostscriptChecker']['postscript_marker']} shapes"
    if "EndChecker" in by:
        text += f"\n{by['EndChecker']['end_phrase']}"
    if "JsonFormat" in by:
        text = json.dumps({"description": text})
    return text


def _answer_candidates(row: dict) -> list[str]:
    """Answer bodies (what goes inside ``<answer>…</answer>``) to try, best first."""
    rt, ans = row["reward_type"], row["answer"]
    if rt == "instruction_following":
        try:
            return [_if_text(json.loads(ans)["instructions"])]
        except (ValueError, KeyError, TypeError):
            return [ans]
    if rt == "clicking":
        try:
            b = json.loads(ans)[0]["bbox_2d"]
            return [json.dumps([{"point_2d": [(b[0] + b[2]) // 2, (b[1] + b[3]) // 2]}])]
        except (ValueError, KeyError, TypeError, IndexError):
            return [ans]
    if rt in judged_reward_types():  # judged offline as 0: keep the target short
        return [" ".join(_WS.split(ans)[:12])]
    if rt == "grounding":
        return [ans]
    return [f"\\boxed{{{ans}}}", ans]


def completion_for_row(row: dict, thought: str = THOUGHT) -> str:
    """The warm-up target for a canonical row: the first candidate the row's reward scores fully correct."""
    from vero_data.rewards import compute_score_from_data_source

    extra = {**json.loads(row.get("extra_info") or "{}"), "reward_type": row["reward_type"]}
    cands = [f"{THINK_OPEN}{thought}{THINK_CLOSE}{ANSWER_OPEN}{body}{ANSWER_CLOSE}" for body in _answer_candidates(row)]
    for text in cands:
        try:
            s = compute_score_from_data_source(row["data_source"], text, row["answer"], extra, format_score=0.2)
        except Exception:  # noqa: BLE001  (a verifier error just means: try the next form)
            continue
        if s["accuracy"] >= 1.0 and s["format"] >= 1.0:
            return text
    return cands[0]


def warmup_examples(n: int, seed: int = 0, generators: tuple[str, ...] | dict[str, float] | None = None,
                    system_prompt: str | None = None) -> list[dict]:
    """``n`` prompt-completion examples (TRL conversational format with an ``images`` column).

    ``generators``: names (equal weights) or a name → weight mix; default ``WARMUP_MIX``.
    """
    import pyarrow.parquet as pq

    from vero_data.api import generate_to_dir  # polars and the build stages: only when examples are made

    mix = WARMUP_MIX if generators is None else (
        dict(generators) if isinstance(generators, dict) else dict.fromkeys(generators, 1.0))
    counts = _mix_counts(n, mix)
    rng = random.Random(seed)
    sp = VERO_SYSTEM_PROMPT if system_prompt is None else system_prompt
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for g, c in counts.items():
            # seed + 1000: keep warm-up rows apart from the demo rows the filter is shown on
            shard = generate_to_dir(g, c, seed + 1000, Path(tmp) / g, split="train")["path"]
            for row in pq.read_table(shard).to_pylist():
                messages, images = messages_from_row(row, sp)
                # Arrow needs one content type: every content becomes a list of parts
                messages = [{"role": m["role"], "content": _parts(m["content"])} for m in messages]
                completion = completion_for_row(row)
                out.append({"prompt": messages,
                            "completion": [{"role": "assistant", "content": _parts(completion)}],
                            "images": images})
    rng.shuffle(out)
    return out[:n]


def _parts(content) -> list[dict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def fit_images(rows: list[dict], processor) -> list[dict]:
    """Resize every image once to the size the image processor would resize it to (Qwen ``smart_resize``).

    The generated images are 640×480 and larger, the processor caps them at ~50K px: without this the dataset
    stores and the collator decodes full-size PNGs every step (in the profile ~7 s to build the Arrow dataset of
    640 rows and most of each step's data loading). The processor's own resize is then a no-op.
    """
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    ip = processor.image_processor
    lo, hi = ip.size["shortest_edge"], ip.size["longest_edge"]
    factor = ip.patch_size * ip.merge_size

    def fit(im):
        h, w = smart_resize(im.height, im.width, factor=factor, min_pixels=lo, max_pixels=hi)
        return im if (w, h) == im.size else im.convert("RGB").resize((w, h), Image.Resampling.BICUBIC)

    return [{**r, "images": [fit(im) for im in r["images"]]} for r in rows]


DEFAULT_STEPS = 400


def warmup_sft(model, processor, steps: int = DEFAULT_STEPS, seed: int = 0, batch_size: int = 8, learning_rate: float = 4e-3,
               n_examples: int | None = None, generators=None, scheduler: str = "cosine", sharpen: float = 3.0):
    """Fine-tune ``model`` in place with TRL ``SFTTrainer`` (completion-only loss) and return it.

    ``sharpen`` > 1 multiplies the final norm's weight (hence every logit) afterwards: sampling the result at
    temperature T is sampling the trained model at T / sharpen (see docs/models.md for why).
    """
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    n = n_examples or min(steps * batch_size, 2400)
    rows = fit_images(warmup_examples(n, seed, generators=generators), processor)
    ds = Dataset.from_list(rows)
    with tempfile.TemporaryDirectory() as tmp:
        args = SFTConfig(
            output_dir=tmp, max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=learning_rate,
            lr_scheduler_type=scheduler, warmup_steps=max(1, steps // 20), weight_decay=0.0,
            logging_steps=max(1, steps // 10),
            save_strategy="no", report_to=[], seed=seed, data_seed=seed, use_cpu=not torch.cuda.is_available(),
            max_length=None,  # truncation would cut image tokens (pitfalls §1)
            completion_only_loss=True, bf16=False, fp16=False, dataloader_num_workers=0, disable_tqdm=True,
            remove_unused_columns=False, activation_checkpointing=False,  # transformers 5 name of gradient_checkpointing
        )
        model.train()
        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=processor)
        from vero_train.callbacks import quiet_stdout

        quiet_stdout(trainer, "tiny-warm warm-up")
        trainer.train()
        log.info("warm-up: %s", [h for h in trainer.state.log_history if "loss" in h][-1:])
    model.eval()
    if sharpen != 1.0:
        with torch.no_grad():
            # the head is tied to the input embeddings: scale the final norm, not the head
            model.model.language_model.norm.weight.mul_(sharpen)
    return model.to(torch.float32)
