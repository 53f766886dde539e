"""Task-routed rewards: Vero's verifiers behind one registry, veRL and TRL entry points and a batch API.

``compute_score_from_data_source`` is a drop-in ``custom_reward_function`` for veRL with Vero's exact signature,
routing and defaults. Importing this package is cheap: math-verify, scipy and PIL load on first use.
"""

from vero_data.rewards import (  # noqa: F401  (importing registers the verifiers)
    clicking,
    grounding,
    instruction_following,
    list_match,
    llm_judge,
    multiple_choice,
    numeric,
    ordering,
    string_match,
    web_action,
)
from vero_data.rewards._text import extract_answer, format_score, normalize_text, unbox
from vero_data.rewards.base import (
    REWARDS,
    Verifier,
    boxed_reward_types,
    image_size_reward_types,
    judged_reward_types,
    register,
    reward_types,
    subtag_rows,
)
from vero_data.rewards.core import (
    RewardWeights,
    Scored,
    compute_score,
    compute_score_from_data_source,
    overlong_penalty,
    score_response,
)

__all__ = [
    "REWARDS",
    "RewardWeights",
    "Scored",
    "Verifier",
    "boxed_reward_types",
    "compute_score",
    "compute_score_from_data_source",
    "extract_answer",
    "format_score",
    "image_size_reward_types",
    "judged_reward_types",
    "normalize_text",
    "overlong_penalty",
    "register",
    "reward_types",
    "score_response",
    "subtag_rows",
    "unbox",
]
