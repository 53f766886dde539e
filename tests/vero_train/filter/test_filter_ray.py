"""`vero data filter --executor ray`: chunks sampled by a Ray actor pool on a local cluster give the local executor's
shards, pass counts, completions and catalog, and a run resumes from another executor's cache."""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vero_data.cli import app
from vero_data.errors import ConfigError, MissingDependencyError
from vero_train.passk import PassAtKConfig, filter_pass_at_k

FLAGS = ["--pass-at-k", "2", "--backend", "transformers", "--max-tokens", "6", "--batch-size", "2", "--keep-all",
         "--save-completions"]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _filter(*args):
    res = CliRunner().invoke(app, ["data", "filter", *FLAGS, *args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def _digest(out) -> str:
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes()
                                   for p in sorted((out / "data").glob("*.parquet")))).hexdigest()


def _table(out, sql: str) -> list[tuple]:
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _same_outputs(a, b) -> None:
    assert _digest(a) == _digest(b)
    assert pq.read_table(a / "completions.parquet").equals(pq.read_table(b / "completions.parquet"))
    cols = "id, pass_count, mean_reward, mean_tokens, truncated, drop_reason, kept"
    assert _table(a, f"SELECT {cols} FROM difficulty ORDER BY id") == _table(b, f"SELECT {cols} FROM difficulty "
                                                                               "ORDER BY id")


def test_ray_gives_the_local_executors_outputs(ray_cluster, tiny_model_dir, filter_input, tmp_path):
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    _filter("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(local))
    res = _filter("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(on_ray),
                  "--executor", "ray")
    assert "generated 6" in res.output
    _same_outputs(local, on_ray)


def test_ray_resumes_from_a_partial_cache(ray_cluster, tiny_model_dir, filter_input, tmp_path):
    """A run stopped after 4 rows (here: --limit 4, locally) is finished on Ray: only the rest is sampled."""
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    _filter("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(local))
    _filter("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(on_ray), "--limit", "4")
    res = _filter("--model", str(tiny_model_dir), "--data", str(filter_input), "--out", str(on_ray),
                  "--executor", "ray")
    assert "cached 4, generated 2" in res.output
    _same_outputs(local, on_ray)


def test_ray_flags_are_checked_before_out_is_touched(tmp_path):
    with pytest.raises(ConfigError, match="--ray-address is for --executor ray"):
        PassAtKConfig(data="x", out=tmp_path / "o", ray_address="auto")
    with pytest.raises(ConfigError, match="unknown --executor 'spark'"):
        PassAtKConfig(data="x", out=tmp_path / "o", executor="spark")
    with pytest.raises(ConfigError, match="drop --data-parallel"):
        PassAtKConfig(data="x", out=tmp_path / "o", executor="ray", data_parallel=2)


def test_vllm_on_ray_without_ray_llm_names_the_extra(filter_input, tmp_path, monkeypatch):
    pytest.importorskip("ray.data", reason="the ray extra is not installed")
    import builtins

    real = builtins.__import__

    def no_ray_llm(name, *a, **k):
        if name.startswith("ray.data.llm"):
            raise ImportError("No module named 'ray.data.llm'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray_llm)
    with pytest.raises(MissingDependencyError, match=r"ray\.data\.llm: pip install 'vero-toolkit\[gpu\]'"):
        filter_pass_at_k(PassAtKConfig(data=str(filter_input), out=tmp_path / "o", backend="vllm", executor="ray"))
    assert not (tmp_path / "o").exists()


def test_vllm_on_ray_goes_through_ray_data_llm(ray_cluster, tiny_model_dir, filter_input, tmp_path, monkeypatch):
    """The ray.data.llm path with a stand-in processor (no vLLM here): one request per sample, each with its own
    seed and the row's messages, image parts included; samples come back scored and cached per chunk."""
    import sys
    import types

    def build_llm_processor(config, preprocess, postprocess):
        def engine(row):  # runs in a Ray worker: it reports what it was asked through the completion text
            row = preprocess(row)
            images = [p["image"] for m in row["messages"] if isinstance(m["content"], list) for p in m["content"]
                      if p["type"] == "image"]
            text = (f"<think>seed {row['sampling_params']['seed']} images {[im.size[0] > 0 for im in images]}"
                    "</think><answer>2</answer>")
            return postprocess({**row, "generated_text": text, "num_generated_tokens": 3})

        return lambda ds: ds.map(engine)

    fake = types.ModuleType("ray.data.llm")
    fake.build_llm_processor = build_llm_processor
    fake.vLLMEngineProcessorConfig = lambda **kw: kw
    monkeypatch.setitem(sys.modules, "ray.data.llm", fake)
    out = tmp_path / "o"
    res = filter_pass_at_k(PassAtKConfig(data=str(filter_input), out=out, model=str(tiny_model_dir), k=2,
                                         backend="vllm", executor="ray", max_tokens=6, batch_size=2, keep_all=True,
                                         save_completions=True, progress=False))
    assert res.generated_rows == 6 and res.tokens == 6 * 2 * 3 and sum(res.histogram.values()) == 6
    texts = pq.read_table(out / "completions.parquet").column("text").to_pylist()
    assert len(texts) == 12 and len({t.split(" images")[0] for t in texts}) == 12  # a seed per (row, sample)
    assert all("images [True]" in t for t in texts)  # every generated row has one decoded image


def test_ray_reads_chunks_as_actors_free_up(ray_cluster, tiny_model_dir, filter_input, tmp_path):
    """The driver does not read the input ahead of the cluster: with 2 CPUs (2 actors) at most 4 chunks wait, so the
    first result comes back after 5 of 6 one-row chunks were read at most, and every chunk returns in order."""
    from vero_train.passk.inputs import Chunk, input_shards, plan_chunks, read_rows
    from vero_train.passk.ray_pool import sample_on_ray

    cfg = PassAtKConfig(data=str(filter_input), out=tmp_path / "o", model=str(tiny_model_dir), k=2,
                        backend="transformers", max_tokens=6, batch_size=1, executor="ray")
    shards, _ = input_shards(cfg.data)
    plan, total = plan_chunks(shards, cfg.batch_size, None)
    assert total == 6
    read: list[int] = []

    def chunks():
        for ci, (si, start, length) in enumerate(plan):
            rows = read_rows(shards[si], start, length).to_pylist()
            read.append(ci)
            todo = rows if ci != 2 else []  # chunk 2 is "cached": it comes back in its place, unsampled
            yield Chunk(ci, length, {r["id"]: r for r in rows}, rows, {}, todo, True)

    seen, read_at_first = [], None
    for ch, samples in sample_on_ray(cfg, chunks()):
        read_at_first = len(read) if read_at_first is None else read_at_first
        seen.append(ch.index)
        assert (samples is None) == (ch.index == 2)
        if samples is not None:
            assert [len(s) for s in samples.samples.values()] == [2]
    assert seen == list(range(6)) and read_at_first <= 5


def test_input_rows_are_read_by_row_group(tmp_path):
    """A chunk reads the row groups that hold it, not the shard: a 600K-row input is never held whole."""
    import pyarrow as pa

    from vero_train.passk.inputs import InputShard, read_rows, shard_rows

    path = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(250)]}), path, row_group_size=100)
    shard = InputShard(path.name, None, path)
    assert shard_rows(shard) == 250
    assert read_rows(shard, 95, 10).column("id").to_pylist() == [f"r{i}" for i in range(95, 105)]
    assert shard._groups[:2] == (0, 1) and shard._groups[2].num_rows == 200
    assert read_rows(shard, 240, 32).column("id").to_pylist() == [f"r{i}" for i in range(240, 250)]
    assert shard._groups[:2] == (2, 2) and shard._groups[2].num_rows == 50
