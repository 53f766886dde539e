"""Dedup settings that only make sense together (issue 12)."""

from __future__ import annotations

import pytest

from vero_data.stages.dedup import DedupConfig


def test_a_loose_thumbnail_gate_without_the_detail_check_is_warned_about(caplog):
    import polars as pl

    from vero_data.stages.dedup import ALONE_MATCH_THRESHOLD, deduplicate

    meta = pl.DataFrame({"id": ["a"], "img_sha": [["s"]], "phash": [[1]], "dhash": [[1]], "lowvar": [[False]],
                         "question": ["Q?"], "question_norm": ["q?"], "answer_norm": ["1"], "rank": [0]})
    deduplicate(meta, DedupConfig(detail_threshold=None, questions=False))
    assert "thumbnail check alone" in caplog.text
    caplog.clear()
    deduplicate(meta, DedupConfig(detail_threshold=None, match_threshold=ALONE_MATCH_THRESHOLD, questions=False))
    deduplicate(meta, DedupConfig(questions=False))
    assert "thumbnail check alone" not in caplog.text


@pytest.mark.embed
def test_loading_minilm_draws_no_bar_of_its_own_and_leaves_the_setting_as_it_was(capfd):
    from transformers.utils import logging as hf_logging

    from vero_data.stages.dedup import MiniLMEmbedder

    assert hf_logging.is_progress_bar_enabled()
    assert MiniLMEmbedder()(["How many bars?"]).shape == (1, 384)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()
