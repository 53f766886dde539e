"""LLM curation of a build (vero600k_format.md §7): the question filter and the answer canonicaliser.

``curate(CurateConfig(...), judge)`` reads a build, asks ``judge`` (any object with ``complete(requests,
sampling)``: see :mod:`vero_data.curate.judge`) and writes a new folder. Model backends live in vero_train
(``vero_train.curate_judge``); ``vero data curate`` wires them up.
"""

from vero_data.curate.judge import CurateSampling, Judge, JudgeReply, JudgeRequest
from vero_data.curate.parse import (
           CANON_SCHEMA,
           QF_FLAGS,
           QF_SCHEMA,
           ReplyError,
           parse_canonical,
           parse_question_filter,
)
from vero_data.curate.prompts import load_prompts
from vero_data.curate.run import CurateConfig, CurateResult, curate

__all__ = ["CANON_SCHEMA", "QF_FLAGS", "QF_SCHEMA", "CurateConfig", "CurateResult", "CurateSampling", "Judge",
           "JudgeReply", "JudgeRequest", "ReplyError", "curate", "load_prompts", "parse_canonical",
           "parse_question_filter"]
