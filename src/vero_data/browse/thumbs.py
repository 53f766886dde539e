"""Images for the browser: originals as stored (only known raster formats), thumbnails made lazily with Pillow and
cached outside the build folder (``$XDG_CACHE_HOME/vero/browse/<folder fingerprint>/``), or in memory when that
folder cannot be written."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

THUMB_SIZES = (160, 256, 512)
_MAGIC = [(b"\x89PNG\r\n\x1a\n", "image/png", "png"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
          (b"GIF87a", "image/gif", "gif"), (b"GIF89a", "image/gif", "gif")]


def image_type(data: bytes) -> tuple[str, str] | None:
    """(MIME type, file extension) of PNG/JPEG/GIF/WebP bytes; None for anything else (re-encoded as PNG)."""
    for magic, mime, ext in _MAGIC:
        if data.startswith(magic):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def displayable(data: bytes) -> tuple[bytes, str, str]:
    """The bytes a browser can show: as stored when PNG/JPEG/GIF/WebP, else decoded and re-encoded as PNG."""
    t = image_type(data)
    if t is not None:
        return data, *t
    from vero_data.images import decode_rgb

    buf = io.BytesIO()
    decode_rgb(data).save(buf, "PNG")
    return buf.getvalue(), "image/png", "png"


def make_thumbnail(data: bytes, size: int) -> bytes:
    """A JPEG no larger than ``size`` on its longest side, as the model sees the image (EXIF orientation applied,
    transparency on white)."""
    from vero_data.images import decode_rgb

    im = decode_rgb(data)
    im.thumbnail((size, size))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vero" / "browse"


class ThumbnailCache:
    """Thumbnails by (row id, image index, size): on disk under ``root/<fingerprint>``, or in memory (LRU)."""

    def __init__(self, fingerprint: str, root: Path | None = None, build_root: Path | None = None,
                 memory_items: int = 2048):
        self.dir: Path | None = (root or default_cache_root()) / fingerprint
        if build_root is not None and self.dir.resolve().is_relative_to(Path(build_root).resolve()):
            log.warning("thumbnail cache %s lies inside the build folder; caching in memory instead", self.dir)
            self.dir = None
        self._mem: OrderedDict[str, bytes] = OrderedDict()
        self._items = memory_items
        self._lock = threading.Lock()

    def _key(self, row_id: str, n: int, size: int) -> str:
        return hashlib.sha256(f"{row_id}\0{n}\0{size}".encode()).hexdigest()[:32]

    def get(self, row_id: str, n: int, size: int, load) -> bytes | None:
        """The thumbnail, made from ``load()`` (the image bytes, or None) on a miss."""
        key = self._key(row_id, n, size)
        if self.dir is not None:
            p = self.dir / f"{key}.jpg"
            try:
                return p.read_bytes()
            except OSError:
                pass
        else:
            with self._lock:
                if key in self._mem:
                    self._mem.move_to_end(key)
                    return self._mem[key]
        data = load()
        if data is None:
            return None
        thumb = make_thumbnail(data, size)
        if self.dir is not None:
            tmp = self.dir / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:  # the folder is made on the first thumbnail, so serving a folder never leaves an empty one
                self.dir.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(thumb)
                os.replace(tmp, self.dir / f"{key}.jpg")
                return thumb
            except OSError as e:
                log.warning("cannot write thumbnails to %s (%s); caching in memory", self.dir, e)
                self.dir = None
        if self.dir is None:
            with self._lock:
                self._mem[key] = thumb
                if len(self._mem) > self._items:
                    self._mem.popitem(last=False)
        return thumb
