"""Dataset card (``README.md``): YAML front matter that `datasets` reads, then a short human summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from vero_data.manifest import Manifest, Recipe

_LICENSE_IDS = {"apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "odc-by", "gpl-3.0", "cc0-1.0"}


def dataset_info(shards: list[Path]) -> dict[str, Any]:
    """The card's ``dataset_info`` (rows and bytes per split), as ``push_to_hub`` writes it.

    Besides informing readers, it keys `datasets`' cache: for a local folder whose card has ``configs:``,
    ``load_dataset(OUT)`` caches under a hash of the card alone (datasets 5.2), so rebuilding OUT with other rows
    (or another folder of the same name) would load the previous Arrow cache silently. Rows and Parquet bytes per
    split change with the content, so the cache does too.
    """
    import pyarrow.parquet as pq

    per: dict[str, list[int]] = {}
    for s in shards:
        split = s.name.split("-", 1)[0]
        n = pq.ParquetFile(s).metadata.num_rows
        size = s.stat().st_size
        rows, nbytes = per.setdefault(split, [0, 0])
        per[split] = [rows + n, nbytes + size]
    total = sum(b for _, b in per.values())
    return {"splits": [{"name": k, "num_bytes": b, "num_examples": n} for k, (n, b) in sorted(per.items())],
            "download_size": total, "dataset_size": total}


def with_dataset_info(card: str, shards: list[Path]) -> str:
    """``card`` (a README with YAML front matter) with its ``dataset_info`` set for ``shards``."""
    if card.startswith("---\n") and "\n---" in card[4:]:
        end = card.index("\n---", 4)
        front = yaml.safe_load(card[4:end]) or {}
        rest = card[end + 4:]
    else:
        front, rest = {}, "\n" + card
    front["dataset_info"] = dataset_info(shards)
    return "---\n" + yaml.safe_dump(front, sort_keys=False).rstrip() + "\n---" + rest


def write_card(out: Path, recipe: Recipe, manifests: list[Manifest], report: dict[str, Any], shards: list[Path]
               ) -> Path:
    splits = sorted({s.name.split("-", 1)[0] for s in shards})
    licenses = Counter(m.license for m in manifests)
    lic = next(iter(licenses)).lower() if len(licenses) == 1 else "other"
    front = {
        "license": lic if lic in _LICENSE_IDS else "other",
        "task_categories": ["visual-question-answering", "image-text-to-text"],
        "tags": ["vero", "rlvr", "multimodal", "reasoning"],
        # configs must use data_files globs, not data_dir (datasets#6561)
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]}],
        "dataset_info": dataset_info(shards),
    }
    lines = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", "",
             f"# {recipe.name} (built with the Vero toolkit)", "",
             f"{report['rows']:,} rows in {len(shards)} Parquet shards; images are embedded (HF `Image`).", "",
             "```python", "from datasets import load_dataset", 'ds = load_dataset("<this directory>", split="train")',
             "```", "", "## Rows per category", "", "| category | rows | quota |", "|---|---|---|"]
    lines += [f"| {c['category']} | {c['exported']:,} | {c['quota'] or '-'} |" for c in report["categories"]]
    lines += ["", "## Sources and licences", "", "| source | category | licence | rows |", "|---|---|---|---|"]
    exported = {s["manifest"]: s.get("exported", 0) for s in report["sources"]}
    lines += [f"| {m.name} | {m.category} | {m.license} | {exported.get(m.name, 0):,} |" for m in manifests]
    lines += ["", "Licences by number of sources: " + ", ".join(f"{k} ({v})" for k, v in licenses.most_common()),
              "", "Each row carries its source's licence in the `license` column; use each subset under its terms.",
              "", "Schema: see the Vero toolkit's docs/schema.md. Build report: report.html.", ""]
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path


# ------------------------------------------------------------------------------------------- derived outputs
_DEFAULT_FRONT = {"task_categories": ["visual-question-answering", "image-text-to-text"],
                  "tags": ["vero", "rlvr", "multimodal", "reasoning"]}


def split_card(card: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)`` of a README with YAML front matter; ``({}, card)`` without one."""
    if card.startswith("---\n") and "\n---" in card[4:]:
        end = card.index("\n---", 4)
        try:
            front = yaml.safe_load(card[4:end]) or {}
        except yaml.YAMLError:
            front = {}
        return (front if isinstance(front, dict) else {}), card[end + 4:].lstrip("\n")
    return {}, card


def card_title(card: str | None) -> str | None:
    """The first ``# `` heading of a card's body, without the ``#``."""
    if not card:
        return None
    return next((ln[2:].strip() for ln in split_card(card)[1].splitlines() if ln.startswith("# ")), None)


def _front_for(shards: list[Path], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Front matter for ``shards``: ``base``'s licence/tags (or Vero's), ``configs`` and ``dataset_info`` of these
    shards, so neither the Hub nor ``load_dataset`` sees the input's splits or sizes."""
    keep = {k: v for k, v in (base or {}).items() if k not in ("configs", "dataset_info")}
    front = {**_DEFAULT_FRONT, **keep}
    splits = sorted({s.name.split("-", 1)[0] for s in shards})
    front["configs"] = [{"config_name": "default",
                         "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]}]
    front["dataset_info"] = dataset_info(shards)
    return front


def _render(front: dict[str, Any], lines: list[str]) -> str:
    return "\n".join(["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", "", *lines]).rstrip() + "\n"


def shard_summary(shards: list[Path]) -> dict[str, Any]:
    """Rows, rows per category and rows per (source, category, licence) of canonical shards (three small columns)."""
    import pyarrow.parquet as pq

    cats: Counter = Counter()
    sources: Counter = Counter()
    rows = 0
    for s in shards:
        t = pq.read_table(s, columns=["data_source", "category", "license"]).to_pydict()
        rows += len(t["category"])
        cats.update(t["category"])
        sources.update(zip(t["data_source"], t["category"], t["license"], strict=True))
    return {"rows": rows, "categories": dict(sorted(cats.items())),
            "sources": [(src, cat, lic, n) for (src, cat, lic), n in sorted(sources.items())]}


def write_filtered_card(out: Path, shards: list[Path], *, input_card: str | None, title: str, source: str,
                        section: list[str], links: list[str]) -> Path:
    """``out/README.md`` for a folder derived from a build (``vero data filter``): rows, categories, sources and
    licences counted from ``shards`` (this folder's rows, not the input's), then ``section`` and ``links``.

    Args:
        out: the output folder.
        shards: its ``data/*.parquet``.
        input_card: the input's README (its licence and tags are kept), or None.
        title: the heading.
        source: where the rows came from (the input folder or hub id), named in the summary.
        section: markdown lines describing what was done (e.g. the pass@k table).
        links: the files of ``out`` worth naming (report, quarantine), each as a markdown sentence.
    """
    front = _front_for(shards, split_card(input_card)[0] if input_card else None)
    summary = shard_summary(shards)
    licenses = Counter(lic for _, _, lic, _ in summary["sources"])
    lines = [f"# {title}", "",
             f"{summary['rows']:,} rows in {len(shards)} Parquet shards, derived from `{source}`; images are "
             "embedded (HF `Image`).", "",
             "```python", "from datasets import load_dataset", 'ds = load_dataset("<this directory>", split="train")',
             "```", "", "## Rows per category", "", "| category | rows |", "|---|---|"]
    lines += [f"| {c} | {n:,} |" for c, n in summary["categories"].items()]
    lines += ["", "## Sources and licences", "", "| source | category | licence | rows |", "|---|---|---|---|"]
    lines += [f"| {src} | {cat} | {lic} | {n:,} |" for src, cat, lic, n in summary["sources"]]
    if licenses:
        lines += ["", "Each row carries its source's licence in the `license` column; use each subset under its "
                  "terms."]
    lines += [*section, "", "Schema: see the Vero toolkit's docs/schema.md. " + " ".join(links), ""]
    path = out / "README.md"
    path.write_text(_render(front, lines))
    return path


def write_export_card(dest: Path, shards: list[Path], layout: str, body: str) -> Path:
    """``dest/README.md`` for an export in another layout: configs and sizes of ``shards``, then ``body``."""
    lines = [f"# Vero rows, {layout} layout", "", body]
    path = dest / "README.md"
    path.write_text(_render(_front_for(shards), lines))
    return path
