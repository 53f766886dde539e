"""What a filter run writes under OUT: the kept rows' shards (same names and schema as the input, ``pass_count``
and ``k`` filled), ``quarantine.parquet``, ``completions.parquet``, the catalog and the dataset card."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from vero_data.layout import write_quarantine
from vero_train.passk.cache import cache_files
from vero_train.passk.config import PassAtKConfig
from vero_train.passk.inputs import InputShard, read_shard
from vero_train.passk.scoring import keep_reason


def is_filter_output(folder: Path) -> bool:
    """A filter folder written before output markers existed."""
    return (folder / "passk_report.json").is_file() or bool(cache_files(folder))


def write_outputs(cfg: PassAtKConfig, shards: list[InputShard], plan, per_row: dict[str, dict], side: list[dict],
                  src_dir: Path | None, bad: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Every output file of a run from its rows' statistics (``per_row``, input order) and the rows quarantined
    before sampling (``bad``); returns the counts for the report."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from vero_data.catalog import write_pass_at_k
    from vero_data.schema import COLUMNS, arrow_schema_with_features

    schema = arrow_schema_with_features()
    data_dir = cfg.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    bad = bad or {}
    reasons = {rid: bad[rid][0] if rid in bad else keep_reason(s, cfg) for rid, s in per_row.items()}
    written: list[Path] = []
    quarantine: list[dict[str, Any]] = []
    used = sorted({si for si, _, _ in plan})
    for si in used:
        sh = shards[si]
        n = sum(length for s, _, length in plan if s == si)
        t = read_shard(sh).slice(0, n)
        ids = t.column("id").to_pylist()
        pcount = pa.array([per_row[i]["pass_count"] for i in ids], pa.int32())
        for name, col in (("pass_count", pcount), ("k", pa.array([cfg.k] * len(ids), pa.int32()))):
            j = t.schema.get_field_index(name)
            t = t.set_column(j, name, col) if j >= 0 else t.append_column(name, col)
        keep = pa.array([reasons[i] is None for i in ids])
        kept = t.filter(keep).select(list(COLUMNS)).cast(schema)
        path = data_dir / sh.name
        tmp = path.with_suffix(".tmp")
        pq.write_table(kept, tmp, row_group_size=100, compression="zstd")
        os.replace(tmp, path)
        written.append(path)
        dropped = t.filter(pc.invert(keep))
        if dropped.num_rows:
            ids_out = dropped.column("id").to_pylist()
            quarantine += [  # the build's quarantine schema (layout.QUARANTINE_SCHEMA); a shard names no manifest
                {"id": i, "data_source": src, "category": cat, "stage": "pass_at_k", "reason": reasons[i],
                 "detail": bad[i][1] if i in bad else f"pass_count={per_row[i]['pass_count']}/{cfg.k}"}
                for i, src, cat in zip(ids_out, dropped.column("data_source").to_pylist(),
                                       dropped.column("category").to_pylist(), strict=True)]
    for stale in set(data_dir.glob("*.parquet")) - set(written):
        stale.unlink()
    q_path = cfg.out / "quarantine.parquet"
    if quarantine:
        write_quarantine(quarantine, q_path)
    elif q_path.exists():
        q_path.unlink()

    diff = pl.DataFrame(list(per_row.values()), schema={
        "id": pl.String, "data_source": pl.String, "category": pl.String, "reward_type": pl.String,
        "split": pl.String, "k": pl.Int32, "pass_count": pl.Int32, "pass_rate": pl.Float64,
        "mean_reward": pl.Float64, "mean_accuracy": pl.Float64, "format_rate": pl.Float64,
        "mean_tokens": pl.Float64, "truncated": pl.Int32,
    }).with_columns(
        pl.col("id").replace_strict(reasons, default=None, return_dtype=pl.String).alias("drop_reason"),
        pl.lit(cfg.model).alias("model"),
    ).with_columns(pl.col("drop_reason").is_null().alias("kept"))
    comps = pl.DataFrame(side) if side else None
    if comps is not None:
        comps.write_parquet(cfg.out / "completions.parquet")
    write_pass_at_k(cfg.out / "catalog.duckdb", src_dir / "catalog.duckdb" if src_dir else None, diff, comps)
    hist = Counter(diff["pass_count"].to_list())
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for c, p in diff.select("category", "pass_count").iter_rows():
        if p is not None:
            by_cat[c][p] += 1
    write_card(cfg, diff, src_dir, Counter(r for r, _ in bad.values()))
    return {
        "kept": int(diff["kept"].sum()), "shards": written,
        "histogram": {i: hist.get(i, 0) for i in range(cfg.k + 1)},
        "by_category": {c: {i: v.get(i, 0) for i in range(cfg.k + 1)} for c, v in sorted(by_cat.items())},
        "dropped": dict(Counter(r for r in reasons.values() if r)),
    }



def write_card(cfg: PassAtKConfig, diff, src_dir: Path | None, unsampled: Counter | None = None) -> Path:
    """OUT's dataset card, rewritten for OUT's rows: counts, categories, sources and sizes from its shards, the
    input card's licence and tags, the pass@k section, and links only to files OUT has."""
    import duckdb

    from vero_data.card import card_title, write_filtered_card
    from vero_data.sql import load_sql

    src_card = src_dir / "README.md" if src_dir else None
    input_card = src_card.read_text() if src_card is not None and src_card.is_file() else None
    con = duckdb.connect()
    con.register("difficulty", diff)
    hist = con.execute(load_sql("difficulty")).fetchall()
    con.close()
    lines = ["", f"## pass@{cfg.k} filter", "",
             f"Sampled {cfg.k} responses per prompt from `{cfg.model}` (temperature {cfg.temperature}, top_p "
             f"{cfg.top_p}, max {cfg.max_tokens} tokens) and scored them with the task-routed rewards; a sample "
             f"passes when accuracy >= {cfg.pass_threshold}. "
             + ("All rows kept (annotated only)." if cfg.keep_all else
                f"Kept rows with {cfg.min_pass} <= passes <= {cfg.max_pass}.")
             + f" {int(diff['kept'].sum()):,} of {diff.height:,} rows kept; `pass_count` and `k` are set on each row."
             + (" Quarantined before sampling (not scorable): "
                + ", ".join(f"{n} {r}" for r, n in sorted(unsampled.items())) + "." if unsampled else ""),
             "", "| category | passes | rows | share of category |", "|---|---|---|---|"]
    lines += [f"| {c} | {'not sampled' if p is None else p} | {n} | {s:.1%} |" for c, p, n, s in hist]
    links = ["Filter report: passk_report.json."]  # written right after the card, in the same run
    if (cfg.out / "quarantine.parquet").is_file():
        links.append("Dropped rows and their reasons: quarantine.parquet.")
    title = f"{card_title(input_card) or cfg.data}, pass@{cfg.k} filtered"
    shards = sorted((cfg.out / "data").glob("*.parquet"))
    return write_filtered_card(cfg.out, shards, input_card=input_card, title=title, source=str(cfg.data),
                               section=lines, links=links)

