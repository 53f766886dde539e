"""Pydantic models of a benchmark YAML and a suite YAML (``extra="forbid"``: a typo is an error, not a default)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CATEGORIES = ("chart_ocr", "stem", "spatial_action", "knowledge", "grounding_counting_search", "captioning_if")
CATEGORY_TITLES = {
    "chart_ocr": "Chart & OCR",
    "stem": "STEM",
    "spatial_action": "Spatial & Action",
    "knowledge": "Knowledge & Recognition",
    "grounding_counting_search": "Grounding, Counting & Search",
    "captioning_if": "Captioning & Instruction Following",
    "synthetic": "Synthetic (offline)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenerationSpec(_Strict):
    """Decoding settings; defaults are the paper's for every ``*_reasoning`` task (veroeval30.json "generation")."""

    max_new_tokens: int = Field(16384, gt=0)
    temperature: float = Field(0.6, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    do_sample: bool = True
    n: int = Field(1, ge=1)


class JudgeSpec(_Strict):
    """The LLM judge a benchmark needs (model name is a default; ``--judge-model`` overrides it)."""

    model: str = "Qwen3-32B"
    prompt: str = Field(description="prompt name in vero_data.benchmarks.judged")
    temperature: float = 0.0
    max_tokens: int = 2048


class PromptSpec(_Strict):
    """How a row becomes a user turn: ``template`` is ``str.format`` over the row plus computed fields
    (``{options}``: lettered option lines), images come from ``image_fields`` in order."""

    template: str = ""
    image_fields: list[str] = Field(default_factory=lambda: ["image"])
    system: Literal["vero", "none"] = "vero"
    builder: str | None = Field(None, description="'module:function' building the text from the row instead of "
                                "``template`` (the fork's per-row doc_to_text); it may also return the image fields")
    hub_images: bool = Field(False, description="image paths that are not local files are files of the doc's hub "
                             "dataset repo, fetched with hf_hub_download (lmms-eval visual_probe)")
    strip_image_prefixes: list[str] = Field(default_factory=list, description="leading folders dropped from an "
                                            "image path before it is fetched from the hub repo")
    require_images: bool = Field(False, description="a doc without an image stops the benchmark with the reason "
                                 "instead of being asked text-only")


class SubtaskSpec(_Strict):
    name: str
    hub_id: str | None = None
    config: str | None = None
    split: str | None = None


class SyntheticSpec(_Strict):
    """Held-out generated tasks (``split="test"`` salts the seeds away from training rows)."""

    generator: str
    n: int = 8
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)


class BenchmarkSpec(_Strict):
    """One benchmark. ``name`` is the lmms-eval task name so numbers can be cross-checked."""

    name: str
    display_name: str
    category: Literal["chart_ocr", "stem", "spatial_action", "knowledge", "grounding_counting_search",
                      "captioning_if", "synthetic"]
    version: int = 1
    hub_id: str | None = None
    config: str | None = None
    split: str = "test"
    revision: str | None = None
    streaming: bool = False
    subtasks: list[SubtaskSpec] = Field(default_factory=list)
    process_docs: str | None = None
    id_field: str | None = None
    prompt: PromptSpec
    answer_extraction: Literal["fae", "think", "raw"] = "fae"
    scorer: str
    metric: str
    metrics: list[str] = Field(default_factory=list)
    aggregation: Literal["mean", "subtask_mean"] = "mean"
    judge: JudgeSpec | None = None
    generation: GenerationSpec = Field(default_factory=GenerationSpec)
    synthetic: SyntheticSpec | None = None
    notes: str = ""

    @property
    def needs_judge(self) -> bool:
        return self.judge is not None


class SuiteSpec(_Strict):
    name: str
    description: str = ""
    benchmarks: list[str]
    aggregation: Literal["mean_of_benchmarks"] = "mean_of_benchmarks"
