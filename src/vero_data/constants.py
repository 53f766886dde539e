"""Names shared by the schema, the rewards and the benchmarks. No imports: the rewards and `vero --help` stay light."""

# The six categories of Vero-600K (paper §3 / Table A1). Our names; Vero's training `ability` keys differ.
CATEGORIES: tuple[str, ...] = (
    "chart_ocr",
    "stem",
    "spatial_action",
    "knowledge",
    "grounding_counting_search",
    "captioning_if",
)

# Vero's `ability` (= domain) keys: training config names (vero600k_format.md §2) are the canonical export keys.
CATEGORY_TO_ABILITY: dict[str, str] = {
    "chart_ocr": "chart_ocr",
    "stem": "stem",
    "spatial_action": "spatial_action",
    "knowledge": "knowledge_recognition",
    "grounding_counting_search": "counting_grounding_search",
    "captioning_if": "visual_alignment",
}
# Every spelling seen in Vero (training and eval keys) → our category.
ABILITY_TO_CATEGORY: dict[str, str] = {
    **{v: k for k, v in CATEGORY_TO_ABILITY.items()},
    **{c: c for c in CATEGORIES},
    "knowledge_rec": "knowledge",
    "grounding_counting_search": "grounding_counting_search",
    "instruction_following": "captioning_if",
    "captioning_instruction_following": "captioning_if",
}

# Reward types recognised by Vero's compute_score (../shared/spec/rewards.md "Routing key"), in Vero's order. What each
# one means is its registered verifier (vero_data.rewards.base.Verifier); this tuple is here, import-free, so the
# schema, manifests and `vero --help` need not load the verifiers (tests/vero_data/rewards/test_registry.py checks
# that the registry holds exactly these).
REWARD_TYPES: tuple[str, ...] = (
    "string_match",
    "multiple_choice",
    "number_list",
    "web_action",
    "numeric",
    "list_string_match",
    "counting",
    "search",
    "grounding",
    "clicking",
    "instruction_following",
    "instruction_following_llm_judge",
    "llm_judge",
)
