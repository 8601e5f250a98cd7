"""Progress and cancellation protocol shared by every long step.

A ``progress(step, total, logs)`` callable receives the number of units done, the total, and a
dict of live values (losses, current file…). ``cancel()`` returns True when the user asked to stop.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TextIO

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


def _fmt_logs(logs: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in logs.items()
                    if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k not in _HIDDEN_LOGS)


_HIDDEN_LOGS = ("message", "epoch_end", "epochs", "seconds")
PLAIN_STEPS = 10  # plain mode: lines per run for steps that report no epochs (every 10 %)


def console_progress(label: str, *, stream: Optional[TextIO] = None, plain: Optional[bool] = None) -> ProgressFn:
    """Progress for the CLI on ``stream`` (default stderr).

    On a terminal: a live bar (tqdm). Elsewhere (a log file, a pipe, CI) — or with ``plain=True`` —
    plain lines without carriage returns: one per epoch for training (``logs["epoch_end"]``), else
    one per 10 % of the steps, and one when done.
    """
    import sys

    out = stream if stream is not None else sys.stderr
    if plain is None:
        plain = not (hasattr(out, "isatty") and out.isatty())
    return _plain_progress(label, out) if plain else _bar_progress(label, out)


def _plain_progress(label: str, out: TextIO) -> ProgressFn:
    state: dict = {"eta": None, "shown": -1}

    def fn(step: int, total: int, logs: dict) -> None:
        if state["eta"] is None:
            state["eta"] = ETA(total)
        left = state["eta"](step)
        tail = f" ETA {left:.0f}s" if left is not None and step < total else ""
        if logs.get("epoch_end"):
            ep = f"epoch {logs.get('epoch')}/{logs.get('epochs')}" if logs.get("epochs") else f"step {step}/{total}"
            extra = _fmt_logs({k: v for k, v in logs.items() if k != "epoch"})
            out.write(f"{label}: {ep} {extra}{tail}\n")
            out.flush()
            return
        if logs.get("epochs"):
            return  # batch updates of a run that reports epochs: the epoch line says it all
        tenth = int(PLAIN_STEPS * step / max(1, total))
        if tenth > state["shown"] and (tenth > 0 or step >= total):
            state["shown"] = tenth
            extra = _fmt_logs(logs)
            out.write(f"{label}: {step}/{total}{tail}{' ' + extra if extra else ''}\n")
            out.flush()

    return fn


def _bar_progress(label: str, out: TextIO) -> ProgressFn:
    from tqdm import tqdm

    state: dict = {"bar": None}

    def fn(step: int, total: int, logs: dict) -> None:
        bar = state["bar"]
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = state["bar"] = tqdm(total=total, desc=label, file=out, dynamic_ncols=True, leave=True)
        bar.update(max(0, step - bar.n))
        extra = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in logs.items()
                 if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k not in _HIDDEN_LOGS}
        if extra:
            bar.set_postfix(extra, refresh=False)
        if step >= total:
            bar.close()

    return fn
