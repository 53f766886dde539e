"""The vero600k recipe: 59 slots matching the paper's Table A1, every adapter registered; the source listing."""

import json
from collections import Counter
from pathlib import Path

import pytest

import vero_data.sources.adapters  # noqa: F401
from vero_data.manifest import load_manifest, load_recipe, recipe_manifests
from vero_data.paths import manifests_dir
from vero_data.sources.base import ADAPTERS
from vero_data.sources.listing import plan, sources_table

SPEC = Path("/work/shared/spec/sources_upstream.json")
# Table A1 (paper arXiv 2604.04917v3): sources and retained rows per category.
TABLE_A1_PER_CATEGORY = {
    "chart_ocr": (9, 100000), "stem": (13, 100000), "spatial_action": (8, 100000),
    "knowledge": (12, 100000), "grounding_counting_search": (11, 100000), "captioning_if": (6, 100002),
}


@pytest.fixture(scope="module")
def manifests():
    return recipe_manifests(load_recipe("vero600k"))


def test_recipe_settings():
    r = load_recipe("vero600k")
    assert r.mixture.weights == "uniform" and r.mixture.total == 600000
    assert (r.pass_at_k.k, r.pass_at_k.min_pass, r.pass_at_k.max_pass) == (8, 1, 7)


def test_59_slots_match_table_a1(manifests):
    assert len(manifests) == 59 and len({m.name for m in manifests}) == 59
    assert sum(m.target for m in manifests) == 600002
    by_cat = Counter(m.category for m in manifests)
    rows = Counter()
    for m in manifests:
        rows[m.category] += m.target
    assert {c: (by_cat[c], rows[c]) for c in by_cat} == TABLE_A1_PER_CATEGORY
    for m in manifests:
        assert Path(m.path).parent.name == m.category
        assert m.provenance.paper_name and m.provenance.notes and m.license


@pytest.mark.skipif(not SPEC.exists(), reason="shared spec not present")
def test_targets_equal_paper_counts(manifests):
    table = json.loads(SPEC.read_text())["paper_table_A1_counts"]
    paper = {(cat, name): n for cat, d in table.items() if isinstance(d, dict) for name, n in d.items()}
    ours = {(m.category, m.provenance.paper_name): m.target for m in manifests}
    assert ours == paper


def test_every_adapter_resolves_and_rewards_declared(manifests):
    for m in manifests:
        assert isinstance(m.adapter, str) and m.adapter in ADAPTERS, m.name
        assert m.reward_type in m.reward_types, m.name
        if m.provenance.status == "unavailable":
            assert m.source.kind == "unavailable" and "vero600k" in m.source.unavailable


def test_extra_manifests_outside_recipe(manifests):
    extras = [load_manifest(p) for p in sorted((manifests_dir() / "extra").glob("*.yaml"))]
    assert {m.name for m in extras} == {"CoSyn_400k_chemical", "mavis_math_metagen", "mavis_math_rule_geo"}
    assert not {m.name for m in extras} & {m.name for m in manifests}
    assert all(m.adapter in ADAPTERS for m in extras)


def test_sources_table(manifests):
    table = sources_table(manifests)
    row = next(r for r in table if r["name"] == "CoSyn_400k_chart")
    assert row == {"name": "CoSyn_400k_chart", "category": "chart_ocr", "target": 11514,
                   "reward_types": ["numeric", "string_match", "multiple_choice"], "license": "ODC-BY",
                   "hub_id": "allenai/CoSyn-400K/chart", "status": "verified", "adapter": "cosyn",
                   "paper_name": "CoSyn-Chart"}
    assert Counter(r["status"] for r in table)["unavailable"] == 4


def test_plan_flags_unavailable_without_network(monkeypatch):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("plan must not download"))
    entries = plan(load_recipe("vero600k"))
    assert len(entries) == 59 and all(e["adapter_resolved"] for e in entries)
    bad = {e["name"]: e["message"] for e in entries if not e["ok"]}
    assert set(bad) == {"evochart", "kvqa", "vcrqa", "MM-RLVR-IFEval"}
    assert all("vero600k" in msg for msg in bad.values())
    geo = next(e for e in entries if e["name"] == "geo170k")
    assert (geo["hub_id"], geo["split"], geo["adapter"]) == ("Luckyjhg/Geo170K", "qa_tuning", "conversations")
