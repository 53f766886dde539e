"""Writing a curation run's output folder: kept rows, quarantine, catalog table and card.

Shards keep the canonical row schema plus two columns: ``answer_raw`` (the original answer where the canonical
one differs, else null) and ``curation`` (JSON text: the five question-filter flags, the judge's reason, who set
the answer). ``load_dataset`` reads both (the HF features metadata lists them); consumers that select the canonical
columns (``vero data filter``, ``vero train``) ignore them.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from vero_data.curate.parse import QF_FLAGS

EXTRA_COLUMNS = ("answer_raw", "curation")


def curated_schema():
    """The canonical Arrow schema (with HF features metadata) plus ``answer_raw`` and ``curation``."""
    from datasets import Features, Value

    from vero_data.schema import hf_features

    feats = dict(hf_features())
    feats.update({c: Value("string") for c in EXTRA_COLUMNS})
    return Features(feats).arrow_schema


def write_outputs(cfg, shards: list[Path], plan, outcomes: dict, prompts: dict, final_out: Path,
                  model: str) -> list[Path]:
    """Shards of kept rows, ``quarantine.parquet``, ``catalog.duckdb`` (table ``curation``) and ``README.md``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.schema import COLUMNS

    schema = curated_schema()
    data_dir = cfg.out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    quarantine: list[dict[str, Any]] = []
    for si in sorted({si for si, _, _ in plan}):
        n = sum(length for s, _, length in plan if s == si)
        t = pq.read_table(shards[si]).slice(0, n)
        ids = t.column("id").to_pylist()
        outs = [outcomes[i] for i in ids]
        cols = {c: t.column(c) if c in t.column_names else pa.nulls(t.num_rows, pa.int32()) for c in COLUMNS}
        cols["answer"] = pa.array([o.answer for o in outs], pa.string())
        cols["answer_raw"] = pa.array([o.answer_raw for o in outs], pa.string())
        cols["curation"] = pa.array([o.curation(model) for o in outs], pa.string())
        full = pa.table(cols)
        keep = pa.array([o.drop_reason is None for o in outs])
        kept = full.filter(keep).cast(schema)
        path = data_dir / shards[si].name
        tmp = path.with_suffix(".tmp")
        pq.write_table(kept, tmp, row_group_size=100, compression="zstd")
        os.replace(tmp, path)
        written.append(path)
        for o in outs:
            if o.drop_reason:
                quarantine.append(_quarantine_record(o))
    for stale in set(data_dir.glob("*.parquet")) - set(written):
        stale.unlink()
    q_path = cfg.out / "quarantine.parquet"
    if quarantine:
        q_schema = pa.schema([("id", pa.string()), ("manifest", pa.string()), ("stage", pa.string()),
                              ("reason", pa.string()), ("detail", pa.string()),
                              *((f, pa.bool_()) for f in QF_FLAGS), ("judge_reason", pa.string()),
                              ("answer", pa.string()), ("answer_raw", pa.string())])
        pq.write_table(pa.Table.from_pylist(quarantine, q_schema), q_path)
    elif q_path.exists():
        q_path.unlink()
    _write_catalog(cfg, outcomes, model)
    _write_card(cfg, outcomes, prompts, written, model)
    return written


def _quarantine_record(o) -> dict[str, Any]:
    flags = o.flags or {}
    return {"id": o.id, "manifest": o.data_source, "stage": o.stage, "reason": o.drop_reason, "detail": o.detail,
            **{f: flags.get(f) for f in QF_FLAGS}, "judge_reason": o.qf_reason if o.flags else o.canon_reason,
            "answer": o.answer, "answer_raw": o.answer_raw}


def curation_frame(outcomes: dict, model: str):
    """One row per curated row: flags, reasons, answers, who canonicalised, drop reason."""
    import polars as pl

    def flags(o) -> dict:  # this run's verdict, else an earlier run's (the input's curation column)
        if o.flags is not None:
            return o.flags
        return ((o.prior or {}).get("question_filter") or {}).get("flags") or {}

    def qf_reason(o):
        return o.qf_reason if o.flags is not None else ((o.prior or {}).get("question_filter") or {}).get("reason")

    rows = [{"id": o.id, "data_source": o.data_source, "category": o.category, "reward_type": o.reward_type,
             **{f: flags(o).get(f) for f in QF_FLAGS}, "qf_reason": qf_reason(o),
             "canonicalised_by": o.canonicalised_by, "canonical_reason": o.canon_reason, "answer": o.answer,
             "answer_raw": o.answer_raw, "answer_changed": o.changed, "drop_reason": o.drop_reason,
             "stage": o.stage, "detail": o.detail, "kept": o.drop_reason is None, "model": model}
            for o in outcomes.values()]
    schema = {"id": pl.String, "data_source": pl.String, "category": pl.String, "reward_type": pl.String,
              **{f: pl.Boolean for f in QF_FLAGS}, "qf_reason": pl.String, "canonicalised_by": pl.String,
              "canonical_reason": pl.String, "answer": pl.String, "answer_raw": pl.String,
              "answer_changed": pl.Boolean, "drop_reason": pl.String, "stage": pl.String, "detail": pl.String,
              "kept": pl.Boolean, "model": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _write_catalog(cfg, outcomes: dict, model: str) -> Path:
    """The input's catalog with a ``curation`` table; dropped rows get ``status = 'curate_dropped'``."""
    from vero_data.catalog import derived_catalog

    path = cfg.out / "catalog.duckdb"
    with derived_catalog(path, Path(cfg.data) / "catalog.duckdb") as con:
        con.register("curation_in", curation_frame(outcomes, model))
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "curation" in tables:  # an earlier curate run's rows (those this run did not see) stay
            con.execute("CREATE OR REPLACE TABLE curation AS SELECT * FROM curation_in UNION ALL BY NAME "
                        "SELECT * FROM curation WHERE id NOT IN (SELECT id FROM curation_in)")
        else:
            con.execute("CREATE TABLE curation AS SELECT * FROM curation_in")
        if "samples" in tables:
            cols = {r[0] for r in con.execute("DESCRIBE samples").fetchall()}
            if "status" in cols:
                con.execute("UPDATE samples SET status = 'curate_dropped' FROM curation "
                            "WHERE samples.id = curation.id AND NOT curation.kept")
            if "answer" in cols:
                con.execute("UPDATE samples SET answer = curation.answer FROM curation "
                            "WHERE samples.id = curation.id AND curation.answer_changed")
    return path


def _write_card(cfg, outcomes: dict, prompts: dict, shards: list[Path], model: str) -> Path:
    from vero_data.card import card_title, write_filtered_card

    src_card = Path(cfg.data) / "README.md"
    input_card = src_card.read_text() if src_card.is_file() else None
    n = len(outcomes)
    kept = sum(1 for o in outcomes.values() if not o.drop_reason)
    dropped = Counter(o.drop_reason for o in outcomes.values() if o.drop_reason)
    by = Counter(o.canonicalised_by for o in outcomes.values() if o.canonicalised_by)
    changed = sum(1 for o in outcomes.values() if o.changed and not o.drop_reason)
    s = cfg.sampling
    steps = [x for x, on in (("question filter", cfg.question_filter), ("answer canonicalisation", cfg.canonicalise))
             if on]
    lines = ["", "## LLM curation", "",
             f"{' and '.join(steps).capitalize()} with `{model}` (temperature {s.temperature}, top_p {s.top_p}, "
             f"top_k {s.top_k}, max {s.max_tokens or 'the model default'} tokens), as in the Vero-600K curation pipeline. "
             f"{kept:,} of {n:,} rows kept"
             + (f"; {changed:,} answers rewritten (the original is in `answer_raw`)" if cfg.canonicalise else "")
             + ". Each row's flags and the judge's reason are in the `curation` column.", ""]
    if dropped:
        lines += ["| dropped because | rows |", "|---|---|"]
        lines += [f"| {r} | {c:,} |" for r, c in sorted(dropped.items())]
        lines.append("")
    if by:
        lines.append("Answers settled by: " + ", ".join(f"{k} {v:,}" for k, v in sorted(by.items())) + ".")
        lines.append("")
    lines.append("Prompt versions: " + ", ".join(f"`{k}` {p.version}" for k, p in sorted(prompts.items())) + ".")
    links = ["Curation report: curate_report.json."]
    if (cfg.out / "quarantine.parquet").is_file():
        links.append("Dropped rows, their flags and reasons: quarantine.parquet.")
    title = f"{card_title(input_card) or Path(cfg.data).name}, LLM-curated"
    return write_filtered_card(cfg.out, shards, input_card=input_card, title=title, source=str(cfg.data),
                               section=lines, links=links)

