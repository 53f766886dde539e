"""vLLM backend: runs only where a CUDA GPU and vLLM are present (pytest -m gpu)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gpu


def _need_gpu_vllm():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    pytest.importorskip("vllm")


def test_vllm_backend_n_samples_with_images(tiny_model_dir):
    _need_gpu_vllm()
    from PIL import Image

    from vero_train.models.backends import SamplingConfig, get_backend, request_from_row

    b = get_backend("vllm", str(tiny_model_dir), max_model_len=2048, gpu_memory_utilization=0.3, enforce_eager=True)
    rows = [{"id": f"r{i}", "prompt": [{"role": "user", "content": "<image>How many?"}],
             "images": [Image.new("RGB", (96, 64), "red")]} for i in range(3)]
    out = b.generate([request_from_row(r) for r in rows], 4, SamplingConfig(max_tokens=8, seed=0))
    assert [len(c) for c in out] == [4, 4, 4]
    assert all(0 < c.n_tokens <= 8 for cs in out for c in cs)


def test_filter_cli_with_vllm(tiny_model_dir, filter_input, tmp_path):
    _need_gpu_vllm()
    import json

    from typer.testing import CliRunner

    from vero_data.cli import app

    res = CliRunner().invoke(app, ["data", "filter", "--pass-at-k", "4", "--backend", "vllm", "--model",
                                   str(tiny_model_dir), "--data", str(filter_input), "--out", str(tmp_path / "o"),
                                   "--max-tokens", "8", "--keep-all", "--json", "--backend-opt", "max_model_len=2048",
                                   "--backend-opt", "gpu_memory_utilization=0.3", "--backend-opt", "enforce_eager=true"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["rows_in"] == 6
