"""`vero data push`: what reaches the Hub is the dataset (card, shards, quarantine, reports), never the working
files; planned with huggingface_hub's own file filter, offline (no network, no token)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.push import PUSH_ALLOW, PUSH_IGNORE, plan_push

hf = pytest.importorskip("huggingface_hub")
runner = CliRunner()
CARD = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*.parquet\n---\n# x\n"
DATASET = ["README.md", "curate_report.json", "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
           "passk_report.json", "quarantine.parquet", "report.html", "report.json"]
WORKING = [".vero-output.json", ".run/export/index.json", ".run/ingest/gen_counting/rows-00000.parquet",
           ".run/markers/export_pass1.json", ".passk-cache/passk-rank000.sqlite", ".cache/passk-rank000.sqlite",
           "catalog.duckdb", "catalog.duckdb.wal", "gallery.html", "completions.parquet",
           "data/train-00000-of-00002.parquet.tmp", "data/.train-00002-of-00003.parquet"]


@pytest.fixture
def folder(tmp_path):
    """A build + filter output's files (the names `vero data build --recipe demo` and `vero data filter` write)."""
    out = tmp_path / "demo-out"
    for name in DATASET + WORKING:
        p = out / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x" * 10)
    (out / "README.md").write_text(CARD)
    for name in DATASET[1:3]:
        pq.write_table(pa.table({"id": ["a"]}), out / name)
    return out


def test_plan_uploads_the_dataset_and_nothing_else(folder):
    plan = plan_push(folder, "me/demo")
    assert [f for f, _ in plan.files] == sorted(DATASET)
    assert sorted(plan.excluded) == sorted(WORKING)
    assert plan.total_bytes == sum((folder / f).stat().st_size for f in DATASET)


def test_huggingface_hub_plans_the_same_files(folder, monkeypatch):
    """``upload_folder``'s own planning (HfApi._prepare_upload_folder_additions, with the Hub client's default
    ignores added as upload_folder does) gives exactly the plan; the README check is its only network call."""
    from huggingface_hub.utils._paths import DEFAULT_IGNORE_PATTERNS

    monkeypatch.setattr(hf.HfApi, "_validate_yaml", lambda self, **kw: None)
    api = hf.HfApi(token=False)

    def planned(allow, ignore):
        ops = api._prepare_upload_folder_additions(folder, "", allow_patterns=allow,
                                                   ignore_patterns=(ignore or []) + DEFAULT_IGNORE_PATTERNS,
                                                   repo_type="dataset")
        return sorted(op.path_in_repo for op in ops)

    assert planned(list(PUSH_ALLOW), list(PUSH_IGNORE)) == [f for f, _ in plan_push(folder, "me/demo").files]
    # without the patterns the Hub client refuses the folder (the pass@k cache's old name) and would send .run/
    with pytest.raises(ValueError, match=r"\.cache"):
        planned(None, None)
    (folder / ".cache" / "passk-rank000.sqlite").unlink()
    everything = planned(None, None)
    assert sum(f.startswith(".run/") for f in everything) == 3 and "catalog.duckdb" in everything


def test_dry_run_lists_files_and_total_without_network(folder):
    res = runner.invoke(app, ["data", "push", str(folder), "me/demo", "--dry-run"])  # HF_HUB_OFFLINE=1 here
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert [ln.split()[-1] for ln in lines[:-1]] == sorted(DATASET)
    total = sum((folder / f).stat().st_size for f in DATASET)
    assert lines[-1].split()[0] == f"{total:,}" and f"{len(DATASET)} files" in lines[-1] and "dry run" in lines[-1]
    assert ".run" not in res.stdout and "catalog" not in res.stdout


def test_push_calls_the_hub_with_the_plan(folder, monkeypatch):
    calls = {}
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr("vero_data.hub.require_hub", lambda *a, **k: None)
    monkeypatch.setattr(hf.HfApi, "create_repo", lambda self, repo_id, **kw: calls.setdefault("create", (repo_id, kw)))

    def upload_folder(self, **kw):
        calls["upload"] = kw
        return hf.CommitInfo(commit_url="https://huggingface.co/datasets/me/demo/commit/1", commit_message="m",
                             commit_description="", oid="1", pr_url=None)

    monkeypatch.setattr(hf.HfApi, "upload_folder", upload_folder)
    res = runner.invoke(app, ["data", "push", str(folder), "me/demo", "--private"],
                        env={"HF_TOKEN": "hf_test_token_not_real"})
    assert res.exit_code == 0, res.output
    repo_id, kw = calls["create"]
    assert repo_id == "me/demo" and kw == {"repo_type": "dataset", "private": True, "exist_ok": True}
    up = calls["upload"]
    assert up["repo_type"] == "dataset" and up["repo_id"] == "me/demo"
    from huggingface_hub.utils import filter_repo_objects

    from vero_data.push import folder_files

    sent = list(filter_repo_objects(folder_files(folder), allow_patterns=up["allow_patterns"],
                                    ignore_patterns=up["ignore_patterns"]))
    assert sent == sorted(DATASET)
    assert "data/*.parquet" in up["delete_patterns"]  # shards of an earlier, larger push do not linger
    assert "https://huggingface.co/datasets/me/demo/commit/1" in res.stdout


@pytest.mark.parametrize(("env", "expect"), [
    ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set"),
    ({"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "", "HF_TOKEN": ""}, "no Hugging Face token"),
])
def test_offline_or_without_a_token_fails_fast_in_one_line(folder, monkeypatch, env, expect):
    monkeypatch.setattr(hf, "get_token", lambda: None)
    monkeypatch.setattr(hf.HfApi, "create_repo", lambda *a, **k: pytest.fail("the Hub was called"))
    res = runner.invoke(app, ["data", "push", str(folder), "me/demo"], env=env)
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0], res.output


def test_unreachable_hub_is_one_line(folder, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    from vero_data.hub import reset_probe_cache

    reset_probe_cache()
    res = runner.invoke(app, ["data", "push", str(folder), "me/demo"])
    assert res.exit_code == 1 and "is not reachable" in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("make", "expect"), [
    (lambda f: (f / "README.md").unlink(), "no README.md"),
    (lambda f: [p.unlink() for p in (f / "data").glob("*.parquet")], "no shards"),
    (lambda f: (f / "data" / "extra.parquet").write_bytes(b"x"), "data/extra.parquet is not a shard name"),
])
def test_not_a_finished_dataset_folder_is_refused(folder, make, expect):
    make(folder)
    res = runner.invoke(app, ["data", "push", str(folder), "me/demo", "--dry-run"])
    assert res.exit_code == 1 and expect in res.output


def test_bad_repo_id_is_one_line(folder):
    res = runner.invoke(app, ["data", "push", str(folder), "no slash here", "--dry-run"])
    assert res.exit_code == 1 and "bad repo id" in res.output
