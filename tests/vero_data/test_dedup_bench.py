"""The planted dedup benchmark is right about itself: seeded, every kind planted, labels that match the files, and a
small run through the real build whose counts reconcile. No assertion on what today's dedup misses (crops,
paraphrases) nor on issue 12's targets: the algorithm is changing under this benchmark."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from PIL import Image
from typer.testing import CliRunner

from vero_data import dedup_bench as db
from vero_data.cli import app
from vero_data.errors import VeroError
from vero_data.stages.validate import dedup_key


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """The smallest set that plants every kind (one original per family)."""
    return db.make_planted_set(tmp_path_factory.mktemp("planted") / "set", n_originals=10, seed=3).parent


def _rows(d: Path) -> list[dict]:
    return [json.loads(line) for line in (d / db.ROWS).read_text().splitlines()]


def test_same_seed_same_bytes_other_seed_other_set(planted, tmp_path):
    again = db.make_planted_set(tmp_path / "again", n_originals=10, seed=3, workers=2).parent
    assert _digest(again) == _digest(planted)
    other = db.make_planted_set(tmp_path / "other", n_originals=10, seed=4).parent
    assert _rows(other) != _rows(planted)


def test_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(VeroError, match="not empty"):
        db.make_planted_set(tmp_path, n_originals=5)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_every_kind_and_family_is_planted(planted):
    labels = db.read_labels(planted)
    assert {x["kind"] for x in labels} == set(db.KIND)
    assert {x["family"] for x in labels} == set(db.FAMILIES)
    meta = json.loads((planted / db.META).read_text())
    assert meta["rows"] == len(labels) and sum(meta["kinds"].values()) == len(labels)
    assert meta["image_files"] == len(list((planted / db.IMAGES).iterdir()))


def test_labels_match_rows_and_files(planted):
    labels, rows = db.read_labels(planted), _rows(planted)
    assert [x["id"] for x in labels] == [r["id"] for r in rows]
    assert len({r["id"] for r in rows}) == len(rows)
    row = {r["id"]: r for r in rows}
    lab = {x["id"]: x for x in labels}
    for x in labels:
        r, o = row[x["id"]], row[x["original"]]
        orig = lab[x["original"]]
        assert orig["kind"] == "original" and orig["family"] == x["family"]
        assert x["role"] == db.KIND[x["kind"]].role
        assert x["family"] in (db.KIND[x["kind"]].families or db.FAMILIES)
        assert r["image"] == x["image"] and (planted / r["image"]).is_file()
        assert r["reward_type"] == ("numeric" if x["question_key"] in db.NUMERIC else "string_match")
        own = (planted / r["image"]).read_bytes()
        first = (planted / o["image"]).read_bytes()
        if x["kind"] == "original":
            assert x["original"] == x["id"]
            continue
        if x["role"] == "copy" and x["kind"] not in ("jpeg", "resize_down", "crop"):
            assert not x["before_original"], x  # see the module docstring: only worse copies may come first
        if db.KIND[x["kind"]].image_file:
            assert r["image"] != o["image"]
            assert (own == first) == (x["kind"] == "exact"), x
        else:
            assert r["image"] == o["image"]  # the same image file, another question
        if x["role"] == "copy":
            assert r["answer"] == o["answer"]
            same_text = dedup_key(r["question"]) == dedup_key(o["question"])
            assert same_text == (x["kind"] != "paraphrase"), (r["question"], o["question"])
        elif x["kind"] == "other_question":
            assert r["answer"] != o["answer"]
        elif x["kind"] == "same_answer_question":
            assert r["answer"] == o["answer"] and dedup_key(r["question"]) != dedup_key(o["question"])
        else:  # lookalike, moved_object: another image, the same question (and here the same answer)
            assert r["question"] == o["question"] and x["same_answer"] == (r["answer"] == o["answer"])


def test_image_copies_do_what_their_label_says(planted):
    labels = db.read_labels(planted)
    lab = {x["id"]: x for x in labels}
    for x in labels:
        if x["kind"] not in ("jpeg", "resize_down", "resize_up", "crop", "pad", "brightness_contrast"):
            continue
        w0, h0 = lab[x["original"]]["size"]
        im = Image.open(planted / x["image"])
        w, h = im.size
        p = x["params"]
        if x["kind"] == "jpeg":
            assert im.format == "JPEG" and 50 <= p["quality"] <= 90 and (w, h) == (w0, h0)
        elif x["kind"].startswith("resize"):
            assert (0.4 <= p["scale"] < 1) == (x["kind"] == "resize_down") and p["scale"] <= 2
            assert abs(w - w0 * p["scale"]) <= 1 and abs(h - h0 * p["scale"]) <= 1
        elif x["kind"] == "crop":
            assert max(p["left_top_right_bottom"]) <= 0.05 and (w, h) != (w0, h0)
            assert w >= 0.9 * w0 - 1 and h >= 0.9 * h0 - 1
        elif x["kind"] == "pad":
            assert w >= w0 and h >= h0 and (w, h) != (w0, h0)
        else:
            assert (w, h) == (w0, h0) and 0.9 <= p["brightness"] <= 1.1 and 0.9 <= p["contrast"] <= 1.1


def test_question_templates_are_paraphrases_with_the_same_slots():
    for key, wordings in db.QUESTIONS.items():
        assert len(wordings) >= 4, key
        assert len({dedup_key(w) for w in wordings}) == len(wordings), key
        slots = {frozenset(re.findall(r"{(\w+)}", w)) - {"ordinal", "n"} for w in wordings}
        assert len(slots) == 1, (key, slots)  # n and its ordinal are two spellings of one slot
    assert db.NUMERIC <= set(db.QUESTIONS)


def test_manifest_is_a_valid_files_source(planted):
    from vero_data.manifest import load_manifest
    from vero_data.sources.checks import check_manifest

    m = load_manifest(planted / db.MANIFEST)
    check_manifest(m, files=True)
    assert m.source.kind == "files" and m.filters.min_rows == 1 and m.filters.min_avg_pixels == 0


def test_imagededup_scoring_on_a_made_up_duplicate_map(planted):
    labels = db.read_labels(planted)
    lab = {x["id"]: x for x in labels}
    name = {x["id"]: Path(x["image"]).name for x in labels}
    dups: dict[str, list[str]] = {}
    for x in labels:  # every image copy found, the moved scene flagged, nothing else linked
        if x["kind"] in ("original", "paraphrase", "other_question", "same_answer_question", "lookalike"):
            continue
        a, b = name[x["id"]], name[x["original"]]
        dups.setdefault(a, []).append(b)
        dups.setdefault(b, []).append(a)
    s = db.score_imagededup(labels, dups)
    kinds = {k["kind"]: k for k in s["kinds"]}
    assert s["copies_found_pct"] == 100.0 and s["originals_linked_to_unrelated"] == 0
    assert kinds["moved_object"]["flagged"] == kinds["moved_object"]["planted"]
    assert kinds["lookalike"].get("flagged", 0) == 0
    assert {"paraphrase", "other_question", "same_answer_question"}.isdisjoint(kinds)  # image-only: not scored
    assert sum(k["planted"] for k in s["kinds"]) == sum(db.KIND[x["kind"]].image_file for x in lab.values())


def test_build_scoring_on_a_made_up_quarantine(planted):
    labels = db.read_labels(planted)
    by_kind = {}
    for x in labels:
        by_kind.setdefault(x["kind"], []).append(x)
    jpeg = by_kind["jpeg"][0]
    crop = by_kind["crop"][0]
    look = by_kind["lookalike"][0]
    other = next(x for x in by_kind["original"] if x["id"] not in (jpeg["original"], crop["original"]))
    build_id = {x["id"]: f"b-{x['id']}" for x in labels}  # the build's own ids: content hashes in real life
    removed = {jpeg["original"]: jpeg["id"], crop["id"]: other["id"], look["id"]: look["original"]}
    quarantine = [{"upstream_id": u, "stage": "dedup", "reason": "dup_phash", "dup_of": build_id[d]}
                  for u, d in removed.items()]
    exported = {build_id[x["id"]]: x["id"] for x in labels if x["id"] not in removed}
    s = db.score_build(labels, quarantine, exported)
    k = {r["kind"]: r for r in s["kinds"]}
    assert k["original"]["removed"] == k["original"]["lost_to_copy"] == 1 and k["original"]["wrong_link"] == 0
    assert k["jpeg"]["won"] == 1 and k["jpeg"]["kept"] == k["jpeg"]["planted"]
    assert k["crop"]["removed"] == k["crop"]["wrong_link"] == 1  # removed, but as a copy of another original
    assert k["lookalike"]["removed"] == 1 and k["lookalike"]["pct"] < 100
    assert all(r["planted"] == r["removed"] + r["kept"] + r["other"] for r in s["kinds"])
    assert s["summary"]["copies_detected_pct"] > s["summary"]["copies_removed_pct"]


def test_temp_work_dir_is_deleted_even_when_the_build_fails(monkeypatch):
    import vero_data.build

    def boom(cfg):
        raise RuntimeError("build failed")

    said: list[str] = []
    monkeypatch.setattr(vero_data.build, "build", boom)
    with pytest.raises(RuntimeError, match="build failed"):
        db.run_dedup_bench(5, seed=0, workers=1, progress=said.append)
    root = Path(said[0].rsplit(" in ", 1)[1]).parent
    assert root.name.startswith("vero-bench-dedup-") and not root.exists()


# ------------------------------------------------------------------------------------------ through the build
@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    return db.run_dedup_bench(30, seed=0, workers=1, work_dir=work, imagededup=False)


@pytest.mark.embed
def test_small_run_reports_every_kind_and_counts_reconcile(small_run):
    r = small_run
    kinds = {k["kind"]: k for k in r["kinds"]}
    assert list(kinds) == [k.name for k in db.KINDS]
    labels = db.read_labels(Path(r["work_dir"]) / "planted")
    assert sum(k["planted"] for k in kinds.values()) == len(labels) == r["rows"]
    for k in kinds.values():
        assert k["planted"] >= 1 and k["planted"] == k["removed"] + k["kept"] + k["other"], k
        assert k["other"] == 0, k  # nothing planted is dropped by another stage: every loss is dedup's
        assert sum(k["reasons"].values()) == k["removed"]
    q = pl.read_parquet(Path(r["work_dir"]) / "out" / "quarantine.parquet")
    assert q.height == sum(k["removed"] for k in kinds.values()) and set(q["stage"]) <= {"dedup"}
    assert r["build"]["exported"] == sum(k["kept"] for k in kinds.values())
    s = r["summary"]
    assert s["copies"] + s["negatives"] + s["originals"] == r["rows"]
    assert r["build"]["rows_per_s"] > 0 and set(r["build"]["timings_s"]) >= {"ingest", "dedup", "export"}
    assert r["imagededup"] is None and r["speedup_over_imagededup"] is None
    assert r["decode"]["images"] == r["image_files"] and r["decode"]["images_per_s"] > 0


@pytest.mark.embed
def test_exact_copies_are_removed_as_duplicates_of_their_original(small_run):
    exact = next(k for k in small_run["kinds"] if k["kind"] == "exact")
    assert exact["removed"] == exact["planted"] and exact["reasons"] == {"dup_exact": exact["planted"]}
    assert exact["wrong_link"] == 0


@pytest.mark.embed
def test_cli_prints_the_table_and_json(small_run, monkeypatch, tmp_path):
    seen = {}

    def fake(**kw):
        seen.update(kw)
        return small_run

    monkeypatch.setattr(db, "run_dedup_bench", fake)
    runner = CliRunner()
    cfg = tmp_path / "dedup.yaml"
    cfg.write_text("dedup:\n  detail_threshold: 0.3\n")
    res = runner.invoke(app, ["bench", "dedup", "--n", "30", "--workers", "1", "--out", str(tmp_path),
                              "--dedup-config", str(cfg)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for k in db.KINDS:
        assert k.name in res.output
    assert "removed ≥ 99%" in res.output and "imagededup not installed" in res.output
    assert "decoding every file once" in res.output
    assert seen["n_originals"] == 30 and seen["work_dir"] == tmp_path and seen["workers"] == 1
    assert seen["dedup_config"] == cfg
    res = runner.invoke(app, ["bench", "dedup", "--n", "30", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["rows"] == small_run["rows"]


def test_encoded_copies_decode():
    img = db.FAMILY["text_card"].render(db.FAMILY["text_card"].spec(db.random.Random(1)))
    for kind in ("jpeg", "resize_down", "resize_up", "brightness_contrast", "crop", "pad"):
        data, suffix, _ = db._copy_image(kind, img, db.random.Random(2))
        assert Image.open(io.BytesIO(data)).format == ("JPEG" if suffix == ".jpg" else "PNG")


def test_imagededup_phash_imports_without_its_cnn_module(tmp_path, monkeypatch):
    """imagededup.methods imports cnn.py, which downloads MobileNet weights at import: offline that raises (not an
    ImportError). The baseline imports the hashing module alone and leaves no stand-in package behind."""
    import sys

    pkg = tmp_path / "imagededup"
    (pkg / "methods").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "methods" / "__init__.py").write_text("from .hashing import PHash\nraise OSError('no network')\n")
    (pkg / "methods" / "hashing.py").write_text("class PHash:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("imagededup")]:
        monkeypatch.delitem(sys.modules, name)
    cls = db._imagededup_phash_class()
    assert cls.__name__ == "PHash" and cls.__module__ == "imagededup.methods.hashing"
    assert "imagededup.methods" not in sys.modules
    for name in [m for m in sys.modules if m.startswith("imagededup")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.embed
def test_a_dedup_config_is_measured_instead_of_the_defaults(tmp_path):
    """A curator measures their own settings on the planted set: here without question dedup, so no paraphrase
    goes; a file without a `dedup:` block fails before anything is planted."""
    from vero_data.errors import ConfigError

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(ConfigError, match="dedup"):
        db.run_dedup_bench(10, seed=0, workers=1, work_dir=tmp_path / "never", imagededup=False, dedup_config=bad)
    assert not (tmp_path / "never").exists()
    cfg = tmp_path / "dedup.yaml"
    cfg.write_text("dedup:\n  questions: false\n")
    r = db.run_dedup_bench(10, seed=0, workers=1, work_dir=tmp_path / "run", imagededup=False, dedup_config=cfg)
    para = next(k for k in r["kinds"] if k["kind"] == "paraphrase")
    assert para["planted"] >= 1 and para["removed"] == 0
    assert r["build"]["dedup_settings"]["questions"] is False and r["build"]["dedup_config"] == str(cfg)
