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
