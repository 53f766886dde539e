"""The stage runner: inputs checked, markers, resume of persisted outputs, rows accounted for, stop_after."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from vero_data.config import BuildConfig
from vero_data.errors import VeroError
from vero_data.layout import BuildDir
from vero_data.manifest import Recipe
from vero_data.pipeline import BuildContext, Stage, quarantine_from, run_stages


def _rows(n: int) -> pl.DataFrame:
    return pl.DataFrame({"id": [f"r{i}" for i in range(n)], "manifest": "m", "data_source": "s", "category": "stem",
                         "upstream_index": list(range(n)), "upstream_id": None, "question": "q", "answer": "a"},
                        schema_overrides={"upstream_id": pl.String})


class Source(Stage):
    name = "source"
    outputs = ("kept",)

    def run(self, ctx):
        return {"kept": _rows(5)}


class DropOdd(Stage):
    """Drops odd rows; persists what it removed, so a resume loads it."""

    name = "drop_odd"
    inputs = ("kept",)
    outputs = ("kept", "removed")
    persist = ("removed",)
    calls = 0

    def run(self, ctx):
        DropOdd.calls += 1
        return self.resumed(ctx, {"removed": ctx["kept"].filter(pl.col("upstream_index") % 2 == 1).select("id")})

    def resumed(self, ctx, loaded):
        kept = ctx["kept"]
        ctx.drop(quarantine_from(kept.join(loaded["removed"], on="id"), "drop_odd", pl.lit("odd")))
        return {"removed": loaded["removed"], "kept": kept.join(loaded["removed"], on="id", how="anti")}


class Leaky(Stage):
    name = "leaky"
    inputs = ("kept",)
    outputs = ("kept",)

    def run(self, ctx):
        return {"kept": ctx["kept"].head(1)}  # drops rows without quarantining them


def _ctx(out: Path, resume: bool = False) -> BuildContext:
    cfg = BuildConfig(out=out, recipe="demo", resume=resume, progress=False)
    return BuildContext(cfg, Recipe(name="t", manifests=[]), [], BuildDir(out))


def test_stages_run_in_order_with_markers_and_accounted_drops(tmp_path):
    DropOdd.calls = 0
    ctx = _ctx(tmp_path)
    assert run_stages([Source(), DropOdd()], ctx) is None
    assert ctx["kept"]["id"].to_list() == ["r0", "r2", "r4"]
    assert ctx.quarantine()["reason"].to_list() == ["odd", "odd"]
    assert ctx.dir.marker_info("drop_odd") == {"kept": 3, "removed": 2}
    assert set(ctx.timings) == {"source", "drop_odd"}


def test_resume_loads_a_finished_stage_and_still_quarantines_its_rows(tmp_path):
    DropOdd.calls = 0
    run_stages([Source(), DropOdd()], _ctx(tmp_path))
    again = _ctx(tmp_path, resume=True)
    run_stages([Source(), DropOdd()], again)
    assert DropOdd.calls == 1  # the second run loaded `removed` instead of computing it
    assert again["kept"].height == 3 and again.quarantine().height == 2
    fresh = _ctx(tmp_path)  # without --resume every stage runs
    run_stages([Source(), DropOdd()], fresh)
    assert DropOdd.calls == 2


def test_a_stage_that_loses_rows_fails_and_a_missing_input_is_named(tmp_path):
    with pytest.raises(VeroError, match="lost rows: 5 in, 1 kept"):
        run_stages([Source(), Leaky()], _ctx(tmp_path))
    with pytest.raises(VeroError, match=r"'drop_odd' needs \['kept'\]"):
        run_stages([DropOdd()], _ctx(tmp_path / "x"))


def test_stop_after_names_the_stage_it_stopped_at(tmp_path):
    ctx = _ctx(tmp_path)
    assert run_stages([Source(), DropOdd()], ctx, stop_after="source") == "source"
    assert "removed" not in ctx.values and not ctx.dir.done("drop_odd")
