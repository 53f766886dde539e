"""The adversarial suite shares the model tests' session fixtures (the tiny model built once)."""

from tests.vero_train.conftest import tiny_model_dir, vero_cache  # noqa: F401
