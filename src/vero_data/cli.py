"""`vero`: flags → config → one API call → rich output.

Heavy imports (datasets, torch, sentence-transformers, trl, vllm) happen inside commands, so `vero --help` is fast.
The model commands (`vero model`, `vero train`, `vero eval` with a model) live in vero_train and are mounted when
present; `vero eval`'s model-free subcommands are in vero_data.cli_eval.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from vero_data.cli_common import console as _console
from vero_data.cli_common import emit_json, print_error, print_table
from vero_data.cli_common import fail as _fail
from vero_data.errors import VeroError

app = typer.Typer(help="Vero: build Vero-600K, filter by pass@k, train with GSPO, score VeroEval.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, validate and inspect datasets.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures (speed, memory).", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("vero-toolkit")
        except PackageNotFoundError:  # run from a source tree that is not installed
            v = "unknown (not installed)"
        sys.stdout.write(f"vero {v}\n")
        raise typer.Exit()


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
          _version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                                 help="print the version and exit")] = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        logging.basicConfig(level=level, format="%(message)s",
                            handlers=[RichHandler(console=_console(stderr=True), show_path=False)])
    else:  # a log file or a pipe: whole lines (rich would wrap them at 80 columns), one record per line
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            datefmt="%H:%M:%S", handlers=[_StderrHandler()])


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (as rich's stderr console does), not the
    stream of the moment it was made: a caller that swaps stderr (a test runner, a notebook) gets the logs."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property decides
        pass


# ------------------------------------------------------------------------------------------------ data build
@data_app.command("build")
def data_build(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output directory (not needed with --dry-run)")]
    = None,
    recipe: Annotated[str | None, typer.Option(help="recipe name (demo, vero600k) or YAML path")] = None,
    manifest: Annotated[list[str] | None, typer.Option(help="manifest file(s), instead of a recipe")] = None,
    seed: Annotated[int, typer.Option(help="mixture seed")] = 0,
    resume: Annotated[bool, typer.Option(help="continue an interrupted build")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace OUT, a previous build, when this build succeeds")] = False,
    workers: Annotated[int, typer.Option(help="ingest processes", min=1)] = 1,
    executor: Annotated[str, typer.Option(help="where ingest parts run: local, or ray (Ray Data on a cluster or a "
                                          "local one; the same shards)")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (auto, ray://HOST:10001; default "
                                                    "RAY_ADDRESS, else a local cluster)")] = None,
    part_rows: Annotated[int, typer.Option(help="upstream rows per ingest part", min=1)] = 1000,
    rows_per_shard: Annotated[int | None, typer.Option(help="rows per Parquet shard", min=1)] = None,
    total: Annotated[int | None, typer.Option(help="target rows (overrides the recipe)", min=1)] = None,
    limit: Annotated[int | None, typer.Option(help="read at most N upstream rows per source", min=1)] = None,
    max_pixels: Annotated[int | None, typer.Option(help="per-image pixel cap (decompression bombs)", min=1)] = None,
    max_image_bytes: Annotated[int | None, typer.Option(help="largest image file a row may name (default 256 MiB)",
                                                        min=1)] = None,
    format: Annotated[list[str] | None, typer.Option("--format", help="parquet (always) and/or verl")] = None,
    dry_run: Annotated[bool, typer.Option(help="print the plan, read nothing")] = False,
    skip_unavailable: Annotated[bool, typer.Option(help="build without unreachable sources")] = False,
    dedup_config: Annotated[str | None, typer.Option(help="YAML with a `dedup:` block (a recipe works) for "
                                                     "--manifest builds")] = None,
    no_dedup: Annotated[bool, typer.Option("--no-dedup", help="skip deduplication")] = False,
    phash_threshold: Annotated[int | None, typer.Option(help="whole-image pHash bits of a candidate pair (8)",
                                                        min=0, max=32)] = None,
    content_threshold: Annotated[int | None, typer.Option(help="content-box/centre pHash bits of a candidate "
                                                          "pair (10)", min=0, max=32)] = None,
    match_threshold: Annotated[float | None, typer.Option(help="pixel-check distance of a confirmed copy (0.55)",
                                                          min=0.0)] = None,
    detail_threshold: Annotated[float | None, typer.Option(help="full-resolution distance of a confirmed copy "
                                                           "(0.25)", min=0.0)] = None,
    question_threshold: Annotated[float | None, typer.Option(help="MiniLM cosine that alone makes two questions "
                                                             "paraphrases (0.95)", min=0.0, max=1.0)] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="exit 0 even when no row is exported")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the build report (or the plan) as one JSON "
                                           "document")] = False,
) -> None:
    """Build a dataset: read → normalise → canonicalise → validate → filter → dedup → tag → mix → export."""
    from vero_data.api import build
    from vero_data.config import BuildConfig

    if out is None and not dry_run:
        _fail(VeroError("--out DIR is required (except with --dry-run)"))
    try:
        cfg = BuildConfig(out=out or Path("."), recipe=recipe, manifests=manifest or [], seed=seed, resume=resume,
                          overwrite=overwrite, workers=workers, executor=executor, ray_address=ray_address,
                          part_rows=part_rows, rows_per_shard=rows_per_shard,
                          total=total, limit=limit, dry_run=dry_run, skip_unavailable=skip_unavailable,
                          formats=sorted({"parquet", *(format or [])}), dedup_config=dedup_config,
                          no_dedup=no_dedup, phash_threshold=phash_threshold, content_threshold=content_threshold,
                          match_threshold=match_threshold, detail_threshold=detail_threshold,
                          question_threshold=question_threshold,
                          **({"max_pixels": max_pixels} if max_pixels is not None else {}),
                          **({"max_image_bytes": max_image_bytes} if max_image_bytes is not None else {}))
        res = build(cfg)
    except VeroError as e:
        _fail(e)
    con = _console(stderr=json_out)
    if dry_run:
        if json_out:
            emit_json({"plan": res.plan})
        else:
            _print_plan(con, res.plan)
        return
    if json_out:
        emit_json({**res.report, "out": str(res.out), "shards": [str(p) for p in res.shards]})
    else:
        _print_build(con, res)
    if not res.report["rows"] and not allow_empty:
        _fail(f"no row was exported to {res.out}: {_why_empty(res.report)}; pass --allow-empty to accept an empty "
              "build")
    if not res.report["reconciled"]:  # a row is unaccounted for: never a silent success
        bad = [x["manifest"] for x in res.report["sources"] if not x.get("reconciled", True)]
        _fail(f"counts do not reconcile (read ≠ exported + dropped + not selected) for {', '.join(bad) or 'the total'};"
              f" see {res.out / 'report.json'}")


_SOURCE_FILTER_KNOB = {  # the paper's source filters (vero600k_format.md §7.1) and the manifest field that sets each
    "source_too_small": "fewer rows than filters.min_rows (1,000)",
    "source_low_resolution": "average image below filters.min_avg_pixels (200,000 px)",
    "source_binary_only": "only yes/no answers (filters.drop_binary_only)",
}


def _why_empty(report: dict) -> str:
    """One clause per source saying where its rows went (read none, quarantined, filtered, deduplicated)."""
    why = []
    for x in report["sources"]:
        if "unavailable" in x:
            why.append(f"{x['manifest']} unavailable")
        elif not x.get("read"):
            why.append(f"{x['manifest']} read no row")
        elif x.get("source_filter"):
            knob = _SOURCE_FILTER_KNOB.get(x["source_filter"], x["source_filter"])
            why.append(f"{x['manifest']} dropped by the source filter: {knob} — set it in the manifest's `filters:` "
                       f"for a small custom source")
        else:
            top = ", ".join(f"{k}={v}" for k, v in sorted(x.get("dropped", {}).items(), key=lambda kv: -kv[1])[:3])
            why.append(f"{x['manifest']} lost all {x['read']} row(s): {top or 'not selected by the mixture'}")
    return "; ".join(why) or "no source"


def _print_plan(con, plan: list[dict]) -> None:
    from rich.table import Table

    cols = ("name", "category", "kind", "location", "adapter", "target", "status")
    t = Table(title="build plan (nothing downloaded)")
    for c in cols:
        t.add_column(c, overflow="fold")
    for row in plan:
        t.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in cols])
    print_table(t)
    bad = [r for r in plan if not r.get("ok", True)]
    for r in plan:
        if r.get("message"):
            con.print(f"[{'red' if not r.get('ok', True) else 'yellow'}]{r['message']}[/]", highlight=False)
    total = sum(r.get("target") or 0 for r in plan)
    con.print(f"{len(plan)} sources, {len(plan) - len(bad)} readable as configured, {len(bad)} need attention; "
              f"paper target total {total:,}")


def _print_build(con, res) -> None:
    from rich.table import Table

    r = res.report
    t = Table(title=f"{r['recipe']}: {r['rows']:,} rows")
    for c in ("category", "exported", "quota", "shortfall"):
        t.add_column(c, justify="right" if c != "category" else "left")
    for c in r["categories"]:
        t.add_row(c["category"], f"{c['exported']:,}", str(c["quota"] or "-"), str(c["shortfall"] or ""))
    print_table(t)
    s = Table(title="sources (read = exported + dropped + not selected)")
    for c in ("source", "read", "exported", "not selected", "dropped"):
        s.add_column(c)
    for x in r["sources"]:
        if "unavailable" in x:
            s.add_row(x["manifest"], "-", "-", "-", "[red]unavailable[/]")
            continue
        s.add_row(x["manifest"], f"{x['read']:,}", f"{x['exported']:,}", f"{x['not_selected']:,}",
                  ", ".join(f"{k}={v}" for k, v in x["dropped"].items()))
    print_table(s)
    ok = "[green]reconciled[/]" if r["reconciled"] else "[red]NOT reconciled[/]"
    con.print(f"counts {ok}; dedup removed {r['dedup']['removed']:,}; wall {r.get('wall_s', 0):.1f}s")
    con.print(f"shards:     {res.out / 'data'}  ({len(res.shards)} files)")
    con.print(f"card:       {res.card}")
    con.print(f"report:     {res.report_html}")
    con.print(f"quarantine: {res.out / 'quarantine.parquet'}")
    con.print(f"catalog:    {res.out / 'catalog.duckdb'}")


# ------------------------------------------------------------------------------------------- validate / ls
@data_app.command("validate")
def data_validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="manifests/recipes or folders (default: all shipped)")]
    = None,
) -> None:
    """Validate manifests and recipes: schema, adapter and generator names, manifest references."""
    from vero_data.api import validate

    try:
        results = validate(paths)
    except VeroError as e:
        _fail(e)
    bad = [r for r in results if not r.ok]
    con = _console()
    for r in bad:  # plain lines, not a table: error messages already name file, field and value
        for line in r.error.splitlines():
            con.print(f"[red]✗[/] {line}" if line.startswith(r.path) else f"[red]✗[/] {r.path}: {line}",
                      highlight=False, soft_wrap=True)
    n_m = sum(r.kind == "manifest" for r in results)
    n_r = len(results) - n_m
    con.print(f"{len(results) - len(bad)}/{len(results)} valid ({n_m} manifests, {n_r} recipes)")
    if bad:
        raise typer.Exit(1)


@data_app.command("ls")
def data_ls(json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """List shipped recipes and manifests."""
    from rich.table import Table

    from vero_data.api import list_manifests, list_recipes

    try:
        recipes, manifests = list_recipes(), list_manifests()
    except VeroError as e:
        _fail(e)
    if json_out:
        print(json.dumps({"recipes": recipes, "manifests": manifests}, indent=2))
        return
    t = Table(title="recipes")
    for c in ("name", "manifests", "total", "description"):
        t.add_column(c)
    for r in recipes:
        t.add_row(r["name"], str(r["manifests"]), str(r["total"] or "all"), r["description"])
    print_table(t)
    t = Table(title=f"manifests ({len(manifests)})")
    for c in ("name", "category", "source", "reward types", "licence", "status", "path"):
        t.add_column(c)
    for m in manifests:
        t.add_row(m["name"], m.get("category", "?"), m.get("source", "?"), ", ".join(m.get("reward_types", [])),
                  m.get("license", ""), m.get("status", m.get("error", "")), m["path"])
    print_table(t)


# ----------------------------------------------------------------------------------------------- generators
@data_app.command("generators")
def data_generators(json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
                    ) -> None:
    """List the procedural task generators with their categories and reward types."""
    from vero_data.sources.generators import generator_table

    rows = generator_table()
    if json_out:
        print(json.dumps(rows, indent=2, default=str))
        return
    from rich.table import Table

    con = _console()
    wide = con.width >= 140  # names and categories never wrap (people grep them); descriptions only if room
    t = Table(title=f"generators ({len(rows)})")
    t.add_column("name", no_wrap=True, min_width=max(len(g["name"]) for g in rows))
    t.add_column("category", no_wrap=True, min_width=25)
    t.add_column("reward types")
    if wide:
        t.add_column("description")
    for g in rows:
        cells = [g["name"], g["category"], ", ".join(g["reward_types"])]
        t.add_row(*cells, *([str(g.get("description", ""))[:100]] if wide else []))
    print_table(t)


@data_app.command("generate")
def data_generate(
    name: Annotated[str, typer.Argument(help="generator name (see `vero data generators`)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory")],
    n: Annotated[int, typer.Option(help="rows", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="seed: same seed, byte-identical rows")] = 0,
    split: Annotated[str, typer.Option(help="train, or test for held-out rows (salted seeds)")] = "train",
    param: Annotated[list[str] | None, typer.Option(help="generator parameter KEY=VALUE (JSON values)")] = None,
) -> None:
    """Write a generator's rows as a source: canonical Parquet that `vero data build --manifest` can read."""
    from vero_data.api import generate_to_dir

    params = {}
    for p in param or []:
        k, eq, v = p.partition("=")
        if not eq or not k.strip():
            _fail(VeroError(f"--param {p!r}: expected KEY=VALUE (e.g. --param difficulty=hard)"))
        try:
            params[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            params[k.strip()] = v
    try:
        res = generate_to_dir(name, n, seed, out, params, split)
    except VeroError as e:
        _fail(e)
    _console().print(f"{res['rows']} rows → {res['path']}" + (f" (quarantined: {res['dropped']})"
                                                              if res["dropped"] else ""))


# -------------------------------------------------------------------------------------------- sources/export
@data_app.command("sources")
def data_sources(
    recipe: Annotated[str, typer.Option(help="recipe whose sources to list")] = "vero600k",
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The sources of a recipe: name, category, rows, reward types, licence, hub id (+ config, split, revision,
    data_files), status, and whether the row layout was checked against the upstream (with the evidence)."""
    from vero_data.manifest import load_recipe, recipe_manifests
    from vero_data.sources.listing import sources_table

    try:
        manifests = recipe_manifests(load_recipe(recipe))
        rows = sources_table(manifests)
    except VeroError as e:
        _fail(e)
    details = [_source_layout(m) for m in manifests]
    if json_out:
        print(json.dumps([{**r, **d} for r, d in zip(rows, details, strict=True)], indent=2, default=str))
        return
    from rich.table import Table

    rows = [{**r, "split": (d["hub"] or {}).get("split", ""), "layout_checked": d["layout_checked"]}
            for r, d in zip(rows, details, strict=True)]
    t = Table(title=f"{recipe}: {len(rows)} sources")
    cols = list(rows[0].keys()) if rows else []
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[", ".join(map(str, v)) if isinstance(v, list) else str(v if v is not None else "")
                    for v in (r[c] for c in cols)])
    print_table(t)


def _source_layout(m) -> dict:
    """What `data sources --json` adds per source: the hub read spec and the layout evidence."""
    h = m.source.hub
    hub = None if h is None else {"path": h.path, "config": h.config, "split": h.split, "revision": h.revision,
                                  "data_files": h.data_files}
    p = m.provenance
    yes_no = None if p.layout_checked is None else ("yes" if p.layout_checked else "no")
    return {"hub": hub, "layout_checked": yes_no, "evidence": list(p.evidence), "unverified": p.unverified}


EXPORT_FORMATS = {
    "verl": "veRL records as Parquet + image files, absolute image paths",
    "verl-jsonl": "the same records as JSONL (the file Vero's download script writes)",
    "trl": "TRL's vision layout: prompt with image parts, images, reward columns (HF Parquet + card)",
}


@data_app.command("export")
def data_export(
    data: Annotated[Path, typer.Option("--data", help="a built dataset directory (with data/*.parquet)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output directory")],
    format: Annotated[str, typer.Option("--format", help="verl (Parquet, default), verl-jsonl or trl")] = "verl",
    image_root: Annotated[Path | None, typer.Option(
        "--image-root", help="veRL: write image paths under this folder (where OUT will be on the training "
                             "machine) instead of OUT's absolute path; made absolute now")] = None,
) -> None:
    """Export built shards for another trainer: veRL (records + image files + verl_config.yaml) or TRL."""
    if format not in EXPORT_FORMATS:
        _fail(VeroError(f"unknown --format {format!r}; supported: " + ", ".join(EXPORT_FORMATS)))
    if image_root is not None and format == "trl":
        _fail(VeroError("--image-root applies to the veRL formats (TRL rows embed their images)"))
    try:
        shards = _export_shards(data)
        if out.exists() and not out.is_dir():
            raise VeroError(f"--out {out} is a file, not a directory")
        if format == "trl":
            from vero_data.trl_export import export_trl_dir  # checks every shard first, names shard and row

            written = export_trl_dir(shards, out)
        else:
            from vero_data.stages.export import export_verl_dir  # checks every shard first, names shard and row

            written = export_verl_dir(shards, out, file_format="jsonl" if format == "verl-jsonl" else "parquet",
                                      image_root=image_root)
    except VeroError as e:
        _fail(e)
    listed = [p for p in written if p.parent == out and p.suffix in (".parquet", ".jsonl", ".yaml", ".md")]
    listed += [p for p in written if p.parent == out / "data"]
    images = sum(1 for p in written if p.parent != out and p.parent != out / "data")
    print(f"{format} export of {len(shards)} shard(s) → {out.resolve()}"
          + (f" ({images} image files written)" if images else ""))
    for p in listed:
        print(f"  {p.resolve()}")


def _export_shards(data: Path) -> list[Path]:
    """The shards of a build (``data/<split>-NNNNN-of-MMMMM.parquet``) or of `vero data generate` (the same names at
    the top level). Only shard names count: ``quarantine.parquet`` holds rejected rows, never training rows."""
    from vero_data.layout import SHARD_TEMPLATE, find_shards, shard_folder

    if not data.is_dir():
        raise VeroError(f"--data {data}: not a directory (expected a built dataset with data/*.parquet)")
    shards = find_shards(data)
    if not shards:
        raise VeroError(f"--data {data}: no shards ({shard_folder(data)}/{SHARD_TEMPLATE}); not a vero build, or "
                        "a build that exported 0 rows")
    return shards


# --------------------------------------------------------------------------------------------------- probe
@data_app.command("probe")
def data_probe(
    sources: Annotated[list[str] | None, typer.Argument(help="source names (see `vero data sources`) or manifest "
                                                              "paths; none with --recipe: all its sources")] = None,
    n: Annotated[int, typer.Option("--n", help="upstream rows read per source", min=1)] = 50,
    recipe: Annotated[str | None, typer.Option(help="recipe: its sources (when none are named) and its limits")]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON document on stdout")] = False,
) -> None:
    """Read N rows of each source through its reader, adapter and validation, as a build would: rows mapped,
    quarantine reasons, one canonical row, upstream columns vs the columns the adapter reads. Exit 1 when a source
    cannot be read or maps no row."""
    from rich.text import Text

    from vero_data.cli_common import emit_json
    from vero_data.probe import probe_sources

    err = _console(stderr=True)
    try:
        results = probe_sources(sources or [], n=n, recipe=recipe,
                                progress=lambda s: err.print(Text(s, style="dim"), soft_wrap=True))
    except VeroError as e:
        _fail(e)
    if json_out:
        emit_json({"n": n, "recipe": recipe, "ok": all(r.ok for r in results),
                   "sources": [r.to_dict() for r in results]})
    else:
        _print_probe(err, results)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _print_probe(err, results) -> None:
    """The table on stdout (tab-separated when piped); a line per failing source and the tally on stderr."""
    from rich.table import Table
    from rich.text import Text

    def cut(s, k: int) -> str:
        s = " ".join(str(s).split())
        return s if len(s) <= k else s[: k - 1] + "…"

    t = Table(title=f"vero data probe: {len(results)} source(s)")
    for c in ("source", "status", "read", "mapped", "quarantined / error", "example", "columns"):
        t.add_column(c, overflow="fold", justify="right" if c in ("read", "mapped") else "left")
    for r in results:
        colour = "green" if r.status == "ok" else "yellow" if r.status == "partial" else "red"
        quar = r.error or "\n".join(f"{k} ×{v['count']}: {cut(v['detail'] or '', 60)}"
                                    for k, v in r.quarantined.items())
        ex = ""
        if r.example:
            e = r.example
            ex = (f"Q: {cut(e['question'], 60)}\nA: {cut(e['answer'], 40)}\n{e['reward_type']}, "
                  + (", ".join(f"{w}×{h}" for w, h in e["image_sizes"]) or "no image"))
        cols = Text()
        never = [x["column"] for x in r.missing if not x["present_in"]]
        some = [f"{x['column']} ({x['absent_in']} rows)" for x in r.missing if x["present_in"]]
        for label, names, style in (("MISSING", never, "bold red"), ("absent in some", some, "yellow"),
                                    ("reads", r.columns_read, ""), ("unread", r.columns_unread, "dim")):
            if names:
                cols.append(f"{'' if not cols else chr(10)}{label}: {cut(', '.join(names), 120)}", style=style)
        t.add_row(Text(r.name), Text(r.status, style=colour), str(r.read) if r.error is None else "-",
                  str(r.mapped) if r.error is None else "-", Text(quar), Text(ex), cols)
    print_table(t)
    for r in results:
        if r.error or r.verdict:
            why = (r.error or r.verdict).removeprefix(f"{r.name}: ")  # reader errors already start with the name
            err.print(Text(f"✗ {r.name}: {why}", style="red"), soft_wrap=True)
    bad = sum(not r.ok for r in results)
    err.print(f"{len(results) - bad}/{len(results)} source(s) mapped rows", highlight=False)


@data_app.command("push")
def data_push(
    folder: Annotated[Path, typer.Argument(help="a `vero data build` or `vero data filter` output")],
    repo_id: Annotated[str, typer.Argument(help="the Hub dataset repo, <user or org>/<name>")],
    private: Annotated[bool, typer.Option("--private", help="create the repo private (if it does not exist)")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be uploaded; no token, no network")]
    = False,
) -> None:
    """Upload a dataset folder to a Hub dataset repo: card, shards, quarantine and reports, no working files."""
    from vero_data.push import push_dataset

    try:
        plan = push_dataset(folder, repo_id, private=private, dry_run=dry_run)
    except VeroError as e:
        _fail(e)
    for name, size in plan.files:
        print(f"{size:>14,}  {name}")
    print(f"{plan.total_bytes:>14,}  total, {len(plan.files)} files"
          + (" (dry run: nothing uploaded)" if dry_run else f" → {plan.commit_url or repo_id}"))
    if plan.excluded:
        _console(stderr=True).print(f"left out {len(plan.excluded)} working files (.run/, caches, catalog, ...)")


@data_app.command("browse")
def data_browse(
    folder: Annotated[Path, typer.Argument(help="a `vero data build`, `vero data filter` or `vero eval` output")],
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port to serve on")] = 8765,
    host: Annotated[str, typer.Option("--host", help="address to bind (127.0.0.1: this machine only)")]
    = "127.0.0.1",
    static: Annotated[Path | None, typer.Option("--static", help="write a static site to this folder instead of "
                                                "serving (a previous export there is replaced)")] = None,
) -> None:
    """Browse a build like a curator: overview vs targets, gallery, duplicates, quarantine, pass counts, eval samples."""
    from vero_data.errors import requires

    try:
        if not folder.is_dir():
            raise VeroError(f"{folder} is not a folder")
        requires("jinja2", "browse")
        if static is not None:
            from vero_data.browse import export_static

            res = export_static(folder, static)
            print(f"{res.out / 'index.html'}  ({len(res.pages)} pages, {res.images} images)")
            return
        requires("starlette", "browse")
        requires("uvicorn", "browse")
        from vero_data.browse import serve

        _console(stderr=True).print(f"browsing {folder} at http://{host}:{port}/ (Ctrl-C stops)")
        serve(folder, host=host, port=port)
    except VeroError as e:
        _fail(e)


# --------------------------------------------------------------------------------------------------- bench
@bench_app.command("build")
def bench_build(
    n: Annotated[int, typer.Option(help="images in the generated benchmark set (~0.6 MB of disk each)", min=1)]
    = 5_000,
    workers: Annotated[int, typer.Option(help="build workers")] = 2,
    out: Annotated[Path | None, typer.Option(help="work directory, kept (default: a temp dir, removed at the end, "
                                             "on Ctrl-C and on SIGTERM)")] = None,
    hashes: Annotated[str, typer.Option(help="near-dup search sizes, comma-separated")] = "100000,600000",
    as_json: Annotated[bool, typer.Option("--json", help="(the output is always one JSON document; accepted like "
                                          "the other bench commands)")] = False,
) -> None:
    """End-to-end build rows/s vs bare decode+pHash rows/s, near-dup search time, peak RSS (one JSON document).

    The disk it needs (~0.6 MB per image: 3 GB at the default 5,000, 29 GB at 50,000) is checked before it starts.
    """
    from vero_data.build_bench import disk_needed, run_build_bench

    _console(stderr=True).print(f"bench build: {n:,} images, needs ~{disk_needed(n) / 1e9:.1f} GB of disk in "
                                f"{out or 'a temp folder'}", highlight=False)
    try:
        res = run_build_bench(n=n, workers=workers, work=out, hash_sizes=[int(x) for x in hashes.split(",") if x])
    except VeroError as e:
        _fail(e)
    emit_json(res)


@bench_app.command("dedup")
def bench_dedup(
    n: Annotated[int, typer.Option(help="distinct originals in the planted set (rows: about 1.85× that)", min=5)]
    = 1000,
    seed: Annotated[int, typer.Option(help="seed of the planted set")] = 0,
    workers: Annotated[int, typer.Option(help="build workers (and imagededup's, and the renderers)", min=1)] = 2,
    out: Annotated[Path | None, typer.Option(help="keep the planted set and the build here (default: a temp dir, "
                                                  "deleted at the end)")] = None,
    dedup_config: Annotated[Path | None, typer.Option(help="YAML with a `dedup:` block (a recipe works) to measure "
                                                           "instead of the defaults, as `vero data build` takes it")]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Planted duplicates through the real build: per kind removed/kept against issue 12's targets, rows/s beside
    imagededup's PHash (when installed) on the same files."""
    from vero_data.dedup_bench import run_dedup_bench

    err = _console(stderr=True)
    try:
        res = run_dedup_bench(n_originals=n, seed=seed, workers=workers, work_dir=out, dedup_config=dedup_config,
                              progress=lambda s: err.print(f"[dim]{s}[/]", highlight=False))
    except VeroError as e:
        _fail(e)
    if json_out:
        print(json.dumps(res, indent=2))
        return
    _print_dedup_bench(_console(), res)


def _print_dedup_bench(con, res: dict) -> None:
    from rich.table import Table

    from vero_data.dedup_bench import TARGETS

    idd = {k["kind"]: k for k in (res["imagededup"] or {}).get("kinds", [])}
    title = f"vero bench dedup: {res['n_originals']:,} originals, {res['rows']:,} rows (seed {res['seed']})"
    if res["build"].get("dedup_config"):
        title += f", dedup settings of {res['build']['dedup_config']}"
    t = Table(title=title)
    cols = ["kind", "planted", "removed", "kept", "target", "met", "removed as"]
    cols += ["imagededup"] if res["imagededup"] else []
    for c in cols:
        t.add_column(c, justify="left" if c in ("kind", "target", "removed as", "imagededup") else "right")
    target_pct = {"original": TARGETS["originals_kept_pct"], "copy": TARGETS["copies_removed_pct"],
                  "negative": TARGETS["negatives_kept_pct"]}
    for k in res["kinds"]:
        goal = target_pct[k["role"]]
        met = "-" if k["pct"] is None else f"[{'green' if k['pct'] >= goal else 'red'}]{k['pct']:.1f}%[/]"
        why = ", ".join(f"{r} {c}" for r, c in k["reasons"].items())
        if k.get("won"):
            why += f"{'; ' if why else ''}kept over its original {k['won']}"
        if k.get("lost_to_copy"):
            why += f"; {k['lost_to_copy']} lost to a copy"
        if k["wrong_link"] and k["role"] != "negative":  # (a removed negative is always a wrong link)
            why += f"; {k['wrong_link']} linked to another group"
        row = [k["kind"], f"{k['planted']:,}", f"{k['removed']:,}", f"{k['kept']:,}", f"{k['target']} ≥ {goal:g}%",
               met, why]
        if res["imagededup"]:
            i = idd.get(k["kind"])
            row.append("n/a" if i is None else f"found {i.get('found', 0)}" if k["role"] == "copy"
                       else f"flagged {i.get('flagged', 0)}")
        t.add_row(*row)
    print_table(t)
    s, b = res["summary"], res["build"]
    con.print(f"copies removed {s['copies_removed_pct']}% (linked to their original, whichever was kept: "
              f"{s['copies_detected_pct']}%), negatives kept {s['negatives_kept_pct']}%, originals kept "
              f"{s['originals_kept_pct']}%", highlight=False)
    con.print(f"build: {b['seconds']:.1f} s, {b['rows_per_s']:,.1f} rows/s ({res['image_files']:,} image files, "
              f"{b['image_files_per_s']:,.1f}/s, {res['workers']} worker(s)); stages "
              + ", ".join(f"{k} {v:.1f}s" for k, v in (b["timings_s"] or {}).items()), highlight=False)
    i = res["imagededup"]
    if i:
        con.print(f"imagededup {i['version']} PHash (max_distance_threshold={i['max_distance_threshold']}): "
                  f"{i['images_per_s']:,.1f} images/s; planted image copies found {i['copies_found_pct']}%, "
                  f"negatives flagged {i['negatives_flagged_pct']}%, originals linked to an unrelated original "
                  f"{i['originals_linked_to_unrelated']}; build rows/s ÷ imagededup images/s = "
                  f"{res['speedup_over_imagededup']} (target ≥ {TARGETS['speedup_over_imagededup']:g})",
                  highlight=False)
    else:
        con.print("imagededup not installed: no baseline (pip install imagededup)", highlight=False)
    d = res.get("decode")
    if d:
        ratio = f" = {res['decode_over_imagededup']}× imagededup's" if res.get("decode_over_imagededup") else ""
        con.print(f"decoding every file once, nothing else: {d['images_per_s']:,.1f} images/s{ratio} (the ceiling of "
                  "any dedup that reads the pixels)", highlight=False)
    if res["work_dir"]:
        con.print(f"planted set and build: {res['work_dir']}", highlight=False)


def _mount_optional() -> None:
    """Mount command groups that live in optional modules (rewards, models) without importing heavy deps."""
    try:
        from vero_data.rewards.cli import app as reward_app
        from vero_data.rewards.cli import bench as reward_bench

        app.add_typer(reward_app, name="reward", help="Score responses with the task-routed rewards.")
        bench_app.command("rewards")(reward_bench)  # the same command as `vero reward bench`, one set of flags
    except ImportError:
        pass
    from vero_data.cli_eval import eval_app

    try:  # by name, not a static import: vero_data never depends on vero_train
        register_train = importlib.import_module("vero_train.cli").register
    except ModuleNotFoundError:
        register_train = None
    if register_train is not None:
        register_train(app, data_app, bench_app)  # attaches the model run to `vero eval` as well
    app.add_typer(eval_app, name="eval")  # after the model groups, where `vero --help` has always listed it


_mount_optional()


def _help_width_for_pipes() -> None:
    """Piped or redirected, help is not squeezed into 80 columns (rich would ellipsize option names)."""
    import os

    if not sys.stdout.isatty() and not os.environ.get("TERMINAL_WIDTH") and not os.environ.get("COLUMNS"):
        import typer.rich_utils

        typer.rich_utils.MAX_WIDTH = 120


def main() -> None:
    _help_width_for_pipes()
    try:
        app()
    except VeroError as e:  # library errors outside a command's own handling
        print_error(e)
        sys.exit(1)


if __name__ == "__main__":
    main()
