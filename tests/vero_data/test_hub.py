"""The Hub probe: hub loaders fail at once with one clear error instead of sitting in HTTP backoff."""

from __future__ import annotations

import socket

import pytest

from vero_data import hub
from vero_data.errors import SourceUnavailableError
from vero_data.hub import require_hub

PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def online(monkeypatch):
    """Online mode (the test suite runs with HF_HUB_OFFLINE=1), no proxies, a fresh probe cache."""
    for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", *PROXY_VARS):
        monkeypatch.delenv(v, raising=False)
    hub.reset_probe_cache()
    yield monkeypatch
    hub.reset_probe_cache()


@pytest.fixture
def listening():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        yield s.getsockname()[1]


@pytest.fixture
def no_load_dataset(monkeypatch):
    import datasets

    def called(*a, **k):
        raise AssertionError("load_dataset must not be reached when the Hub is unreachable")

    monkeypatch.setattr(datasets, "load_dataset", called)


def test_unreachable_endpoint_raises_one_clear_error(online):
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(SourceUnavailableError) as e:
        require_hub("org/name")
    msg = str(e.value)
    assert "org/name" in msg and "127.0.0.1" in msg and "HF_HUB_OFFLINE=1" in msg and "\n" not in msg


def test_reachable_endpoint_passes(online, listening):
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listening}")
    require_hub("org/name")


@pytest.mark.parametrize("var", ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])
def test_offline_mode_skips_the_probe(online, var):
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    online.setenv(var, "1")
    require_hub("org/name")


def test_local_paths_need_no_hub(online, tmp_path):
    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    require_hub(str(tmp_path))


def test_the_proxy_is_probed_when_set(online, listening):
    online.setenv("HF_ENDPOINT", f"https://127.0.0.1:{listening}")  # reachable itself
    online.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(SourceUnavailableError, match="proxy"):
        require_hub("org/name")


def test_benchmark_loader_fails_before_load_dataset(online, no_load_dataset):
    from vero_data.benchmarks.loader import _hub_rows

    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(SourceUnavailableError, match="lmms-lab/ChartQA"):
        _hub_rows("lmms-lab/ChartQA", None, "test", None, True)


def test_build_hub_source_fails_before_load_dataset(online, no_load_dataset):
    from vero_data.manifest import Manifest
    from vero_data.sources.readers import _iter_hub

    online.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    m = Manifest.model_validate({"name": "chartqa_t", "category": "chart_ocr", "adapter": "generic_vqa",
                                 "source": {"hub": {"path": "HuggingFaceM4/ChartQA", "split": "train"}}})
    with pytest.raises(SourceUnavailableError, match="chartqa_t: hub dataset HuggingFaceM4/ChartQA"):
        list(_iter_hub(m, 0, 3))
