"""veRL import/export of the released Vero-600K: byte-compatible with Vero's download script, lossless round trip."""

import io
import json

import pytest
from PIL import Image

import vero_data.sources.adapters  # noqa: F401
from vero_data.errors import SourceUnavailableError
from vero_data.manifest import Manifest, Vero600kSource
from vero_data.schema import dumps_extra
from vero_data.sources.base import ADAPTERS, AdapterContext
from vero_data.verl import (
    CONFIG_KEY,
    ROW_KEY,
    SPLIT_KEY,
    canonical_from_verl,
    export_verl,
    iter_vero600k,
    jsonl_name,
    read_verl_jsonl,
    record_from_hf_row,
    sanitize_component,
    verl_from_canonical,
)

try:
    from vero_data.stages import normalise
except ImportError:  # the build stages are another module's; the round trip above stands without them
    normalise = None


def _img(fmt="JPEG", color=(10, 120, 200)):
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), color).save(buf, format=fmt)
    return buf.getvalue()


def released_rows():
    """Rows as the hub yields them with the image column cast to Image(decode=False)."""
    return [
        {  # list-of-messages prompt with typed parts, explicit id, tolerance as a string
            "id": "chartqa/00017",
            "data_source": "chartqa_difficulty",
            "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is the peak value?"}]}],
            "image": {"bytes": _img(), "path": "chart 17.JPG"},
            "ability": "chart_ocr",
            "reward_model": {"style": "rule", "ground_truth": " 42.5\n"},
            "extra_info": {"id": "chartqa/00017", "index": "17", "question": "What is the peak value?", "answer": "42.5",
                           "reward_type": "numeric", "tolerance": "0.01", "domain": "chart_ocr"},
        },
        {  # dict-of-lists prompt, no top-level id, unicode, no tolerance, no extension on the image path
            "data_source": "kvg",
            "prompt": {"role": ["system", "user"], "content": ["Be brief.", "<image>Point at the Eiffel Tower — où est-elle ?"]},
            "image": {"bytes": _img("PNG"), "path": None},
            "ability": "knowledge_recognition",
            "reward_model": {"style": "rule", "ground_truth": '[{"bbox_2d": [1, 2, 10, 12]}]'},
            "extra_info": {"id": "kvg_7", "index": None, "answer": None, "reward_type": "clicking"},
        },
        {  # neither id: falls back to <config>_<split>_<row>; empty prompt → question
            "data_source": "vizwiz",
            "prompt": [],
            "image": {"bytes": _img(color=(0, 0, 0)), "path": "x.webp"},
            "ability": "knowledge_recognition",
            "reward_model": {"style": "rule", "ground_truth": "['red', 'dark red']"},
            "extra_info": {"question": "What colour is the mug?", "reward_type": "list_string_match", "tolerance": "abc"},
        },
    ]


def script_output(rows, config, split, out):
    """What Vero's download script writes for these rows (vero600k_format.md §3), as expected bytes."""
    lines, files = [], {}
    for i, row in enumerate(rows):
        rec = record_from_hf_row(row, config, split, i)
        files[rec["images"][0]] = row["image"]["bytes"]
        lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
    (out / jsonl_name(split)).write_text("".join(lines), encoding="utf-8")
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return "".join(lines), files


def test_record_layout_matches_download_script():
    rows = released_rows()
    recs = [record_from_hf_row(r, "knowledge_recognition-kvg", "train", i) for i, r in enumerate(rows)]
    assert list(recs[0]) == ["id", "data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
    assert list(recs[0]["extra_info"]) == ["id", "split", "index", "question", "answer", "reward_type", "tolerance"]
    assert recs[0]["prompt"] == [{"role": "user", "content": "<image>What is the peak value?"}]
    assert recs[0]["images"] == ["images/train/knowledge_recognition-kvg/00000000_chartqa_00017.jpg"]
    assert recs[0]["extra_info"]["index"] == 17 and recs[0]["extra_info"]["tolerance"] == 0.01
    assert recs[1]["id"] == "kvg_7" and recs[1]["images"][0].endswith("00000001_kvg_7.png")
    assert recs[1]["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert recs[1]["extra_info"]["question"] == "<image>Point at the Eiffel Tower — où est-elle ?"  # first user turn
    assert recs[2]["id"] == "knowledge_recognition-kvg_train_2"
    assert recs[2]["prompt"] == [{"role": "user", "content": "What colour is the mug?"}]
    assert recs[2]["extra_info"]["tolerance"] is None and recs[2]["extra_info"]["index"] == 2


def test_sanitize_component():
    assert sanitize_component(" a/b c.png ") == "a_b_c.png"
    assert sanitize_component("..__") == "item"
    assert sanitize_component("stem-ai2d_merged") == "stem-ai2d_merged"


def test_jsonl_round_trip_is_byte_identical(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    text, files = script_output(released_rows(), "stem-mixed", "train", src)
    canon = list(read_verl_jsonl(src / jsonl_name("train")))
    assert [c["category"] for c in canon] == ["chart_ocr", "knowledge", "knowledge"]
    assert canon[0]["reward_type"] == "numeric" and canon[0]["answer"] == " 42.5\n"
    assert json.loads(canon[0]["extra_info"])["tolerance"] == 0.01
    paths = export_verl(canon, dst, split="train")
    assert (dst / jsonl_name("train")).read_text(encoding="utf-8") == text
    assert paths[0] == dst / jsonl_name("train") and len(paths) == 4
    for rel, data in files.items():
        assert (dst / rel).read_bytes() == data


def test_hf_row_through_adapter_round_trip():
    rows = released_rows()
    manifest = Manifest.model_validate({"name": "v", "category": "knowledge", "adapter": "verl",
                                        "reward_type": "string_match",
                                        "source": {"vero600k": {"config": "cfg", "split": "train"}}})
    for i, row in enumerate(rows):
        row = {**row, CONFIG_KEY: "cfg", SPLIT_KEY: "train", ROW_KEY: i}
        s = ADAPTERS.get("verl")(row, AdapterContext(manifest, i, {}))
        expected = record_from_hf_row(row, "cfg", "train", i)
        assert s.messages == expected["prompt"] and s.upstream_id == expected["id"]
        assert s.images == [row["image"]]
        # what the normaliser makes of it (prompt = messages, images kept encoded)
        canon = {"id": "h", "data_source": row["data_source"], "category": "knowledge", "prompt": s.messages,
                 "images": s.images, "answer": s.answer, "reward_type": s.reward_type,
                 "extra_info": dumps_extra(s.extra_info), "split": s.split}
        assert verl_from_canonical(canon, split="train", row_index=i) == expected
        if normalise is not None:  # through the real normaliser (answers stripped, images kept encoded)
            built = normalise.normalise_sample(s, data_source=row["data_source"], category="knowledge", license="x",
                                               manifest="v", manifest_version="1", upstream_index=i)
            assert verl_from_canonical(built, split="train", row_index=i) == expected
    clicking = ADAPTERS.get("verl")({**rows[1], CONFIG_KEY: "cfg", SPLIT_KEY: "train", ROW_KEY: 1},
                                    AdapterContext(manifest, 1, {}))
    assert clicking.reward_type == "clicking" and clicking.extra_info["image_sizes"] == [[24, 16]]


def test_canonical_row_without_verl_meta_exports():
    row = {"id": "abc123", "data_source": "tallyqa", "category": "grounding_counting_search",
           "prompt": [{"role": "user", "content": "<image>\nHow many dogs?"}],
           "images": [{"bytes": _img(), "path": "dog.jpg"}], "answer": "3", "reward_type": "counting",
           "extra_info": dumps_extra({"question": "How many dogs?"}), "split": "train"}
    rec = verl_from_canonical(row, split="val", row_index=4)
    assert rec == {
        "id": "abc123", "data_source": "tallyqa", "prompt": row["prompt"],
        "images": ["images/val/tallyqa/00000004_abc123.jpg"], "ability": "counting_grounding_search",
        "reward_model": {"style": "rule", "ground_truth": "3"},
        "extra_info": {"id": "abc123", "split": "val", "index": 4, "question": "How many dogs?", "answer": "3",
                       "reward_type": "counting", "tolerance": None},
    }


def test_canonical_from_verl_unknown_ability():
    rec = record_from_hf_row(released_rows()[0], "c", "train", 0) | {"ability": "mystery"}
    with pytest.raises(ValueError):
        canonical_from_verl(rec, images=[{"bytes": b"x", "path": "a.png"}])
    assert canonical_from_verl(rec, images=[{"bytes": b"x", "path": "a.png"}], category="stem")["category"] == "stem"


class _FakeDS:
    def __init__(self, rows):
        self.rows, self.features = rows, None

    def __iter__(self):
        return iter(self.rows)


def test_iter_vero600k_falls_back_and_limits(monkeypatch):
    import datasets

    def configs(repo, revision=None):
        if repo.startswith("zlab"):
            raise ConnectionError("offline")
        return ["a", "b"]

    monkeypatch.setattr(datasets, "get_dataset_config_names", configs)
    monkeypatch.setattr(datasets, "load_dataset", lambda repo, cfg, **kw: _FakeDS([{"id": f"{cfg}{i}"} for i in range(2)]))
    out = list(iter_vero600k(Vero600kSource(), limit=3))
    assert [(i, uid) for i, uid, _ in out] == [(0, "a0"), (1, "a1"), (2, "b0")]
    assert out[2][2][CONFIG_KEY] == "b" and out[2][2][ROW_KEY] == 0


def test_iter_vero600k_unreachable(monkeypatch):
    import datasets

    def boom(*a, **k):
        raise ConnectionError("Couldn't reach the Hub")

    monkeypatch.setattr(datasets, "load_dataset", boom)
    with pytest.raises(SourceUnavailableError) as e:
        list(iter_vero600k(Vero600kSource(config="stem-ai2d_merged")))
    msg = str(e.value)
    assert "zlab-princeton/Vero-600k" in msg and "gsarch/Vero-600k" in msg and "\n" not in msg
