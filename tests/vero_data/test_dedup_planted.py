"""Planted duplicates are removed by the right rule; look-alikes and 'same chart, different question' survive."""

from __future__ import annotations

import io
import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageEnhance, ImageOps

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
        # the same chart with a label added: visible at full size, so kept like a relabelled template (issue 12)
        _row(11, png_bytes(labelled("x = 12")), q, "12"),                            # kept (detail check)
        _row(12, png_bytes(chart_image([50, 120, 80, 40], seed=1)), q, "12"),        # same template, a bar changed
        _row(13, _jpeg(a.resize((160, 120)), 60), q, "12"),                          # half-size JPEG: removed
        _row(14, png_bytes(a.crop((8, 6, 312, 234))), q, "12"),                      # 2.5% border crop → phash
        _row(15, png_bytes(ImageOps.expand(a, border=(0, 30), fill=(0, 0, 0))), q, "12"),  # letterbox → phash
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
    for u in ("up2", "up3", "up4", "up13", "up14", "up15"):
        assert by_upstream[u]["reason"] == "dup_phash", (u, by_upstream[u])
    assert by_upstream["up5"]["reason"] == "dup_near_question"
    assert by_upstream["up8"]["reason"] == "undecodable_image"
    assert by_upstream["up9"]["reason"] == "empty_answer"
    assert by_upstream["up10"]["reason"] == "placeholder_mismatch"
    kept_id = next(r for r in by_upstream.values() if r["reason"] == "dup_exact")["dup_of"]
    assert all(by_upstream[u]["dup_of"] == kept_id for u in ("up1", "up2", "up3", "up4", "up5", "up13", "up14"))
    exported = pl.read_parquet(res.shards[0]).select(pl.col("lineage").struct.field("upstream_id"))
    assert sorted(exported.to_series().to_list()) == ["up0", "up11", "up12", "up6", "up7"]
    assert rep["read"] == 16 and rep["rows"] == 5


@pytest.mark.embed
def test_the_best_copy_is_kept_whatever_the_input_order(tmp_path, write_manifest):
    """A half-size JPEG listed first never wins over its full-size lossless original (issue 12)."""
    a = chart_image([50, 120, 80, 160], seed=1)
    q = "What is the value of the blue bar?"
    rows = [_row(0, _jpeg(a.resize((160, 120)), 60), q, "12"), _row(1, _jpeg(a, 90), q, "12"),
            _row(2, png_bytes(a), q, "12")]
    data = tmp_path / "order.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    m = write_manifest("order", category="chart_ocr", source={"files": {"format": "parquet", "globs": [str(data)]}},
                       adapter="canonical")
    res = build(out=tmp_path / "out", manifests=[str(m)])
    kept = pl.read_parquet(res.shards[0]).select(pl.col("lineage").struct.field("upstream_id")).to_series()
    assert kept.to_list() == ["up2"]


@pytest.mark.parametrize("upscale_ratio, kept_id", [(0.63, "up1"), (None, "up0")])
def test_an_upscaled_copy_steps_aside_for_its_source(tmp_path, write_manifest, upscale_ratio, kept_id):
    """A 1.6x bicubic upscale listed first has the most pixels but nothing more in them: its source is kept, and a
    0.6x downscale still loses to that source (issue 12). With the check off, the largest copy wins, as before."""
    a = chart_image([50, 120, 80, 160], seed=3)
    q = "What is the value of the blue bar?"
    w, h = a.size
    rows = [_row(0, png_bytes(a.resize((round(w * 1.6), round(h * 1.6)), Image.Resampling.BICUBIC)), q, "12"),
            _row(1, png_bytes(a), q, "12"),
            _row(2, png_bytes(a.resize((round(w * 0.6), round(h * 0.6)), Image.Resampling.LANCZOS)), q, "12")]
    data = tmp_path / "up.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    m = write_manifest("up", category="chart_ocr", source={"files": {"format": "parquet", "globs": [str(data)]}},
                       adapter="canonical")
    cfg = tmp_path / "dedup.yaml"
    cfg.write_text(json.dumps({"dedup": {"questions": False, "upscale_ratio": upscale_ratio}}))
    res = build(out=tmp_path / "out", manifests=[str(m)], dedup_config=str(cfg))
    kept = pl.read_parquet(res.shards[0]).select(pl.col("lineage").struct.field("upstream_id")).to_series()
    assert kept.to_list() == [kept_id]


def test_the_original_wins_over_a_margin_crop_and_a_letterbox_listed_before_it(tmp_path, write_manifest):
    """Same content, other canvases (issue 12): a copy cropped inside the white margin shows less canvas, a
    letterboxed copy adds a level of bars; the original, listed last, is kept."""
    chart = chart_image([50, 120, 80, 160], seed=4)
    original = Image.new("RGB", (chart.width + 48, chart.height + 48), "white")
    original.paste(chart, (24, 24))
    w, h = original.size
    crop = original.crop((12, 10, w - 12, h - 14))
    letterbox = Image.new("RGB", (w, h + 120), "black")
    letterbox.paste(original, (0, 60))
    q = "What is the value of the blue bar?"
    rows = [_row(0, png_bytes(crop), q, "12"), _row(1, png_bytes(letterbox), q, "12"),
            _row(2, png_bytes(original), q, "12")]
    data = tmp_path / "canvas.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    m = write_manifest("canvas", category="chart_ocr", source={"files": {"format": "parquet", "globs": [str(data)]}},
                       adapter="canonical")
    cfg = tmp_path / "dedup.yaml"
    cfg.write_text(json.dumps({"dedup": {"questions": False}}))
    res = build(out=tmp_path / "out", manifests=[str(m)], dedup_config=str(cfg))
    kept = pl.read_parquet(res.shards[0]).select(pl.col("lineage").struct.field("upstream_id")).to_series()
    assert kept.to_list() == ["up2"]


@pytest.mark.embed
def test_a_lookalike_joined_through_a_resized_copy_is_not_removed(tmp_path, write_manifest):
    """A relabelled screenshot sits near a downscaled copy of the original, which sits near the original: the
    group they form is not one copy. Each removed row must be confirmed against the row it stays for (issue 12)."""
    import random

    from vero_data.dedup_bench import FAMILY
    from vero_data.image_match import detail_distance, detail_image
    from vero_data.stages.dedup import DedupConfig

    ui = FAMILY["ui"]
    rng = random.Random(1)
    spec = ui.spec(rng)
    key, params, answer = ui.questions(spec)[0]
    shot, look = ui.render(spec), ui.render(ui.lookalike(spec, key, params, rng))
    small = shot.resize((round(shot.width * 0.6), round(shot.height * 0.6)), Image.Resampling.BILINEAR)
    limit = 0.6  # looser than the default (0.4), so that the chain exists …
    assert DedupConfig().detail_threshold < limit
    assert detail_distance(detail_image(look), detail_image(small)) <= limit
    assert detail_distance(detail_image(look), detail_image(shot)) > limit  # … and its two ends differ
    q = "What is the window title?"
    rows = [_row(0, png_bytes(shot), q, answer, "string_match"), _row(1, png_bytes(look), q, answer, "string_match"),
            _row(2, png_bytes(small), q, answer, "string_match")]
    data = tmp_path / "chain.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), data)
    m = write_manifest("chain", category="chart_ocr", source={"files": {"format": "parquet", "globs": [str(data)]}},
                       adapter="canonical")
    from typer.testing import CliRunner

    from vero_data.cli import app

    res = CliRunner().invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "out"),
                                   "--detail-threshold", str(limit)])
    assert res.exit_code == 0, res.output
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert q["upstream_id"].to_list() == ["up2"] and q["reason"].to_list() == ["dup_phash"]


@pytest.mark.embed
def test_manifest_builds_take_dedup_settings_and_flags(planted, tmp_path):
    """`--dedup-config` (a recipe's `dedup:` block) reaches `--manifest` builds; flags override it (issue 12)."""
    from typer.testing import CliRunner

    from vero_data.cli import app

    def reasons(*flags):
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}"
        res = CliRunner().invoke(app, ["data", "build", "--manifest", str(planted), "--out", str(out), *flags])
        assert res.exit_code == 0, res.output
        q = pl.read_parquet(out / "quarantine.parquet")
        return dict(zip(q["upstream_id"].to_list(), q["reason"].to_list(), strict=True))

    cfg = tmp_path / "dedup.yaml"
    cfg.write_text("dedup:\n  questions: false\n  match_threshold: 0.05\n")
    r = reasons("--dedup-config", str(cfg))
    assert "up5" not in r  # the paraphrase stays: question dedup is off
    assert r["up1"] == "dup_exact" and "up3" not in r  # a resized copy is over a 0.05 pixel distance
    r = reasons("--dedup-config", str(cfg), "--match-threshold", "0.45")
    assert r["up3"] == "dup_phash"  # the flag overrides the file
    r = reasons("--no-dedup")
    assert not any(v.startswith("dup_") and k != "up1" for k, v in r.items())  # same-id copies still collapse
    bad = tmp_path / "bad.yaml"
    bad.write_text("dedup:\n  match_threshold: fast\n")
    res = CliRunner().invoke(app, ["data", "build", "--manifest", str(planted), "--out", str(tmp_path / "x"),
                                   "--dedup-config", str(bad)])
    assert res.exit_code == 1 and "dedup.match_threshold" in " ".join(res.output.split())


def test_detail_pieces_cover_every_pair_once_and_bound_their_images():
    """A component larger than the limit (a template shared by thousands of rows) is cut so that no worker holds
    more than `limit` decoded images; every pair is checked exactly once (issue 12)."""
    import numpy as np

    from vero_data.stages.dedup import _pieces

    rng = np.random.default_rng(0)
    la = rng.integers(0, 40, 300)
    lb = (la + rng.integers(1, 40, 300)) % 40  # one big component of 40 images
    la = np.concatenate([la, [50, 51]])
    lb = np.concatenate([lb, [51, 52]])  # and a small one
    comp = np.zeros(60, dtype=np.int64)
    comp[50:53] = 1
    pieces = _pieces(la, lb, comp, limit=8)
    seen = sorted(p for _, ids in pieces for p in ids)
    assert seen == list(range(len(la)))
    for images, ids in pieces:
        assert len(images) <= 8 and len(set(images)) == len(images)
        assert all(int(la[p]) in images and int(lb[p]) in images for p in ids)
    assert ([50, 51, 52], [300, 301]) in [(sorted(i), sorted(p)) for i, p in pieces]


def test_upscale_pairs_are_read_in_batches_bounded_by_pixels():
    """The keep step's upscale check reads images in batches under a pixel budget, with the same verdicts."""
    from vero_data.stages.dedup import RowImages

    base = [chart_image([30 + 20 * i, 90, 140], seed=i) for i in range(3)]
    images = {}
    for i, img in enumerate(base):
        w, h = img.size
        images[f"o{i}"] = img
        images[f"u{i}"] = img.resize((round(w * 1.5), round(h * 1.5)), Image.Resampling.BICUBIC)
    ids = list(images)
    meta = pl.DataFrame({"id": ids, "width": [[images[i].width] for i in ids],
                         "height": [[images[i].height] for i in ids],
                         "content_pixels": [images[i].width * images[i].height for i in ids]})
    reads: list[int] = []

    def load(keys):
        reads.append(len(keys))
        return [png_bytes(images[k]) for k, _ in keys]

    groups = [[2 * i, 2 * i + 1] for i in range(3)]  # original, its upscale
    small = RowImages(meta, load, 0.63)
    small.judge_groups(groups, budget=1)
    assert reads == [2, 2, 2]
    reads.clear()
    whole = RowImages(meta, load, 0.63)
    whole.judge_groups(groups)
    assert reads == [6]
    assert small._verdicts == whole._verdicts
    assert [whole.upscale_of(2 * i + 1, 2 * i) for i in range(3)] == [True] * 3
    assert not any(whole.upscale_of(2 * i, 2 * i + 1) for i in range(3))
