from __future__ import annotations

import io

from PIL import Image

from vero_data.benchmarks.contamination import find_contamination

from .conftest import png


def reencode(data: bytes, quality: int = 60) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, format="JPEG", quality=quality)
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
        # a smooth gradient survives JPEG q95 pixel for pixel: the same image by the build's exact rule
        {"id": "lossless-jpeg", "question": "Another?", "images": [{"bytes": reencode(bench_img, 95)}]},
        {"id": "same-question", "prompt": [{"role": "user", "content": "<image>What is the difference between the "
                                            "highest and the lowest values of the blue series in 2019?"}],
         "images": [{"bytes": png(colour=(1, 2, 3))}]},
        {"id": "clean", "question": "How many cats are there in the picture today?", "images": [{"bytes": png()}]},
    ]
    res = find_contamination(rows, bench)
    flagged = {f["id"]: f for f in res["flagged"]}
    assert set(flagged) == {"same-image", "reencoded", "lossless-jpeg", "same-question"}
    assert flagged["same-image"]["image"][0]["item"] == "evochart_reasoning:e1"
    assert flagged["same-image"]["source"] == "evochart"
    assert {h["key"] for h in flagged["same-image"]["image"]} == {"px", "phash"}
    assert {h["key"] for h in flagged["reencoded"]["image"]} == {"phash"}
    assert {h["key"] for h in flagged["lossless-jpeg"]["image"]} == {"px", "phash"}
    assert flagged["same-question"]["question"]["overlap"] == 1.0
    assert res["checked"] == 5 and res["benchmark_items"] == 1


def noise(seed: int) -> bytes:
    """A random-noise image: distinct perceptual hashes per seed (solid colours all share one)."""
    import random

    rng = random.Random(seed)
    img = Image.frombytes("L", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32))).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


TEMPLATE = "How many {obj} are there in this image? Count every visible one carefully before answering."


def test_shared_template_questions_are_not_flagged_without_a_matching_image():
    """Synthetic counting items and training rows share one question template; only a copy is contamination."""
    objs = ["circles", "squares", "stars", "triangles", "hexagons"]
    bench_img = noise(1000)
    bench = {"synthetic_counting": [{"_id": f"b{i}", "question": TEMPLATE.format(obj=o), "image": {"bytes": noise(
        i)}} for i, o in enumerate(objs)]}
    bench["synthetic_counting"][0]["image"] = {"bytes": bench_img}
    rows = [{"id": f"r{i}", "question": TEMPLATE.format(obj=objs[i % 5]), "images": [{"bytes": noise(
        100 + i)}]} for i in range(12)]
    rows.append({"id": "copy", "question": TEMPLATE.format(obj="circles"), "images": [{"bytes": bench_img}]})
    rows.append({"id": "distinct", "question": "Which of the planets drawn in the poster has the largest ring system "
                 "around it?", "images": [{"bytes": noise(300)}]})
    bench["synthetic_counting"].append({"_id": "p", "question": "Which of the planets drawn in the poster has the "
                                        "largest ring system around it?", "image": {"bytes": noise(301)}})
    res = find_contamination(rows, bench)
    flagged = {f["id"]: f for f in res["flagged"]}
    assert set(flagged) == {"copy", "distinct"}  # the image copy and a question that is not a template
    assert "question" not in flagged["copy"] and flagged["copy"]["image"]
    assert flagged["distinct"]["question"]["overlap"] == 1.0
    assert res["template_only"] == 12  # every template row, counted, not flagged


def test_cli_json_and_empty_benchmarks_exit_non_zero(tmp_path):
    import json

    from typer.testing import CliRunner

    from vero_data.cli import app

    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "What is shown in the chart of yearly sales per region?"})
                    + "\n")
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"benchmark": "synthetic_chart", "doc": {
        "question": "What is shown in the chart of yearly sales per region?"}}) + "\n")
    r = CliRunner().invoke(app, ["eval", "contamination", "--data", str(data), "--bench-docs", str(docs), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["checked"] == 1 and doc["benchmark_items"] == 1 and [f["id"] for f in doc["flagged"]] == ["a"]
    docs.write_text("")
    r = CliRunner().invoke(app, ["eval", "contamination", "--data", str(data), "--bench-docs", str(docs)])
    assert r.exit_code == 1 and "0 benchmark items" in r.output
    r = CliRunner().invoke(app, ["eval", "contamination", "--data", str(data), "--bench-docs", str(docs),
                                 "--allow-empty"])
    assert r.exit_code == 0 and "0 flagged" in r.output
