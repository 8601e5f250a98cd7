"""ONE store for derived arrays: representations, latents, projections, grid cells, DBSCAN trees.

Every entry is keyed by a content fingerprint (``core.hashing.fingerprint`` of its inputs' fingerprints
and its config) inside a *namespace* ("representation", "projection", "grid-cell", …):

* in memory: one LRU shared by every namespace and every caller in the process (CLI and app alike),
  bounded in bytes (``SONGSCAPE_CACHE_BYTES``, default 512 MiB); an entry larger than the bound is
  simply not kept in memory;
* on disk (``persist=True``): ``workspace()/cache/<namespace>/<key[:2]>/<key>.npz`` written atomically,
  holding the arrays, their JSON metadata and a sha256 checksum of every array's bytes. A file that
  cannot be read, or whose checksum does not match, is deleted and rebuilt, with a one-line notice
  (``warnings.warn``) — a damaged cache never crashes a run and never serves garbage as data.

Values are ``Entry(arrays={name: ndarray}, meta={...})``; memory-only entries may also hold any object
(``put_object``/``get_or_compute_object``), e.g. a loaded FeatureSet. ``stats()`` gives hit/miss counts
per namespace for the app's debug expander.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024
_CHECKSUM = "__checksum__"
_META = "__meta__"


@dataclass
class Entry:
    """A cached value: named arrays plus JSON-able metadata."""

    arrays: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return int(sum(np.asarray(a).nbytes for a in self.arrays.values())) + 256


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def memory_bound() -> int:
    """The in-memory bound in bytes (``SONGSCAPE_CACHE_BYTES``; default 512 MiB)."""
    try:
        return max(0, int(os.environ.get("SONGSCAPE_CACHE_BYTES", DEFAULT_MEMORY_BYTES)))
    except ValueError:
        return DEFAULT_MEMORY_BYTES


def object_nbytes(obj: Any, *, _depth: int = 0) -> int:
    """Bytes an object keeps in memory, roughly: arrays and tables exactly, containers and plain objects
    by their parts (a memory-mapped array counts as one page: the operating system holds its data)."""
    import sys

    if isinstance(obj, np.memmap):
        return 4096
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    try:
        import pandas as pd

        if isinstance(obj, (pd.DataFrame, pd.Series)):
            return int(obj.memory_usage(deep=True).sum()) if isinstance(obj, pd.DataFrame) \
                else int(obj.memory_usage(deep=True))
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if _depth > 3:
        return sys.getsizeof(obj)
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(object_nbytes(v, _depth=_depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple, set)):
        return sys.getsizeof(obj) + sum(object_nbytes(v, _depth=_depth + 1) for v in obj)
    if hasattr(obj, "__dict__"):
        return sys.getsizeof(obj) + object_nbytes(vars(obj), _depth=_depth + 1)
    return sys.getsizeof(obj)


class ArrayCache:
    """The process-wide store (use the module-level ``CACHE``)."""

    def __init__(self, *, max_bytes: int | None = None):
        self._max_bytes = max_bytes
        self._items: "OrderedDict[tuple[str, str], tuple[Any, int]]" = OrderedDict()
        self._bytes = 0
        self._lock = threading.RLock()
        self._stats: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------------ bookkeeping
    @property
    def max_bytes(self) -> int:
        return memory_bound() if self._max_bytes is None else self._max_bytes

    @property
    def bytes_in_memory(self) -> int:
        return self._bytes

    def _count(self, namespace: str, what: str) -> None:
        s = self._stats.setdefault(namespace, {"memory_hits": 0, "disk_hits": 0, "misses": 0, "rebuilt": 0})
        s[what] += 1

    def stats(self) -> dict:
        """{namespace: {memory_hits, disk_hits, misses, rebuilt}} plus totals of what memory holds."""
        with self._lock:
            return {"namespaces": {k: dict(v) for k, v in self._stats.items()}, "entries": len(self._items),
                    "bytes": self._bytes, "max_bytes": self.max_bytes}

    def clear_memory(self, namespace: str | None = None) -> None:
        with self._lock:
            for k in [k for k in self._items if namespace is None or k[0] == namespace]:
                self._bytes -= self._items.pop(k)[1]

    # ------------------------------------------------------------------ memory
    def _remember(self, namespace: str, key: str, value: Any, nbytes: int) -> None:
        with self._lock:
            old = self._items.pop((namespace, key), None)
            if old is not None:
                self._bytes -= old[1]
            if nbytes > self.max_bytes:
                return
            self._items[(namespace, key)] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes and self._items:
                self._bytes -= self._items.popitem(last=False)[1][1]

    def _recall(self, namespace: str, key: str):
        with self._lock:
            hit = self._items.get((namespace, key))
            if hit is None:
                return None
            self._items.move_to_end((namespace, key))
            return hit[0]

    # ------------------------------------------------------------------ disk
    @staticmethod
    def path(namespace: str, key: str) -> Path:
        from core.config import workspace

        return workspace() / "cache" / namespace / key[:2] / f"{key}.npz"

    def _read_disk(self, namespace: str, key: str) -> Entry | None:
        path = self.path(namespace, key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files if k not in (_CHECKSUM, _META)}
                stored = str(data[_CHECKSUM])
                meta = json.loads(str(data[_META]))
            if stored != _checksum(arrays):
                raise ValueError("checksum mismatch")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            warnings.warn(f"Cached {namespace} {path.name} was unreadable ({type(exc).__name__}: {exc}); "
                          "it is rebuilt.", stacklevel=3)
            path.unlink(missing_ok=True)
            self._count(namespace, "rebuilt")
            return None
        return Entry(arrays, meta)

    def _write_disk(self, namespace: str, key: str, entry: Entry) -> None:
        from core import artifacts

        buf = io.BytesIO()
        np.savez(buf, **entry.arrays, **{_CHECKSUM: np.array(_checksum(entry.arrays)),
                                          _META: np.array(json.dumps(entry.meta, default=str))})
        artifacts.write_bytes(self.path(namespace, key), buf.getvalue())

    # ------------------------------------------------------------------ public
    def get(self, namespace: str, key: str, *, persist: bool = True) -> Entry | None:
        """The entry from memory, else from disk (``persist``), else None (counted as a miss)."""
        hit = self._recall(namespace, key)
        if hit is not None:
            self._count(namespace, "memory_hits")
            return hit
        if persist:
            entry = self._read_disk(namespace, key)
            if entry is not None:
                self._count(namespace, "disk_hits")
                self._remember(namespace, key, entry, entry.nbytes)
                return entry
        self._count(namespace, "misses")
        return None

    def put(self, namespace: str, key: str, entry: Entry, *, persist: bool = True) -> Entry:
        entry = Entry({k: np.asarray(v) for k, v in entry.arrays.items()}, dict(entry.meta))
        if persist:
            self._write_disk(namespace, key, entry)
        self._remember(namespace, key, entry, entry.nbytes)
        return entry

    def get_or_compute(self, namespace: str, key: str, compute: Callable[[], Entry], *,
                       persist: bool = True) -> Entry:
        """The cached entry, or ``compute()`` stored under ``key`` (on disk too when ``persist``)."""
        entry = self.get(namespace, key, persist=persist)
        if entry is None:
            entry = self.put(namespace, key, compute(), persist=persist)
        return entry

    def peek(self, namespace: str, key: str) -> Any:
        """What memory holds under ``key`` (None if nothing); never reads disk, never counts."""
        with self._lock:
            hit = self._items.get((namespace, key))
            return None if hit is None else hit[0]

    def forget(self, namespace: str, *, key_prefix: str = "") -> int:
        """Drop the memory entries of ``namespace`` whose key starts with ``key_prefix``. → how many."""
        with self._lock:
            gone = [k for k in self._items if k[0] == namespace and k[1].startswith(key_prefix)]
            for k in gone:
                self._bytes -= self._items.pop(k)[1]
            return len(gone)

    def get_or_compute_object(self, namespace: str, key: str, compute: Callable[[], Any], *,
                              nbytes: Callable[[Any], int] | None = None) -> Any:
        """Memory-only: any object (e.g. a loaded FeatureSet), its size given by ``nbytes(obj)``."""
        hit = self._recall(namespace, key)
        if hit is not None:
            self._count(namespace, "memory_hits")
            return hit
        self._count(namespace, "misses")
        obj = compute()
        self._remember(namespace, key, obj, int((nbytes or object_nbytes)(obj)))
        return obj


CACHE = ArrayCache()
