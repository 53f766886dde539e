"""Vero train: everything that needs a model (torch, transformers, TRL, vLLM). Imports vero_data, never the reverse."""

__version__ = "0.1.0"
