"""stdout is for results: --version, whole values in piped tables, one JSON document under --json."""

from __future__ import annotations

import json
from importlib.metadata import version

from typer.testing import CliRunner

from vero_data.cli import app


def test_version_prints_the_installed_version():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout.strip() == f"vero {version('vero-toolkit')}"


def test_piped_tables_are_tab_separated_with_whole_values():
    """Piped (CliRunner's stdout is not a terminal), `data sources` prints every hub id whole, one row per line."""
    r = CliRunner().invoke(app, ["data", "sources"])
    assert r.exit_code == 0, r.output
    title, *lines = r.stdout.splitlines()
    assert title.startswith("# ")
    header = lines[0].split("\t")
    assert "…" not in r.stdout and len(header) > 3
    assert all(len(line.split("\t")) == len(header) for line in lines[1:])
    js = json.loads(CliRunner().invoke(app, ["data", "sources", "--json"]).stdout)
    assert len(lines) - 1 == len(js)
    assert {j["hub_id"] for j in js if j.get("hub_id")} <= set(r.stdout.split("\t")) | {
        v for line in lines for v in line.split("\t")}
