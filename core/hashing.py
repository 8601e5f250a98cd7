"""Fingerprints: sha256 over inputs' fingerprints + canonical JSON config + a code version."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

CODE_VERSION = "1"


def _default(obj: Any):
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return array_fingerprint(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"cannot fingerprint {type(obj).__name__}")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False)


def fingerprint(*parts: Any, version: str = CODE_VERSION) -> str:
    """sha256 hex of the canonical JSON of ``parts`` plus a code version."""
    h = hashlib.sha256()
    h.update(version.encode())
    for part in parts:
        h.update(b"\x00")
        h.update(canonical_json(part).encode("utf-8"))
    return h.hexdigest()


def array_fingerprint(arr: np.ndarray) -> str:
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def file_fingerprint(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Content hash of a file (size + sha256 of bytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
