"""The build as a list of stages under one runner (datatrove's step/executor split, with its completion files).

A :class:`Stage` says what it reads and writes (named values in :class:`BuildContext`) and does its one job in
``run``. :func:`run_stages` owns what every stage needs and none should write itself:

- **resume**: each finished stage leaves ``.run/markers/<name>.done`` with its counts. Under ``--resume`` a stage
  whose marker exists has its persisted outputs (``persist``) loaded instead of being run again; cheap stages
  persist nothing and run again (their results are deterministic). Ingest resumes part by part and forgets every
  later marker when it had to redo a part whose image files changed.
- **timings**: seconds per stage, for the report (``timings_s``).
- **quarantine accounting**: a stage hands its dropped rows to :meth:`BuildContext.drop`; for a stage that narrows
  the surviving rows (``kept``) the runner checks rows in = rows out + rows dropped, so no row leaves unaccounted.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from vero_data.config import BuildConfig
from vero_data.errors import VeroError
from vero_data.layout import QUARANTINE_SCHEMA, BuildDir
from vero_data.manifest import Manifest, Recipe

log = logging.getLogger(__name__)


@dataclass
class BuildContext:
    """What the stages of one build share: settings, the folder, named values and the dropped rows so far."""

    cfg: BuildConfig
    recipe: Recipe
    manifests: list[Manifest]
    dir: BuildDir
    values: dict[str, Any] = field(default_factory=dict)
    quarantined: list[pl.DataFrame] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _store: Any = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def drop(self, records: pl.DataFrame) -> None:
        """Quarantine ``records`` (:data:`~vero_data.layout.QUARANTINE_SCHEMA` rows)."""
        self.quarantined.append(records)

    def quarantine(self) -> pl.DataFrame:
        """Every row dropped so far, in the order the quarantine file lists them."""
        q = pl.concat([pl.DataFrame(schema=QUARANTINE_SCHEMA), *self.quarantined], how="vertical_relaxed")
        return q.sort(["manifest", "upstream_index", "stage", "id"], nulls_last=True)

    @property
    def store(self):
        """Image bytes of ingested rows on demand (dedup's pixel check, the report's examples)."""
        if self._store is None:
            from vero_data.rowstore import RowStore

            self._store = RowStore(self.dir, self["meta"])
        return self._store


def quarantine_from(rows: pl.DataFrame, stage: str, reason: str | pl.Expr, detail: str | pl.Expr = "",
                    dup_of: pl.Expr | None = None) -> pl.DataFrame:
    """Quarantine records for ``rows`` (``meta`` columns) dropped by a global stage: ``reason`` a column name or an
    expression, ``detail`` a text or an expression, ``dup_of`` the kept row's id for duplicates."""
    r = pl.col(reason) if isinstance(reason, str) else reason
    d = pl.lit(detail) if isinstance(detail, str) else detail
    return rows.select(
        pl.col("id"), pl.col("manifest"), pl.col("data_source"), pl.col("category"), pl.col("upstream_index"),
        pl.col("upstream_id"), pl.lit(stage).alias("stage"), r.alias("reason"), pl.lit(None, pl.String).alias("field"),
        d.alias("detail"), (dup_of if dup_of is not None else pl.lit(None, pl.String)).alias("dup_of"),
        pl.format('{{"question": {}, "answer": {}}}', pl.col("question").str.slice(0, 200).map_elements(
            json.dumps, return_dtype=pl.String), pl.col("answer").str.slice(0, 200).map_elements(
            json.dumps, return_dtype=pl.String)).alias("excerpt"),
    ).cast(QUARANTINE_SCHEMA)


class Stage:
    """One step of the build. Subclasses set ``name``, ``inputs``/``outputs`` (keys of ``ctx.values``) and
    implement ``run``, which returns the outputs as a dict; ``persist`` names the outputs saved for --resume."""

    name: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()
    persist: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        raise NotImplementedError

    def resumed(self, ctx: BuildContext, loaded: dict[str, Any]) -> dict[str, Any]:
        """The outputs of a finished stage from what it persisted (a stage that also quarantines rows redoes that
        cheap part here)."""
        return loaded

    def counts(self, out: dict[str, Any]) -> dict[str, Any]:
        """What the stage's marker records (rows of each frame it produced)."""
        return {k: v.height for k, v in out.items() if isinstance(v, pl.DataFrame)}


def _save(ctx: BuildContext, stage: Stage, out: dict[str, Any]) -> None:
    d = ctx.dir.stage_dir(stage.name)
    d.mkdir(parents=True, exist_ok=True)
    for key in stage.persist:
        value = out[key]
        if isinstance(value, pl.DataFrame):
            value.write_parquet(d / f"{key}.parquet")
        else:
            (d / f"{key}.json").write_text(json.dumps(value, sort_keys=True, default=str))


def _load(ctx: BuildContext, stage: Stage) -> dict[str, Any] | None:
    """The persisted outputs of a finished stage, or None when any is missing (then it runs again)."""
    d = ctx.dir.stage_dir(stage.name)
    out: dict[str, Any] = {}
    for key in stage.persist:
        if (d / f"{key}.parquet").exists():
            out[key] = pl.read_parquet(d / f"{key}.parquet")
        elif (d / f"{key}.json").exists():
            out[key] = json.loads((d / f"{key}.json").read_text())
        else:
            return None
    return out


def run_stages(stages: list[Stage], ctx: BuildContext, stop_after: str | None = None) -> str | None:
    """Run ``stages`` in order on ``ctx``; returns the stage it stopped after when ``stop_after`` names one."""
    for stage in stages:
        missing = [k for k in stage.inputs if k not in ctx.values]
        if missing:
            raise VeroError(f"build stage {stage.name!r} needs {missing}, which no earlier stage produced")
        t = time.perf_counter()
        kept_in = ctx.values["kept"].height if "kept" in stage.inputs else None
        dropped_before = sum(q.height for q in ctx.quarantined)
        out = _load(ctx, stage) if ctx.cfg.resume and stage.persist and ctx.dir.done(stage.name) else None
        resumed = out is not None
        if out is None:
            out = stage.run(ctx)
            if stage.persist:
                _save(ctx, stage, out)
        else:
            out = stage.resumed(ctx, out)
        ctx.values.update(out)
        if kept_in is not None and "kept" in stage.outputs:
            dropped = sum(q.height for q in ctx.quarantined) - dropped_before
            if kept_in != ctx.values["kept"].height + dropped:
                raise VeroError(f"build stage {stage.name!r} lost rows: {kept_in} in, {ctx.values['kept'].height} "
                                f"kept + {dropped} quarantined")
        ctx.dir.mark(stage.name, stage.counts(out))
        ctx.timings[stage.name] = time.perf_counter() - t
        log.debug("stage %s: %.2f s%s", stage.name, ctx.timings[stage.name], " (resumed)" if resumed else "")
        if stop_after == stage.name:
            return stage.name
    return None
