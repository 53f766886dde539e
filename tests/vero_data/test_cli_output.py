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


def test_build_json_and_an_empty_build_says_why_and_exits_1(write_manifest, tmp_path):
    """A small custom source under the paper's source filters exports 0 rows: exit 1 naming the filter and the
    manifest knob (--allow-empty accepts it); --json prints the report as one document either way."""
    import yaml

    from vero_data.api import generate_to_dir

    generate_to_dir("counting", 12, 1, tmp_path / "src")
    m = write_manifest("mine", category="grounding_counting_search", adapter="canonical",
                       source={"files": {"format": "parquet", "globs": ["src/*.parquet"]}})
    ok = CliRunner().invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "a"), "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["rows"] == 12 and len(doc["shards"]) >= 1 and doc["reconciled"]
    data = yaml.safe_load(m.read_text())
    del data["filters"]  # the paper's defaults: ≥ 1,000 rows
    m.write_text(yaml.safe_dump(data))
    empty = CliRunner().invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "b")])
    assert empty.exit_code == 1
    assert "no row was exported" in empty.output and "mine dropped by the source filter" in empty.output
    assert "filters.min_rows" in empty.output and "--allow-empty" in empty.output
    allowed = CliRunner().invoke(app, ["data", "build", "--manifest", str(m), "--out", str(tmp_path / "c"),
                                       "--allow-empty", "--json"])
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["rows"] == 0
