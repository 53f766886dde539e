from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def filter_input(tmp_path_factory):
    """Six generated rows (three generators) in the `vero data build` layout: DIR/data/*.parquet."""
    from vero_train.passk import make_demo_input

    return make_demo_input(tmp_path_factory.mktemp("filter-in"), rows=6, seed=0,
                           generators=("relative_position", "counting", "equation"))
