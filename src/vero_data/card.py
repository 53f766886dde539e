"""Dataset card (``README.md``): YAML front matter that `datasets` reads, then a short human summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from vero_data.manifest import Manifest, Recipe

_LICENSE_IDS = {"apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "odc-by", "gpl-3.0", "cc0-1.0"}


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
