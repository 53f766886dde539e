"""`--overwrite`, locks and swaps: no command deletes what is not its own output, a failed run leaves the previous
output intact, two runs never share an OUT (issue 19). Every input is generated here."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.errors import ConfigError, VeroError
from vero_data.outdir import MARKER, OutputLock, OutputLockedError, claim_output, partial_dir

runner = CliRunner(env={"COLUMNS": "1000"})

GEN = """name: bars
category: chart_ocr
license: cc0
source: {generator: {name: bar_chart, n: %d, seed: %d}}
adapter: generated
filters: {min_rows: 1, min_avg_pixels: 0, drop_binary_only: false}
"""


def _manifest(tmp_path: Path, n: int = 6, seed: int = 1) -> Path:
    p = tmp_path / f"bars-{n}-{seed}.yaml"
    p.write_text(GEN % (n, seed))
    return p


def _precious(tmp_path: Path) -> Path:
    d = tmp_path / "precious"
    d.mkdir()
    (d / "thesis.txt").write_text("four years of work")
    return d


def _build(manifest: Path, out: Path, *flags: str):
    return runner.invoke(app, ["data", "build", "--manifest", str(manifest), "--out", str(out), *flags])


def _ids(out: Path) -> list[str]:
    return sorted(i for f in (out / "data").glob("*.parquet") for i in pl.read_parquet(f)["id"].to_list())


def _error(res) -> str:
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


# ----------------------------------------------------------------------------------------------- build
def test_build_overwrite_spares_a_folder_that_is_not_a_build(tmp_path):
    out = _precious(tmp_path)
    msg = _error(_build(_manifest(tmp_path), out, "--overwrite"))
    assert "is not a `vero data build` output" in msg
    assert (out / "thesis.txt").read_text() == "four years of work"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]


@pytest.mark.parametrize("where", ["cwd", "parent"])
def test_build_overwrite_never_replaces_the_working_directory(tmp_path, monkeypatch, where):
    m = _manifest(tmp_path)
    assert _build(m, tmp_path / "b").exit_code == 0
    work = tmp_path / "b" / "sub"
    work.mkdir()
    monkeypatch.chdir(work if where == "parent" else tmp_path / "b")
    msg = _error(_build(m, Path(".") if where == "cwd" else Path(".."), "--overwrite"))
    assert "the working directory" in msg
    assert (tmp_path / "b" / "data").is_dir()


def test_build_overwrite_refuses_a_folder_holding_its_input(tmp_path):
    out = tmp_path / "b"
    m0 = _manifest(tmp_path)
    assert _build(m0, out).exit_code == 0
    m = out / "m.yaml"  # the manifest now lives inside the previous build
    m.write_text(m0.read_text())
    msg = _error(_build(m, out, "--overwrite"))
    assert "lies inside --out" in msg and m.exists()


def test_build_overwrite_replaces_a_previous_build_only_at_the_end(tmp_path, monkeypatch):
    out = tmp_path / "b"
    assert _build(_manifest(tmp_path, seed=1), out).exit_code == 0
    before = _ids(out)
    assert before
    import vero_data.stages.export as export

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "export_shards", boom)
    msg = _error(_build(_manifest(tmp_path, seed=2), out, "--overwrite"))
    assert "no space left on the device while writing" in msg and "free" in msg and f"{out} is as it was" in msg
    assert _ids(out) == before  # the failed run changed nothing
    monkeypatch.undo()
    assert _build(_manifest(tmp_path, seed=2), out, "--overwrite").exit_code == 0
    assert _ids(out) != before and not partial_dir(out).exists()
    assert json.loads((out / MARKER).read_text())["command"] == "data build"


def test_build_resume_continues_a_killed_overwrite(tmp_path, monkeypatch):
    out = tmp_path / "b"
    m2 = _manifest(tmp_path, seed=2)
    assert _build(_manifest(tmp_path, seed=1), out).exit_code == 0
    before = _ids(out)
    import vero_data.build as b

    real = b._build_in

    def killed(cfg, *a):
        from dataclasses import replace
        return real(replace(cfg, stop_after="dedup"), *a)

    monkeypatch.setattr(b, "_build_in", killed)
    from vero_data.config import BuildConfig

    b.build(BuildConfig(out=out, manifests=[str(m2)], overwrite=True, progress=False))  # stopped: nothing swapped in
    assert _ids(out) == before and partial_dir(out).is_dir()
    monkeypatch.setattr(b, "_build_in", real)
    assert _build(m2, out, "--resume").exit_code == 0
    fresh = tmp_path / "fresh"
    assert _build(m2, fresh).exit_code == 0
    assert _ids(out) == _ids(fresh) and not partial_dir(out).exists()


def test_second_run_into_a_locked_out_is_refused_naming_the_pid(tmp_path):
    out = tmp_path / "b"
    held = OutputLock(out, "data build").acquire()
    try:
        msg = _error(_build(_manifest(tmp_path), out))
        assert f"PID {os.getpid()}" in msg and "is in use" in msg
        assert not out.exists()
    finally:
        held.release()
    assert _build(_manifest(tmp_path), out).exit_code == 0


def test_lock_is_exclusive_across_claims(tmp_path):
    out = tmp_path / "x"
    c = claim_output(out, "data build")
    with pytest.raises(OutputLockedError, match="in use by PID"):
        claim_output(out, "data build")
    c.commit()
    claim_output(out, "data build", resume=True).commit()


def test_an_output_of_another_command_is_refused(tmp_path):
    out = tmp_path / "x"
    claim_output(out, "eval").commit()
    (out / "results.json").write_text("{}")
    with pytest.raises(ConfigError, match="holds a `vero eval` output"):
        claim_output(out, "data build", overwrite=True)
    assert (out / "results.json").exists()


def test_a_marker_is_never_written_into_a_folder_that_held_something_else(tmp_path):
    out = _precious(tmp_path)
    c = claim_output(out, "eval")  # eval may write into a non-empty folder, but it does not become "ours"
    c.commit()
    assert not (out / MARKER).exists()
    with pytest.raises(ConfigError, match="not a `vero eval` output"):
        claim_output(out, "eval", overwrite=True)


def test_swap_repairs_an_interrupted_two_rename_swap(tmp_path):
    from vero_data.outdir import sibling

    out = tmp_path / "x"
    claim_output(out, "data build").commit()
    (out / "keep").write_text("1")
    os.rename(out, sibling(out, ".vero-old"))  # killed between "OUT → old" and "partial → OUT"
    claim_output(out, "data build", resume=True).commit()
    assert (out / "keep").read_text() == "1"


# ----------------------------------------------------------------------------------------------- filter
@pytest.fixture
def filter_input(tmp_path):
    from vero_train.passk import make_demo_input

    return make_demo_input(tmp_path / "in", rows=3, seed=0, generators=("counting",))


def _filter(data, out, *flags):
    return runner.invoke(app, ["data", "filter", "--data", str(data), "--out", str(out), "--model", "tiny",
                               "--pass-at-k", "2", "--max-tokens", "4", "--keep-all", *flags])


def test_filter_into_its_own_input_with_overwrite_deletes_nothing(filter_input):
    before = sorted(p.name for p in (filter_input / "data").iterdir())
    msg = _error(_filter(filter_input, filter_input, "--overwrite"))
    assert "must differ" in msg or "is --out" in msg
    assert sorted(p.name for p in (filter_input / "data").iterdir()) == before


def test_filter_with_a_missing_input_leaves_out_alone(tmp_path):
    out = _precious(tmp_path)
    _error(_filter(tmp_path / "nope", out, "--overwrite"))
    assert (out / "thesis.txt").exists()


def test_filter_overwrite_spares_a_non_output_and_replaces_its_own(filter_input, tmp_path, vero_cache):
    out = _precious(tmp_path)
    assert "not a `vero data filter` output" in _error(_filter(filter_input, out, "--overwrite"))
    assert (out / "thesis.txt").exists()
    out2 = tmp_path / "f"
    assert _filter(filter_input, out2).exit_code == 0
    assert _filter(filter_input, out2, "--overwrite").exit_code == 0
    assert (out2 / "passk_report.json").exists() and not partial_dir(out2).exists()
    assert json.loads((out2 / "passk_report.json").read_text())["config"]["out"] == str(out2)


# ----------------------------------------------------------------------------------------------- eval, train
def test_eval_overwrite_spares_a_non_output_and_a_model_folder(tmp_path):
    from vero_train.evaluate import EvalConfig, run_eval

    out = _precious(tmp_path)
    with pytest.raises(ConfigError, match="not a `vero eval` output"):
        run_eval(EvalConfig(suite="synthetic", model="tiny", out=out, overwrite=True, limit=1))
    assert (out / "thesis.txt").exists()
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="is --out"):
        run_eval(EvalConfig(suite="synthetic", model=str(model), out=model, overwrite=True, limit=1))
    assert (model / "config.json").exists()


def test_train_overwrite_spares_a_non_output(tmp_path):
    out = _precious(tmp_path)
    res = runner.invoke(app, ["train", "--model", "tiny", "--recipe", "demo", "--out", str(out), "--max-steps", "1",
                              "--overwrite"])
    assert "not a `vero train` output" in _error(res)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]


def test_train_with_data_inside_out_is_refused(tmp_path):
    out = tmp_path / "run"
    from vero_data.outdir import claim_output as claim

    claim(out, "train").commit()
    (out / "run.json").write_text("{}")
    data = out / "data"
    data.mkdir()
    res = runner.invoke(app, ["train", "--model", "tiny", "--data", str(data), "--out", str(out), "--max-steps", "1",
                              "--overwrite"])
    assert "lies inside --out" in _error(res)
    assert data.is_dir()


def test_errors_are_vero_errors():
    assert issubclass(OutputLockedError, VeroError)


def test_filter_quarantines_a_huge_prompt_instead_of_generating_for_it(filter_input, tmp_path, vero_cache):
    import pyarrow as pa
    import pyarrow.parquet as pq

    shard = next((filter_input / "data").glob("*.parquet"))
    t = pq.read_table(shard)
    rows = t.to_pylist()
    rows[0]["prompt"] = [{"role": "user", "content": "<image>" + "how many? " * 500_000}]  # 5 MB
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), shard)
    out = tmp_path / "f"
    res = _filter(filter_input, out)
    assert res.exit_code == 0, res.output
    q = pl.read_parquet(out / "quarantine.parquet")
    assert q.filter(pl.col("id") == rows[0]["id"])["reason"].to_list() == ["question_too_long"]


def test_overwrite_through_a_symlinked_out_replaces_the_folder_it_names(tmp_path):
    real = tmp_path / "disk" / "b"
    link = tmp_path / "b"
    m1, m2 = _manifest(tmp_path, seed=1), _manifest(tmp_path, seed=2)
    assert _build(m1, real).exit_code == 0
    link.symlink_to(real, target_is_directory=True)
    before = _ids(real)
    assert _build(m2, link, "--overwrite").exit_code == 0
    assert link.is_symlink() and _ids(link) == _ids(real) != before
    (tmp_path / "p").mkdir()
    precious = _precious(tmp_path / "p")
    (tmp_path / "plink").symlink_to(precious, target_is_directory=True)
    assert "not a `vero data build` output" in _error(_build(m1, tmp_path / "plink", "--overwrite"))
    assert (precious / "thesis.txt").exists()


# ----------------------------------------------------------------------------------------------- review, round 2
@pytest.mark.parametrize("spelling", ["{o}/data/..", "{o}/.run/..", "{o}/", "./{o}"])
def test_one_folder_one_lock_however_it_is_spelled(tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    m = _manifest(tmp_path)
    assert _build(m, Path("o")).exit_code == 0
    held = OutputLock(tmp_path / "o", "data build").acquire()
    try:
        assert "is in use by" in _error(_build(m, Path(spelling.format(o="o")), "--resume"))
    finally:
        held.release()
    assert _build(m, Path(spelling.format(o="o")), "--overwrite").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no stray partial/lock
    assert _ids(tmp_path / "o")


def test_a_literal_tilde_is_the_home_folder_never_a_folder_named_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert _build(_manifest(tmp_path), Path("~/b")).exit_code == 0
    assert _ids(tmp_path / "home" / "b") and not (tmp_path / "cwd" / "~").exists()
    assert "home folder" in _error(_build(_manifest(tmp_path), Path("~"), "--overwrite"))


def test_build_into_an_empty_cwd(tmp_path, monkeypatch):
    (tmp_path / "e").mkdir()
    monkeypatch.chdir(tmp_path / "e")
    assert _build(_manifest(tmp_path), Path(".")).exit_code == 0
    assert _ids(tmp_path / "e") and not any(p.name.endswith(".vero-lock") for p in (tmp_path / "e").iterdir())


def test_a_plain_run_and_a_shard_rank_never_share_out(tmp_path):
    out = tmp_path / "f"
    rank = claim_output(out, "data filter", resume=True, shard="rank0")
    other_rank = claim_output(out, "data filter", resume=True, shard="rank1")  # ranks share OUT
    with pytest.raises(OutputLockedError):
        claim_output(out, "data filter", resume=True)  # the merge/plain run waits for the ranks
    with pytest.raises(OutputLockedError):
        claim_output(out, "data filter", resume=True, shard="rank0")  # one process per rank
    rank.commit()
    other_rank.commit()
    claim_output(out, "data filter", resume=True).commit()


def test_a_kill_during_the_old_output_s_deletion_leaves_nothing_for_resume_to_mistake(tmp_path, monkeypatch):
    import shutil

    import vero_data.outdir as od

    out = tmp_path / "b"
    claim_output(out, "data build").commit()
    (out / "old").write_text("previous output")
    c = claim_output(out, "data build", overwrite=True)
    (c.work / "new").write_text("new output")

    def killed(path, *a, **k):
        raise KeyboardInterrupt  # as if killed while deleting the previous output

    monkeypatch.setattr(od.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        c.commit()
    monkeypatch.undo()
    assert od.shutil.rmtree is shutil.rmtree and shutil.rmtree is not killed
    c.release()
    assert (out / "new").exists() and not partial_dir(out).exists()  # the new output is in place
    claim_output(out, "data build", resume=True).commit()  # the next claim cleans the old copy away
    assert not od.sibling(out, ".vero-old").exists() and (out / "new").exists()


def test_disk_full_while_claiming_is_one_line(tmp_path, monkeypatch):
    import vero_data.outdir as od

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(od, "_write_marker", full)
    msg = _error(_build(_manifest(tmp_path), tmp_path / "b"))
    assert "no space left on the device" in msg and "free" in msg
    assert not any(p.name.endswith(".vero-lock") for p in tmp_path.iterdir())


def test_overwrite_spares_another_run_s_output_inside_out(tmp_path):
    out = tmp_path / "b"
    assert _build(_manifest(tmp_path), out).exit_code == 0
    claim_output(out / "filtered", "data filter").commit()
    (out / "filtered" / "passk_report.json").write_text("{}")
    msg = _error(_build(_manifest(tmp_path, seed=2), out, "--overwrite"))
    assert "holds another vero output" in msg and "filtered" in msg
    assert (out / "filtered" / "passk_report.json").exists()


def test_eval_score_never_replaces_a_file_that_is_not_its_output(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    cases = tmp_path / "c.jsonl"
    cases.write_text(json.dumps({"benchmark": "chartqa", "doc": {"answer": "3"}, "response": "3"}) + "\n")
    msg = _error(runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out", str(notes)]))
    assert "not a scored case" in msg and notes.read_text() == "my notes\n"
    (tmp_path / "d").mkdir()
    assert "is a folder" in _error(runner.invoke(app, ["eval", "score", "--cases", str(cases), "--out",
                                                       str(tmp_path / "d")]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "d", "notes.txt"]
