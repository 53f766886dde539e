"""Captioning and instruction following (captioning_if).

``scene_caption`` asks for a description of a generated scene: judged rows (``llm_judge``) carry a reference
caption; rule rows (``instruction_following``) are scored by keyword checks on the true colours and shapes, so a
caption must look at the image to pass. ``constrained_description`` adds checkable constraints (word ranges,
required/forbidden words, bullet counts, JSON, title, postscript…) written in the ground-truth shape the
instruction-following reward reads: ``{"instructions": [{"class": NAME, "args": {...}}]}`` with class names from
the checker catalogue. Only checkers that need no NLTK/langdetect data are used, so scoring works offline.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from vero_data.schema import RawSample
from vero_data.sources.base import register_generator
from vero_data.sources.generators.common import (
    COLOUR_NAMES,
    SHAPE_NAMES,
    background,
    draw_scene,
    knobs,
    pick_level,
    rint,
)

FORBIDDEN_POOL = ["image", "picture", "photo", "beautiful", "colorful", "nice", "very", "really", "shows", "see"]
FILLER = ["the", "scene", "holds", "simple", "flat", "forms", "on", "a", "plain", "light", "backdrop", "with", "clear",
          "edges", "and", "even", "spacing", "between", "them"]
STARTERS = ["Overview:", "At a glance", "In short", "Description:"]
END_PHRASES = ["That is all.", "Hope this helps.", "End of description."]


def _position(cx: float, cy: float, w: int, h: int) -> str:
    col = ["left", "centre", "right"][min(2, int(3 * cx / w))]
    row = ["top", "middle", "bottom"][min(2, int(3 * cy / h))]
    return "centre" if (row, col) == ("middle", "centre") else f"{row} {col}" if row != "middle" else f"middle {col}"


def _scene(rng: random.Random, n: int, size: tuple[int, int], radius: tuple[int, int]):
    specs = list(zip(rng.sample(SHAPE_NAMES, n), rng.sample(COLOUR_NAMES, n), strict=True))
    w, h = size
    img = background(rng, w, h)
    objs = draw_scene(img, rng, specs, radius)
    parts = [f"a {'large' if o.r > (radius[0] + radius[1]) / 2 else 'small'} {o.name} at the "
             f"{_position(o.cx, o.cy, w, h)}" for o in objs]
    caption = "A plain light background with " + (", ".join(parts[:-1]) + " and " + parts[-1] if n > 1 else parts[0]) + "."
    return img, objs, caption


CAPTION_LEVELS = {
    "easy": {"n_objects": (1, 2), "size": (640, 480), "radius": (60, 100)},
    "medium": {"n_objects": (3, 4), "size": (720, 540), "radius": (40, 70)},
    "hard": {"n_objects": (5, 7), "size": (800, 600), "radius": (26, 46)},
}


@register_generator("scene_caption", "captioning_if", ["instruction_following", "instruction_following_llm_judge",
                                                       "llm_judge"], difficulty="mixed", judge_rate=0.25, blend_rate=0.25,
                    levels=CAPTION_LEVELS)
def scene_caption(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Describe a scene of coloured shapes: judged against a reference caption, or rule-checked for true colours/shapes."""
    level = pick_level(rng, params)
    k = knobs(level, CAPTION_LEVELS, params)
    n = rint(rng, k["n_objects"])
    img, objs, caption = _scene(rng, n, k["size"], k["radius"])
    extra: dict[str, Any] = {"difficulty": level, "reference": caption}
    u = rng.random()
    if u < params.get("judge_rate", 0.25):
        q = "Describe this image in one or two sentences."
        return RawSample(question=q, images=[img], answer=caption, reward_type="llm_judge", extra_info=extra)
    keywords = sorted({w for o in objs for w in (o.colour, o.shape)})
    upper = 12 + 8 * n
    instructions = [
        {"class": "KeywordChecker", "args": {"keywords": keywords}},
        {"class": "CheckWhetherResponseWordCountInRange", "args": {"lower_bound": 3 * n, "upper_bound": upper}},
    ]
    q = (f"Describe this image, naming the colour and the shape of every object in it. Use at most {upper} words.")
    blend = u < params.get("judge_rate", 0.25) + params.get("blend_rate", 0.25)
    return RawSample(question=q, images=[img], answer={"instructions": instructions},
                     reward_type="instruction_following_llm_judge" if blend else "instruction_following",
                     extra_info=extra)


# ---- constrained descriptions -------------------------------------------------------------------------------------

def _word_range(rng, ctx):
    lo = rng.randint(12, 30)
    hi = lo + rng.randint(25, 45)
    return ("CheckWhetherResponseWordCountInRange", {"lower_bound": lo, "upper_bound": hi},
            f"Use between {lo} and {hi} words.")


def _keywords(rng, ctx):
    kws = rng.sample(ctx["words"], min(len(ctx["words"]), rng.randint(1, 3)))
    return "KeywordChecker", {"keywords": kws}, "Include the words " + " and ".join(f"'{k}'" for k in kws) + "."


def _forbidden(rng, ctx):
    fw = rng.sample(FORBIDDEN_POOL, rng.randint(1, 3))
    return "ForbiddenWords", {"forbidden_words": fw}, "Do not use the words " + " or ".join(f"'{w}'" for w in fw) + "."


def _bullets(rng, ctx):
    n = rng.randint(2, 5)
    return ("BulletListChecker", {"num_bullets": n},
            f"Format the answer as exactly {n} bullet points, each line starting with '- '.")


def _json(rng, ctx):
    return "JsonFormat", {}, "Wrap the entire answer in JSON format."


def _no_commas(rng, ctx):
    return "CommaChecker", {}, "Do not use any commas."


def _title(rng, ctx):
    return "TitleChecker", {}, "Give the answer a title wrapped in double angular brackets, such as <<my title>>."


def _postscript(rng, ctx):
    return ("PostscriptChecker", {"postscript_marker": "P.S."},
            "At the end of your response add a postscript starting with P.S.")


def _end(rng, ctx):
    p = rng.choice(END_PHRASES)
    return "EndChecker", {"end_phrase": p}, f"Finish your response with the exact phrase '{p}'."


def _start(rng, ctx):
    s = rng.choice(STARTERS)
    return "ConstrainedStartChecker", {"starter": s}, f"Start your response with '{s}'."


def _highlights(rng, ctx):
    n = rng.randint(1, 3)
    return ("HighlightSectionChecker", {"num_highlights": n},
            f"Highlight at least {n} words with markdown, e.g. *highlighted word*.")


CONSTRAINTS = {"word_range": _word_range, "keywords": _keywords, "forbidden": _forbidden, "bullets": _bullets,
               "json": _json, "no_commas": _no_commas, "title": _title, "postscript": _postscript, "end": _end,
               "start": _start, "highlights": _highlights}
# JSON must be the whole answer, so it excludes every constraint that adds text or layout around it.
EXCLUSIVE = {"json": {"bullets", "title", "postscript", "end", "start", "highlights"}}

IF_LEVELS = {
    "easy": {"n_constraints": (1, 2), "n_objects": (2, 3)},
    "medium": {"n_constraints": (3, 3), "n_objects": (3, 4)},
    "hard": {"n_constraints": (4, 5), "n_objects": (4, 6)},
}


@register_generator("constrained_description", "captioning_if", ["instruction_following"], difficulty="mixed",
                    levels=IF_LEVELS)
def constrained_description(rng: random.Random, params: dict[str, Any]) -> RawSample:
    """Describe a scene under checkable constraints (word range, required/forbidden words, bullets, JSON, title…)."""
    level = pick_level(rng, params)
    k = knobs(level, IF_LEVELS, params)
    img, objs, caption = _scene(rng, rint(rng, k["n_objects"]), (720, 540), (35, 65))
    ctx = {"words": sorted({w for o in objs for w in (o.colour, o.shape)})}
    chosen = ["keywords"]  # always one positive constraint, so ignoring the instructions cannot pass
    pool = [c for c in CONSTRAINTS if c != "keywords"]
    rng.shuffle(pool)
    total = rint(rng, k["n_constraints"])
    for c in pool:
        if len(chosen) >= total:
            break
        if any(c in EXCLUSIVE.get(x, ()) or x in EXCLUSIVE.get(c, ()) for x in chosen):
            continue
        chosen.append(c)
    built = [CONSTRAINTS[c](rng, ctx) for c in chosen]
    rng.shuffle(built)
    instructions = [{"class": cls, "args": args} for cls, args, _ in built]
    q = "Describe the objects in this image. " + " ".join(text for _, _, text in built)
    return RawSample(question=q, images=[img], answer={"instructions": instructions},
                     reward_type="instruction_following",
                     extra_info={"difficulty": level, "constraints": chosen, "reference": caption})


def _count_words(text: str) -> int:
    """Word count as CheckWhetherResponseWordCountInRange counts it."""
    return len(re.sub(r"[^\w\s.\-]", "", text).split())


def satisfying_response(ground_truth: str | dict[str, Any]) -> str:
    """A response text that satisfies every instruction this module emits (for smoke tests and reward checks).

    Args:
        ground_truth: the row's answer, ``{"instructions": [...]}`` as a dict or JSON string.
    """
    gt = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    ins = {i["class"]: i.get("args") or {} for i in gt["instructions"]}
    forbidden = {w.lower() for w in ins.get("ForbiddenWords", {}).get("forbidden_words", [])}
    keywords = list(ins.get("KeywordChecker", {}).get("keywords", []))
    n_high = ins.get("HighlightSectionChecker", {}).get("num_highlights", 0)
    words = [f"*{w}*" if i < n_high else w for i, w in enumerate(keywords)]
    words += [f"*{f}*" for f in ["flat", "clear", "plain"][: max(0, n_high - len(keywords))]]
    filler = [w for w in FILLER if w not in forbidden]
    lo = ins.get("CheckWhetherResponseWordCountInRange", {}).get("lower_bound", 0)
    hi = ins.get("CheckWhetherResponseWordCountInRange", {}).get("upper_bound", 10**6)
    n_bullets = ins.get("BulletListChecker", {}).get("num_bullets", 0)

    def assemble(body_words: list[str]) -> str:
        if "JsonFormat" in ins:
            return json.dumps({"description": " ".join(body_words)})
        head = [ins["ConstrainedStartChecker"]["starter"]] if "ConstrainedStartChecker" in ins else []
        if "TitleChecker" in ins:
            head.append("<<Scene notes>>")
        if n_bullets:
            chunks = [body_words[i::n_bullets] for i in range(n_bullets)]
            body = ["- " + (" ".join(c) or "shape") for c in chunks]
        else:
            body = [" ".join(body_words) + "."]
        tail = ["P.S. plain forms only."] if "PostscriptChecker" in ins else []
        if "EndChecker" in ins:
            tail.append(ins["EndChecker"]["end_phrase"])
        return "\n".join(head + body + tail)

    body = list(words)
    i = 0
    target = (lo + min(hi, lo + 40)) // 2 if lo else max(len(body) + 4, 8)
    while _count_words(assemble(body)) < target:
        body.append(filler[i % len(filler)])
        i += 1
    return assemble(body)
