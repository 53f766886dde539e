import pytest

from vero_data.rewards import compute_score_from_data_source


def wrap(answer: str) -> str:
    return f"<think>reasoning</think><answer>{answer}</answer>"


@pytest.fixture
def score():
    """score(answer_text, truth, reward_type, **extra_info) with a well-formed response and format_score 0.2."""

    def _score(answer, truth, reward_type, lenient=False, **extra):
        extra["reward_type"] = reward_type
        return compute_score_from_data_source("test", wrap(answer), truth, extra, format_score=0.2, lenient=lenient)

    return _score
