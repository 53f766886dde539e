"""`vero data probe`: N rows of each source through the build's reader, adapter and validation, offline.

Local `files:` sources shaped like real upstream layouts stand in for the Hub (a ChartQA-like Parquet with an image
struct, a Geo170K-like JSONL with relative image paths); hub sources are faked with a patched `load_dataset`.
"""

from __future__ import annotations

import json
import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from tests.helpers import png_bytes
from vero_data import hub
from vero_data.cli import app
from vero_data.probe import RecordingRow, _plain, _RowLog, probe_sources

runner = CliRunner()


def _png(i: int, size=(64, 48)) -> bytes:
    return png_bytes(Image.new("RGB", size, (40 * i % 256, 90, 160)))


def _manifest(tmp_path, name: str, **fields) -> str:
    data = {"name": name, "license": "cc0", "category": "chart_ocr", **fields}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data))
    return str(p)


@pytest.fixture
def chart_parquet(tmp_path):
    """ChartQA's layout: image {bytes, path}, query, label (a list), human_or_machine; 10 rows."""
    rows = [{"image": {"bytes": _png(i), "path": f"{i}.png"}, "query": f"What is the value of bar {i}?",
             "label": [str(i * 3)], "human_or_machine": i % 2} for i in range(10)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "chart.parquet", row_group_size=4)
    return _manifest(tmp_path, "chart_like", reward_type="numeric", reward_types=["numeric", "string_match"],
                     source={"files": {"format": "parquet", "globs": ["chart.parquet"]}}, adapter="vqa",
                     adapter_params={"question": "query", "answer": "label"})


@pytest.fixture
def geo_jsonl(tmp_path):
    """Geo170K's layout: image as a path relative to the data file, LLaVA conversations[{from, value}]."""
    d = tmp_path / "geo"
    (d / "images" / "geoqa_plus").mkdir(parents=True)
    lines = []
    for i in range(3):
        (d / "images" / "geoqa_plus" / f"{i}.png").write_bytes(_png(i, (80, 60)))
        lines.append(json.dumps({"image": f"images/geoqa_plus/{i}.png", "conversations": [
            {"from": "human", "value": f"<image>\nIn triangle ABC, angle A is {40 + i}°. Find B.\n"
                                       "Choices:\nA: 10\nB: 20\nC: 30\nD: 40"},
            {"from": "gpt", "value": f"Angles sum to 180 so ... Answer:{'ABC'[i]}"}]}))
    (d / "qa.jsonl").write_text("\n".join(lines) + "\n")
    return _manifest(tmp_path, "geo_like", category="stem", reward_type="multiple_choice",
                     reward_types=["multiple_choice", "numeric"], adapter="conversations",
                     adapter_params={"extract": True},
                     source={"files": {"format": "jsonl", "globs": ["geo/qa.jsonl"]}})


@pytest.fixture
def mismatched(tmp_path, chart_parquet):
    """The ChartQA file read by a manifest that expects flat question/answer columns (the adapter's defaults)."""
    return _manifest(tmp_path, "mismatched", reward_type="numeric",
                     source={"files": {"format": "parquet", "globs": ["chart.parquet"]}}, adapter="vqa")


def _json(res) -> dict:
    return json.loads(res.stdout)


def test_parquet_with_image_struct_maps_every_row(chart_parquet):
    res = runner.invoke(app, ["data", "probe", chart_parquet, "--n", "5", "--json"])
    assert res.exit_code == 0, res.output
    doc = _json(res)
    (s,) = doc["sources"]
    assert doc["ok"] and s["status"] == "ok" and s["read"] == 5 and s["mapped"] == 5 and s["quarantined"] == {}
    ex = s["example"]
    assert ex["question"] == "What is the value of bar 0?" and ex["answer"] == "0" and ex["reward_type"] == "numeric"
    assert ex["image_sizes"] == [[64, 48]] and ex["prompt"][0]["content"].startswith("<image>")
    assert s["columns_seen"] == ["image", "query", "label", "human_or_machine"]
    assert s["columns_read"] == ["image", "query", "label"] and s["columns_unread"] == ["human_or_machine"]
    assert s["missing"] == []


def test_jsonl_with_relative_image_paths_and_nested_turns(geo_jsonl):
    (s,) = probe_sources([geo_jsonl], n=50)
    assert s.status == "ok" and s.read == 3 and s.mapped == 3, (s.error, s.quarantined)
    assert s.example["answer"] == "A" and s.example["reward_type"] == "multiple_choice"
    assert s.example["image_sizes"] == [[80, 60]] and s.example["images"][0]["path"] == "images/geoqa_plus/0.png"
    assert s.columns_read == ["image", "conversations"] and s.columns_unread == []


def test_mismatched_columns_are_a_layout_mismatch_naming_the_missing_columns(mismatched, chart_parquet):
    res = runner.invoke(app, ["data", "probe", mismatched, chart_parquet, "--n", "4", "--json"])
    assert res.exit_code == 1
    bad, good = _json(res)["sources"]
    assert good["ok"] and good["mapped"] == 4  # the other source is still probed
    assert not bad["ok"] and bad["read"] == 4 and bad["mapped"] == 0 and bad["status"] == "layout mismatch"
    assert list(bad["quarantined"]) == ["missing_field"] and bad["quarantined"]["missing_field"]["count"] == 4
    assert bad["missing"][0] == {"column": "question", "absent_in": 4, "present_in": 0, "looked_up_in": 4}
    assert "layout mismatch" in bad["verdict"] and "question" in bad["verdict"]
    table = runner.invoke(app, ["data", "probe", mismatched, "--n", "4"])
    assert table.exit_code == 1
    title, header, row = table.stdout.splitlines()  # piped: one tab-separated table, whole values
    assert title == "# vero data probe: 1 source(s)"
    assert header.split("\t")[:4] == ["source", "status", "read", "mapped"]
    assert row.split("\t")[:4] == ["mismatched", "layout mismatch", "4", "0"] and "MISSING: question" in row
    assert "✗ mismatched: layout mismatch: all 4 rows quarantined as missing_field" in table.stderr


def test_nested_dict_columns_are_recorded_by_path(tmp_path):
    """A column mapping into nested dicts (`qa.question`): a missing nested key is named with its path."""
    rows = [{"img": {"bytes": _png(i), "path": None}, "qa": {"q": f"What is {i}+1?", "a": i + 1}} for i in range(3)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "nested.parquet")
    ok = _manifest(tmp_path, "nested_ok", reward_type="numeric", adapter={"question": "qa.q", "answer": "qa.a",
                   "images": "img"}, source={"files": {"format": "parquet", "globs": ["nested.parquet"]}})
    bad = _manifest(tmp_path, "nested_bad", reward_type="numeric", adapter={"question": "qa.question",
                    "answer": "qa.a", "images": "img"}, source={"files": {"format": "parquet",
                                                                          "globs": ["nested.parquet"]}})
    good, wrong = probe_sources([ok, bad], n=3)
    assert good.mapped == 3 and good.columns_read == ["img", "qa"] and good.example["answer"] == "1"
    assert wrong.mapped == 0 and wrong.status == "layout mismatch"
    assert [m["column"] for m in wrong.missing] == ["qa.question"]


def test_recording_row_notes_lookups_and_unwraps():
    log = _RowLog()
    row = RecordingRow({"a": 1, "b": {"c": 2}, "l": [{"d": 3}], "z": 0}, log)
    assert row["a"] == 1 and row.get("x") is None and "y" not in row
    assert row["b"]["c"] == 2 and row["l"][0].get("e", 5) == 5
    assert log.paths == {"a": True, "x": False, "y": False, "b": True, "b.c": True, "l": True, "l[].e": False}
    copy = {**row}  # a copy reads every column (the verl adapter passes `{**row, ...}` on)
    assert set(log.paths) >= {"z"} and type(copy["b"]) is RecordingRow
    plain = _plain({"k": [copy["b"]]})
    assert type(plain["k"][0]) is dict and plain == {"k": [{"c": 2}]}
    log.active = False
    row.get("late")
    assert "late" not in log.paths


def test_n_bounds_the_rows_read(chart_parquet):
    (s,) = probe_sources([chart_parquet], n=3)
    assert s.read == 3 and s.mapped == 3
    (s,) = probe_sources([chart_parquet], n=50)
    assert s.read == 10


def _hub_manifest(tmp_path, name="scripted"):
    return _manifest(tmp_path, name, category="knowledge", reward_type="string_match", adapter="vqa",
                     source={"hub": {"path": "nlphuji/flickr30k", "split": "test"}})


def test_a_hub_script_repo_is_unavailable_with_the_reason_and_others_are_probed(tmp_path, monkeypatch,
                                                                                 chart_parquet):
    import datasets

    def scripted(*a, **k):
        raise RuntimeError("Dataset scripts are no longer supported, but found flickr30k.py")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # require_hub steps aside; the loader itself fails
    monkeypatch.setattr(datasets, "load_dataset", scripted)
    res = runner.invoke(app, ["data", "probe", _hub_manifest(tmp_path), chart_parquet, "--json"])
    assert res.exit_code == 1
    doc = _json(res)
    hub_src, local = doc["sources"]
    assert not doc["ok"] and local["ok"] and local["mapped"] == 10
    assert hub_src["status"] == "unavailable" and hub_src["mapped"] == 0
    assert "RuntimeError: Dataset scripts are no longer supported" in hub_src["error"]
    assert "nlphuji/flickr30k" in hub_src["error"]


def test_a_hub_source_is_streamed_even_when_its_manifest_says_not(tmp_path, monkeypatch):
    import datasets

    calls = []

    def fake(*a, **k):
        calls.append(k)
        return ({"image": {"bytes": _png(i), "path": None}, "question": f"Q{i}?", "answer": "cat"} for i in range(99))

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets, "load_dataset", fake)
    m = _manifest(tmp_path, "unstreamed", category="knowledge", reward_type="string_match", adapter="vqa",
                  source={"hub": {"path": "org/vqa", "split": "train", "streaming": False}})
    (s,) = probe_sources([m], n=4)
    assert [c["streaming"] for c in calls] == [True]
    assert s.ok and s.read == 4 and s.mapped == 4 and s.example["answer"] == "cat"


def test_without_the_hub_each_source_fails_fast_with_the_hub_message(tmp_path, monkeypatch, chart_parquet):
    import datasets

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
              "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("load_dataset reached"))
    hub.reset_probe_cache()
    try:
        res = runner.invoke(app, ["data", "probe", _hub_manifest(tmp_path, "a"), _hub_manifest(tmp_path, "b"),
                                  chart_parquet])
    finally:
        hub.reset_probe_cache()
    assert res.exit_code == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("✗")]
    assert len(lines) == 2 and all("is not reachable" in ln and "HF_HUB_OFFLINE=1" in ln for ln in lines)
    assert "1/3 source(s) mapped rows" in res.stderr
    rows = [ln.split("\t") for ln in res.stdout.splitlines()[2:]]
    assert [r[:2] for r in rows] == [["a", "unavailable"], ["b", "unavailable"], ["chart_like", "ok"]]


def test_an_unknown_name_gets_did_you_mean():
    res = runner.invoke(app, ["data", "probe", "vqav3"])
    assert res.exit_code == 1
    assert "unknown source 'vqav3'" in res.output and "Did you mean 'vqav2'" in res.output


def test_names_resolve_case_insensitively_and_recipe_paths_are_refused(tmp_path):
    from vero_data.errors import ConfigError
    from vero_data.probe import resolve_sources

    assert [m.name for m in resolve_sources(["flickr30k"])] == ["Flickr30K"]
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\nmanifests: [vqav2]\n")
    with pytest.raises(ConfigError, match="--recipe"):
        resolve_sources([str(recipe)])
    assert [m.name for m in resolve_sources([], recipe=str(recipe))] == ["vqav2"]
