"""The vLLM judge: guided decoding parameters (CPU, against a stand-in `vllm` module) and, where a GPU and vLLM
are present (pytest -m gpu), the tiny model constrained to the verdict schema end to end."""

from __future__ import annotations

import json
import sys
import types

import pytest

from vero_data.curate.parse import QF_SCHEMA


def _stand_in_vllm(monkeypatch, new_api: bool):
    """A `vllm` module whose SamplingParams records its arguments (StructuredOutputsParams on new releases,
    GuidedDecodingParams on old ones)."""
    vllm = types.ModuleType("vllm")
    sp = types.ModuleType("vllm.sampling_params")

    class Params:
        def __init__(self, **kw):
            self.kw = kw

    vllm.SamplingParams = Params
    if new_api:
        sp.StructuredOutputsParams = lambda json: ("structured", json)
    else:
        sp.GuidedDecodingParams = lambda json: ("guided", json)
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)


class _LLM:
    def __init__(self):
        self.params = None

    def chat(self, messages, sampling_params, use_tqdm):
        self.params = sampling_params
        out = types.SimpleNamespace(text='{"x": 1}', token_ids=[1, 2, 3], finish_reason="stop")
        return [types.SimpleNamespace(outputs=[out], prompt_token_ids=list(range(17))) for _ in messages]


@pytest.mark.parametrize("new_api, key, tag", [(True, "structured_outputs", "structured"),
                                                (False, "guided_decoding", "guided")])
def test_vllm_judge_passes_the_schema(monkeypatch, new_api, key, tag):
    _stand_in_vllm(monkeypatch, new_api)
    from vero_train.curate_judge import _vllm_guided
    from vero_train.models.backends import ChatRequest, SamplingConfig

    backend = types.SimpleNamespace(llm=_LLM(), specials=())
    reqs = [ChatRequest("a", [{"role": "user", "content": "judge"}])]
    out = _vllm_guided(backend, reqs, SamplingConfig(temperature=0.6, top_p=0.8, top_k=20, max_tokens=64, seed=42),
                       QF_SCHEMA)
    assert out[0][0].text == '{"x": 1}' and out[0][0].n_tokens == 3 and out[0][0].prompt_tokens == 17
    kw = backend.llm.params.kw
    assert kw[key] == (tag, QF_SCHEMA)
    assert (kw["temperature"], kw["top_p"], kw["top_k"], kw["seed"], kw["max_tokens"]) == (0.6, 0.8, 20, 42, 64)


@pytest.mark.gpu
def test_tiny_model_under_guided_decoding_answers_the_schema(tiny_model_dir, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    pytest.importorskip("vllm")
    from typer.testing import CliRunner

    from tests.vero_data.curate.fake_judge import ROWS_SMALL, write_rows
    from vero_data.cli import app

    data = write_rows(tmp_path / "in", ROWS_SMALL)
    res = CliRunner().invoke(app, ["data", "curate", str(data), "--question-filter", "--model", str(tiny_model_dir),
                                   "--backend", "vllm", "--max-tokens", "256", "--json", "--out", str(tmp_path / "o"),
                                   "--backend-opt", "max_model_len=4096", "--backend-opt",
                                   "gpu_memory_utilization=0.3", "--backend-opt", "enforce_eager=true"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout.strip().splitlines()[-1])
    assert rep["guided"] is True and rep["requests"] >= 3
    # random weights, but every reply is forced into the schema: a reply is refused only when the token limit cut
    # its reason string short
    import polars as pl

    q = tmp_path / "o" / "quarantine.parquet"
    if q.exists():
        bad = pl.read_parquet(q).filter(pl.col("reason") == "judge_unparseable")
        assert all("cut at --max-tokens" in d for d in bad["detail"]), bad["detail"].to_list()
