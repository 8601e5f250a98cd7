"""Content-addressed storage with atomic writes: nothing is ever half-written.

Every writer goes to a temporary file in the same folder and ``os.replace``s it into place, so a
crash leaves either the old file or the new one. Directories of several files are written to a
temporary directory and renamed as a whole, with a ``.complete`` marker written last.

Files and folders end with the permissions the user's umask gives (``0o666 & ~umask`` for files,
``0o777 & ~umask`` for folders), as if written directly, not the private 0600/0700 of temp files.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from core.errors import ArtifactError

COMPLETE_MARKER = ".complete"


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # portable fallback: read by setting, then restore at once
    os.umask(mask)
    return mask


def _chmod_default(path: Path, *, folder: bool) -> None:
    """Give a temp file/folder the mode a plain create would have had under the current umask."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            _chmod_default(tmp_path, folder=tmp_path.is_dir())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"Cannot read JSON artifact {path}: {exc}. Delete it to rebuild.") from exc


def save_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return write_bytes(path, buf.getvalue())


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - any decode failure means a corrupt artifact
        raise ArtifactError(f"Cannot read array artifact {path}: {exc}. Delete it to rebuild.") from exc


def write_csv(path: str | Path, df) -> Path:
    return write_text(path, df.to_csv(index=False))


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory in a temp sibling; rename into place with a completion marker.

    An existing complete directory at ``path`` is replaced only after the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        (tmp / COMPLETE_MARKER).write_text("ok")
        _chmod_default(tmp, folder=True)
        if path.exists():
            old = path.with_name(f".{path.name}.old.{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def is_complete(path: str | Path) -> bool:
    return (Path(path) / COMPLETE_MARKER).exists()
