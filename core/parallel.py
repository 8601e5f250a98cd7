"""Process pools that are safe to start from inside a Streamlit script.

``spawn`` and ``forkserver`` children re-import the parent's ``__main__`` module. Under
``streamlit run`` that module is the app script itself, so a child would re-run the whole app
(and start its own pools). We start every worker while ``__main__`` is swapped for an empty module;
our workers only need functions from ``core``, which pickle by reference.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
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


def _noop() -> None:
    return None


def process_pool(jobs: int, *, initializer: Callable | None = None, initargs: tuple = (),
                 context: str = "spawn", preload: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor with all ``jobs`` workers already started (under a neutral ``__main__``)."""
    try:
        ctx = mp.get_context(context)
        if context == "forkserver" and preload:
            ctx.set_forkserver_preload(list(preload))
    except ValueError:
        ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=initializer, initargs=initargs)
    with neutral_main():
        for fut in [pool.submit(_noop) for _ in range(jobs)]:
            fut.result()
    return pool
