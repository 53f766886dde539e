"""Where a build's ingest parts run: here (``local``: this process, or a process pool with ``--workers``) or on a
Ray cluster (``ray``: Ray Data maps the same :func:`vero_data.stages.ingest.ingest_part` over the parts).

The unit of work is one ingest part (``part_rows`` upstream rows of one source): read → adapt → normalise →
canonicalise → validate → decode, hash and store images → one Parquet part + a marker. A part's output depends only
on its manifest, its index and the settings, never on which worker made it, so the stages after ingest (source
filters, dedup, mixture, export — run by the driver, in part order) write byte-identical shards under either
executor. On a multi-node cluster OUT must be on a file system every node sees (the parts are written into
``OUT/.run/``); see docs/scale.md.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

from vero_data.errors import ConfigError, MissingDependencyError

log = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")


def check_executor(name: str) -> str:
    """``name`` if it is an executor this build knows, else a one-line error."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown --executor {name!r}; use one of: {', '.join(EXECUTORS)}")
    return name


def require_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library ships in the `ray[data]` extra
    except ImportError as e:
        raise MissingDependencyError("--executor ray needs Ray Data: pip install 'vero-toolkit[ray]'") from e
    return ray


def init_ray(address: str | None, num_cpus: int) -> bool:
    """Connect to the cluster at ``address`` (``auto``: the one ``ray start`` made on this node; also read from
    ``RAY_ADDRESS``), or start a local one with ``num_cpus`` CPUs. Returns whether this call started Ray (then the
    caller shuts it down)."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    return True


def quiet_ray_data(ray) -> None:
    """Ray Data's own progress bars and per-dataset INFO lines would interleave with the build's progress bar."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray.data", "ray.data._internal.execution.streaming_executor"):
        logging.getLogger(name).setLevel(logging.ERROR)


class _PickledTask:
    """A Ray Data row function around ``run_one``: unpickle one task, run it, pickle its result (a PartResult or the
    SourceUnavailableError that says the source cannot be read). Ray ships ``run_one`` by reference, so this module
    never imports the stages it runs."""

    def __init__(self, run_one: Callable[[tuple], Any]):
        self.run_one = run_one

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"result": pickle.dumps(self.run_one(pickle.loads(row["task"])))}


def ray_map(tasks: list[tuple], run_one: Callable[[tuple], Any], address: str | None, num_cpus: int
            ) -> Iterator[Any]:
    """Run ``run_one`` over ``tasks`` as a Ray Data ``map`` (one block per task, one CPU each) and yield each result
    as it arrives (in no particular order: the build sorts parts by index)."""
    ray = require_ray()
    started = init_ray(address, num_cpus)
    quiet_ray_data(ray)
    try:
        ds = ray.data.from_items([{"task": pickle.dumps(t)} for t in tasks], override_num_blocks=max(1, len(tasks)))
        for row in ds.map(_PickledTask(run_one), num_cpus=1).iter_rows():
            yield pickle.loads(row["result"])
    finally:
        if started:
            ray.shutdown()


def run_tasks(tasks: list[tuple], run_one: Callable[[tuple], Any], *, executor: str, workers: int,
              ray_address: str | None = None) -> Iterator[Any]:
    """Every task's result, as each finishes: ``local`` in this process (or ``workers`` spawned processes),
    ``ray`` through :func:`ray_map`."""
    if executor == "ray" and tasks:
        yield from ray_map(tasks, run_one, ray_address, workers)
    elif workers > 1 and len(tasks) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            yield from pool.imap_unordered(run_one, tasks)
    else:
        for t in tasks:
            yield run_one(t)
