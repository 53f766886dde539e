"""Images inside an archive (zip, tar, tar.gz) that the rows name by relative path, read without extracting.

Some sources ship their images as one archive next to the rows (VisualWebInstruct's ``images.zip``, GameQA's
``games_images.zip``). A manifest names it in ``source.image_archive`` (a local file or a file of a hub dataset
repo, fetched with ``huggingface_hub.hf_hub_download`` after :func:`vero_data.hub.require_hub`); a row's relative
image path is then looked up among the archive's members. The rules are those of :mod:`vero_data.image_paths`:

* only regular members are indexed (no directories, symlinks, hard links, devices, sparse files), and only names
  that stay inside the archive (no absolute names, no ``..``); a row path that leaves it is ``image_outside_root``;
* a member's size is checked against ``--max-image-bytes`` from its header before anything is read
  (``image_too_large``), and no read returns more than that, so a zip bomb costs at most the cap; a tar.gz whose
  stream inflates more than :data:`MAX_INFLATION` times its size is refused while it is indexed.

Random access: a zip has its central directory; a plain tar is indexed once (member → offset) and read by seeking.
A gzip stream has no random access, so the one indexing pass also keeps a copy of the inflater's state every
:data:`CHECKPOINT_BYTES` of output (zlib's ``Decompress.copy``, the idea of zlib's ``zran.c``); reading a member
resumes from the checkpoint before it and inflates at most that much. The index lives in the process (inflater
state cannot be saved to disk), so each build worker indexes a tar.gz once: for a large archive prefer a zip or
a plain tar.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from vero_data.errors import RowError, VeroError

CHECKPOINT_BYTES = 8 * 1024 * 1024  # inflater copy every 8 MiB of output: ~40 KB each, reads inflate ≤ 8 MiB
MAX_INFLATION = 100  # image archives barely compress; a stream 100× its file size is a gzip bomb
INFLATION_SLACK = 1 << 30  # … plus 1 GiB, for small archives of raw (BMP/TIFF) images
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ArchiveRef:
    """Where an archive is: a local file, or ``filename`` in the hub dataset ``repo`` at ``revision``."""

    path: str | None = None
    repo: str | None = None
    filename: str | None = None
    revision: str | None = None
    member_prefix: str = ""

    def describe(self) -> str:
        return self.path or f"{self.repo}/{self.filename}{'@' + self.revision if self.revision else ''}"


def archives_of(manifest: Any) -> tuple[ArchiveRef, ...]:
    """The archives a manifest's ``source.image_archive`` names, local paths made absolute against its folder."""
    specs = manifest.source.image_archives
    base = os.path.dirname(os.path.abspath(manifest.path)) if manifest.path else os.getcwd()
    hub = manifest.source.hub
    out = []
    for a in specs:
        if a.path:
            p = os.path.expanduser(a.path)
            out.append(ArchiveRef(path=p if os.path.isabs(p) else os.path.join(base, p), member_prefix=a.member_prefix))
        else:
            repo = a.repo or hub.path
            rev = a.revision if a.repo else (a.revision or hub.revision)
            out.append(ArchiveRef(repo=repo, filename=a.hub_file, revision=rev, member_prefix=a.member_prefix))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- member names
def safe_member_name(name: str) -> str | None:
    """The normalised name of a member that stays inside the archive, else None (absolute, ``..``, empty)."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return None
    n = posixpath.normpath(n)
    if n in (".", "") or n == ".." or n.startswith("../"):
        return None
    return n


class _Index:
    """Member name → entry, plus the archive's single top folder (if every member is under one) for lookups
    whose rows name paths relative to it, or include it when the archive does not."""

    def __init__(self, entries: dict[str, Any]):
        self.entries = entries
        tops = {n.split("/", 1)[0] for n in entries if "/" in n}
        self.top = next(iter(tops)) if len(tops) == 1 and all("/" in n for n in entries) else None

    def find(self, rel: str, prefix: str) -> tuple[str, Any] | None:
        cands = [posixpath.normpath(prefix + rel) if prefix else rel, rel]
        if self.top:
            cands += [f"{self.top}/{rel}", rel[len(self.top) + 1:] if rel.startswith(self.top + "/") else None]
        for c in cands:
            if c and c in self.entries:
                return c, self.entries[c]
        return None

    def example(self) -> str:
        return next(iter(self.entries), "(no regular members)")


# ---------------------------------------------------------------------------------------------- readers
class ZipImages:
    """A zip's regular members, read by name through its central directory."""

    def __init__(self, path: str):
        self.path = path
        self.zf = zipfile.ZipFile(path)
        entries = {}
        for info in self.zf.infolist():
            ftype = stat.S_IFMT(info.external_attr >> 16)  # unix file type, when the zip recorded one
            if info.is_dir() or (ftype and ftype != stat.S_IFREG):  # symlinks, devices, fifos
                continue
            name = safe_member_name(info.filename)
            if name:
                entries[name] = info
        self.index = _Index(entries)

    def size(self, entry: zipfile.ZipInfo) -> int:
        return entry.file_size

    def read(self, entry: zipfile.ZipInfo, max_bytes: int) -> bytes:
        if entry.flag_bits & 0x1:
            raise RowError("undecodable_image", f"{self.path}: member {entry.filename[:200]} is encrypted", "images")
        with self.zf.open(entry) as f:  # stops at the declared size, which was checked against the cap
            return f.read(max_bytes + 1)


def _inflate(d: Any, raw: bytes) -> tuple[Any, bytes]:
    """Feed ``raw`` to the inflater ``d``; a new gzip member after the end starts a new inflater (``cat a.gz b.gz``),
    anything else after it (zero padding) is ignored. Returns the inflater to go on with and the output."""
    out = d.decompress(raw)
    while d.eof and d.unused_data.startswith(b"\x1f\x8b"):
        rest = d.unused_data
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out += d.decompress(rest)
    return d, out


class _GzipCheckpoints:
    """Random reads from a gzip stream: inflater copies at known (uncompressed, compressed) offsets."""

    def __init__(self, path: str):
        self.path = path
        self.points: list[tuple[int, int, Any]] = []  # (uncompressed offset, compressed offset, inflater)

    def stream(self, checkpoint_every: int, limit: int):
        """Yield the whole inflated stream in chunks, leaving checkpoints behind; refuse more than ``limit``."""
        chunk = min(_CHUNK, max(4096, checkpoint_every // 4))  # checkpoints are taken between chunks
        with open(self.path, "rb") as f:
            d = zlib.decompressobj(zlib.MAX_WBITS | 16)
            c_off = u_off = 0
            next_point = 0
            while True:
                if u_off >= next_point:  # d has taken exactly c_off input bytes and given u_off output bytes
                    self.points.append((u_off, c_off, d.copy()))
                    next_point = u_off + checkpoint_every
                raw = f.read(chunk)
                if not raw:
                    return
                c_off += len(raw)
                d, out = _inflate(d, raw)
                u_off += len(out)
                if u_off > limit:
                    raise VeroError(f"{self.path}: the gzip stream inflates past {limit:,} bytes "
                                    f"({MAX_INFLATION}× the file + {INFLATION_SLACK:,}): refused as a gzip bomb")
                yield out

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes of the inflated stream from ``offset``: at most one checkpoint interval is inflated
        before them."""
        i = bisect.bisect_right(self.points, offset, key=lambda p: p[0]) - 1
        pos, c_off, point = self.points[max(i, 0)]
        d = point.copy()
        buf = bytearray()
        with open(self.path, "rb") as f:
            f.seek(c_off)
            while len(buf) < size:
                raw = f.read(_CHUNK)
                if not raw:
                    break
                d, out = _inflate(d, raw)
                lo = max(offset - pos, 0)
                if lo < len(out):
                    buf += out[lo:lo + size - len(buf)]
                pos += len(out)
        return bytes(buf)


class _StreamFile:
    """A read-only file object over an iterator of chunks (tarfile's stream mode reads headers from it)."""

    def __init__(self, chunks):
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        parts = []
        want = n
        while want != 0:
            if self._pos >= len(self._buf):
                try:
                    self._buf, self._pos = next(self._chunks), 0
                except StopIteration:
                    break
                continue
            take = len(self._buf) - self._pos if want < 0 else min(want, len(self._buf) - self._pos)
            parts.append(self._buf[self._pos:self._pos + take])
            self._pos += take
            if want > 0:
                want -= take
        return b"".join(parts)


class TarImages:
    """A tar's (or tar.gz's) regular members, indexed once by one pass over the archive."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        self.gz = _GzipCheckpoints(path) if gz else None
        entries: dict[str, tuple[int, int, str]] = {}
        if self.gz is not None:
            limit = MAX_INFLATION * os.path.getsize(path) + INFLATION_SLACK
            src = _StreamFile(self.gz.stream(CHECKPOINT_BYTES, limit))
            tf = tarfile.open(fileobj=src, mode="r|")
        else:
            tf = tarfile.open(path, mode="r:")
        with tf:
            for ti in tf:
                if not ti.isreg() or ti.issparse():  # links, devices, dirs, fifos; sparse data is not contiguous
                    continue
                name = safe_member_name(ti.name)
                if name:
                    entries[name] = (ti.offset_data, ti.size, ti.name)
        self.index = _Index(entries)

    def size(self, entry: tuple[int, int, str]) -> int:
        return entry[1]

    def read(self, entry: tuple[int, int, str], max_bytes: int) -> bytes:
        offset, size, _ = entry
        size = min(size, max_bytes + 1)
        if self.gz is not None:
            return self.gz.read(offset, size)
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(size)


# ---------------------------------------------------------------------------------------------- opening
_OPEN: dict[tuple, Any] = {}  # (path, size, mtime_ns) → ZipImages | TarImages | RowError, per process
_LOCAL: dict[ArchiveRef, str | RowError] = {}  # ref → local file, or why it is unavailable


def local_file(ref: ArchiveRef) -> str:
    """The archive's local path, downloading a hub file into the HF cache once (shared by workers and builds).

    Raises:
        RowError: ``image_archive_unavailable`` (remembered, so later rows fail at once).
    """
    got = _LOCAL.get(ref)
    if isinstance(got, RowError):
        raise got
    if got:
        return got
    try:
        if ref.path:
            path = ref.path
            if not os.path.isfile(path):
                raise VeroError(f"image archive {path} is not a file")
        else:
            from vero_data.hub import require_hub

            require_hub(ref.repo or "", f"image archive {ref.describe()}")
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(ref.repo, ref.filename, repo_type="dataset", revision=ref.revision)
    except Exception as e:  # VeroError, HfHubHTTPError, EntryNotFoundError, OSError…
        err = RowError("image_archive_unavailable", f"{ref.describe()}: {type(e).__name__}: "
                       f"{' '.join(str(e).split())[:200]}", "images")
        _LOCAL[ref] = err
        raise err from None
    _LOCAL[ref] = path
    return path


def open_archive(path: str) -> ZipImages | TarImages:
    """The archive at ``path`` opened and indexed once per process (a replaced file is opened again).

    Raises:
        RowError: ``image_archive_unavailable`` for a file that is neither a zip nor a tar(.gz), or a gzip bomb.
    """
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    got = _OPEN.get(key)
    if got is None:
        try:
            got = ZipImages(path) if zipfile.is_zipfile(path) else TarImages(path)
        except VeroError as e:  # a gzip bomb
            got = RowError("image_archive_unavailable", str(e), "images")
        except (tarfile.TarError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
            got = RowError("image_archive_unavailable", f"{path}: not a readable zip, tar or tar.gz "
                           f"({type(e).__name__}: {' '.join(str(e).split())[:160]})", "images")
        _OPEN[key] = got
    if isinstance(got, RowError):
        raise got
    return got


def read_from_archives(rel: str, archives: tuple[ArchiveRef, ...], max_bytes: int,
                       record: list | None = None) -> bytes | None:
    """The bytes of the member a row's relative path names in the first archive that has it; None when none has.

    Raises:
        RowError: ``image_outside_root`` (the path leaves the archive), ``image_too_large`` (from the member's
            header), ``image_archive_unavailable``, ``undecodable_image`` (an encrypted member).
    """
    name = safe_member_name(rel)
    if name is None:
        raise RowError("image_outside_root", f"{rel[:200]} leads outside the image archive", "images")
    for ref in archives:
        path = local_file(ref)
        arc = open_archive(path)
        hit = arc.index.find(name, ref.member_prefix)
        if hit is None:
            continue
        member, entry = hit
        size = arc.size(entry)
        if size > max_bytes:
            raise RowError("image_too_large", f"{path}:{member[:200]} is {size:,} bytes > cap {max_bytes:,}",
                           "images")
        try:
            data = arc.read(entry, max_bytes)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:  # CRC, method
            raise RowError("undecodable_image", f"{path}:{member[:200]}: {type(e).__name__}: "
                           f"{' '.join(str(e).split())[:160]}", "images") from None
        if len(data) > max_bytes:
            raise RowError("image_too_large", f"{path}:{member[:200]} is over the cap of {max_bytes:,} bytes",
                           "images")
        if record is not None:
            st = os.stat(path)
            record.append([path, st.st_size, st.st_mtime_ns])
        return data
    return None


def looked_in(archives: tuple[ArchiveRef, ...]) -> str:
    """Where a missing member was looked for, with an example member name of each archive opened."""
    parts = []
    for ref in archives:
        where = _LOCAL.get(ref)
        arc = None
        if isinstance(where, str):
            arc = next((a for k, a in _OPEN.items() if k[0] == os.path.abspath(where) and not isinstance(a, RowError)),
                       None)
        parts.append(ref.describe() + (f" (members like {arc.index.example()[:80]})" if arc else ""))
    return ", ".join(parts)
