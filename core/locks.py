"""Cross-process locks: one writer at a time for a dataset, a feature cache or a model folder.

``file_lock(path)`` takes an exclusive ``fcntl.flock`` on a hidden lock file beside ``path``
(``<parent>/.<name>.lock``); a second process asking for the same lock waits until the first
releases it (or gives up after ``timeout`` seconds with a LockTimeoutError that says who to wait
for). The lock is released when the ``with`` block ends or when the holding process dies, so a
crash never leaves a stale lock behind. The lock file itself stays (it is empty and harmless).

``workspace_lock(kind, name)`` is the same lock kept out of the folders users and listings see:
its lock file lives in ``$SONGSCAPE_HOME/.locks/<kind>/`` (datasets use ``workspace_lock("dataset",
name)``).

On systems without ``fcntl`` (Windows) the lock is a no-op: Songscape runs there single-user.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

from core.errors import SongscapeError

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

POLL_SECONDS = 0.05


class LockTimeoutError(SongscapeError, TimeoutError):
    """Another process held a lock for longer than the caller was willing to wait."""


def lock_path(path: str | Path) -> Path:
    """The lock file that guards ``path``: ``<parent>/.<name>.lock``."""
    path = Path(path)
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def file_lock(path: str | Path, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (a file or folder, which need not exist) for the block.

    timeout: seconds to wait for another holder (None = wait as long as it takes; 0 = do not wait).
    Yields the lock file's path. Raises LockTimeoutError naming ``path`` when the wait runs out.
    """
    lp = lock_path(path)
    lp.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield lp
        return
    fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + max(float(timeout), 0.0)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"{path} is busy: another Songscape process has been writing it for more than "
                            f"{timeout:g} s (lock file {lp}). Wait for that process to finish, or stop it, "
                            "and try again.") from None
                    time.sleep(POLL_SECONDS)
        try:
            yield lp
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def workspace_lock(kind: str, name: str, *, timeout: float | None = None):
    """``file_lock`` for the workspace object ``kind``/``name`` (e.g. "dataset", "demo"), with its lock file
    under ``$SONGSCAPE_HOME/.locks/<kind>/`` so dataset, feature and model folders stay clean."""
    from core.config import workspace

    return file_lock(workspace() / ".locks" / kind / name, timeout=timeout)
