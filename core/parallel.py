"""Process pools that are safe to start from inside a Streamlit script.

``spawn`` and ``forkserver`` children re-import the parent's ``__main__`` module. Under
``streamlit run`` that module is the app script itself, so a child would re-run the whole app
(and start its own pools). We start every worker while ``__main__`` is swapped for an empty module;
our workers only need functions from ``core``, which pickle by reference.

Workers never outlive the process that started them: each one watches its parent. On Linux the
kernel sends it SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``, armed when the pool is
started from the main thread, since the signal follows the creating thread); everywhere a daemon
thread also polls ``os.getppid()`` every ``PARENT_POLL_SECONDS`` and ends the worker once it has
been re-parented. A killed app or CLI therefore never leaves orphaned workers burning CPU.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator


@contextlib.contextmanager
def neutral_main() -> Iterator[None]:
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _noop() -> None:
    return None


def _arm_pdeathsig() -> bool:
    """Linux: ask the kernel to SIGTERM this process when its parent dies. False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _parent_gone(parent: int, creator: int) -> bool:
    return os.getppid() != parent or not _pid_alive(creator)


def _exit_now() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1.0)
    os._exit(1)  # SIGTERM was handled without exiting


def _watch_parent(parent: int, creator: int) -> None:
    while not _parent_gone(parent, creator):
        time.sleep(PARENT_POLL_SECONDS)
    _exit_now()


def watch_parent_init(creator: int, use_pdeathsig: bool, initializer: Callable | None = None,
                      initargs: tuple = ()) -> None:
    """Pool initializer: end this worker when the process that started the pool (pid ``creator``) or
    its direct parent (the creator, or the forkserver) dies; then run the caller's ``initializer``."""
    parent = os.getppid()
    if use_pdeathsig and parent == creator:
        _arm_pdeathsig()
    if _parent_gone(parent, creator) or parent == 1:  # died while this worker was starting
        _exit_now()
    threading.Thread(target=_watch_parent, args=(parent, creator), name="songscape-parent-watch",
                     daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def process_pool(jobs: int, *, initializer: Callable | None = None, initargs: tuple = (),
                 context: str = "spawn", preload: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor with all ``jobs`` workers already started (under a neutral ``__main__``).

    Each worker runs ``initializer(*initargs)`` after arming its parent watch (see the module docstring).
    """
    try:
        ctx = mp.get_context(context)
        if context == "forkserver" and preload:
            ctx.set_forkserver_preload(list(preload))
    except ValueError:
        ctx = mp.get_context("spawn")
    # PR_SET_PDEATHSIG fires when the creating *thread* ends: only safe from the main thread (a
    # Streamlit script thread ends after every rerun while a cached pool lives on).
    use_pdeathsig = threading.current_thread() is threading.main_thread()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=watch_parent_init,
                               initargs=(os.getpid(), use_pdeathsig, initializer, tuple(initargs)))
    with neutral_main():
        for fut in [pool.submit(_noop) for _ in range(jobs)]:
            fut.result()
    return pool
