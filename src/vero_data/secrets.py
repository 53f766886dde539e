"""Keeping credentials out of what the toolkit writes, and deciding which key an HTTP endpoint gets.

:func:`redact_url` / :func:`redact` mask userinfo (``user:pass@``), secret-looking query parameters
(``?api-key=…``, ``token``, ``sig``…) and secret-named mapping keys (``api_key``, ``password``, ``Authorization``…)
in anything that goes into results, reports, logs or error messages. :func:`resolve_endpoint` turns a user's
``…/v1`` URL and key settings into the URL to request and the ``Authorization`` header to send: a key named by
the user (``api_key_env``) or given in the URL is sent; the implicit ``$OPENAI_API_KEY`` (what the openai client
sends to any ``base_url``) is sent only over https or to a loopback host, never over plain http to another machine.

A leaf module: it imports only the standard library and :mod:`vero_data.errors`.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from vero_data.errors import ConfigError

log = logging.getLogger(__name__)

MASK = "***"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"

# name segments that mark a value as a secret (``api_key`` → api, key; ``X-Auth-Token`` → x, auth, token)
_SECRET_SEGMENTS = {"token", "secret", "password", "passwd", "pwd", "passphrase", "authorization", "apikey",
                    "credential", "credentials", "signature", "cookie", "bearer"}
_KEY_QUALIFIERS = {"api", "access", "private", "secret", "subscription", "client", "auth", "session", "account"}
_SECRET_NAMES = {"key", "sig", "auth", "pass", "code", "x-amz-signature", "x-amz-security-token"}
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
_BEARER = re.compile(r"\b(Bearer|[Aa]uthorization\s*[:=]\s*(?:Bearer|Basic)?)\s*[A-Za-z0-9._~+/=-]{4,}")


def _segments(name: str) -> list[str]:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)  # apiKey → api_Key
    return [s for s in re.split(r"[^a-zA-Z0-9]+", name.lower()) if s]


def is_secret_name(name: object) -> bool:
    """Whether a mapping key or query parameter named ``name`` holds a credential.

    ``*_env`` names hold the NAME of an environment variable, not its value, and are not secret.

    >>> [is_secret_name(n) for n in ("api_key", "X-Api-Key", "token", "max_tokens", "api_key_env", "base_url")]
    [True, True, True, False, False, False]
    """
    if not isinstance(name, str) or not name:
        return False
    if name.lower() in _SECRET_NAMES:
        return True
    segs = _segments(name)
    if not segs or segs[-1] == "env":
        return False
    if any(s in _SECRET_SEGMENTS for s in segs):
        return True
    return any(s == "key" and i > 0 and segs[i - 1] in _KEY_QUALIFIERS for i, s in enumerate(segs))


# Query parameters whose values are known not to be credentials (Azure's api-version, a model name…). Every other
# value in a URL's query or fragment is masked: a guess by name misses `jwt=`, `pw=`, `session=`, `#tok=`.
_PUBLIC_PARAMS = {"api-version", "api_version", "model", "revision", "version", "format", "alt", "stream", "n",
                  "limit", "split", "config", "lang", "language", "region", "deployment", "deployment-id",
                  "max_tokens", "temperature", "top_p", "top_k", "seed", "timeout"}


def _redact_pairs(text: str) -> str:
    """``a=1&api-key=S`` → ``a=***&api-key=***``: every value masked but those of :data:`_PUBLIC_PARAMS` (the
    names are kept, so a reader still sees which parameters were sent); a bare value (``#S``) is masked too."""
    out = []
    for part in re.split(r"([&;])", text):
        name, eq, value = part.partition("=")
        if eq and value and unquote(name).lower() not in _PUBLIC_PARAMS:
            part = f"{name}={MASK}"
        elif not eq and part and part not in "&;":
            part = MASK
        out.append(part)
    return "".join(out)


def redact_url(url: str | None) -> str | None:
    """The URL with userinfo and query/fragment values masked (but known public ones such as ``api-version``).

    >>> redact_url("http://alice:pw@judge:8000/v1?api-key=S&api-version=2024&jwt=J#tok=F")
    'http://***@judge:8000/v1?api-key=***&api-version=2024&jwt=***#tok=***'
    """
    if url is None:
        return None
    url = str(url)
    try:
        p = urlsplit(url)
    except ValueError:  # not parseable (a broken IPv6 literal…): mask by pattern instead
        return re.sub(r"(//)[^/@\s]*@", rf"\1{MASK}@", _redact_pairs(url))
    netloc = p.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    return urlunsplit(SplitResult(p.scheme, netloc, p.path, _redact_pairs(p.query), _redact_pairs(p.fragment)))


def redact_text(text: str) -> str:
    """Every URL inside ``text`` through :func:`redact_url`, and ``Bearer …`` / ``Authorization: …`` masked.

    >>> redact_text("POST https://h/v1?token=abc failed; header Authorization: Basic dXNlcjpwdw==")
    'POST https://h/v1?token=*** failed; header Authorization: Basic ***'
    """
    def one(m: re.Match) -> str:  # trailing punctuation belongs to the sentence, not the URL
        url = m.group(0)
        tail = len(url) - len(url.rstrip(".,;:!?)]}"))
        return (redact_url(url[: len(url) - tail]) or "") + url[len(url) - tail:]

    text = _URL_IN_TEXT.sub(one, str(text))
    return _BEARER.sub(lambda m: f"{m.group(1).rstrip()} {MASK}", text)


def redact(obj: Any) -> Any:
    """A copy of ``obj`` safe to write: secret-named keys of mappings masked (at any depth), URLs in strings
    redacted. Other values are returned as they are.

    >>> redact({"base_url": "http://u:p@h/v1", "api_key": "sk-1", "max_tokens": 8, "api_key_env": "MY_KEY"})
    {'base_url': 'http://***@h/v1', 'api_key': '***', 'max_tokens': 8, 'api_key_env': 'MY_KEY'}
    """
    if isinstance(obj, dict):
        return {k: (MASK if is_secret_name(k) and v not in (None, "") else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(redact(v) for v in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def is_loopback(host: str | None) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ::1, decided from the name alone (no DNS lookup)."""
    if not host:
        return False
    h = host.strip("[]").rstrip(".").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests and with which credentials.

    Attributes:
        url: the root as given, without userinfo (query kept: some gateways need it).
        shown: the redacted root, for logs, errors, reports and cache keys.
        headers: ``Authorization`` when a credential applies, else empty.
        key_source: where the credential came from (``$NAME``, ``url userinfo``, ``api_key``) or None.
    """

    url: str
    shown: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    key_source: str | None = None

    def join(self, suffix: str) -> str:
        """``url`` with ``suffix`` appended to its path (``/v1?x=1`` + ``/chat/completions`` →
        ``/v1/chat/completions?x=1``)."""
        p = urlsplit(self.url)
        return urlunsplit(p._replace(path=p.path.rstrip("/") + "/" + suffix.lstrip("/")))


_warned: set[tuple[str, str]] = set()


def _warn_once(key: tuple[str, str], msg: str, *args) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(msg, *args)


def resolve_endpoint(url: str, api_key: str | None = None, api_key_env: str | None = None,
                     default_env: str | None = DEFAULT_KEY_ENV, flag: str = "--judge-url",
                     env_flag: str = "--judge-api-key-env") -> Endpoint:
    """Split ``url`` into the request root and its credentials.

    Args:
        url: an ``http(s)://…/v1`` root; ``user:pass@`` in it is sent as HTTP Basic auth and removed from the URL.
        api_key: a key given directly (Python API); sent as ``Bearer``.
        api_key_env: the NAME of an environment variable holding the key; unset or empty is an error.
        default_env: the variable read when nothing else names a key (``OPENAI_API_KEY``, as the openai client
            does); its key is sent only over https or to a loopback host, otherwise one warning line says why not.
        flag, env_flag: the CLI flags named in error messages.

    Raises:
        ConfigError: not an http(s) URL, a named variable that is unset, or two credentials at once.
    """
    shown = redact_url(url) or ""
    try:
        p = urlsplit(str(url).strip())
        host = p.hostname
        p.port  # noqa: B018  (raises on a bad port)
    except ValueError:  # the message could quote part of the URL: say it without
        raise ConfigError(f"{flag} {shown}: not a valid URL (check the host, port and brackets)") from None
    if p.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{flag} {shown}: expected an http:// or https:// URL such as http://localhost:8000/v1")
    netloc = p.netloc.rpartition("@")[2]
    clean = urlunsplit(p._replace(netloc=netloc))
    shown = redact_url(clean) or ""
    secure = p.scheme == "https" or is_loopback(host)
    named = api_key is not None or api_key_env is not None
    if "@" in p.netloc:
        if named:
            raise ConfigError(f"{flag} {redact_url(url)} carries user:password and a key is also given "
                              f"({env_flag}); use one of them")
        user, pw = unquote(p.username or ""), unquote(p.password or "")
        token = base64.b64encode(f"{user}:{pw}".encode()).decode()
        if not secure:
            _warn_once(("basic", shown), "sending the user:password of %s over plain http (not encrypted)", shown)
        return Endpoint(clean, shown, {"Authorization": f"Basic {token}"}, "url userinfo")
    if api_key_env is not None:
        api_key_env = str(api_key_env)
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(f"{env_flag}={api_key_env}: ${api_key_env} is not set (it should hold the key)")
        if not secure:
            _warn_once(("named", shown), "sending $%s to %s over plain http (not encrypted)", api_key_env, shown)
        return Endpoint(clean, shown, {"Authorization": f"Bearer {key}"}, f"${api_key_env}")
    if api_key is not None:
        if not api_key:
            return Endpoint(clean, shown)
        if not secure:
            _warn_once(("named", shown), "sending the api_key to %s over plain http (not encrypted)", shown)
        return Endpoint(clean, shown, {"Authorization": f"Bearer {api_key}"}, "api_key")
    key = os.environ.get(default_env) if default_env else None
    if not key:
        return Endpoint(clean, shown)
    if not secure:
        _warn_once(("implicit", shown), "not sending $%s to %s: plain http to a non-loopback host; use https, or "
                   "name the variable with %s=%s to send it anyway", default_env, shown, env_flag, default_env)
        return Endpoint(clean, shown)
    return Endpoint(clean, shown, {"Authorization": f"Bearer {key}"}, f"${default_env}")
