"""Bad rows are quarantined with reasons (never a crash, never a silent drop); counts reconcile."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from tests.helpers import chart_image, png_bytes
from vero_data.api import build
from vero_data.schema import ARROW_SCHEMA


def _row(i, images, answer="3", reward_type="counting", question="How many bars?", content=None):
    return {
        "id": f"r{i}", "data_source": "bad", "category": "grounding_counting_search",
        "prompt": [{"role": "user", "content": content if content is not None else "<image>" * len(images)
                    + "\n" + question}],
        "images": [{"bytes": b, "path": None} for b in images], "answer": answer, "reward_type": reward_type,
        "extra_info": json.dumps({"question": question}), "split": "train", "license": "mit", "lineage": None,
        "pass_count": None, "k": None,
    }


def test_corrupt_and_malformed_rows(tmp_path, write_manifest):
    good = png_bytes(chart_image([10, 20, 30], seed=5))
    bomb = png_bytes(Image.new("L", (5000, 5000)))
    rows = [
        _row(0, [good]),
        _row(1, [good[: len(good) // 2]]),                        # truncated
        _row(2, [b"not an image at all"]),                        # garbage
        _row(3, [bomb]),                                          # over the pixel cap set below
        _row(4, []),                                              # no image
        _row(5, [good], answer="  "),                             # empty answer
        _row(6, [good], reward_type="exact_match"),               # unknown reward type
        _row(7, [good], reward_type="grounding", answer="[1, 2]"),  # malformed boxes
        _row(8, [good], reward_type="multiple_choice", answer="the cat"),  # MC not a letter
        _row(9, [png_bytes(chart_image([5, 50], seed=6))], answer="three"),  # canonicalised to 3
    ]
    data = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    m = write_manifest("bad", category="grounding_counting_search", adapter="canonical",
                       source={"files": {"format": "parquet", "globs": [str(data)]}})
    res = build(out=tmp_path / "o", manifests=[str(m)], max_pixels=10_000_000)
    q = pl.read_parquet(tmp_path / "o" / "quarantine.parquet")
    reasons = dict(zip(q["upstream_id"].to_list(), q["reason"].to_list(), strict=True))
    assert reasons == {
        "r1": "undecodable_image", "r2": "undecodable_image", "r3": "decompression_bomb", "r4": "missing_image",
        "r5": "empty_answer", "r6": "unknown_reward_type", "r7": "bad_answer_boxes", "r8": "mc_answer_not_a_letter",
    }
    assert all(q["manifest"] == "bad") and q["stage"].null_count() == 0
    rep = res.report
    assert rep["reconciled"] and rep["read"] == 10 and rep["rows"] == 2
    exported = pl.read_parquet(res.shards[0])
    r9 = exported.filter(pl.col("lineage").struct.field("upstream_id") == "r9").row(0, named=True)
    assert r9["answer"] == "3" and json.loads(r9["extra_info"])["raw_answer"] == "three"
