"""Warm-up SFT for the tiny model: a few hundred steps of TRL's ``SFTTrainer`` on generated tasks.

A randomly initialised model never writes ``<answer>`` and every pass count would be 0. After the warm-up it
answers in the Vero format (``<think>…</think><answer>\\boxed{…}</answer>``) and, by chance or by skill, solves some
easy tasks (multiple choice, small counts), so pass counts spread over 0..k and the filter has something to separate.
"""

from __future__ import annotations

import logging
import random
import tempfile
from pathlib import Path

from vero_train.models.prompts import format_response

log = logging.getLogger(__name__)

# Easy generators with short, boxed answers.
WARMUP_GENERATORS = ("relative_position", "shape_colour", "counting", "object_icons")
THOUGHTS = ("I look at the image.", "Let me check the image.", "I compare the options.", "I count what I see.")


def warmup_examples(n: int, seed: int = 0, generators: tuple[str, ...] = WARMUP_GENERATORS,
                    system_prompt: str | None = None) -> list[dict]:
    """``n`` prompt-completion examples (TRL conversational format with an ``images`` column)."""
    import pyarrow.parquet as pq

    from vero_train.models.backends import messages_from_row
    from vero_train.models.prompts import VERO_SYSTEM_PROMPT
    from vero_train.passk import make_demo_input

    rng = random.Random(seed)
    sp = VERO_SYSTEM_PROMPT if system_prompt is None else system_prompt
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        # seed + 1000: keep warm-up rows apart from the demo rows the filter is shown on
        d = make_demo_input(Path(tmp), rows=n, seed=seed + 1000, generators=generators)
        for f in sorted((d / "data").glob("*.parquet")):
            for row in pq.read_table(f).to_pylist():
                messages, images = messages_from_row(row, sp)
                # Arrow needs one content type: every content becomes a list of parts
                messages = [{"role": m["role"], "content": _parts(m["content"])} for m in messages]
                completion = format_response(rng.choice(THOUGHTS), row["answer"])
                out.append({"prompt": messages, "completion": [{"role": "assistant", "content": _parts(completion)}],
                            "images": images})
    rng.shuffle(out)
    return out


def _parts(content) -> list[dict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def warmup_sft(model, processor, steps: int = 300, seed: int = 0, batch_size: int = 8, learning_rate: float = 3e-3,
               n_examples: int | None = None):
    """Fine-tune ``model`` in place with TRL ``SFTTrainer`` (completion-only loss) and return it."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    n = n_examples or min(steps * batch_size, 1200)
    rows = warmup_examples(n, seed)
    ds = Dataset.from_list(rows)
    with tempfile.TemporaryDirectory() as tmp:
        args = SFTConfig(
            output_dir=tmp, max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=learning_rate,
            lr_scheduler_type="cosine", warmup_steps=max(1, steps // 20), weight_decay=0.0, logging_steps=max(1, steps // 10),
            save_strategy="no", report_to=[], seed=seed, data_seed=seed, use_cpu=not torch.cuda.is_available(),
            max_length=None,  # truncation would cut image tokens (pitfalls §1)
            completion_only_loss=True, bf16=False, fp16=False, dataloader_num_workers=0, disable_tqdm=True,
            remove_unused_columns=False, gradient_checkpointing=False,
        )
        model.train()
        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=processor)
        trainer.train()
        log.info("warm-up: %s", [h for h in trainer.state.log_history if "loss" in h][-1:])
    model.eval()
    return model.to(torch.float32)
