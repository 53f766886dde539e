"""The shipped manifests against rows shaped exactly like their real upstreams (issue 13).

Each test loads the shipped manifest, serves it local files laid out as the evidence in its ``provenance`` says
(Parquet/CSV/JSON with the real column names) through a stand-in for ``datasets.load_dataset`` that also checks the
manifest asks for the right repo / split / revision / data_files, and runs the real reader + adapter + validation
(``ingest_part``). No network.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from tests.helpers import chart_image, png_bytes
from vero_data.cli import app
from vero_data.errors import ConfigError, SourceUnavailableError
from vero_data.layout import BuildDir
from vero_data.manifest import Manifest, all_manifest_paths, load_manifest, load_recipe, recipe_manifests
from vero_data.sources.readers import iter_source
from vero_data.stages.ingest import IngestSettings, ingest_part

runner = CliRunner()
OWNED_ELSEWHERE = {"game_QA", "visualwebinstruct"}  # archive-backed manifests another change owns


def _shipped(name: str) -> Manifest:
    [p] = [p for p in all_manifest_paths() if p.stem == name]
    return load_manifest(p)


def _photo(seed: int, size=(96, 72)) -> bytes:
    return png_bytes(chart_image([10 + seed, 30, 20 + 2 * seed], size=size, seed=seed))


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(_photo(seed))).convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _ingest(m: Manifest, run: Path):
    folder = BuildDir(run)
    res = ingest_part(m, 0, 1000, folder, IngestSettings(10_000_000, 4096))
    return (res, pl.read_parquet(folder.part_file(m.name, "rows", 0)),
            pl.read_parquet(folder.part_file(m.name, "quarantine", 0)))


class FakeHub:
    """Stands in for ``datasets.load_dataset``: checks the call against the manifest's expectations and serves a
    local file with the same ``datasets`` builder the hub would use (so features, streaming and decoding match)."""

    def __init__(self, monkeypatch, files: dict, expect: dict):
        import datasets

        self.real = datasets.load_dataset
        self.files, self.expect, self.calls = files, expect, []
        monkeypatch.setattr(datasets, "load_dataset", self)

    def __call__(self, path, name=None, split=None, revision=None, data_files=None, streaming=False, **kw):
        self.calls.append({"path": path, "name": name, "split": split, "revision": revision,
                           "data_files": data_files, "streaming": streaming})
        key = json.dumps(data_files, sort_keys=True)
        exp = self.expect.get(key, self.expect.get("*"))
        assert exp is not None, f"unexpected data_files {data_files!r}"
        got = {"path": path, "name": name, "split": split, "revision": revision}
        assert got == {**got, **exp}, f"manifest asked for {got}, upstream layout is {exp}"
        local = self.files.get(key, self.files.get("*"))
        builder = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json"}[Path(local).suffix]
        return self.real(builder, data_files=str(local), split="train", streaming=streaming)


# --------------------------------------------------------------------------------------------- loader failures
@pytest.mark.parametrize("when", ["load", "stream"])
def test_script_only_repo_is_one_unavailable_line(tmp_path, monkeypatch, write_manifest, when):
    """datasets >= 4 refuses script repos with RuntimeError; it (or any loader error, even mid-stream) becomes the
    per-source 'unavailable' line naming the source and the reason, not a traceback."""
    import datasets

    msg = "Dataset scripts are no longer supported, but found flickr30k.py"

    def refuse(*a, **kw):
        if when == "load":
            raise RuntimeError(msg)

        def rows():
            yield {"x": 1}
            raise RuntimeError(msg)

        return datasets.IterableDataset.from_generator(rows)

    monkeypatch.setattr(datasets, "load_dataset", refuse)
    mp = write_manifest("flickr_script", category="captioning_if", adapter="flickr30k",
                        source={"hub": {"path": "nlphuji/flickr30k", "split": "test"}})
    with pytest.raises(SourceUnavailableError) as e:
        list(iter_source(load_manifest(mp)))
    assert "flickr_script: cannot read hub dataset nlphuji/flickr30k split test: RuntimeError: Dataset scripts" in \
        str(e.value)
    assert "refs/convert/parquet" in str(e.value)  # what to do about it
    res = runner.invoke(app, ["data", "build", "--manifest", str(mp), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and not isinstance(res.exception, RuntimeError)
    assert "1 source(s) unavailable" in res.output and "RuntimeError: Dataset scripts" in res.output


# --------------------------------------------------------------------------------------------- Flickr30K
def test_flickr30k_reads_the_parquet_export(tmp_path, monkeypatch):
    m = _shipped("Flickr30K")
    rows = [{"image": {"bytes": _jpeg(i), "path": f"{1000 + i}.jpg"},
             "caption": [f"A dog number {i} runs.", "A dog runs.", "Dog.", "A brown dog.", "An animal."],
             "sentids": [str(5 * i + k) for k in range(5)], "split": s, "img_id": str(i), "filename": f"{1000 + i}.jpg"}
            for i, s in enumerate(["train", "train", "test", "val"])]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "0000.parquet")
    hub = FakeHub(monkeypatch, {"*": tmp_path / "0000.parquet"}, {"*": {
        "path": "nlphuji/flickr30k", "split": "test", "revision": "refs/convert/parquet"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert hub.calls[0]["data_files"] == {"test": "TEST/*/*.parquet"}
    assert (res.kept, kept["reward_type"].to_list()) == (2, ["llm_judge", "llm_judge"])
    assert sorted(dropped["reason"].to_list()) == ["other_split", "other_split"]
    extra = json.loads(kept["extra_info"][0])
    assert extra["references"][0] == "A dog number 0 runs." and len(extra["references"]) == 5


# --------------------------------------------------------------------------------------------- VQAv2
def test_vqav2_reads_a_parquet_export_with_ten_answers(tmp_path, monkeypatch):
    m = _shipped("vqav2")
    assert m.source.hub.path != "HuggingFaceM4/VQAv2"  # script-only, no Parquet export
    ten = ["two"] * 6 + ["2"] * 3 + ["three"]
    rows = [
        {"question_id": 1, "image": {"bytes": _jpeg(1), "path": None}, "id_image": 9, "question": "How many dogs?",
         "answers": ten, "answers_original": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1}
                                              for k, a in enumerate(ten)],
         "multiple_choice_answer": "two", "question_type": "how many", "answer_type": "number"},
        {"question_id": 2, "image": {"bytes": _jpeg(2), "path": None}, "id_image": 9, "question": "Is it sunny?",
         "answers": ["yes"] * 10, "answers_original": [{"answer": "yes", "answer_confidence": "yes", "answer_id": k}
                                                       for k in range(10)],
         "multiple_choice_answer": "yes", "question_type": "is it", "answer_type": "yes/no"},
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    FakeHub(monkeypatch, {"*": tmp_path / "train.parquet"}, {"*": {"path": m.source.hub.path, "split": "train"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert res.kept == 1 and kept["reward_type"][0] == "list_string_match"
    assert json.loads(kept["answer"][0]) == ["two", "2"]  # given by >= 3 annotators, most common first
    assert dropped["reason"].to_list() == ["binary_answer"]


# --------------------------------------------------------------------------------------------- Geo170K
def _geo_row(i: int, letter: str) -> dict:
    q = ("<image>\nFirst perform reasoning, then finally select the question from the choices in the following "
         f"format: Answer: xxx.\nQuestion: In triangle ABC, angle A = {40 + i}°. Find angle B.\nChoices:\nA: 30°\n"
         "B: 40°\nC: 50°\nD: 60°")
    return {"image": f"geoqa_plus/{i}.png", "conversations": [
        {"from": "human", "value": q},
        {"from": "gpt", "value": f"Since the angles sum to 180°, angle B = 50°. Therefore, the answer is: {letter}.\n"
                                 f"Answer:{letter}"}]}


def test_geo170k_qa_tuning_with_image_paths_into_the_unzipped_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    m = _shipped("geo170k")
    images = tmp_path / "data" / "Geo170K" / "images" / "geoqa_plus"  # images.zip unzipped in ~/data/Geo170K
    images.mkdir(parents=True)
    (images / "1.png").write_bytes(_photo(1))
    (tmp_path / "qa_tuning.json").write_text(json.dumps([_geo_row(1, "C"), _geo_row(2, "B")]))
    FakeHub(monkeypatch, {"*": tmp_path / "qa_tuning.json"}, {"*": {"path": "Luckyjhg/Geo170K", "split": "qa_tuning"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert (res.kept, kept["reward_type"][0], kept["answer"][0]) == (1, "multiple_choice", "C")
    assert dropped["reason"].to_list() == ["missing_image"]  # geoqa_plus/2.png is not in the archive


# --------------------------------------------------------------------------------------------- PopVQA
def test_popvqa_joins_questions_to_entities_on_s_uri(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    m = _shipped("popvqa")
    repo = tmp_path / "data" / "PopVQA"
    (repo / "images").mkdir(parents=True)
    (repo / "images" / "Q76.jpg").write_bytes(_jpeg(3))
    pl.DataFrame({"subject": ["Barack Obama", "Eiffel Tower"], "s_uri": ["http://www.wikidata.org/entity/Q76",
                                                                         "http://www.wikidata.org/entity/Q243"],
                  "type": ["celebs", "landmarks"], "path": ["images/Q76.jpg", "images/Q243.jpg"]}
                 ).write_csv(tmp_path / "entities.csv")
    pl.DataFrame({
        "subject": ["Barack Obama", "Barack Obama", "Nobody"],
        "s_uri": ["http://www.wikidata.org/entity/Q76", "http://www.wikidata.org/entity/Q76",
                  "http://www.wikidata.org/entity/Q0"],
        "r_uri": ["P19", "P69", "P19"],
        "question": ["Where was Barack Obama born?", "Where did Barack Obama study?", "Where was Nobody born?"],
        "question_for_image": ["Where was the subject of this image born?",
                               "Where did the subject of this image study?", "Where was the subject of this image born?"],
        "possible_answers": ["['Honolulu', 'Honolulu, Hawaii']", "['Columbia University', 'Harvard Law School']",
                             "['Nowhere']"],
    }).write_csv(tmp_path / "questions.csv")
    FakeHub(monkeypatch, {'"questions.csv"': tmp_path / "questions.csv", '"entities.csv"': tmp_path / "entities.csv"},
            {'"questions.csv"': {"path": "idoco/PopVQA", "split": "train"},
             '"entities.csv"': {"path": "idoco/PopVQA", "split": "train"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert res.kept == 2
    assert kept["reward_type"].unique().to_list() == ["list_string_match"]
    prompts = json.dumps(kept["prompt"].to_list())
    assert "subject of this image born" in prompts and "Barack Obama" not in prompts  # question_for_image, not question
    assert json.loads(kept["answer"][0]) == ["Honolulu", "Honolulu, Hawaii"]
    assert dropped["reason"].to_list() == ["join_no_match"]  # Q0 has no entity row: quarantined, named


def test_join_on_a_files_source_names_missing_keys_and_columns(tmp_path, write_manifest):
    pl.DataFrame({"k": ["a", "b", "a"], "img": ["x.png", "y.png", "z.png"]}).write_csv(tmp_path / "side.csv")
    (tmp_path / "x.png").write_bytes(_photo(4))
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"k": "a", "q": "What is shown?", "a": "a chart"}, {"q": "No key?", "a": "none"},
        {"k": "c", "q": "Unknown key?", "a": "none"}]) + "\n")
    mp = write_manifest("joined", category="knowledge", adapter="vqa", reward_type="string_match",
                        source={"files": {"format": "jsonl", "globs": ["rows.jsonl"]}},
                        adapter_params={"join": {"table": "side.csv", "on": "k", "columns": ["img"]},
                                        "question": "q", "answer": "a", "image": "img"})
    res, kept, dropped = _ingest(load_manifest(mp), tmp_path / "run")
    assert res.kept == 1 and json.loads(kept["extra_info"][0]).get("question") == "What is shown?"
    assert sorted(dropped["reason"].to_list()) == ["join_key_missing", "join_no_match"]
    bad = Manifest.model_validate({**yaml.safe_load(mp.read_text()), "adapter_params": {
        "join": {"table": "side.csv", "on": "k", "columns": ["nope"]}}})
    bad.path = str(mp)
    with pytest.raises(SourceUnavailableError, match=r"side.csv has no column\(s\) \['nope'\]"):
        list(iter_source(bad))
    bad.adapter_params = {"join": {"table": "side.csv", "on": "k", "colums": ["img"]}}
    with pytest.raises(ConfigError, match="unknown key"):
        list(iter_source(bad))
    bad.adapter_params = {"join": {"table": "side.csv", True: "k"}}  # a bare `on:` in YAML 1.1 is the key True
    assert [r.get("img") for _, r in iter_source(bad) if isinstance(r, dict)] == ["x.png"]


# --------------------------------------------------------------------------------------------- ECD
def test_ecd_image_template_resolves_inside_the_source_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    m = _shipped("ecd_vqa")
    repo = tmp_path / "data" / "ECD-10k-Images"
    (repo / "images").mkdir(parents=True)
    (repo / "images" / "17.png").write_bytes(_photo(5))
    secret = tmp_path / "secret.png"
    secret.write_bytes(_photo(6))
    rows = [{"image_id": "17", "question": "What is the highest value in the chart?", "answer": "42"},
            {"image_id": "../../../secret", "question": "What is the lowest value?", "answer": "3"},
            {"image_id": "18", "question": "What is the title?", "answer": "Sales"}]
    (tmp_path / "ECD_QAs_All.json").write_text(json.dumps(rows))
    FakeHub(monkeypatch, {"*": tmp_path / "ECD_QAs_All.json"},
            {"*": {"path": "ChartFoundation/ECD-10k-Images", "split": "train"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert (res.kept, kept["answer"][0], kept["reward_type"][0]) == (1, "42", "numeric")
    assert sorted(dropped["reason"].to_list()) == ["image_outside_root", "missing_image"]


def test_image_template_takes_bare_column_names_only():
    from vero_data.sources.adapters._common import template_path

    assert template_path("images/{image_id}.png", {"image_id": 7}) == "images/7.png"
    for bad in ("images/{image_id.__class__}.png", "images/{image_id[0]}.png", "{image_id:>10}", "{image_id!r}"):
        with pytest.raises(ValueError, match="bare column name"):
            template_path(bad, {"image_id": 7})


# --------------------------------------------------------------------------------------------- objects365
def test_objects365_sentence_answers_are_judged_not_forced_to_boxes(tmp_path, monkeypatch):
    m = _shipped("objects365")
    assert m.adapter_params.get("reward") != "grounding"
    rows = [{"images": [{"bytes": _jpeg(7), "path": None}],
             "texts": [{"user": "How many cars are in the image?", "assistant": "3"},
                       {"user": "What is on the table?",
                        "assistant": "There is a white cup and a small plate on the wooden table near the window."}],
             "source": "objects365", "relevance_ratings": [5, 5], "relevance_min": 5,
             "visual_dependency_ratings": [5, 5], "visual_dependency_min": 5, "image_correspondence_ratings": [5, 5],
             "image_correspondence_min": 5, "formatting_ratings": [5, 5], "formatting_min": 5}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "objects365_qa.parquet")
    FakeHub(monkeypatch, {"*": tmp_path / "objects365_qa.parquet"},
            {"*": {"path": "HuggingFaceM4/FineVision", "name": "objects365_qa", "split": "train"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert sorted(kept["reward_type"].to_list()) == ["llm_judge", "numeric"] and dropped.height == 0


# --------------------------------------------------------------------------------------------- MMIF-23K
def test_mmif_sft_and_dpo_rows_are_judged_against_their_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    m = _shipped("MMIF-23K")
    imgs = tmp_path / "data" / "MMIF-23k" / "images"
    imgs.mkdir(parents=True)
    (imgs / "a.jpg").write_bytes(_jpeg(8))
    prompt = "<image>\nDescribe the chart in exactly three sentences and end with the word 'done'."
    rows = [
        {"id": "sft-1", "images": ["images/a.jpg"], "chosen": None, "rejected": None,
         "conversations": [{"from": "human", "value": prompt}, {"from": "gpt", "value": "One. Two. Three done."}]},
        {"id": "dpo-1", "images": ["images/a.jpg"], "conversations": [{"from": "human", "value": prompt}],
         "chosen": {"from": "gpt", "value": "It rises. It falls. It ends done."},
         "rejected": {"from": "gpt", "value": "A chart."}},
    ]
    (tmp_path / "mmif.json").write_text(json.dumps(rows))
    FakeHub(monkeypatch, {"*": tmp_path / "mmif.json"}, {"*": {"path": "ChrisDing1105/MMIF-23k", "split": "train"}})
    res, kept, dropped = _ingest(m, tmp_path / "run")
    assert res.kept == 2 and dropped.height == 0
    assert kept["reward_type"].to_list() == ["llm_judge", "llm_judge"]
    extras = [json.loads(x) for x in kept["extra_info"].to_list()]
    assert extras[1]["reference"] == "It rises. It falls. It ends done." and extras[1]["rejected"] == "A chart."


# --------------------------------------------------------------------------------------------- provenance
def _vero600k() -> list[Manifest]:
    return recipe_manifests(load_recipe("vero600k"))


@pytest.mark.parametrize("m", _vero600k(), ids=lambda m: m.name)
def test_every_vero600k_manifest_records_its_layout_evidence(m):
    p = m.provenance
    if m.name in OWNED_ELSEWHERE and p.layout_checked is None:
        pytest.skip(f"{m.name}: its provenance is written by the archive-images change")
    assert p.layout_checked is not None, f"{m.path}: provenance.layout_checked missing"
    assert p.evidence, f"{m.path}: provenance.evidence is empty"
    if p.layout_checked:
        assert any(e.startswith(("https://", "http://", "/")) or (":" in e and "/" in e.split(":", 1)[0])
                   for e in p.evidence), f"{m.path}: layout_checked: yes names no evidence URL or path"
    else:
        assert p.unverified.strip(), f"{m.path}: layout_checked: no without saying what is unverified"


def test_sources_without_layout_evidence_say_so():
    by_name = {m.name: m for m in _vero600k()}
    for name in ("spatial_ssrl", "visual_jigsaw_2d", "visual_jigsaw_3d", "kvg", "vizwiz"):
        assert by_name[name].provenance.layout_checked is False and by_name[name].provenance.unverified
    for name, what in (("iconqa", "iconqa"), ("stvqa", "st_vqa"), ("geoqa_plus", "geoqa+")):
        assert what in by_name[name].provenance.unverified and "answer format" in by_name[name].provenance.unverified


def test_provenance_model_ties_checked_to_evidence():
    base = {"name": "p", "category": "stem", "source": {"hub": {"path": "a/b"}}}
    with pytest.raises(ValueError, match="needs at least one evidence"):
        Manifest.model_validate({**base, "provenance": {"layout_checked": "yes"}})
    with pytest.raises(ValueError, match="needs `unverified:`"):
        Manifest.model_validate({**base, "provenance": {"layout_checked": False, "evidence": ["https://x"]}})
    ok = Manifest.model_validate({**base, "provenance": {"layout_checked": "yes", "evidence": ["https://x/y"]}})
    assert ok.provenance.layout_checked is True


def test_data_sources_json_shows_the_hub_read_spec_and_evidence():
    res = runner.invoke(app, ["data", "sources", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["geo170k"]["hub"]["split"] == "qa_tuning"
    assert rows["Flickr30K"]["hub"]["revision"] == "refs/convert/parquet"
    assert "HuggingFaceM4/VQAv2" not in json.dumps(rows["vqav2"])  # the script-only repo is not read
    assert rows["popvqa"]["layout_checked"] == "no" and rows["popvqa"]["unverified"]
    assert all(r["layout_checked"] in ("yes", "no") for n, r in rows.items() if n not in OWNED_ELSEWHERE)
