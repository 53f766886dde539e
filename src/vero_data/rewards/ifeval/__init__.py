"""IFEval-style instruction checkers (instruction_checkers.md): 76 classes, looked up by plain name."""

from vero_data.rewards.ifeval.checkers import CHECKERS
from vero_data.rewards.ifeval.driver import score_instructions

__all__ = ["CHECKERS", "score_instructions"]
