from __future__ import annotations

import io

from PIL import Image

from vero_data.benchmarks.contamination import find_contamination

from .conftest import png


def reencode(data: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_flags_image_and_question_matches():
    gradient = Image.linear_gradient("L").resize((64, 64)).convert("RGB")
    buf = io.BytesIO()
    gradient.save(buf, format="PNG")
    bench_img = buf.getvalue()
    bench = {"evochart_reasoning": [{"_id": "e1", "question": "What is the difference between the highest and the "
                                     "lowest values of the blue series in 2019?", "image": {"bytes": bench_img}}]}
    rows = [
        {"id": "same-image", "prompt": [{"role": "user", "content": "<image>Unrelated words here."}],
         "images": [{"bytes": bench_img}], "data_source": "evochart"},
        {"id": "reencoded", "question": "Other?", "images": [{"bytes": reencode(bench_img)}]},
        {"id": "same-question", "prompt": [{"role": "user", "content": "<image>What is the difference between the "
                                            "highest and the lowest values of the blue series in 2019?"}],
         "images": [{"bytes": png(colour=(1, 2, 3))}]},
        {"id": "clean", "question": "How many cats are there in the picture today?", "images": [{"bytes": png()}]},
    ]
    res = find_contamination(rows, bench)
    flagged = {f["id"]: f for f in res["flagged"]}
    assert set(flagged) == {"same-image", "reencoded", "same-question"}
    assert flagged["same-image"]["image"][0]["item"] == "evochart_reasoning:e1"
    assert flagged["same-image"]["source"] == "evochart"
    assert {h["key"] for h in flagged["reencoded"]["image"]} == {"phash"}
    assert flagged["same-question"]["question"]["overlap"] == 1.0
    assert res["checked"] == 4 and res["benchmark_items"] == 1
