"""`vero data filter` with bad inputs: unscorable rows are quarantined (never generated for, never a crash), wrong
or corrupt shards and out-of-range flags fail in one line, the openai backend names the URL it could not use."""

from __future__ import annotations

import http.server
import json
import shutil
import threading

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vero_data.cli import app

runner = CliRunner(env={"COLUMNS": "1000"})  # rich wraps nothing: each error is one line
FLAGS = ["--pass-at-k", "2", "--backend", "transformers", "--max-tokens", "4", "--batch-size", "4"]


def _filter(*args):
    return runner.invoke(app, ["data", "filter", *FLAGS, *args])


def _rewrite(path, edit) -> list[str]:
    """Rewrite a shard with ``edit(rows)`` applied (same schema and metadata); returns the row ids."""
    t = pq.read_table(path)
    rows = t.to_pylist()
    edit(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), path)
    return [r["id"] for r in rows]


@pytest.fixture
def bad_rows_input(filter_input, tmp_path):
    """The six generated rows, four of them unscorable: a corrupt image, an unknown reward type, a null answer,
    an image without its <image> placeholder."""
    d = tmp_path / "in"
    shutil.copytree(filter_input, d)
    shards = sorted((d / "data").glob("*.parquet"))

    def first_two(rows):
        rows[0]["images"][0]["bytes"] = b"\x89PNG\r\n garbage, not an image"
        rows[1]["reward_type"] = "nonsense_type"

    def next_two(rows):
        rows[0]["answer"] = None
        rows[1]["prompt"] = [{**m, "content": m["content"].replace("<image>", "")} for m in rows[1]["prompt"]]

    a = _rewrite(shards[0], first_two)
    b = _rewrite(shards[1], next_two)
    good = [r["id"] for r in pq.read_table(shards[2]).to_pylist()]
    bad = {a[0]: "bad_image", a[1]: "unknown_reward_type", b[0]: "missing_answer", b[1]: "image_count_mismatch"}
    return d, bad, good


def test_unscorable_rows_are_quarantined_without_generation(tiny_model_dir, bad_rows_input, tmp_path, monkeypatch):
    from vero_train.models.backends import hf

    data, bad, good = bad_rows_input
    asked: list[str] = []
    real = hf.TransformersBackend.generate

    def recording(self, requests, n, sampling):
        asked.extend(r.id for r in requests)
        return real(self, requests, n, sampling)

    monkeypatch.setattr(hf.TransformersBackend, "generate", recording)
    out = tmp_path / "out"
    res = _filter("--model", str(tiny_model_dir), "--data", str(data), "--out", str(out), "--keep-all", "--json")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert sorted(asked) == sorted(good)  # no generation spent on the four bad rows

    q = {r["id"]: r for r in pq.read_table(out / "quarantine.parquet").to_pylist()}
    assert {i: r["reason"] for i, r in q.items()} == bad
    img_row = next(i for i, why in bad.items() if why == "bad_image")
    assert img_row in q[img_row]["detail"] and "image 0" in q[img_row]["detail"]
    assert "nonsense_type" in next(r["detail"] for r in q.values() if r["reason"] == "unknown_reward_type")

    kept = [r["id"] for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert sorted(kept) == sorted(good)
    con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
    diff = {r[0]: r[1:] for r in con.execute("SELECT id, pass_count, drop_reason, kept FROM difficulty").fetchall()}
    assert len(diff) == 6
    assert all(diff[i] == (None, why, False) for i, why in bad.items())
    assert all(diff[i][0] is not None and diff[i][2] for i in good)
    report = json.loads((out / "passk_report.json").read_text())
    assert report["rows_in"] == 6 and report["rows_kept"] == 2
    assert report["dropped"] == {why: 1 for why in bad.values()}
    assert "Quarantined before sampling" in (out / "README.md").read_text()

    # rerun: the good rows come from the cache, the bad ones are quarantined again, nothing is generated
    asked.clear()
    res = _filter("--model", str(tiny_model_dir), "--data", str(data), "--out", str(out), "--keep-all", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert asked == [] and summary["cached_rows"] == 2 and summary["dropped"] == report["dropped"]


def test_wrong_schema_shard_is_one_line(tmp_path):
    (tmp_path / "in" / "data").mkdir(parents=True)
    shard = tmp_path / "in" / "data" / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"foo": [1, 2], "bar": ["a", "b"]}), shard)
    res = _filter("--model", "tiny", "--data", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"error: {shard}: not a Vero dataset, missing column(s) id, data_source" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_truncated_shard_is_one_line(filter_input, tmp_path):
    (tmp_path / "in" / "data").mkdir(parents=True)
    src = sorted((filter_input / "data").glob("*.parquet"))[0]
    shard = tmp_path / "in" / "data" / src.name
    shard.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    res = _filter("--model", "tiny", "--data", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"error: {shard}: not a readable Parquet file" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_out_that_is_a_file_is_one_line(filter_input, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    res = _filter("--model", "tiny", "--data", str(filter_input), "--out", str(afile))
    assert res.exit_code == 1 and f"error: --out {afile} is an existing file" in res.output
    assert afile.read_text() == "x"


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-tokens", "0"], "Invalid value for '--max-tokens'"),
    (["--temperature", "-1"], "Invalid value for '--temperature'"),
    (["--pass-at-k", "0"], "Invalid value for '--pass-at-k'"),
    (["--limit", "0"], "Invalid value for '--limit'"),
])
def test_out_of_range_flags_are_usage_errors(filter_input, tmp_path, flags, message):
    res = _filter("--model", "tiny", "--data", str(filter_input), "--out", str(tmp_path / "o"), *flags)
    assert res.exit_code == 2 and message in res.output and not (tmp_path / "o").exists()


@pytest.mark.parametrize("threshold", ["2", "0", "-0.5"])
def test_pass_threshold_outside_zero_one_is_rejected(filter_input, tmp_path, threshold):
    res = _filter("--model", "tiny", "--data", str(filter_input), "--out", str(tmp_path / "o"),
                  "--pass-threshold", threshold)
    assert res.exit_code == 1 and "error: --pass-threshold must be in (0, 1]" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("opt", ["foo", "=3"])
def test_backend_opt_without_key_value_is_rejected(filter_input, tmp_path, opt):
    res = _filter("--model", "tiny", "--data", str(filter_input), "--out", str(tmp_path / "o"), "--backend-opt", opt)
    assert res.exit_code == 1 and f"error: --backend-opt {opt!r}: expected KEY=VALUE" in res.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--rows", "0"], "Invalid value for '--rows'"),
    (["--max-tokens", "0"], "Invalid value for '--max-tokens'"),
])
def test_bench_filter_bounds(flags, message):
    res = runner.invoke(app, ["bench", "filter", *flags])
    assert res.exit_code == 2 and message in res.output


# ----------------------------------------------------------------------------------------------------- openai
def _req():
    from vero_train.models.backends import ChatRequest

    return ChatRequest("row-1", [{"role": "user", "content": "hi"}])


@pytest.fixture
def answering():
    """A local HTTP server that answers every POST with ``status`` and ``body`` (set per test)."""

    class H(http.server.BaseHTTPRequestHandler):
        status, body = 404, b""

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(H.status)
            self.send_header("Content-Length", str(len(H.body)))
            self.end_headers()
            self.wfile.write(H.body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield H, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_openai_unreachable_names_the_url():
    from vero_data.errors import VeroError
    from vero_train.models.backends import SamplingConfig, get_backend

    b = get_backend("openai", "m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff=0.01, timeout=1)
    with pytest.raises(VeroError) as e:
        b.generate([_req()], 1, SamplingConfig(max_tokens=2))
    assert "after 2 tries" in str(e.value) and "POST http://127.0.0.1:9/v1/chat/completions" in str(e.value)


def test_openai_http_error_names_the_url_and_an_empty_body(answering):
    from vero_data.errors import VeroError
    from vero_train.models.backends import SamplingConfig, get_backend

    handler, root = answering  # a wrong --base-url: no /v1
    b = get_backend("openai", "m", base_url=root, max_retries=1, backoff=0.01, timeout=5)
    with pytest.raises(VeroError) as e:
        b.generate([_req()], 1, SamplingConfig(max_tokens=2))
    msg = str(e.value)
    assert f"POST {root}/chat/completions" in msg and "HTTP 404" in msg and "(empty body)" in msg
    assert "/v1" in msg and "\n" not in msg


def test_openai_200_that_is_not_a_chat_completion(answering):
    from vero_data.errors import VeroError
    from vero_train.models.backends import SamplingConfig, get_backend

    handler, root = answering
    handler.status, handler.body = 200, b"<html>hello</html>"
    b = get_backend("openai", "m", base_url=root + "/v1", max_retries=0, timeout=5)
    with pytest.raises(VeroError, match=r"POST .*/v1/chat/completions answered 200 but not with a chat completion"):
        b.generate([_req()], 1, SamplingConfig(max_tokens=2))


def test_input_without_pass_count_columns_is_annotated(tiny_model_dir, filter_input, tmp_path):
    (tmp_path / "in" / "data").mkdir(parents=True)
    src = sorted((filter_input / "data").glob("*.parquet"))[0]
    pq.write_table(pq.read_table(src).drop_columns(["pass_count", "k"]), tmp_path / "in" / "data" / src.name)
    out = tmp_path / "out"
    res = _filter("--model", str(tiny_model_dir), "--data", str(tmp_path / "in"), "--out", str(out), "--keep-all")
    assert res.exit_code == 0, res.output + repr(res.exception)
    rows = pq.read_table(out / "data" / src.name).to_pylist()
    assert len(rows) == 2 and all(r["k"] == 2 and r["pass_count"] is not None for r in rows)


def test_generate_folder_with_a_quarantine_file_is_read_through_its_shards(tmp_path):
    """`vero data generate` writes its shards and, when a row is dropped, quarantine.parquet at the top of OUT:
    the filter samples the shards and leaves the quarantine file alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.api import generate_to_dir
    from vero_train.passk import input_shards

    generate_to_dir("counting", 4, 1, tmp_path / "gen")
    pq.write_table(pa.table({"id": ["x"], "reason": ["bad_image"]}), tmp_path / "gen" / "quarantine.parquet")
    shards, src = input_shards(str(tmp_path / "gen"))
    assert [s.path for s in shards] == sorted((tmp_path / "gen").glob("train-*.parquet"))
    assert src == tmp_path / "gen"
