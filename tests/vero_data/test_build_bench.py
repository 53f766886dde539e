"""`vero bench build`: one JSON document on stdout, the disk it needs said and checked first, no temp folder left
behind (finished, SIGTERM, or a killed earlier run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from vero_data import build_bench
from vero_data.cli import app

runner = CliRunner()


def _ours(pid: int | None = None) -> set[Path]:
    """Temp folders of the bench run by process ``pid`` (default: this one); other processes' runs are not ours."""
    return set(Path(tempfile.gettempdir()).glob(f"{build_bench._TMP_PREFIX}{pid or os.getpid()}-*"))


def test_small_run_prints_json_and_removes_its_temp_folder():
    r = runner.invoke(app, ["bench", "build", "--n", "12", "--hashes", "500"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["images"] == 12 and res["end_to_end_build_rows_per_s"] > 0
    assert "needs ~0.0 GB of disk" in r.stderr
    assert not _ours()


def test_not_enough_disk_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(build_bench, "BYTES_PER_IMAGE", 10**15)
    r = runner.invoke(app, ["bench", "build", "--n", "10", "--out", str(tmp_path / "w")])
    assert r.exit_code == 1 and "lower --n or pass --out on a larger disk" in r.output
    assert not (tmp_path / "w").exists()


def test_stale_folder_of_a_dead_run_is_swept():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.mkdtemp(prefix=f"{build_bench._TMP_PREFIX}{dead.pid}-"))
    (stale / "x").write_bytes(b"x")
    live = Path(tempfile.mkdtemp(prefix=f"{build_bench._TMP_PREFIX}{os.getpid()}-"))
    try:
        assert stale in build_bench._sweep_stale_temp_dirs()
        assert not stale.exists() and live.exists()
    finally:
        live.rmdir()


def test_sigterm_removes_the_temp_folder():
    p = subprocess.Popen([sys.executable, "-m", "vero_data.cli", "bench", "build", "--n", "400"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not _ours(p.pid):
            time.sleep(0.1)
        assert _ours(p.pid), "the run never created its temp folder"
        time.sleep(2)  # rendering images into it
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
    finally:
        p.kill()
    assert not _ours(p.pid)
