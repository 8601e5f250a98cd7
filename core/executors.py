"""Where parallel work runs: this machine's process pool, or a Dask cluster.

``EXECUTORS`` holds one factory per kind:

* ``local``  worker processes on this machine (``core.parallel.process_pool``): the default;
* ``dask``   the workers of a Dask cluster (``distributed.Client``), for collections larger than one
             machine. The cluster's workers must import the same Songscape code and see the same
             files at the same paths (``SONGSCAPE_HOME`` and the audio on a shared filesystem).

``resolve(scheduler)`` picks one from a *scheduler* string — the ``--scheduler`` flag, or the
``SONGSCAPE_SCHEDULER`` environment variable when the flag is absent:

    None / "" / "local"       the local process pool (exactly what runs without a scheduler)
    "local-dask"              a Dask LocalCluster started in this process (one single-threaded worker
                              per job), kept for the life of the process: trying Dask on one machine
    "tcp://host:8786", "host:8786"
                              the Dask scheduler at that address

Every executor offers the same calls:

    executor.imap(fn, items, *, keys=None, stop=None) -> iterator of (index, result)
        fn(*items[i]) for every i, results in the order they finish. ``stop()`` is polled after each
        result; once True nothing new is submitted (local: the running calls are drained and yielded;
        Dask: the unfinished tasks are cancelled). A local worker that dies raises WorkerLostError; a
        Dask worker that dies is replaced by the cluster and its task reruns elsewhere. ``keys`` (Dask
        only) name the tasks as the cluster's dashboard shows them.
    executor.granularity      "row" (local: one clip per task) or "chunk" (Dask: one saved chunk per
                              task, so results travel through the shared filesystem, not the scheduler)

``map_tasks(fn, items, *, scheduler=None, progress=None, jobs=None)`` is the one-call form for any
list of independent jobs (grid cells, …): ``[fn(item) for item in items]``, run in parallel.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Callable, Iterable, Iterator, Sequence

from core.errors import ParameterError, SongscapeError
from core.registry import Registry

ENV_SCHEDULER = "SONGSCAPE_SCHEDULER"
LOCAL_DASK = "local-dask"
CONNECT_TIMEOUT_S = 20
TASK_RETRIES = 2  # a task whose call raised is retried this often; a task on a worker that died always reruns


class WorkerLostError(SongscapeError):
    """A worker process died (killed, out of memory) while it ran ``index``."""

    def __init__(self, message: str, *, index: int):
        self.index = index
        super().__init__(message)


class SchedulerError(SongscapeError):
    """The Dask scheduler could not be reached or is not usable."""


# ---------------------------------------------------------------- local

class LocalExecutor:
    """Worker processes on this machine. ``pool`` (jobs → ProcessPoolExecutor) defaults to
    ``core.parallel.process_pool``; ``jobs == 1`` (or a single item) runs in this process."""

    name = "local"
    granularity = "row"

    def __init__(self, *, jobs: int | None = None, pool: Callable | None = None):
        from core.config import default_jobs

        self.jobs = max(1, int(jobs or default_jobs()))
        self._pool = pool

    def imap(self, fn: Callable, items: Sequence[tuple], *, keys=None, stop=None) -> Iterator[tuple[int, object]]:
        stop = stop or (lambda: False)
        jobs = min(self.jobs, len(items))
        if jobs <= 1:
            # one BLAS thread, as in every worker: a feature's bits do not depend on where it was computed
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1):  # entered once: each entry inspects every loaded library (~2 ms)
                for i, args in enumerate(items):
                    yield i, fn(*args)
                    if stop():
                        return
            return
        yield from self._parallel(fn, items, jobs=jobs, stop=stop)

    def _parallel(self, fn, items, *, jobs: int, stop) -> Iterator[tuple[int, object]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        from core.parallel import process_pool

        window = 4 * jobs  # results wait in memory at most this many at a time
        todo = list(range(len(items)))[::-1]
        with (self._pool or process_pool)(jobs) as pool:
            inflight: dict = {}
            halted = False
            while todo or inflight:
                while todo and not halted and len(inflight) < window:
                    i = todo.pop()
                    inflight[pool.submit(fn, *items[i])] = i
                if not inflight:
                    break
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    i = inflight.pop(fut)
                    try:
                        res = fut.result()
                    except BrokenProcessPool as exc:
                        raise WorkerLostError(f"a worker process died ({exc})", index=i) from exc
                    yield i, res
                    if not halted and stop():
                        halted = True  # drain what runs, submit nothing new


# ---------------------------------------------------------------- dask

_LOCAL_CLUSTER: dict = {}
_LOCAL_LOCK = threading.Lock()


def _close_local_cluster() -> None:
    cluster = _LOCAL_CLUSTER.pop("cluster", None)
    if cluster is not None:
        try:
            cluster.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


def local_dask_address(*, jobs: int | None = None) -> str:
    """The address of this process's Dask LocalCluster (started on first use: ``jobs`` single-threaded
    worker processes, no dashboard), closed when the process exits."""
    from core.config import default_jobs

    with _LOCAL_LOCK:
        cluster = _LOCAL_CLUSTER.get("cluster")
        if cluster is None:
            from distributed import LocalCluster

            from core.parallel import neutral_main

            with neutral_main():
                cluster = LocalCluster(n_workers=max(1, int(jobs or default_jobs())), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
            _LOCAL_CLUSTER["cluster"] = cluster
            atexit.register(_close_local_cluster)
        return cluster.scheduler_address


class DaskExecutor:
    """The workers of the Dask cluster whose scheduler listens at ``address``."""

    name = "dask"
    granularity = "chunk"

    def __init__(self, *, address: str, jobs: int | None = None):
        self.address = address
        self.jobs = jobs
        self.workers = 0  # worker threads the cluster had when the last imap started

    def _client(self):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - installed with requirements.txt
            raise SchedulerError("Running on a Dask cluster needs the 'distributed' package: "
                                 "pip install 'dask[distributed]'.") from exc
        address = local_dask_address(jobs=self.jobs) if self.address == LOCAL_DASK else self.address
        try:
            return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SchedulerError(
                f"Cannot reach the Dask scheduler at {address!r} ({exc}). Start one (`dask scheduler`, then "
                f"`dask worker {address}` on each machine), check the address, or leave --scheduler / "
                f"{ENV_SCHEDULER} unset to run on this machine.") from exc

    def imap(self, fn: Callable, items: Sequence[tuple], *, keys=None, stop=None) -> Iterator[tuple[int, object]]:
        import uuid

        from distributed import as_completed

        stop = stop or (lambda: False)
        if not items:
            return
        run = uuid.uuid4().hex[:8]
        with self._client() as client:
            n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
            self.workers = n_workers  # shown with the progress ("… on 16 Dask workers")
            window = max(4, 4 * n_workers)
            todo = list(range(len(items)))[::-1]
            index: dict = {}

            def submit(i: int):
                key = f"{keys[i]}-{run}" if keys is not None else None
                fut = client.submit(fn, *items[i], key=key, pure=False, retries=TASK_RETRIES)
                index[fut.key] = i
                return fut

            first = []
            while todo and len(first) < window:
                first.append(submit(todo.pop()))
            pending = as_completed(first, loop=client.loop)
            for fut in pending:
                i = index.pop(fut.key)
                res = fut.result()  # a call that raised raises here, after its retries
                fut.release()
                yield i, res
                if stop():  # cancel what has not finished; work a worker completes anyway is still saved by it
                    rest = list(pending.futures)
                    pending.clear()
                    client.cancel(rest)
                    return
                if todo:
                    pending.add(submit(todo.pop()))


# ---------------------------------------------------------------- registry

EXECUTORS: Registry = Registry("executor")
EXECUTORS.add("local", LocalExecutor)
EXECUTORS.add("dask", DaskExecutor)


def scheduler_from_env(scheduler: str | None) -> str:
    """``scheduler`` if given, else ``$SONGSCAPE_SCHEDULER``, else "" (local)."""
    if scheduler is None:
        scheduler = os.environ.get(ENV_SCHEDULER, "")
    return str(scheduler).strip()


def resolve(scheduler: str | None = None, *, jobs: int | None = None, pool: Callable | None = None):
    """The executor a scheduler string names (see the module docstring). ``pool`` is the local pool factory."""
    s = scheduler_from_env(scheduler)
    if s in ("", "local"):
        return EXECUTORS.get("local")(jobs=jobs, pool=pool)
    if s == LOCAL_DASK or "://" in s or ":" in s:
        return EXECUTORS.get("dask")(address=s, jobs=jobs)
    raise ParameterError("scheduler", value=scheduler if scheduler is not None else s,
                         expected="'local', 'local-dask' or a Dask scheduler address such as tcp://10.0.0.5:8786",
                         fix=f"Pass --scheduler ADDRESS (or set {ENV_SCHEDULER}) to the address `dask scheduler` "
                             "prints, or leave it unset to run on this machine.")


def _call(fn, item):
    return fn(item)


def map_tasks(fn: Callable, items: Iterable, *, scheduler: str | None = None, progress=None,
              jobs: int | None = None) -> list:
    """``[fn(item) for item in items]`` in parallel on the executor ``scheduler`` names (local by default).

    fn must be a module-level function (workers import it by name); items and results must pickle.
    progress(step, total, {"item": index}) is called as items finish. Results come back in item order.
    """
    items = list(items)
    progress = progress or (lambda *a: None)
    ex = resolve(scheduler, jobs=jobs)
    out: list = [None] * len(items)
    progress(0, len(items), {})
    for step, (i, res) in enumerate(ex.imap(_call, [(fn, it) for it in items]), start=1):
        out[i] = res
        progress(step, len(items), {"item": i})
    return out
