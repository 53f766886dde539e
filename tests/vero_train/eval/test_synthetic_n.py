"""`vero eval --synthetic-n`: a larger held-out set for the generated suite, still disjoint from training rows."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vero_data.benchmarks import get_benchmark, get_suite
from vero_data.benchmarks.loader import load_docs
from vero_data.cli import app
from vero_data.errors import ConfigError


def test_synthetic_n_sets_the_item_count_and_keeps_the_default_rows_first():
    spec = get_benchmark("synthetic_counting")
    default = [d["_id"] for d in load_docs(spec)]
    more = [d["_id"] for d in load_docs(spec, synthetic_n=20)]
    assert len(default) == spec.synthetic.n == 8 and len(more) == 20 == len(set(more))
    assert more[:8] == default  # rows are deterministic per index: the published 8 stay the first 8
    assert len(list(load_docs(spec, limit=5, synthetic_n=20))) == 5  # --limit still caps


def test_enlarged_synthetic_suite_shares_nothing_with_the_demo_recipes_training_rows():
    """The demo recipe's generated manifests (the rows `vero data build --recipe demo` trains on) against 24
    held-out rows per synthetic benchmark: no shared image, and (for generators with row-specific text) no question."""
    from vero_data.manifest import load_manifest, load_recipe, resolve_manifest
    from vero_data.sources import generate
    from vero_data.sources.generators import check_disjoint

    recipe = load_recipe("demo")
    gens = {}
    for ref in recipe.manifests:
        g = load_manifest(resolve_manifest(ref, recipe_path=recipe.path)).source.generator
        gens[g.name] = g
    checked = 0
    for name in get_suite("synthetic").benchmarks:
        spec = get_benchmark(name)
        g = gens.get(spec.synthetic.generator)
        if g is None:
            continue
        train = [s for _, s in generate(g.name, g.n, g.seed, g.params, split="train")]
        held = list(load_docs(spec, synthetic_n=24))
        counts = check_disjoint(train, held, questions=False)
        assert counts["eval"] == 24 and counts["shared_images"] == 0
        checked += 1
    assert checked == 6  # every synthetic benchmark's generator is in the demo recipe


def test_synthetic_n_through_the_cli_and_refused_without_generated_benchmarks(tmp_path, monkeypatch):
    import vero_train.models.backends as backends
    from vero_train.evaluate import EvalConfig, run_eval

    class Canned:
        def generate(self, requests, n, sampling):
            return [[backends.Completion("<think></think><answer>\\boxed{3}</answer>", 9, "stop")] for _ in requests]

    monkeypatch.setattr(backends, "get_backend", lambda *a, **k: Canned())
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["eval", "--suite", "synthetic", "--benchmark", "synthetic_counting", "--model", "m",
                                 "--synthetic-n", "11", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["n-samples"]["synthetic_counting"] == {"original": 11, "effective": 11}
    assert res["config"]["synthetic_n"] == 11
    assert len((out / "samples" / "synthetic_counting.jsonl").read_text().splitlines()) == 11
    with pytest.raises(ConfigError, match="--synthetic-n sizes generated benchmarks"):
        run_eval(EvalConfig(suite="veroeval30", model="m", out=tmp_path / "o", synthetic_n=50))
    with pytest.raises(ConfigError, match="--synthetic-n must be ≥ 1"):
        EvalConfig(suite="synthetic", model="m", out=tmp_path / "o", synthetic_n=0)
    r = CliRunner().invoke(app, ["eval", "--suite", "synthetic", "--model", "m", "--synthetic-n", "0"])
    assert r.exit_code != 0


def test_synthetic_items_are_asked_and_scored_as_training_rows():
    """A multiple-choice item shows its lettered options (without them 'D' cannot be answered) and list answers are
    JSON, as `vero data build` writes them; the right letter / list scores 1, another 0."""
    from vero_data.benchmarks.scoring import ScoreContext
    from vero_data.benchmarks.synthetic import score_synthetic

    mc = [d for d in load_docs(get_benchmark("synthetic_spatial"), synthetic_n=12) if d["reward_type"] ==
          "multiple_choice"]
    assert mc and get_benchmark("synthetic_spatial").version == 2
    for d in mc:
        assert "\nOptions:\nA. " in d["question"] and len(d["extra_info"]["choices"]) >= 2
        wrong = "A" if d["answer"] != "A" else "B"
        right = score_synthetic(d, f"<think></think><answer>\\boxed{{{d['answer']}}}</answer>", ScoreContext())
        assert right["accuracy"] == 1.0
        assert score_synthetic(d, f"<think></think><answer>\\boxed{{{wrong}}}</answer>", ScoreContext())[
            "accuracy"] == 0.0
    lists = [d for d in load_docs(get_benchmark("synthetic_knowledge"), synthetic_n=24)
             if d["reward_type"] == "list_string_match"]
    assert lists and all(json.loads(d["answer"]) for d in lists)
