"""Fail fast when the Hugging Face Hub cannot be reached.

Without a network, ``datasets.load_dataset("org/name")`` retries each HTTP call with backoff: measured here,
24 s per dataset before the ``ConnectionError`` (``lmms-lab/ChartQA``, DNS failing at once), i.e. minutes for a
suite of 30 benchmarks or a recipe of 59 sources. One TCP connect to the endpoint (or to the proxy) answers the
same question in milliseconds, so every hub loader asks :func:`require_hub` first.

Offline mode (``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1``) skips the probe: the libraries then read their
local cache and fail on their own, without retries.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from vero_data.errors import SourceUnavailableError

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 5.0
_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """True when the user asked the HF libraries to stay offline (they then read only their cache)."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT


def _probe_target(endpoint: str) -> tuple[str, int, str]:
    """(host, port, description): the proxy when one is set for the endpoint's scheme, else the endpoint."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme or "https"
    proxy = (os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
             or os.environ.get("all_proxy") or os.environ.get("ALL_PROXY"))
    if proxy:
        p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return p.hostname or "", p.port or 8080, f"the proxy {proxy} (for the Hugging Face Hub at {endpoint})"
    return parts.hostname or "", parts.port or (443 if scheme == "https" else 80), f"the Hugging Face Hub at {endpoint}"


@lru_cache(maxsize=8)
def _unreachable(endpoint: str, timeout: float) -> str | None:
    host, port, what = _probe_target(endpoint)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as e:
        return f"{what} is not reachable ({type(e).__name__}: {e})"


def looks_like_path(name: str) -> bool:
    """True for names no hub id can have (absolute, ``./``, ``../``, ``~``, or more than one ``/``): a missing
    local path should say so, not that the Hub is unreachable."""
    if "://" in name:  # a URL: left to the loader
        return False
    return (os.path.isabs(name) or name.startswith(("./", "../", "~")) or name in (".", "..")
            or name.count("/") > 1)


def require_hub(repo_id: str, what: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`SourceUnavailableError` at once if ``repo_id`` needs the Hub and it cannot be reached, or is a
    local path that does not exist.

    Args:
        repo_id: the hub id about to be loaded; a local path (an existing file or folder) needs no Hub, a missing
            one (see :func:`looks_like_path`) raises "no such file or directory" without a probe.
        what: how to name it in the message (default ``repo_id``), e.g. ``"chartqa: hub dataset HuggingFaceM4/ChartQA"``.
        timeout: seconds for the TCP connect (one probe per endpoint and process).
    """
    if os.path.exists(repo_id):
        return
    if looks_like_path(repo_id):
        raise SourceUnavailableError(f"no such file or directory: {repo_id}")
    if hub_offline():
        return
    what = what or repo_id
    reason = _unreachable(hub_endpoint(), timeout)
    if reason:
        raise SourceUnavailableError(
            f"cannot load {what}: {reason}. Use local files, set HF_ENDPOINT to a "
            "reachable mirror, or HF_HUB_OFFLINE=1 to read only the local cache."
        )


def reset_probe_cache() -> None:
    """Forget earlier probe results (the network came back, or a test changed the endpoint)."""
    _unreachable.cache_clear()
