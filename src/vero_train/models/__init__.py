"""Models: the tiny offline model, its chat template and tokenizer, warm-up SFT and generation backends."""

from vero_train.models.prompts import VERO_SYSTEM_PROMPT
from vero_train.models.tiny import TINY_ALIASES, build_tiny_model, resolve_model

__all__ = ["TINY_ALIASES", "VERO_SYSTEM_PROMPT", "build_tiny_model", "resolve_model"]
