"""`vero train` with bad inputs: an OUT holding a run, undecodable images, broken or mistyped configs and flags,
negative --max-steps. Each is one error line (or a quarantined row), never a traceback or a silent restart."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

pytest.importorskip("trl")

from vero_data.cli import app  # noqa: E402
from vero_data.errors import ConfigError  # noqa: E402
from vero_train.config import CPU_SMOKE, load_config, read_config_file  # noqa: E402

runner = CliRunner(env={"COLUMNS": "1000"})  # rich wraps nothing: each error is one line


def _error_line(r) -> str:
    """The CLI's one error line (after the CPU-preset notice, if any)."""
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "usage:" not in r.output, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert lines[-1].startswith("error: ") and all(x.startswith(("error: ", "no GPU")) for x in lines), r.output
    return lines[-1]


def _corrupt_first_image(src, dst):
    """A copy of the shards whose first row's first image is not an image; returns that row's id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(src, dst)
    f = sorted((dst / "data").glob("*.parquet"))[0]
    t = pq.read_table(f)
    images = t.column("images").to_pylist()
    images[0][0]["bytes"] = b"\x89PNG but not really"
    t = t.set_column(t.schema.get_field_index("images"), "images",
                     pa.array(images, type=t.schema.field("images").type))
    pq.write_table(t, f)
    return t.column("id")[0].as_py()


# ------------------------------------------------------------------------------------------- OUT holding a run
def _cfg(tmp_path, data, out, **kw):
    return load_config(None, None, **{**CPU_SMOKE, "model_name_or_path": "tiny", "data": str(data),
                                      "output_dir": str(out), "max_steps": 1, **kw})


def test_out_with_a_checkpoint_is_refused_without_resume(tmp_path):
    from vero_train.train import train

    out = tmp_path / "run"
    (out / "checkpoint-1").mkdir(parents=True)
    (out / "checkpoint-3").mkdir()
    with pytest.raises(ConfigError, match=r"run has checkpoint-3: pass --resume to continue it or --overwrite"):
        train(_cfg(tmp_path, tmp_path / "nodata", out))
    r = runner.invoke(app, ["train", "--model", "tiny", "--data", str(tmp_path), "--out", str(out), "--max-steps",
                            "1"])
    assert "has checkpoint-3: pass --resume" in _error_line(r)
    r = runner.invoke(app, ["train", "--model", "tiny", "--data", str(tmp_path), "--out", str(out), "--resume",
                            "--overwrite"])
    assert "--resume and --overwrite contradict" in _error_line(r)
    assert (out / "checkpoint-3").is_dir()


def test_out_with_metrics_but_no_checkpoint_is_refused(tmp_path):
    from vero_train.train import train

    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"step": 1}\n')
    with pytest.raises(ConfigError, match=r"holds an earlier run \(metrics.jsonl\): pass --overwrite"):
        train(_cfg(tmp_path, tmp_path / "nodata", out))


def test_overwrite_replaces_out_only_when_the_run_finishes_and_never_the_working_directory(tmp_path, monkeypatch):
    from vero_train.train import prepare_out

    out = tmp_path / "run"
    (out / "checkpoint-2").mkdir(parents=True)
    claim = prepare_out(out, resume=False, overwrite=True)
    assert (out / "checkpoint-2").is_dir() and claim.work != out  # written beside OUT until it finishes
    (claim.work / "train_result.json").write_text("{}")
    claim.commit()
    assert (out / "train_result.json").exists() and not (out / "checkpoint-2").exists()
    prepare_out(tmp_path / "new", resume=False, overwrite=False).commit()  # nothing there: fine
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="is the working directory"):
        prepare_out(tmp_path, resume=False, overwrite=True)
    assert (tmp_path / "keep.txt").exists()


# ------------------------------------------------------------------------------------------- undecodable images
def test_undecodable_image_is_quarantined_not_fatal(vero_shards, tmp_path):
    from vero_train.data import prepare_train_dataset

    data = tmp_path / "bad"
    bad_id = _corrupt_first_image(vero_shards, data)
    ds, info = prepare_train_dataset(data)
    assert bad_id not in ds["id"] and info["rows"] == info["rows_in"] - 1 == len(ds)
    assert info["dropped_bad_image"] == 1
    (q,) = info["quarantine"]
    assert q["id"] == bad_id and q["reason"] == "bad_image" and q["detail"].startswith("image 0: not an image")
    ds[0]["images"]  # the kept rows decode


def test_only_undecodable_images_is_one_error(vero_shards, tmp_path):
    import pyarrow.parquet as pq

    from vero_train.data import TrainDataError, prepare_train_dataset

    data = tmp_path / "bad"
    bad_id = _corrupt_first_image(vero_shards, data)
    for f in sorted((data / "data").glob("*.parquet"))[1:]:
        f.unlink()
    f = next((data / "data").glob("*.parquet"))
    pq.write_table(pq.read_table(f).slice(0, 1), f)
    with pytest.raises(TrainDataError, match=rf"no rows left to train on \(1 read, 1 with unusable images, 0 over "
                                             rf"max_prompt_length=None; first: row {bad_id}: image 0"):
        prepare_train_dataset(data)


@pytest.mark.slow
def test_train_writes_quarantine_and_refuses_a_second_fresh_run(tiny_model_dir, vero_shards, tmp_path):
    import pyarrow.parquet as pq

    from vero_train.train import train

    data = tmp_path / "bad"
    bad_id = _corrupt_first_image(vero_shards, data)
    out = tmp_path / "run"
    cfg = _cfg(tmp_path, data, out, model_name_or_path=str(tiny_model_dir), max_steps=1, save_steps=1)
    res = train(cfg)
    assert res.global_step == 1 and (out / "checkpoint-1").is_dir()
    q = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert [(r["id"], r["reason"]) for r in q] == [(bad_id, "bad_image")]
    assert json.loads((out / "run.json").read_text())["data"]["dropped_bad_image"] == 1
    n_metrics = len((out / "metrics.jsonl").read_text().splitlines())
    with pytest.raises(ConfigError, match="has checkpoint-1: pass --resume"):
        train(cfg)
    assert len((out / "metrics.jsonl").read_text().splitlines()) == n_metrics
    res = train(cfg, overwrite=True)
    assert res.global_step == 1 and len((out / "metrics.jsonl").read_text().splitlines()) == n_metrics


# ------------------------------------------------------------------------------------------- configs and flags
@pytest.mark.parametrize(("text", "message"), [
    ("use_cpu: true\n  bad: : yaml: [\n", "invalid YAML at line 2, column 6: mapping values are not allowed here"),
    ("- a\n- b\n", "expected a mapping of VeroGSPOConfig fields (field: value), got a list"),
    ("learning_rate: fast\n", "field learning_rate: expected a number, got 'fast'"),
    ("num_generations: [1, 2]\n", "field num_generations: expected an integer or null, got [1, 2]"),
    ("max_steps: 2.5\n", "field max_steps: expected an integer, got 2.5"),
    ("use_cpu: maybe\n", "field use_cpu: expected true/false, got 'maybe'"),
    ("reward_funcs: [vero_accuracy, 3]\n", "field reward_funcs: expected a list of strings, got ['vero_accuracy', 3]"),
    ("learnin_rate: 1\n", "unknown config field(s): learnin_rate (did you mean learning_rate?)"),
])
def test_bad_config_file_is_one_line_naming_file_and_field(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        read_config_file(f)
    assert str(e.value) == f"{f}: {message}"
    r = runner.invoke(app, ["train", "--model", "tiny", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                            "-c", str(f)])
    assert _error_line(r) == f"error: {f}: {message}"
    assert not (tmp_path / "o").exists()


def test_yaml_numbers_written_as_strings_still_load(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("learning_rate: 2e-6\nnum_generations: '4'\nuse_cpu: true\nbf16: false\n")  # PyYAML: 2e-6 is a str
    cfg = load_config(f, output_dir=str(tmp_path))
    assert cfg.learning_rate == 2e-6 and cfg.num_generations == 4


@pytest.mark.parametrize(("flags", "message"), [
    (["--learning-rate", "abc"], "error: flag --learning_rate/--learning-rate: invalid float value: 'abc'"),
    (["--learning_rat", "1"], "error: unknown flag(s): --learning_rat (did you mean --learning-rate?)"),
    (["--category_weights", "{bad"], "error: category_weights: expected a mapping or its JSON, got '{bad'"),
])
def test_bad_extra_flag_is_one_line_naming_it(tmp_path, flags, message):
    r = runner.invoke(app, ["train", "--model", "tiny", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                            "--preset", "cpu", *flags])
    assert _error_line(r).startswith(message)


def test_max_steps_bounds(tmp_path):
    r = runner.invoke(app, ["train", "--model", "tiny", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                            "--max-steps", "-1"])
    assert r.exit_code == 2 and "--max-steps" in r.output
    base = {**CPU_SMOKE, "output_dir": str(tmp_path)}
    assert load_config(None, None, **{**base, "max_steps": -1}).max_steps == 4  # "not set": rollout_steps × 2
    for bad in (0, -2):
        with pytest.raises(ValueError, match=rf"max_steps must be ≥ 1, or -1 .* got {bad}"):
            load_config(None, None, **{**base, "max_steps": bad})


def test_overwrite_refuses_when_data_lies_inside_out(tmp_path):
    from vero_train.train import train

    out = tmp_path / "run"
    (out / "data-demo" / "data").mkdir(parents=True)
    (out / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(ConfigError, match="lies inside .*--overwrite would delete it"):
        train(_cfg(tmp_path, out / "data-demo", out), overwrite=True)
    assert (out / "data-demo" / "data").is_dir()
