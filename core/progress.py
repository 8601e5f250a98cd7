"""Progress and cancellation protocol shared by every long step.

A ``progress(step, total, logs)`` callable receives the number of units done, the total, and a
dict of live values (losses, current file…). ``cancel()`` returns True when the user asked to stop.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

ProgressFn = Callable[[int, int, dict], None]
CancelFn = Callable[[], bool]


def no_progress(step: int, total: int, logs: dict) -> None:  # noqa: ARG001
    return None


def never_cancel() -> bool:
    return False


class Cancelled(Exception):
    """Raised inside a long step when ``cancel()`` returned True; partial results are kept."""


class ETA:
    """Estimated seconds left from the mean time per unit so far."""

    def __init__(self, total: int):
        self.total, self.start = max(1, total), time.perf_counter()

    def __call__(self, done: int) -> Optional[float]:
        if done <= 0:
            return None
        elapsed = time.perf_counter() - self.start
        return elapsed / done * (self.total - done)


def console_progress(label: str) -> ProgressFn:
    """A plain-text progress bar for the CLI (stderr)."""
    import sys

    eta = {"t": None}

    def fn(step: int, total: int, logs: dict) -> None:
        if eta["t"] is None:
            eta["t"] = ETA(total)
        left = eta["t"](step)
        width = 30
        filled = int(width * step / max(1, total))
        extra = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in logs.items()
                         if isinstance(v, (int, float, str)) and k != "message")
        msg = f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {step}/{total}"
        if left is not None:
            msg += f" ETA {left:.0f}s"
        sys.stderr.write(msg + (" " + extra if extra else "") + ("\n" if step >= total else ""))
        sys.stderr.flush()

    return fn
