"""Model paths, tiny-model options and `vero model serve` fail in one line: a folder that is not a model, a missing
local path (not "the Hub is not reachable"), unknown overrides, --out that is a file, a port in use."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from vero_data import hub
from vero_data.cli import app
from vero_data.errors import ConfigError, SourceUnavailableError
from vero_data.hub import require_hub

runner = CliRunner(env={"COLUMNS": "1000"})  # rich wraps nothing: each error is one line


@pytest.fixture
def not_a_model(tmp_path):
    d = tmp_path / "notamodel"
    d.mkdir()
    (d / "foo.txt").write_text("hi")
    return d


# ----------------------------------------------------------------------------------------------------- hub.py
@pytest.fixture
def unreachable_hub(monkeypatch):
    """Online mode with an endpoint nothing listens on: a probe would say "not reachable"."""
    for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
              "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(v, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    hub.reset_probe_cache()
    yield
    hub.reset_probe_cache()


@pytest.mark.parametrize("name", ["/tmp/vero-no-such/model", "./nope", "../nope", "~/nope-vero", "a/b/c"])
def test_missing_local_path_says_so_instead_of_probing(unreachable_hub, name):
    with pytest.raises(SourceUnavailableError) as e:
        require_hub(name, f"model {name}")
    assert str(e.value) == f"no such file or directory: {name}"


def test_missing_local_path_says_so_offline_too(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SourceUnavailableError, match="no such file or directory: /tmp/vero-no-such/m"):
        require_hub("/tmp/vero-no-such/m")


def test_hub_ids_still_probe(unreachable_hub, tmp_path):
    from vero_data.hub import looks_like_path

    with pytest.raises(SourceUnavailableError, match="not reachable"):
        require_hub("org/name")
    require_hub(str(tmp_path))  # an existing path needs no hub
    assert not looks_like_path("org/name") and not looks_like_path("gpt2")
    assert not looks_like_path("https://example.org/a/b")


# ----------------------------------------------------------------------------------------------------- backends
def test_folder_without_config_json_is_not_a_model(not_a_model, tmp_path):
    from vero_train.models.backends import check_model_path
    from vero_train.models.backends.hf import TransformersBackend
    from vero_train.models.backends.vllm import VLLMBackend

    for make in (TransformersBackend, VLLMBackend):  # both check before importing torch / vllm
        with pytest.raises(ConfigError, match=f"model directory {not_a_model} has no config.json"):
            make(str(not_a_model))
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        check_model_path(str(f))
    check_model_path("org/name")  # hub ids pass


def test_filter_with_a_non_model_folder_is_one_line(not_a_model, filter_input_small, tmp_path):
    res = runner.invoke(app, ["data", "filter", "-k", "2", "--backend", "transformers", "--max-tokens", "2",
                              "--model", str(not_a_model), "--data", str(filter_input_small),
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.startswith(f"error: model directory {not_a_model} has no config.json")
    res = runner.invoke(app, ["data", "filter", "-k", "2", "--backend", "transformers", "--max-tokens", "2",
                              "--model", str(tmp_path / "nope"), "--data", str(filter_input_small),
                              "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1 and f"error: no such file or directory: {tmp_path / 'nope'}" in res.output


@pytest.fixture
def filter_input_small(tmp_path_factory):
    from vero_train.passk import make_demo_input

    return make_demo_input(tmp_path_factory.mktemp("in"), rows=1, seed=0, generators=("counting",))


# ----------------------------------------------------------------------------------------------------- serve
def test_serve_on_a_port_in_use_is_one_line_before_loading(monkeypatch, not_a_model):
    from vero_data.errors import VeroError
    from vero_train.models import backends, serve

    def no_load(*a, **k):
        raise AssertionError("the model must not load when the port is taken")

    monkeypatch.setattr(backends, "get_backend", no_load)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(VeroError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve.make_server("anything", "127.0.0.1", port)
        res = runner.invoke(app, ["model", "serve", "--model", str(not_a_model), "--port", str(port)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_serve_with_a_non_model_folder_is_one_line(not_a_model):
    res = runner.invoke(app, ["model", "serve", "--model", str(not_a_model), "--port", "0"])
    assert res.exit_code == 1 and res.output.startswith(f"error: model directory {not_a_model} has no config.json")


# ----------------------------------------------------------------------------------------------------- tiny
@pytest.mark.parametrize(("override", "message"), [
    ("num_hidden_layers", "error: --override 'num_hidden_layers': expected KEY=VALUE"),
    ("nonsense_key=4", "error: unknown tiny-model override(s) nonsense_key; valid: max_pixels, hidden_size"),
    ("text_nonsense=4", "error: unknown tiny-model override(s) text_nonsense"),
    ("max_pixels=abc", "error: tiny-model override max_pixels='abc'"),
])
def test_tiny_bad_overrides_are_one_line(tmp_path, override, message):
    res = runner.invoke(app, ["model", "tiny", "--out", str(tmp_path / "m"), "--override", override])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert res.output.startswith(message), res.output
    assert not (tmp_path / "m").exists()  # rejected before any build work


def test_tiny_override_with_a_wrong_value_is_one_line(tmp_path):
    res = runner.invoke(app, ["model", "tiny", "--out", str(tmp_path / "m"), "--override", "num_hidden_layers=abc"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert "num_hidden_layers" in res.output and len(res.output.strip().splitlines()) == 1


def test_tiny_out_that_is_a_file_is_one_line(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    res = runner.invoke(app, ["model", "tiny", "--out", str(f)])
    assert res.exit_code == 1 and res.output.startswith(f"error: --out {f} is an existing file")
