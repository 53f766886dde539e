"""Which model and settings wrote a benchmark's samples (``OUT/samples/<benchmark>.fingerprint.json``).

A rerun with other ones is refused rather than scoring the old responses under the new model's name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vero_data.benchmarks.samples import samples_path
from vero_data.benchmarks.spec import BenchmarkSpec
from vero_data.errors import ConfigError
from vero_data.secrets import redact


def run_fingerprint(conf: dict[str, Any], spec: BenchmarkSpec, system_prompt: str) -> dict[str, Any]:
    """What decides a benchmark's responses: model, backend and the effective generation settings.

    Args:
        conf: the run's settings (``vero eval``'s flags by field name, as in ``results.json``'s config).
        spec: the benchmark, whose generation defaults apply where a setting is not given.
        system_prompt: the system prompt the model is given when ``conf["system_prompt"]`` is on.
    """
    g = spec.generation
    model = str(conf.get("model"))
    if Path(model).exists():  # the same local model however it is spelled
        model = str(Path(model).resolve())
    return {"model": model, "backend": conf.get("backend"),
            "temperature": g.temperature if conf.get("temperature") is None else conf["temperature"],
            "top_p": g.top_p if conf.get("top_p") is None else conf["top_p"],
            "max_new_tokens": conf.get("max_new_tokens") or g.max_new_tokens, "seed": conf.get("seed"),
            "system_prompt": system_prompt if conf.get("system_prompt", True) else None,
            "backend_kwargs": redact(json.loads(json.dumps(conf.get("backend_kwargs") or {}, sort_keys=True,
                                                           default=str))),
            "benchmark_version": spec.version}


def check_samples(spec: BenchmarkSpec, out: Path, conf: dict[str, Any], system_prompt: str) -> None:
    """Refuse to resume ``spec``'s samples in ``out`` unless the same model and settings wrote them; record the
    fingerprint when there are none yet.

    Args:
        spec: the benchmark.
        out: the run folder.
        conf: this run's settings, as for :func:`run_fingerprint`.
        system_prompt: as for :func:`run_fingerprint`.
    """
    samples = samples_path(out, spec)
    fp_file = samples.with_suffix(".fingerprint.json")
    new = run_fingerprint(conf, spec, system_prompt)
    if not samples.exists() or samples.stat().st_size == 0:
        fp_file.parent.mkdir(parents=True, exist_ok=True)
        fp_file.write_text(json.dumps(new, indent=1, ensure_ascii=False), encoding="utf-8")
        return
    old = None
    try:
        old = json.loads(fp_file.read_text(encoding="utf-8")) if fp_file.exists() else None
    except ValueError:
        pass
    if not isinstance(old, dict):  # written before fingerprints: the run's results.json says what made it
        try:
            written = json.loads((out / "results.json").read_text(encoding="utf-8")).get("config")
        except (OSError, ValueError, AttributeError):
            written = None
        if not isinstance(written, dict) or "model" not in written:
            raise ConfigError(f"{samples} does not record which model and settings wrote it; use another --out or "
                              "--overwrite")
        old = run_fingerprint(written, spec, system_prompt)
    if old != new:
        diff = ", ".join(f"{k} {old.get(k)!r} (now {new[k]!r})" for k in new if k not in ("model", "system_prompt")
                         and old.get(k) != new[k])
        if old.get("system_prompt") != new["system_prompt"]:
            diff = ", ".join(x for x in (diff, "another system prompt") if x)
        if old.get("model") != new["model"]:
            what = f"model {old.get('model')!r} (this run: {new['model']!r})" + (f" with {diff}" if diff else "")
        else:
            what = f"model {old.get('model')!r} with {diff}"
        raise ConfigError(f"{out} holds {spec.name} samples of {what}; use another --out or --overwrite")
    if not fp_file.exists():
        fp_file.write_text(json.dumps(new, indent=1, ensure_ascii=False), encoding="utf-8")
