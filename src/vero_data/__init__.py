"""Vero data: build, validate and score multimodal RL datasets (no torch in this package)."""

__version__ = "0.1.0"
