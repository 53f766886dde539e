"""The openai backend against a local OpenAI-compatible server that serves real tiny-model generations."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from vero_data.cli import app


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    from vero_train.models.serve import make_server

    srv = make_server(str(tiny_model_dir), "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_openai_backend_returns_n_real_completions(server, tiny_model_dir):
    from PIL import Image

    from vero_train.models.backends import SamplingConfig, get_backend, request_from_row

    rows = [{"id": f"r{i}", "prompt": [{"role": "user", "content": "<image>What shape?"}],
             "images": [Image.new("RGB", (40, 40), "green")]} for i in range(3)]
    b = get_backend("openai", "tiny", base_url=server, concurrency=2, max_retries=0)
    s = SamplingConfig(max_tokens=5, seed=3)
    out = b.generate([request_from_row(r) for r in rows], 2, s)
    assert [len(c) for c in out] == [2, 2, 2]
    assert all(c.n_tokens > 0 for cs in out for c in cs)
    # greedy decoding through the server equals the transformers backend locally: the server really generates
    g = SamplingConfig(temperature=0.0, max_tokens=8)
    remote = b.generate([request_from_row(rows[0])], 1, g)[0][0].text
    local = get_backend("transformers", str(tiny_model_dir)).generate([request_from_row(rows[0])], 1, g)[0][0].text
    assert remote == local and remote


def test_openai_backend_retries_then_fails_cleanly():
    from vero_data.errors import VeroError
    from vero_train.models.backends import ChatRequest, SamplingConfig, get_backend

    b = get_backend("openai", "m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff=0.01, timeout=1)
    with pytest.raises(VeroError, match="after 2 tries"):
        b.generate([ChatRequest("x", [{"role": "user", "content": "hi"}])], 1, SamplingConfig(max_tokens=2))


def test_filter_cli_with_openai_backend(server, filter_input, tmp_path):
    res = CliRunner().invoke(app, ["data", "filter", "--pass-at-k", "2", "--backend", "openai", "--model", "tiny",
                                   "--base-url", server, "--data", str(filter_input), "--out", str(tmp_path / "o"),
                                   "--max-tokens", "5", "--limit", "3", "--keep-all", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["rows_in"] == 3 and summary["generated_rows"] == 3 and summary["tokens"] > 0
