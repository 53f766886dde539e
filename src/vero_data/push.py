"""``vero data push``: a build or filter output → a Hub dataset repo, the dataset only.

What a dataset repo holds, and why:

- ``README.md``: the card; its ``configs`` make the Hub and ``load_dataset(repo)`` read ``data/`` only.
- ``data/*.parquet``: the shards.
- ``quarantine.parquet``: every dropped row's id, stage and reason (no images) — the published data keeps the
  "no silent drops" audit; the card's ``configs`` keep it out of the splits.
- ``report.json``/``report.html`` (build), ``passk_report.json`` (filter) and ``curate_report.json`` (curate):
  counts and settings that made the rows.

Left out: working files, which are per machine and partly huge — ``.run/`` (ingest parts, markers: 90 of the 100
files of the demo build), the pass@k cache ``.passk-cache/`` (and the legacy ``.cache/``, which the Hub client
refuses outright), ``.vero-output.json``, locks, ``*.tmp``, partial folders; ``catalog.duckdb`` (a local query
index in DuckDB's version-specific file format, rebuilt from the shards), ``gallery.html`` (a local preview; the
Hub has its viewer) and ``completions.parquet`` (raw model samples of ``--save-completions``, often larger than the
data).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from vero_data.errors import ConfigError, SourceUnavailableError, VeroError
from vero_data.layout import SHARD_TEMPLATE, parse_shard_name

log = logging.getLogger(__name__)

PUSH_ALLOW = ("README.md", "data/*.parquet", "quarantine.parquet", "report.json", "report.html", "passk_report.json",
              "curate_report.json")
# fnmatch's * also matches "/": ".*" is every hidden file or folder at the top, "*/.*" any deeper one
PUSH_IGNORE = (".*", "*/.*", "*.tmp", "*.lock", "*-lock", "*.sqlite*", "*.duckdb*", "*partial*")
# remote files of an earlier push that this one no longer has are deleted (a 4-shard repo pushed again with one
# shard would otherwise serve both through the card's data/<split>-*.parquet glob); other remote files stay
PUSH_DELETE = ("data/*.parquet", "quarantine.parquet", "report.json", "report.html", "passk_report.json",
               "curate_report.json")


@dataclass
class PushPlan:
    """What a push uploads: ``files`` as (path in the repo, bytes), and what it leaves out."""

    folder: Path
    repo_id: str
    files: list[tuple[str, int]]
    excluded: list[str]
    commit_url: str | None = None
    private: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(n for _, n in self.files)


def _is_shard(path: str) -> bool:
    """``data/<split>-NNNNN-of-MMMMM.parquet`` (a repo path)."""
    folder, _, name = path.rpartition("/")
    return folder == "data" and parse_shard_name(name) is not None


def folder_files(folder: Path) -> list[str]:
    """Every regular file under ``folder`` as a POSIX path relative to it, sorted (as ``upload_folder`` lists them)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.glob("**/*") if p.is_file())


def plan_push(folder: str | Path, repo_id: str) -> PushPlan:
    """The files of ``folder`` a push uploads (``PUSH_ALLOW`` minus ``PUSH_IGNORE``, filtered by huggingface_hub's
    own ``filter_repo_objects``, as ``upload_folder`` does), checked to be a finished vero dataset folder.

    Raises:
        ConfigError: not a folder, no shards, no card, or a shard that would be left out.
    """
    from huggingface_hub.utils import filter_repo_objects

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a directory (expected a `vero data build` or `vero data filter` output)")
    folder = folder.resolve()
    rel = folder_files(folder)
    files = list(filter_repo_objects(rel, allow_patterns=list(PUSH_ALLOW), ignore_patterns=list(PUSH_IGNORE)))
    shards = [f for f in files if f.startswith("data/")]
    if not any(_is_shard(f) for f in shards):
        raise ConfigError(f"{folder}: no shards (data/{SHARD_TEMPLATE}); not a vero dataset folder")
    if "README.md" not in files:
        raise ConfigError(f"{folder}: no README.md (dataset card); the run that wrote it did not finish, or it is "
                          "not a vero dataset folder")
    odd = [f for f in shards if not _is_shard(f)]
    if odd:
        raise ConfigError(f"{folder}: {odd[0]} is not a shard name ({SHARD_TEMPLATE}) but the card's "
                          "data/<split>-*.parquet globs may read it; move it out of data/")
    keep = set(files)
    return PushPlan(folder, repo_id, [(f, (folder / f).stat().st_size) for f in files],
                    [f for f in rel if f not in keep])


def push_dataset(folder: str | Path, repo_id: str, *, private: bool = False, dry_run: bool = False,
                 token: str | None = None) -> PushPlan:
    """Upload a dataset folder to the Hub dataset repo ``repo_id`` (created if missing; ``private`` applies then).

    Args:
        folder: a ``vero data build`` or ``vero data filter`` output.
        repo_id: ``user/name`` or ``org/name``.
        private: create the repo private (an existing repo keeps its visibility).
        dry_run: plan only: no token, no network.
        token: a Hub token (default: ``HF_TOKEN`` or the saved login).

    Raises:
        ConfigError: a bad folder or repo id.
        SourceUnavailableError: offline, no token, or the Hub is unreachable (checked before anything is sent).
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise ConfigError(f"bad repo id {repo_id!r}: {str(e).splitlines()[0]}") from None
    if "/" not in repo_id:
        raise ConfigError(f"bad repo id {repo_id!r}: give it as <user or org>/<name>")
    plan = plan_push(folder, repo_id)
    plan.private = private
    if dry_run:
        return plan
    from vero_data.hub import hub_endpoint, hub_offline, require_hub

    if hub_offline():
        raise SourceUnavailableError(f"cannot push to {repo_id}: HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set; unset it "
                                     "(or use --dry-run to see what would be uploaded)")
    from huggingface_hub import HfApi, get_token

    token = token or get_token()
    if not token:
        raise SourceUnavailableError(f"cannot push to {repo_id}: no Hugging Face token; run `hf auth login` or set "
                                     "HF_TOKEN (a token with write access)")
    # a URL, so require_hub probes even when a local folder happens to be named like the repo id
    require_hub(f"{hub_endpoint()}/datasets/{repo_id}", f"the dataset repo {repo_id} (vero data push)")
    from vero_data.outdir import OutputLock, OutputLockedError

    lock = OutputLock(plan.folder, "data push", shared=True)  # a run still writing the folder holds it exclusively
    try:
        lock.acquire()
    except OutputLockedError:
        raise
    except OSError as e:  # a read-only parent folder: no vero run can be writing there either
        log.info("no lock beside %s (%s); pushing without one", plan.folder, e)
    try:
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            info = api.upload_folder(
                folder_path=plan.folder, repo_id=repo_id, repo_type="dataset",
                allow_patterns=list(PUSH_ALLOW), ignore_patterns=list(PUSH_IGNORE),
                delete_patterns=list(PUSH_DELETE),
                commit_message=f"vero data push: {len(plan.files)} files from {plan.folder.name}")
        except Exception as e:  # noqa: BLE001 - HTTP, auth and validation errors come in many types; one line each
            msg = " ".join(str(e).split())[:300] or type(e).__name__
            raise VeroError(f"push to {repo_id} failed: {msg}") from None
    finally:
        lock.release()
    plan.commit_url = str(getattr(info, "commit_url", "") or getattr(info, "url", "") or "") or None
    return plan
