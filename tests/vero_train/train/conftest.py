"""Fixtures for `vero train` tests: a few generated rows per category as Vero shards (DIR/data/*.parquet)."""

from __future__ import annotations

import shutil

import pytest

GENERATORS = ("bar_chart", "equation", "maze_route", "shape_colour", "referring_boxes", "ui_click",
              "constrained_description")


@pytest.fixture(scope="session")
def vero_shards(tmp_path_factory):
    """A Vero dataset directory: 4 rows from each of 7 generators covering the six categories."""
    from vero_data.api import generate_to_dir

    root = tmp_path_factory.mktemp("shards")
    (root / "data").mkdir()
    for i, name in enumerate(GENERATORS):
        res = generate_to_dir(name, n=4, seed=i, out=root / "gen" / name)
        shutil.copy(res["path"], root / "data" / f"train-{i:05d}-of-{len(GENERATORS):05d}.parquet")
    shutil.rmtree(root / "gen")
    return root
