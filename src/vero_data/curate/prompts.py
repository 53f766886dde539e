"""The curation prompts: versioned YAML files shipped in ``vero_data/_resources/curate_prompts``, each replaceable
by a file of the same name in a user's ``--prompts DIR``.

A prompt's cache version is its declared ``version`` plus a hash of its text, so editing a prompt (or overriding
it) never reuses verdicts cached under the old wording.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from vero_data.constants import CATEGORY_TO_ABILITY
from vero_data.errors import ConfigError
from vero_data.schema import IMAGE_PLACEHOLDER

# The five question-filter domains (vero600k_format.md §7.2): Vero's ability keys; captioning/IF has none.
QF_DOMAINS = ("chart_ocr", "stem", "spatial_action", "knowledge_recognition", "counting_grounding_search")
CANON_PROMPTS = ("default", "knowledge_recognition")  # §7.3
PROMPT_FILES = (*(f"question_filter_{d}.yaml" for d in QF_DOMAINS), "question_filter_common.yaml",
                *(f"canonicalise_{c}.yaml" for c in CANON_PROMPTS))
MAX_PROMPT_FILE_BYTES = 64 * 1024
_FIELD = re.compile(r"\{(question|answer|images|reward_type|choices)\}")


@dataclass(frozen=True)
class Prompt:
    """A system text and a user template with ``{question}``, ``{answer}``, ``{images}``, ``{reward_type}`` and
    ``{choices}`` fields; ``version`` keys the cache."""

    name: str
    system: str
    user: str
    version: str
    path: str

    def render(self, **fields: str) -> str:
        """The user message: every known ``{field}`` replaced in one pass (row text holding ``{answer}`` stays
        literal; other braces, such as a JSON example, are left as they are)."""
        return _FIELD.sub(lambda m: fields.get(m.group(1), ""), self.user)


def _builtin_dir():
    return resources.files("vero_data") / "_resources" / "curate_prompts"


def _read(name: str, override: Path | None) -> tuple[dict, str]:
    if override is not None and (override / name).is_file():
        path = override / name
        if path.stat().st_size > MAX_PROMPT_FILE_BYTES:
            raise ConfigError(f"{path}: prompt file over {MAX_PROMPT_FILE_BYTES // 1024} KiB")
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        res = _builtin_dir() / name
        text, where = res.read_text(encoding="utf-8"), f"builtin:{name}"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML ({str(e).splitlines()[0]})") from e
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping with version, system and user")
    return doc, where


def _field(doc: dict, key: str, where: str) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"{where}: field {key!r} must be non-empty text")
    return v


def load_prompts(override: str | Path | None = None) -> dict[str, Prompt]:
    """Every curation prompt by name (``question_filter/<domain>``, ``canonicalise/<name>``).

    Args:
        override: a folder whose ``question_filter_<domain>.yaml`` / ``canonicalise_<name>.yaml`` /
            ``question_filter_common.yaml`` files replace the built-in ones of the same name.
    """
    ov = Path(override) if override is not None else None
    if ov is not None and not ov.is_dir():
        raise ConfigError(f"--prompts {ov}: not a folder")
    if ov is not None:
        unknown = sorted(p.name for p in ov.glob("*.yaml") if p.name not in PROMPT_FILES)
        if unknown:
            raise ConfigError(f"--prompts {ov}: unknown prompt file(s) {', '.join(unknown)}; expected names: "
                              f"{', '.join(PROMPT_FILES)}")
    common, cwhere = _read("question_filter_common.yaml", ov)
    rules = _field(common, "rules", cwhere)
    out: dict[str, Prompt] = {}
    for kind, names in (("question_filter", QF_DOMAINS), ("canonicalise", CANON_PROMPTS)):
        for n in names:
            doc, where = _read(f"{kind}_{n}.yaml", ov)
            system = _field(doc, "system", where)
            if kind == "question_filter":
                system = system.rstrip() + "\n\n" + rules
            user = _field(doc, "user", where)
            need = ("{images}", "{question}", "{answer}") if kind == "question_filter" else ("{answer}",)
            missing = [f for f in need if f not in user]
            if missing:  # a question-filter prompt without {images} would send images with no place for them
                raise ConfigError(f"{where}: the user template lacks {', '.join(missing)}")
            declared = doc.get("version", common.get("version") if kind == "question_filter" else None)
            if declared is None:
                raise ConfigError(f"{where}: field 'version' missing")
            digest = hashlib.sha256((system + "\0" + user).encode()).hexdigest()[:10]
            out[f"{kind}/{n}"] = Prompt(f"{kind}/{n}", system, user, f"v{declared}-{digest}", where)
    return out


def question_filter_prompt(prompts: dict[str, Prompt], category: str) -> Prompt | None:
    """The domain prompt of a row's category; None for captioning/IF, which the question filter skips (§7.2)."""
    ability = CATEGORY_TO_ABILITY.get(category, category)
    return prompts.get(f"question_filter/{ability}")


def canonicalise_prompt(prompts: dict[str, Prompt], category: str) -> Prompt:
    """``knowledge_recognition`` for knowledge rows, else ``default`` (§7.3)."""
    ability = CATEGORY_TO_ABILITY.get(category, category)
    return prompts.get(f"canonicalise/{ability}") or prompts["canonicalise/default"]


def split_images(text: str) -> str | list[dict]:
    """``"<image>\nQ"`` → ``[{"type": "image"}, {"type": "text", "text": "\nQ"}]``; text without placeholders
    stays a string (a text-only request)."""
    if IMAGE_PLACEHOLDER not in text:
        return text
    parts: list[dict] = []
    for i, chunk in enumerate(text.split(IMAGE_PLACEHOLDER)):
        if i:
            parts.append({"type": "image"})
        if chunk:
            parts.append({"type": "text", "text": chunk})
    return parts
