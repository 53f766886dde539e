"""`vero data browse` from the command line: the static site (pages and image files, relative links only), the
output-folder rules (never inside DIR, never over a folder that is not a previous export), one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vero_data.cli import app


def _run(*args):
    return CliRunner().invoke(app, ["data", "browse", *map(str, args)])


def test_static_site_is_self_contained(tiny_build, tmp_path):
    out = tmp_path / "site"
    res = _run(tiny_build, "--static", out)
    assert res.exit_code == 0, res.output
    pages = sorted(out.rglob("*.html"))
    images = [p for p in out.rglob("*") if p.suffix in (".png", ".jpg", ".webp")]
    assert (out / "index.html").is_file() and (out / "gallery.html").is_file() and len(images) >= 6
    assert (out / "quarantine-dedup-dup_exact.html").is_file() and (out / "duplicates.html").is_file()
    for page in pages:
        text = page.read_text()
        for link in re.findall(r'(?:href|src)="([^"]+)"', text):
            assert not link.startswith(("/", "http:", "https:")), (page, link)
            assert (page.parent / link).resolve().is_file(), (page, link)  # no dangling link
    assert not any((tiny_build / p).exists() for p in ("site", "index.html"))  # nothing written into the build


def test_static_out_inside_the_build_is_refused(tiny_build):
    res = _run(tiny_build, "--static", tiny_build / "site")
    assert res.exit_code == 1 and "lies inside" in res.output
    assert not (tiny_build / "site").exists()


def test_static_out_that_holds_other_files_is_refused_and_a_previous_export_is_replaced(tiny_build, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    res = _run(tiny_build, "--static", other)
    assert res.exit_code == 1 and "not a previous" in res.output and (other / "keep.txt").read_text() == "mine"
    site = tmp_path / "site"
    assert _run(tiny_build, "--static", site).exit_code == 0
    (site / "stale.html").write_text("old")
    assert _run(tiny_build, "--static", site).exit_code == 0
    assert not (site / "stale.html").exists() and (site / "index.html").is_file()


def test_not_a_folder_is_one_line(tmp_path):
    res = _run(tmp_path / "nope", "--static", tmp_path / "s")
    assert res.exit_code == 1 and "is not a folder" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _run(empty, "--static", tmp_path / "s")
    assert res.exit_code == 1 and "is not a vero output" in res.output


@pytest.mark.parametrize("fixture", ["filtered", "eval_run"])
def test_static_site_of_filter_and_eval_outputs(fixture, request, tmp_path):
    folder = request.getfixturevalue(fixture)
    folder = folder[0] if isinstance(folder, tuple) else folder
    res = _run(folder, "--static", tmp_path / "s")
    assert res.exit_code == 0, res.output
    names = {p.name for p in Path(tmp_path / "s").glob("*.html")}
    assert ("passk.html" in names) if fixture == "filtered" else ("eval-synth_count.html" in names)


def test_a_port_in_use_is_one_line(tiny_build):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = _run(tiny_build, "--port", port)
    assert res.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in res.output
