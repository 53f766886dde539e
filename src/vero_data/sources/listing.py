"""Listing sources without reading them: a table of manifests for ``vero data sources`` and the no-download plan
of ``vero data build --dry-run``."""

from __future__ import annotations

from typing import Any

from vero_data.errors import RegistryError
from vero_data.manifest import Manifest, Recipe, recipe_manifests
from vero_data.sources import ADAPTERS, load_plugins

RELEASED_HINT = (
    "no public upstream copy: read its rows from the released Vero-600K instead "
    "(source: {vero600k: {config: <config>}}, adapter: verl)"
)


def source_location(m: Manifest) -> str:
    """Where a manifest reads from, in one string: ``hub-id[/config]``, a generator, files, vero600k or ``-``."""
    s = m.source
    if s.hub is not None:
        return s.hub.path + (f"/{s.hub.config}" if s.hub.config else "")
    if s.vero600k is not None:
        return f"{s.vero600k.repo_ids[0]}/{s.vero600k.config or '*'}"
    if s.generator is not None:
        return f"generator:{s.generator.name}"
    if s.files is not None:
        return f"files:{','.join(s.files.globs)}"
    return "-"


def _reward_types(m: Manifest) -> list[str]:
    return list(m.reward_types) or ([m.reward_type] if m.reward_type else [])


def sources_table(manifests: list[Manifest]) -> list[dict[str, Any]]:
    """One dict per manifest: name, category, target rows, reward types, licence, hub id, status.

    ``status`` is the provenance status (verified / guess / unavailable / generated / local), forced to
    ``unavailable`` for ``source: unavailable`` manifests.
    """
    rows = []
    for m in manifests:
        rows.append(
            {
                "name": m.name,
                "category": m.category,
                "target": m.target,
                "reward_types": _reward_types(m),
                "license": m.license,
                "hub_id": source_location(m),
                "status": "unavailable" if m.source.kind == "unavailable" else m.provenance.status,
                "adapter": m.adapter if isinstance(m.adapter, str) else "mapping",
                "paper_name": m.provenance.paper_name,
            }
        )
    return rows


def plan(recipe: Recipe) -> list[dict[str, Any]]:
    """What a ``--dry-run`` build would read per source, without touching the network.

    Each entry: name, category, source kind and location (hub id / config / split / revision / data_files),
    adapter and whether it resolves in the registry, target rows, max_samples, status, and ``message`` (why a
    source cannot be read and what to use instead, or an unresolved adapter's error). ``ok`` is False for
    either problem.
    """
    load_plugins()
    out = []
    for m in recipe_manifests(recipe):
        entry: dict[str, Any] = {
            "name": m.name,
            "category": m.category,
            "kind": m.source.kind,
            "location": source_location(m),
            "target": m.target,
            "max_samples": m.max_samples,
            "reward_types": _reward_types(m),
            "license": m.license,
            "status": "unavailable" if m.source.kind == "unavailable" else m.provenance.status,
            "ok": True,
            "message": "",
        }
        if m.source.hub is not None:
            h = m.source.hub
            entry.update(hub_id=h.path, config=h.config, split=h.split, revision=h.revision, data_files=h.data_files)
        elif m.source.vero600k is not None:
            v = m.source.vero600k
            entry.update(hub_id=v.repo_ids[0], fallback_ids=v.repo_ids[1:], config=v.config, split=v.split,
                         revision=v.revision)
        if isinstance(m.adapter, str):
            entry["adapter"] = m.adapter
            try:
                ADAPTERS.get(m.adapter)
                entry["adapter_resolved"] = True
            except RegistryError as e:
                entry.update(adapter_resolved=False, ok=False, message=str(e))
        else:
            entry.update(adapter="mapping", adapter_resolved=True)
        if m.source.kind == "unavailable":
            entry["ok"] = False
            reason = m.source.unavailable or ""
            entry["message"] = f"{m.name}: {reason}" + ("" if "vero600k" in reason else f" ({RELEASED_HINT})")
        elif m.provenance.status == "guess":
            entry["message"] = (
                f"{m.name}: hub id/columns are a best guess ({m.provenance.notes[:120]}); if it fails, use the "
                "released Vero-600K (source: vero600k)"
            )
        out.append(entry)
    return out
