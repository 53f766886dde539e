"""The recipe's ``curate:`` step: the LLM curation of :mod:`vero_data.curate.run` on a build's exported rows.

Each step (the question filter, then the canonicaliser, each with its own model) curates the previous step's
output into ``OUT/.run/curate-<step>/`` (so a rerun with ``--resume`` answers from its reply cache). The last
step's shards then move in place of the build's (the steps' own shards are removed, their caches stay), their
quarantined rows join ``quarantine.parquet``, its catalog (the build's tables plus ``curation``) replaces the
build's, and ``report.json`` gets a ``curate`` section. The HTML report keeps the counts before curation.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from vero_data.curate.judge import CurateSampling
from vero_data.curate.judges import judge_factory
from vero_data.curate.run import CurateConfig, curate
from vero_data.layout import BuildDir
from vero_data.manifest import CurateStep, Recipe

STEPS = ("question_filter", "canonicalise")


def curate_build(res, recipe: Recipe, progress: bool | None = None):
    """Curate a finished build in place (its claimed work folder ``res.out``); returns the updated BuildResult."""
    step: CurateStep = recipe.curate
    work = Path(res.out)
    sampling = CurateSampling(temperature=step.temperature, top_p=step.top_p, top_k=step.top_k,
                              max_tokens=step.max_tokens, seed=step.seed)
    src, summaries, last = work, {}, None
    for name in STEPS:
        judge = getattr(step, name)
        if judge is None:
            continue
        dst = BuildDir(work).stage_dir(f"curate-{name}")
        cfg = CurateConfig(data=src, out=dst, question_filter=name == "question_filter",
                           canonicalise=name == "canonicalise", model=judge.model,
                           prompts=Path(judge.prompts) if judge.prompts else None, batch_size=step.batch_size,
                           sampling=sampling, progress=progress)
        r = curate(cfg, judge_factory(judge.backend, judge.model, endpoint=judge.endpoint, guided=judge.guided,
                                      **judge.options))
        summaries[name] = {k: v for k, v in r.as_dict().items() if k not in ("shards", "out")}
        src, last = dst, r
    shards = _swap_shards(work, src)
    for name in summaries:  # an earlier step's shards are not needed any more (its reply cache stays)
        d = BuildDir(work).stage_dir(f"curate-{name}") / "data"
        if d.is_dir():
            shutil.rmtree(d)
    _merge_quarantine(work, [BuildDir(work).stage_dir(f"curate-{n}") / "quarantine.parquet" for n in summaries])
    shutil.copyfile(src / "catalog.duckdb", work / "catalog.duckdb")
    if (work / "verl").is_dir():  # the veRL copy must hold the curated rows too
        from vero_data.stages.export import export_verl_dir

        shutil.rmtree(work / "verl")
        export_verl_dir(shards, work / "verl")
    report = dict(res.report)
    report["rows_before_curate"] = report.get("rows")
    report["rows"] = last.rows_kept if last is not None else report.get("rows")
    report["curate"] = summaries
    (work / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    card = _write_card(work, shards, recipe, report, summaries)
    return replace(res, shards=shards, rows=report["rows"], report=report, card=card)


def _swap_shards(work: Path, src: Path) -> list[Path]:
    data = work / "data"
    for old in data.glob("*.parquet"):
        old.unlink()
    out = []
    for f in sorted((src / "data").glob("*.parquet")):  # moved, not copied: shards hold the images
        dest = data / f.name
        os.replace(f, dest)
        out.append(dest)
    return out


def _merge_quarantine(work: Path, parts: list[Path]) -> None:
    import polars as pl

    frames = [pl.read_parquet(p) for p in [work / "quarantine.parquet", *parts] if p.is_file()]
    if not frames:
        return
    merged = pl.concat(frames, how="diagonal_relaxed")
    tmp = work / "quarantine.tmp"
    merged.write_parquet(tmp, compression="zstd")
    os.replace(tmp, work / "quarantine.parquet")


def _write_card(work: Path, shards: list[Path], recipe: Recipe, report: dict[str, Any], summaries: dict) -> Path:
    from vero_data.card import card_title, write_filtered_card

    build_card = (work / "README.md").read_text() if (work / "README.md").is_file() else None
    lines = ["", "## LLM curation", "",
             f"The recipe's `curate:` step ran on the {report['rows_before_curate']:,} exported rows "
             "(Vero-600K curation, question filter then answer canonicalisation); "
             f"{report['rows']:,} kept. Each row's verdicts are in its `curation` column, changed answers keep "
             "the original in `answer_raw`.", "", "| step | model | rows in | kept | dropped |", "|---|---|---|---|---|"]
    for name, s in summaries.items():
        drops = ", ".join(f"{k} {v:,}" for k, v in s["dropped"].items()) or "none"
        lines.append(f"| {name} | `{s['model']}` | {s['rows_in']:,} | {s['rows_kept']:,} | {drops} |")
    links = ["Build report: report.html (counts before curation); report.json (key `curate`).",
             "Dropped rows and their reasons: quarantine.parquet."]
    title = card_title(build_card) or recipe.name
    return write_filtered_card(work, shards, input_card=build_card, title=title,
                               source=f"recipe {recipe.name}", section=lines, links=links)
