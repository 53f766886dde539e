"""Image files named by rows: read only inside the source's own folders, only regular files, only up to a size.

A row is untrusted input: its image path may be ``../secret/x.png``, ``/etc/passwd``, a FIFO that blocks the
build or ``/dev/zero`` that fills memory. A path is read only when, after joining and normalising (``..``
removed lexically) and again with every symlink resolved, it lies inside one of the source's roots: the data
file's folder, the manifest's folder, the ``files:`` source's ``base_dir`` and the adapter's ``image_root``
(a root inside a Hugging Face cache snapshot also admits the repo's ``blobs/``, where its files link to). ``allow_absolute_paths: true`` in a manifest lifts the confinement for sources whose
rows legitimately name files elsewhere. Anything refused becomes a quarantine record with its reason
(``image_outside_root``, ``not_a_regular_file``, ``image_too_large``, ``missing_image``), never a crash.
A relative path of a source whose manifest names an ``image_archive`` is looked up among that archive's members
first, under the same rules (:mod:`vero_data.image_archives`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vero_data.errors import RowError

# 256 MiB: far above any real training image (a 4096² RGBA PNG stored raw is 64 MiB), far below what would hurt.
DEFAULT_MAX_IMAGE_BYTES = 256 * 1024 * 1024


def _norm(p: str | os.PathLike) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(str(p))))


@dataclass(frozen=True)
class ImagePathPolicy:
    """Where a source's rows may point, and how large a file may be."""

    roots: tuple[str, ...] = ()
    allow_outside: bool = False
    max_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    real_roots: tuple[str, ...] = ()  # the roots with symlinks resolved
    archives: tuple = ()  # vero_data.image_archives.ArchiveRef: relative paths are members of these first

    @classmethod
    def for_roots(cls, roots: Iterable[str | os.PathLike | None], *, allow_outside: bool = False,
                  max_bytes: int = DEFAULT_MAX_IMAGE_BYTES, archives: tuple = ()) -> ImagePathPolicy:
        normed = tuple(dict.fromkeys(_norm(r) for r in roots if r))
        real = [os.path.realpath(r) for r in normed]
        for r in list(real):  # huggingface_hub's cache: snapshots/<rev>/x is a symlink to ../../blobs/<hash>
            parts = Path(r).parts
            if "snapshots" in parts:
                real.append(str(Path(*parts[:len(parts) - 1 - parts[::-1].index("snapshots")]) / "blobs"))
        return cls(normed, allow_outside, max_bytes, tuple(dict.fromkeys(real)), tuple(archives))

    def inside(self, path: str) -> bool:
        """``path`` lies inside a root as written (``..`` removed) and, with every symlink resolved, inside a
        root's real folder: a link in the data folder that leads elsewhere does not let a row out."""
        p = _norm(path)
        if not _under(p, self.roots):
            return False
        try:
            real = os.path.realpath(p)
        except (OSError, ValueError):
            return False
        return _under(real, self.real_roots)


def _under(p: str, roots: tuple[str, ...]) -> bool:
    return any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def read_image_file(path: str, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES, record: list | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``. Opened non-blocking and checked on the open
    descriptor, so a FIFO, a device or a directory (or a file swapped for one after a check) is refused, not
    read. ``record`` gets ``[path, size, mtime_ns]`` of the file read (what ``--resume`` checks). Raises RowError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise RowError("missing_image", f"image file {path[:200]} not found", "images") from None
    except OSError as e:
        raise RowError("missing_image", f"cannot read image file {path[:200]}: {e.strerror}", "images") from None
    except ValueError as e:  # an embedded NUL byte
        raise RowError("missing_image", f"image path {path[:200]!r} is not a valid path: {e}", "images") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RowError("not_a_regular_file", f"{path[:200]} is not a regular file", "images")
        if st.st_size > max_bytes:
            raise RowError("image_too_large", f"{path[:200]} is {st.st_size:,} bytes > cap {max_bytes:,}", "images")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew while we read it
            raise RowError("image_too_large", f"{path[:200]} is over the cap of {max_bytes:,} bytes", "images")
        if record is not None:
            record.append([path, st.st_size, st.st_mtime_ns])
        return data
    except OSError as e:
        raise RowError("missing_image", f"cannot read image file {path[:200]}: {e.strerror}", "images") from None
    finally:
        os.close(fd)


def resolve_row_image(image: Any, dirs: list[Path], policy: ImagePathPolicy, record: list | None = None) -> Any:
    """A row's image path → ``{"bytes", "path"}`` read under ``policy``; other image values are returned as given.

    A relative path is looked up in ``dirs`` in order (the data file's folder, then the manifest's); the stored
    ``path`` is the one the row gave.
    """
    if isinstance(image, (str, os.PathLike)):
        given = str(image)
    elif isinstance(image, dict) and image.get("bytes") is None and isinstance(image.get("path"), (str, os.PathLike)):
        given = str(image["path"])
    else:
        return image
    if not given or given.startswith(("http://", "https://")):
        return image
    if "\x00" in given:
        raise RowError("missing_image", f"image path {given[:200]!r} holds a NUL byte: not a file name", "images")
    if os.path.isabs(os.path.expanduser(given)):
        if not policy.allow_outside and not policy.inside(given):
            raise RowError("image_outside_root", f"{given[:200]} lies outside the source's folders "
                           f"({', '.join(policy.roots)}); set allow_absolute_paths: true in the manifest to read it",
                           "images")
        return {"bytes": read_image_file(_norm(given), policy.max_bytes, record), "path": given}
    if policy.archives:  # the manifest says the rows' images are members of these archives
        from vero_data.image_archives import read_from_archives

        data = read_from_archives(given, policy.archives, policy.max_bytes, record)
        if data is not None:
            return {"bytes": data, "path": given}
    outside = None
    for d in dirs:
        cand = _norm(Path(d) / given)
        if not policy.allow_outside and not policy.inside(cand):
            outside = outside or cand
            continue
        try:
            if not os.path.lexists(cand):
                continue
        except (OSError, ValueError):  # a name too long for the file system (say, a base64 string): not a path
            continue
        return {"bytes": read_image_file(cand, policy.max_bytes, record), "path": given}
    if outside is not None:
        raise RowError("image_outside_root", f"{given[:200]} leads outside the source's folders "
                       f"({', '.join(policy.roots)}); set allow_absolute_paths: true in the manifest to read it",
                       "images")
    looked = ", ".join(dict.fromkeys(map(str, dirs))) or "no folder"
    if policy.archives:
        from vero_data.image_archives import looked_in

        looked += f"; and in the image archive(s) {looked_in(policy.archives)}"
    raise RowError("missing_image", f"image file {given[:200]} not found (looked in {looked})", "images")


def files_changed(stats: list[list]) -> str | None:
    """The first of ``[path, size, mtime_ns]`` whose file is no longer the same (a make-style check: size and
    mtime, no content hash), or None."""
    for path, size, mtime in stats:
        try:
            st = os.stat(path)
        except OSError:
            return path
        if st.st_size != size or st.st_mtime_ns != mtime:
            return path
    return None
