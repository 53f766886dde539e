"""Bad inputs on the build side: one clear line (file, row/line, field or flag) or a quarantine reason, never a
traceback, never a silent drop, never quarantined rows exported as data."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers import chart_image, png_bytes
from vero_data.api import validate
from vero_data.cli import app
from vero_data.config import BuildConfig
from vero_data.errors import ConfigError, RowError, SourceUnavailableError, VeroError
from vero_data.images import inspect_image
from vero_data.layout import BuildDir
from vero_data.manifest import load_manifest, load_recipe, recipe_manifests
from vero_data.sources.base import generate
from vero_data.stages.ingest import IngestSettings, ingest_part

runner = CliRunner()


def _one_line_error(res, *needles: str) -> str:
    """The CLI failed with exit 1 and a message (no traceback) containing every needle."""
    flat = " ".join(res.output.split())
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit | None), res.exception
    squeezed = "".join(flat.split())  # rich wraps long lines (even inside a path)
    for n in needles:
        assert "".join(n.split()) in squeezed, (n, flat)
    return flat


def _jsonl_manifest(tmp_path: Path, lines: list[str], name: str = "src", data_dir: str = ".", **fields) -> Path:
    d = tmp_path / data_dir
    d.mkdir(parents=True, exist_ok=True)
    (d / "rows.jsonl").write_text("\n".join(lines) + "\n")
    m = {"name": name, "category": "knowledge", "license": "mit", "reward_type": "string_match",
         "source": {"files": {"format": "jsonl", "globs": [f"{data_dir}/rows.jsonl"]}},
         "adapter": {"question": "q", "answer": "a", "images": "img"}, **fields}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(m))
    return p


def _ingest(manifest_path: Path, run: Path):
    m = load_manifest(manifest_path)
    folder = BuildDir(run)
    res = ingest_part(m, 0, 1000, folder, IngestSettings(10_000_000, 4096))
    return (res, pl.read_parquet(folder.part_file(m.name, "rows", 0)),
            pl.read_parquet(folder.part_file(m.name, "quarantine", 0)))


def _png(tmp_path: Path, rel: str = "good.png", seed: int = 1) -> Path:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(png_bytes(chart_image([10, 20, 30], seed=seed)))
    return p


# -------------------------------------------------------------------------------------------- 1: export
def test_export_never_reads_quarantine_as_data(tmp_path):
    build = tmp_path / "b"
    (build / "data").mkdir(parents=True)  # a build that exported 0 rows: only the quarantine has rows
    pl.DataFrame({"id": ["x"], "reason": ["bad_json"]}).write_parquet(build / "quarantine.parquet")
    res = runner.invoke(app, ["data", "export", "--data", str(build), "--out", str(tmp_path / "o")])
    _one_line_error(res, "no shards")
    assert not (tmp_path / "o").exists()
    (build / "data").rmdir()  # not a build at all: a folder with a quarantine file
    res = runner.invoke(app, ["data", "export", "--data", str(build), "--out", str(tmp_path / "o")])
    _one_line_error(res, "no shards")
    res = runner.invoke(app, ["data", "export", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    _one_line_error(res, "not a directory")


def test_export_of_generated_source_still_works(tmp_path):
    g = tmp_path / "g"
    assert runner.invoke(app, ["data", "generate", "counting", "--n", "2", "--out", str(g)]).exit_code == 0
    res = runner.invoke(app, ["data", "export", "--data", str(g), "--out", str(tmp_path / "v")])
    assert res.exit_code == 0, res.output
    assert pq.ParquetFile(tmp_path / "v" / "vero_600k_train.verl.parquet").metadata.num_rows == 2


def test_export_corrupt_shard_and_out_file(tmp_path):
    data = tmp_path / "b" / "data"
    data.mkdir(parents=True)
    (data / "train-00000-of-00001.parquet").write_bytes(b"PAR1")
    res = runner.invoke(app, ["data", "export", "--data", str(tmp_path / "b"), "--out", str(tmp_path / "o")])
    _one_line_error(res, "train-00000-of-00001.parquet")
    g = tmp_path / "g"
    runner.invoke(app, ["data", "generate", "counting", "--n", "1", "--out", str(g)])
    afile = tmp_path / "afile"
    afile.write_text("")
    res = runner.invoke(app, ["data", "export", "--data", str(g), "--out", str(afile)])
    _one_line_error(res, "is a file")


# -------------------------------------------------------------------------------------------- 2: split
def test_manifest_split_is_the_rows_split(tmp_path):
    _png(tmp_path)
    line = json.dumps({"q": "What?", "a": "x", "img": "good.png"})
    m = _jsonl_manifest(tmp_path, [line], split="test")
    _, rows, _ = _ingest(m, tmp_path / "run")
    assert rows["split"].to_list() == ["test"]
    bad = _jsonl_manifest(tmp_path, [line], name="bad", split="validation")
    (r,) = validate([bad])
    assert not r.ok and "bad.yaml" in r.error and "'split'" in r.error and "validation" in r.error


# -------------------------------------------------------------------------------------------- 3: JSONL
def test_bad_jsonl_lines_are_quarantined_not_fatal(tmp_path):
    _png(tmp_path)
    good = json.dumps({"q": "What colour?", "a": "green", "img": "good.png"})
    lines = [good, '{"q": "broken", "a": ', "[1, 2]", "", json.dumps({"q": "Again?", "a": "red", "img": "good.png"})]
    m = _jsonl_manifest(tmp_path, lines)
    with (tmp_path / "rows.jsonl").open("ab") as f:
        f.write(b'{"q": "\xff\xfe", "a": "x"}\n')
    res, rows, q = _ingest(m, tmp_path / "run")
    assert rows.height == 2 and res.read == 5
    bad = q.filter(pl.col("reason") == "bad_json")
    assert bad.height == 3 and set(bad["stage"]) == {"read"}
    details = bad["detail"].to_list()
    assert "rows.jsonl:2:" in details[0] and "rows.jsonl:3:" in details[1] and "list" in details[1]
    assert "rows.jsonl:6:" in details[2]  # the blank line is skipped but still counted as a line


def test_jsonl_parts_read_in_parallel_see_every_row_once(tmp_path):
    """A local jsonl source has a known length (so --workers splits it into parallel parts); the parts, read by
    row range, are exactly the rows of one full read: blank lines, a BOM and bad lines counted the same way."""
    from vero_data.sources.readers import _iter_files, known_length

    lines = [json.dumps({"q": f"Q{i}?", "a": str(i)}) for i in range(7)]
    lines[3:3] = ["", "   ", "not json"]
    m = _jsonl_manifest(tmp_path, lines)
    data = (tmp_path / "rows.jsonl").read_bytes()
    (tmp_path / "rows.jsonl").write_bytes(b"\xef\xbb\xbf" + data + b"\n\n" + lines[0].encode())
    man = load_manifest(m)
    full = list(_iter_files(man))
    assert known_length(man) == len(full) == 9
    parts = [r for k in range(4) for r in _iter_files(man, 3 * k, 3 * k + 3)]
    assert [i for i, _ in parts] == list(range(9))
    assert [str(r) for _, r in parts] == [str(r) for _, r in full]
    assert known_length(load_manifest(_jsonl_manifest(tmp_path, lines[:2], name="capped", max_samples=1))) == 1


def test_unreadable_files_name_the_file(tmp_path):
    m = _jsonl_manifest(tmp_path, ["x"])
    (tmp_path / "rows.jsonl").write_bytes(b"\xff\xfe{\x00b\x00")  # UTF-16, not JSONL
    with pytest.raises(SourceUnavailableError, match=r"rows\.jsonl is not UTF-8"):
        _ingest(m, tmp_path / "run")
    (tmp_path / "rows.parquet").write_bytes(b"PAR1 garbage")
    pm = tmp_path / "pq.yaml"
    pm.write_text(yaml.safe_dump({"name": "pq", "category": "stem", "adapter": "canonical",
                                  "source": {"files": {"format": "parquet", "globs": ["rows.parquet"]}}}))
    from vero_data.sources.readers import known_length

    with pytest.raises(SourceUnavailableError, match=r"rows\.parquet"):
        known_length(load_manifest(pm))


# -------------------------------------------------------------------------------------------- 4: generator params
def test_generator_params_are_checked(tmp_path, write_manifest):
    from vero_data.sources.base import GeneratorParamError, check_generator_params

    check_generator_params("bar_chart", {"difficulty": "hard", "n_bars": 4})
    with pytest.raises(GeneratorParamError, match="difficulty"):
        check_generator_params("bar_chart", {"difficulty": "impossible"})
    with pytest.raises(GeneratorParamError, match="bogus"):
        check_generator_params("bar_chart", {"bogus": 1})
    with pytest.raises(GeneratorParamError, match="bar_chart.*size"):
        next(generate("bar_chart", 1, params={"size": "abc"}))
    m = write_manifest("gen", category="chart_ocr", adapter="generated", reward_type="numeric",
                       source={"generator": {"name": "bar_chart", "n": 3, "params": {"difficulty": "impossible"}}})
    (r,) = validate([m])
    assert not r.ok and "gen.yaml" in r.error and "impossible" in r.error
    with pytest.raises(ConfigError, match=r"gen\.yaml.*impossible"):  # before any ingest, naming the file
        from vero_data.api import build

        build(out=tmp_path / "o", manifests=[str(m)])
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("param", "needle"), [("difficulty=impossible", "impossible"), ("bogus=1", "bogus"),
                                               ("nokey", "KEY=VALUE")])
def test_generate_cli_rejects_bad_params(tmp_path, param, needle):
    res = runner.invoke(app, ["data", "generate", "bar_chart", "--n", "1", "--out", str(tmp_path / "g"),
                              "--param", param])
    _one_line_error(res, needle)


# -------------------------------------------------------------------------------------------- 5, 6: flags
def test_out_is_a_file_is_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    res = runner.invoke(app, ["data", "build", "--recipe", "demo", "--out", str(afile)])
    _one_line_error(res, "is a file")
    res = runner.invoke(app, ["data", "generate", "counting", "--n", "1", "--out", str(afile)])
    _one_line_error(res, "is a file")


@pytest.mark.parametrize("args", [["--limit", "-1"], ["--total", "-5"], ["--rows-per-shard", "0"],
                                  ["--workers", "0"], ["--max-pixels", "0"]])
def test_build_number_flags_have_bounds(tmp_path, args):
    res = runner.invoke(app, ["data", "build", "--recipe", "demo", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and args[0] in res.output  # typer's usage error names the flag
    assert not (tmp_path / "o").exists()
    with pytest.raises(ConfigError, match=args[0]):  # the API has the same bounds
        BuildConfig(out=tmp_path / "o", recipe="demo", **{args[0][2:].replace("-", "_"): int(args[1])})


def test_generate_n_bound_and_non_utf8_yaml(tmp_path):
    res = runner.invoke(app, ["data", "generate", "counting", "--n", "0", "--out", str(tmp_path / "g")])
    assert res.exit_code == 2 and "--n" in res.output
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe bin")
    res = runner.invoke(app, ["data", "validate", str(bad)])
    assert res.exit_code == 1 and "bin.yaml" in res.output and "UTF-8" in res.output


# -------------------------------------------------------------------------------------------- 7: quarantine detail
def test_undecodable_image_detail_names_path_and_excerpt_has_question(tmp_path):
    (tmp_path / "notimg.png").write_bytes(b"this is not a png")
    m = _jsonl_manifest(tmp_path, [json.dumps({"q": "What is shown?", "a": "x", "img": "notimg.png"})])
    _, _, q = _ingest(m, tmp_path / "run")
    (rec,) = q.to_dicts()
    assert rec["reason"] == "undecodable_image" and "notimg.png" in rec["detail"] and "BytesIO" not in rec["detail"]
    assert json.loads(rec["excerpt"])["question"] == "What is shown?"
    with pytest.raises(RowError, match="x.png"):
        inspect_image(b"garbage", path="x.png")


# -------------------------------------------------------------------------------------------- 8: relative paths
def test_relative_image_paths_do_not_depend_on_cwd(tmp_path, monkeypatch):
    _png(tmp_path, "data/figs/a.png", seed=1)  # next to the data file
    _png(tmp_path, "b.png", seed=2)  # next to the manifest
    lines = [json.dumps({"q": "A?", "a": "1", "img": "figs/a.png"}), json.dumps({"q": "B?", "a": "2", "img": "b.png"}),
             json.dumps({"q": "C?", "a": "3", "img": "nowhere.png"})]
    m = _jsonl_manifest(tmp_path, lines, data_dir="data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _, rows, q = _ingest(m, tmp_path / "run")
    assert rows.height == 2
    assert [im[0]["path"] for im in rows["images"].to_list()] == ["figs/a.png", "b.png"]  # as the row gave it
    (rec,) = q.to_dicts()
    assert rec["reason"] == "missing_image" and "nowhere.png" in rec["detail"]


def test_recipe_references_resolve_next_to_the_recipe(tmp_path, monkeypatch, write_manifest):
    write_manifest("gen", category="chart_ocr", adapter="generated", reward_type="numeric",
                   source={"generator": {"name": "bar_chart", "n": 2}})
    rec = tmp_path / "my_recipe.yaml"
    rec.write_text(yaml.safe_dump({"name": "mine", "manifests": ["gen.yaml"]}))
    monkeypatch.chdir(tmp_path.parent)
    assert [m.name for m in recipe_manifests(load_recipe(rec))] == ["gen"]
    rec.write_text(yaml.safe_dump({"name": "mine", "manifests": ["gen.yaml", "nosuch.yaml"]}))
    with pytest.raises(ConfigError, match=r"my_recipe\.yaml: manifest 'nosuch\.yaml' not found"):
        recipe_manifests(load_recipe(rec))


# -------------------------------------------------------------------------------------------- 9: recipe detection
def test_validate_detects_a_recipe_by_its_keys(tmp_path, write_manifest):
    write_manifest("gen", category="chart_ocr", adapter="generated", reward_type="numeric",
                   source={"generator": {"name": "bar_chart", "n": 2}})
    rec = tmp_path / "my_recipe.yaml"
    rec.write_text(yaml.safe_dump({"name": "mine", "manifests": ["gen.yaml"], "mixture": {"total": 10}}))
    (r,) = validate([rec])
    assert r.ok and r.kind == "recipe" and r.name == "mine", r.error


# -------------------------------------------------------------------------------------------- 10: wrong types
def test_mapped_adapter_rejects_wrong_types(tmp_path):
    _png(tmp_path)
    rows = [{"q": 123, "a": "x"}, {"q": {"nested": 1}, "a": "x"}, {"q": "Nan?", "a": float("nan")},
            {"q": "List?", "a": ["x", 1]}, {"q": "Number?", "a": 7}]
    m = _jsonl_manifest(tmp_path, [json.dumps({**r, "img": "good.png"}) for r in rows])
    _, kept, q = _ingest(m, tmp_path / "run")
    assert sorted(kept["answer"].to_list()) == ["7", '["x", 1]']
    got = {(r["upstream_index"], r["reason"], r["field"]) for r in q.to_dicts()}
    assert got == {(0, "bad_question_type", "q"), (1, "bad_question_type", "q"), (2, "non_finite_answer", "a")}
    assert json.loads(q.filter(pl.col("upstream_index") == 2)["excerpt"][0])["question"] == "Nan?"


# -------------------------------------------------------------------------------------------- 11: minor
def test_yaml_error_names_the_file_briefly(tmp_path):
    bad = tmp_path / "syntax.yaml"
    bad.write_text("name: x\nsource: {files: {format: jsonl}\nadapter: [q\n")
    (r,) = validate([bad])
    assert not r.ok and r.error.startswith(str(bad)) and "line 3" in r.error
    assert "<unicode string>" not in r.error and "\n" not in r.error


def test_build_with_unknown_adapter_names_the_file(tmp_path, write_manifest):
    m = write_manifest("ua", category="knowledge", adapter="no_such_adapter", reward_type="string_match",
                       source={"generator": {"name": "bar_chart", "n": 2}})
    res = runner.invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "o")])
    _one_line_error(res, "ua.yaml", "no_such_adapter")


def test_validate_empty_folder_and_unmatched_globs(tmp_path):
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["data", "validate", str(tmp_path / "empty")])
    _one_line_error(res, "no *.yaml")
    with pytest.raises(VeroError):
        validate([tmp_path / "empty"])
    m = tmp_path / "m.yaml"
    m.write_text(yaml.safe_dump({"name": "m", "category": "knowledge", "reward_type": "string_match",
                                 "adapter": {"question": "q", "answer": "a"},
                                 "source": {"files": {"format": "jsonl", "globs": ["nope/*.jsonl"]}}}))
    (r,) = validate([m])
    assert not r.ok and "m.yaml" in r.error and "no files match" in r.error
