"""Planted duplicates are removed by the right rule; look-alikes and 'same chart, different question' survive."""

from __future__ import annotations

import io
import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageEnhance

from tests.helpers import chart_image, png_bytes
from vero_data.api import build
from vero_data.schema import ARROW_SCHEMA


def _row(i: int, img: bytes, question: str, answer: str, reward_type: str = "numeric") -> dict:
    return {
        "id": f"up{i}", "data_source": "planted", "category": "chart_ocr",
        "prompt": [{"role": "user", "content": "<image>\n" + question}],
        "images": [{"bytes": img, "path": None}], "answer": answer, "reward_type": reward_type,
        "extra_info": json.dumps({"question": question}), "split": "train", "license": "cc-by-4.0",
        "lineage": None, "pass_count": None, "k": None,
    }


def _jpeg(img: Image.Image, q=90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=q)
    return buf.getvalue()


@pytest.fixture
def planted(tmp_path, write_manifest):
    a = chart_image([50, 120, 80, 160], seed=1)
    look = chart_image([160, 40, 130, 60], seed=2)  # same style, different values: a distinct look-alike
    def labelled(text: str) -> Image.Image:  # same template, a small label differs: pHash can't see it
        from PIL import ImageDraw, ImageFont

        im = a.copy()
        ImageDraw.Draw(im).text((200, 20), text, fill=(0, 0, 0), font=ImageFont.load_default(size=20))
        return im

    q, q_para, q_other = ("What is the value of the blue bar?", "What's the value of the blue bar?",
                          "What is the value of the red bar?")
    rows = [
        _row(0, png_bytes(a), q, "12"),
        _row(1, png_bytes(a), q, "12"),                                              # exact
        _row(2, _jpeg(a), q, "12"),                                                  # re-encode → phash
        _row(3, png_bytes(a.resize((304, 228))), q, "12"),                           # resize → phash
        _row(4, png_bytes(ImageEnhance.Brightness(a).enhance(1.1)), q, "12"),        # brighter → phash
        _row(5, png_bytes(a), q_para, "12"),                                         # paraphrase → near_question
        _row(6, png_bytes(a), q_other, "7"),                                         # same chart, other question
        _row(7, png_bytes(look), q, "12"),                                           # look-alike
        _row(8, png_bytes(a)[:300], q, "12"),                                        # truncated → quarantine
        _row(9, png_bytes(look), q, ""),                                             # empty answer
        _row(10, png_bytes(look), "<image> two placeholders", "3"),                 # placeholder mismatch
        _row(11, png_bytes(labelled("x = 12")), q, "12"),                            # look-alike: small text
        _row(12, png_bytes(labelled("y = 47")), q, "12"),                            # look-alike: small text
    ]
    data = tmp_path / "planted.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    return write_manifest("planted", category="chart_ocr", source={"files": {"format": "parquet",
                                                                             "globs": [str(data)]}},
                          adapter="canonical")


@pytest.mark.embed
def test_planted_duplicates(planted, tmp_path):
    res = build(out=tmp_path / "out", manifests=[str(planted)])
    rep = res.report
    assert rep["reconciled"]
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    by_upstream = {r["upstream_id"]: r for r in q.to_dicts()}
    assert by_upstream["up1"]["reason"] == "dup_exact"
    for u in ("up2", "up3", "up4"):
        assert by_upstream[u]["reason"] == "dup_phash", (u, by_upstream[u])
    assert by_upstream["up5"]["reason"] == "dup_near_question"
    assert by_upstream["up8"]["reason"] == "undecodable_image"
    assert by_upstream["up9"]["reason"] == "empty_answer"
    assert by_upstream["up10"]["reason"] == "placeholder_mismatch"
    kept_id = next(r for r in by_upstream.values() if r["reason"] == "dup_exact")["dup_of"]
    assert all(by_upstream[u]["dup_of"] == kept_id for u in ("up1", "up2", "up3", "up4", "up5"))
    exported = pl.read_parquet(res.shards[0]).select(pl.col("lineage").struct.field("upstream_id"))
    assert sorted(exported.to_series().to_list()) == ["up0", "up11", "up12", "up6", "up7"]
    assert rep["read"] == 13 and rep["rows"] == 5


def test_block_difference_separates_reencodes_from_lookalikes():
    from vero_data.images import block_difference

    a = chart_image([50, 120, 80, 160], seed=1)
    pa_ = png_bytes(a)
    assert block_difference(pa_, _jpeg(a, 60)) < 0.2
    assert block_difference(pa_, png_bytes(ImageEnhance.Brightness(a).enhance(1.1))) < 0.5
    assert block_difference(pa_, png_bytes(a.resize((300, 220)))) < 0.3
    assert block_difference(pa_, png_bytes(chart_image([160, 40, 130, 60], seed=2))) > 1.0
