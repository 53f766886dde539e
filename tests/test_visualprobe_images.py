"""VisualProbe's images: its val.json rows name them by path in the dataset repo (``images: ["VisualProbe_Easy/
images/…"]``); they are fetched from the subtask's hub repo as lmms-eval's visual_probe/utils.py does, and a
question is never sent without its image: an image that cannot be loaded stops the benchmark with the reason
(``results.json`` lists it under ``skipped``). Offline: hf_hub_download is replaced by a local repo folder."""

from __future__ import annotations

import io
from pathlib import Path

import huggingface_hub
import pytest
from PIL import Image

from vero_data.benchmarks import get_benchmark
from vero_data.benchmarks.loader import build_turn, load_docs
from vero_data.errors import SourceUnavailableError

SPEC = get_benchmark("visual_probe_reasoning")


def _jpeg(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _row(path: str, sub: str = "visual_probe_easy_reasoning", **kw) -> dict:
    # the keys of Mini-o3/VisualProbe_*/val.json (problem / solution / images) plus the subtask load_docs sets
    return {"problem": "<image>\nWhat colour is the flag on the small boat?", "solution": "red", "images": [path],
            "sub_task": sub, **kw}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """Mini-o3/VisualProbe_* repos as local folders; records every hf_hub_download call."""
    calls = []

    def fake_download(repo_id, filename, repo_type=None, revision=None, **kw):
        calls.append((repo_id, filename, repo_type))
        p = tmp_path / "hub" / repo_id / filename
        if not p.is_file():
            raise huggingface_hub.errors.EntryNotFoundError(f"{filename} not in {repo_id}")
        return str(p)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)

    def put(repo: str, name: str, data: bytes) -> bytes:
        p = tmp_path / "hub" / repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return data

    return calls, put


def _docs(rows):
    return list(load_docs(SPEC, rows=rows))


def test_spec_reads_the_images_field():
    assert SPEC.prompt.image_fields == ["images"] and SPEC.prompt.hub_images and SPEC.prompt.require_images


@pytest.mark.parametrize("path", ["VisualProbe_Easy/images/0001.jpg", "images/0001.jpg", "./images/0001.jpg"])
def test_hub_path_fetched_from_the_subtask_repo(hub, path):
    calls, put = hub
    data = put("Mini-o3/VisualProbe_Easy", "images/0001.jpg", _jpeg())
    (doc,) = _docs([_row(path)])
    msgs, imgs = build_turn(SPEC, doc)
    assert imgs == [data]
    assert msgs[0]["content"][0] == {"type": "image"}
    assert msgs[0]["content"][-1]["text"] == "What colour is the flag on the small boat?"
    assert calls == [("Mini-o3/VisualProbe_Easy", "images/0001.jpg", "dataset")]


def test_each_difficulty_uses_its_own_repo(hub):
    calls, put = hub
    put("Mini-o3/VisualProbe_Hard", "images/7.jpg", _jpeg((1, 2, 3)))
    (doc,) = _docs([_row("VisualProbe_Hard/images/7.jpg", "visual_probe_hard_reasoning")])
    assert len(build_turn(SPEC, doc)[1]) == 1
    assert calls == [("Mini-o3/VisualProbe_Hard", "images/7.jpg", "dataset")]


def test_local_file_needs_no_hub(hub, tmp_path):
    calls, _ = hub
    local = tmp_path / "VisualProbe_Easy" / "images" / "a.jpg"
    local.parent.mkdir(parents=True)
    local.write_bytes(_jpeg())
    (doc,) = _docs([_row(str(local))])
    assert build_turn(SPEC, doc)[1] == [local.read_bytes()] and calls == []


@pytest.mark.parametrize("case", ["not_in_repo", "undecodable", "no_images", "null_images"])
def test_unloadable_image_stops_the_benchmark_with_the_reason(hub, case):
    _, put = hub
    if case == "undecodable":
        put("Mini-o3/VisualProbe_Easy", "images/bad.jpg", b"\xff\xd8 not really a jpeg")
        row = _row("images/bad.jpg")
    elif case == "no_images":
        row = _row("x", images=[])
    elif case == "null_images":
        row = _row("x", images=None)
    else:
        row = _row("VisualProbe_Easy/images/gone.jpg")
    (doc,) = _docs([row])
    with pytest.raises(SourceUnavailableError) as e:
        build_turn(SPEC, doc)
    msg = str(e.value)
    assert "visual_probe_reasoning" in msg and doc["_id"] in msg and "not run without its images" in msg
    if case in ("not_in_repo", "undecodable"):
        assert "Mini-o3/VisualProbe_Easy" in msg


def test_eval_skips_visualprobe_and_sends_nothing_text_only(hub, tmp_path):
    """Through evaluate_benchmark: no request goes out without an image; the failure is the benchmark's."""
    from vero_train.evaluate import EvalConfig, evaluate_benchmark
    from vero_train.models.backends import Completion

    _, put = hub
    put("Mini-o3/VisualProbe_Easy", "images/ok.jpg", _jpeg())
    sent = []

    def gen(spec, reqs):
        sent.extend(reqs)
        return [[Completion(text="\\boxed{red}", n_tokens=3, finish_reason="stop")] for _ in reqs]

    cfg = EvalConfig(suite="veroeval30", model="fake", out=tmp_path / "e", batch_size=1)
    rows = [_row("images/ok.jpg"), _row("images/missing.jpg")]
    with pytest.raises(SourceUnavailableError, match="images/missing.jpg"):
        evaluate_benchmark(SPEC, cfg, gen, None, rows)
    assert len(sent) == 1 and len(sent[0].images) == 1
    recs = evaluate_benchmark(SPEC, cfg, gen, None, rows[:1])  # resumes: the first doc is not generated again
    assert len(sent) == 1 and recs[0]["response"] == "\\boxed{red}"
    assert Path(cfg.out / "samples" / "visual_probe_reasoning.jsonl").is_file()
