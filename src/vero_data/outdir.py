"""Claiming a command's output folder: checks before anything is written, one run at a time, and ``--overwrite``
that cannot lose data.

Every command that writes a run folder (``vero data build``, ``vero data filter``, ``vero train``, ``vero eval``)
goes through :func:`claim_output`:

- **Checks first.** OUT must not be a file, the working directory or a folder above it, an input of the run or a
  folder holding one. ``--overwrite`` replaces only a folder that is a previous output of the *same* command: it
  carries ``.vero-output.json`` (written when the run starts), or, for folders written before that marker existed,
  the command's own files (``legacy``). Anything else is refused in one line, and nothing is deleted.
- **A lock.** ``.OUT.vero-lock`` beside OUT is held (``flock``) for the whole run and names its holder; a second
  run into the same OUT is refused with the holder's PID instead of mixing rows of both.
- **Write beside, swap at the end.** Under ``--overwrite`` the new output is written to ``.OUT.vero-partial``
  beside OUT and swapped in when the run succeeds (one atomic ``renameat2(RENAME_EXCHANGE)`` where the file system
  has it, else two renames that a later claim repairs). A failed or killed run leaves the previous output as it
  was; ``--resume`` continues the partial one, ``--overwrite`` starts it again.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vero_data.errors import ConfigError, VeroError

log = logging.getLogger(__name__)

MARKER = ".vero-output.json"
_PARTIAL = ".vero-partial"
_OLD = ".vero-old"
_LOCK = ".vero-lock"


class OutputLockedError(VeroError):
    """Another run holds OUT's lock."""


def marker_of(folder: Path) -> dict | None:
    """The output marker of ``folder`` (which command wrote it, when), or None."""
    try:
        d = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def sibling(out: Path, suffix: str) -> Path:
    """``OUT``'s hidden sibling ``.OUT<suffix>`` (same folder, so a rename between them is atomic)."""
    return out.parent / f".{out.name}{suffix}"


def partial_dir(out: Path) -> Path:
    """Where an ``--overwrite`` run writes until it swaps its output in."""
    return sibling(out, _PARTIAL)


def _is_empty_dir(p: Path) -> bool:
    return p.is_dir() and next(p.iterdir(), None) is None


def _inside(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or lies below it (both resolved)."""
    return a == b or a.is_relative_to(b)


# ----------------------------------------------------------------------------------------------------- lock
class OutputLock:
    """An exclusive ``flock`` on ``.OUT.vero-lock``; the file holds the holder's PID, host and command.

    The lock file is removed on release; a waiter that locked a file just removed by its holder notices (the path
    no longer names its inode) and takes the new one, so two runs never both hold OUT.
    """

    def __init__(self, out: Path, command: str, suffix: str = "", shared: bool = False):
        self.out = out
        self.path = sibling(out, f"{suffix}{_LOCK}")
        self.command = command
        self.shared = shared
        self.fd: int | None = None

    def acquire(self) -> OutputLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise OutputLockedError(f"{self.out} is in use by {self._holder()}; wait for it to finish or use "
                                        "another --out") from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                             "command": self.command,
                                             "since": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode())
                except OSError as e:  # a full disk: the lock holds, the holder's name is just not recorded
                    if not is_disk_full(e):
                        self.release()
                        raise
                return self
            os.close(fd)  # the holder removed it as we locked it: lock the new file
        raise OutputLockedError(f"could not lock {self.path}")

    def _holder(self) -> str:
        try:
            d = json.loads(self.path.read_text())
            return f"PID {d['pid']} on {d['host']} (`vero {d['command']}`, since {d['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def release(self) -> None:
        import fcntl

        if self.fd is None:
            return
        try:  # remove the file only when no one else holds it (shard ranks share it)
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(OSError):
                self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)  # closing releases the flock
        self.fd = None


# ----------------------------------------------------------------------------------------------------- swap
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(e, os.strerror(e), str(a))


def _swap_in(work: Path, out: Path) -> None:
    """Make ``work`` the new ``out``; the previous ``out`` is removed only after the new one is in place."""
    old = sibling(out, _OLD)
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        if _exchange(work, out):  # work now holds the previous output: name it as such before deleting it,
            os.rename(work, old)  # so a kill during the deletion never leaves it where --resume looks
            shutil.rmtree(old)
            return
        os.rename(out, old)  # a kill between these two renames is repaired by the next claim
    os.rename(work, out)
    if old.exists():
        shutil.rmtree(old)


def _repair(out: Path) -> None:
    """Finish a swap that a kill interrupted between its two renames."""
    old = sibling(out, _OLD)
    if not old.is_dir() or marker_of(old) is None:
        return
    if not out.exists():
        log.warning("restoring %s from %s (a previous run was killed while swapping its output in)", out, old)
        os.rename(old, out)
    else:
        shutil.rmtree(old)


# ----------------------------------------------------------------------------------------------------- claim
@dataclass
class OutputClaim:
    """A claimed output folder: write to ``work``; :meth:`commit` puts it at ``out`` and releases the lock."""

    out: Path
    work: Path
    command: str
    locks: list[OutputLock] = field(default_factory=list)
    committed: bool = field(default=False)

    @property
    def staged(self) -> bool:
        return self.work != self.out

    def commit(self) -> None:
        """The run succeeded: swap the staged output in (if any) and release the lock."""
        if self.committed:
            return
        if self.staged:
            _swap_in(self.work, self.out)
            self.work = self.out
        self.committed = True
        self.release()

    def release(self) -> None:
        for lk in self.locks:
            lk.release()
        self.locks = []
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def __enter__(self) -> OutputClaim:
        return self

    @contextlib.contextmanager
    def guard(self):
        """Run a command's work inside this block and call :meth:`commit` in it once the output is complete: a full
        disk becomes one line naming the folder, and however the block ends the lock is released and an unfinished
        run leaves OUT as it was."""
        try:
            yield self
        except OSError as e:
            self.raise_if_disk_full(e)
            raise
        finally:
            self.abort()  # a no-op after commit

    def raise_if_disk_full(self, e: BaseException) -> None:
        """Turn a full disk (``ENOSPC`` from Python, pyarrow, DuckDB or SQLite) into one line naming the folder
        and the free space, instead of a library traceback."""
        if is_disk_full(e):
            kept = f"; {self.out} is as it was" if self.staged else ""
            again = "--resume continues" if self.command in ("data build", "train") else "a rerun continues"
            raise VeroError(f"no space left on the device while writing {self.work} ({free_space(self.work)} free"
                            f"){kept}; free some space and rerun ({again})") from e

    def abort(self) -> None:
        """The run failed or stopped early: keep OUT as it was, leave the partial output for --resume, unlock."""
        if not self.committed and self.staged and self.work.exists():
            log.warning("the run did not finish: %s is as it was; the partial new output is in %s (--resume "
                        "continues it, --overwrite starts it again)", self.out, self.work)
        self.release()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def is_disk_full(e: BaseException | None) -> bool:
    """Whether ``e`` (or an exception it was raised from) is a full disk."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e)
        if "No space left on device" in text or "[errno 28]" in text.lower() or "disk quota exceeded" in text.lower():
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def free_space(path: Path) -> str:
    """Free space on ``path``'s file system, for messages."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        n = shutil.disk_usage(p).free
    except OSError:
        return "unknown"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return "unknown"


def check_out_path(out: Path, *, inputs: Iterable[str | Path | None] = (), overwrite: bool = False) -> None:
    """The checks that need nothing on disk to be written: OUT is not a file, not the working directory (or above
    it) when it would be replaced, not an input nor a folder holding one. Raises ConfigError."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a run folder")
    res = out.resolve()
    cwd = Path.cwd().resolve()
    if overwrite and _inside(cwd, res):
        what = "is the working directory" if res == cwd else "holds the working directory"
        raise ConfigError(f"--overwrite would replace {out}, which {what}; pass a run folder")
    if res == Path(res.anchor) or res == Path.home().resolve():
        raise ConfigError(f"--out {out} is {'the file-system root' if res == Path(res.anchor) else 'your home'} "
                          "folder; pass a run folder")
    for inp in inputs:
        if inp is None or str(inp) == "":
            continue
        p = Path(inp)
        if not p.exists():
            continue  # a hub id, or checked by the command itself
        pr = p.resolve()
        if _inside(pr, res):
            rel = "is" if pr == res else "lies inside"
            raise ConfigError(f"the input {inp} {rel} --out {out}: {'--overwrite would delete it; ' if overwrite else ''}"
                              "use another --out")


def claim_output(out: str | Path, command: str, *, inputs: Iterable[str | Path | None] = (),
                 overwrite: bool = False, resume: bool = False,
                 legacy: Callable[[Path], bool] | None = None, lock: bool = True,
                 shard: str | None = None) -> OutputClaim:
    """Check OUT, lock it and decide where this run writes (see the module docstring).

    Args:
        out: the output folder the user named.
        command: ``"data build"``, ``"data filter"``, ``"train"``, ``"eval"``: what the marker records and what
            ``--overwrite`` requires of an existing OUT.
        inputs: local paths the run reads (data folders, manifests); OUT may not be one nor hold one.
        overwrite: replace OUT, if it is a previous output of ``command``, when this run succeeds.
        resume: continue an earlier run of OUT (or of its partial ``--overwrite`` output, if one was left).
        legacy: recognises an output of ``command`` written before the marker existed.
        lock: take the lock (False for helper processes of a run that holds it).
        shard: this process is one rank of a run sharing OUT (``rank3``): it holds OUT's lock shared, with the
            other ranks, and a lock of its own exclusively; a plain run into OUT is refused meanwhile.

    Returns:
        the claim; write to ``claim.work`` and call ``claim.commit()`` (or use it as a context manager).
    """
    # One spelling per folder (``o/data/..``, ``./o/``, a symlink, ``~/o``): the lock, the partial folder and
    # every check are about the folder itself; a symlinked OUT is replaced where it points, the link kept.
    out = Path(os.path.realpath(os.path.expanduser(str(out))))
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: pick one")
    check_out_path(out, inputs=inputs, overwrite=overwrite)
    held: list[OutputLock] = []
    try:
        if lock:
            held.append(OutputLock(out, command, shared=shard is not None).acquire())
            if shard is not None:
                held.append(OutputLock(out, command, suffix=f".{shard}").acquire())
        return _claim_locked(out, command, overwrite=overwrite, resume=resume, legacy=legacy, lock=lock,
                             held=held)
    except BaseException as e:
        for h in held:
            h.release()
        if is_disk_full(e):
            raise VeroError(f"no space left on the device for {out} ({free_space(out)} free); free some space "
                            "and rerun") from e
        raise


def _claim_locked(out: Path, command: str, *, overwrite: bool, resume: bool,
                  legacy: Callable[[Path], bool] | None, lock: bool, held: list[OutputLock]) -> OutputClaim:
    if lock:
        _repair(out)
    partial = partial_dir(out)
    work = out
    if out.exists() and not _is_empty_dir(out):
        mk = marker_of(out)
        if mk is not None and mk.get("command") != command:
            raise ConfigError(f"{out} holds a `vero {mk.get('command')}` output, not a `vero {command}` one; "
                              "use another --out")
        if overwrite:
            if mk is None and not (legacy and legacy(out)):
                raise ConfigError(f"{out} is not empty and is not a `vero {command}` output (it has no {MARKER});"
                                  f" --overwrite replaces only a previous output: remove it yourself or use "
                                  "another --out")
            nested = _nested_output(out)
            if nested is not None:
                raise ConfigError(f"{out} holds another vero output ({nested}); --overwrite would delete it with "
                                  "OUT: move it out first or use another --out")
            work = partial
        elif resume and partial.is_dir() and marker_of(partial) is not None:
            work = partial
            log.info("resuming the interrupted --overwrite run in %s", partial)
    if work == partial and lock:
        if overwrite and partial.exists():
            if marker_of(partial) is None and not _is_empty_dir(partial):
                raise ConfigError(f"{partial} exists and is not a partial vero output; remove it yourself")
            shutil.rmtree(partial)
    fresh = not work.exists() or _is_empty_dir(work)
    work.mkdir(parents=True, exist_ok=True)
    if lock and fresh:  # never into a folder that held something else: that would make it --overwrite-able
        _write_marker(work, command)
    claim = OutputClaim(out=out, work=work, command=command, locks=held)
    _ACTIVE.append(claim)
    return claim


_ACTIVE: list[OutputClaim] = []  # claims this process holds: an output made inside one is part of it


def _write_marker(folder: Path, command: str) -> None:
    from vero_data import __version__

    doc = {"command": command, "vero_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    parent = next((c for c in _ACTIVE if folder.resolve().is_relative_to(c.work.resolve())), None)
    if parent is not None:  # e.g. the demo data `vero train --recipe demo` builds inside its run folder
        doc["part_of"] = f"vero {parent.command}"
    tmp = folder / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, folder / MARKER)


def _nested_output(out: Path, depth: int = 3) -> str | None:
    """A vero output below OUT that another run made (not part of OUT's own run), as ``path (`vero cmd`)``."""
    level = [out]
    for _ in range(depth):
        nxt = []
        for d in level:
            try:
                subs = [p for p in d.iterdir() if p.is_dir() and not p.is_symlink() and p.name != ".run"]
            except OSError:
                continue
            for p in subs:
                mk = marker_of(p)
                if mk is not None and not mk.get("part_of"):
                    return f"{p} (`vero {mk.get('command')}`)"
            nxt += subs
        level = nxt
    return None


def staging_for(out: str | Path, *, overwrite: bool, resume: bool) -> Path:
    """Where a run's other processes (ranks > 0 of a distributed ``vero train``) write: the path rank 0's claim
    chooses, decided from OUT without writing anything."""
    out = Path(os.path.realpath(os.path.expanduser(str(out))))  # as claim_output spells it
    partial = partial_dir(out)
    if overwrite and out.exists() and not _is_empty_dir(out):
        return partial
    if resume and partial.is_dir() and marker_of(partial) is not None and out.exists() and not _is_empty_dir(out):
        return partial
    return out
