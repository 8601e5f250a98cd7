"""The per-clip pass every audio-reading group shares: ``run_rows``, chunked, resumable, parallel.

Rows (one clip each) go through a row function on an executor (core.executors): this machine's process
pool by default (one row per task, ``4 * jobs`` rows in flight), or a Dask cluster (one chunk per task,
written by the worker to the partial folder on the shared filesystem). Finished chunks are saved as
``chunk_NNNNN.npz`` (core.features._worker) and reused by the next run. Memory holds only the chunks
being filled; the result (``GroupResult.blocks``) streams the saved chunks into the group's
memory-mapped ``.npy`` files (core.features.extract).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from core.errors import ArtifactError
from core.features import _worker
from core.features.base import FeatureConfig
from core.progress import Cancelled, never_cancel, no_progress


@dataclass
class GroupResult:
    """What a group computed. ``arrays`` {name: (n, *shape)} whole, or — for groups too large to hold —
    ``shapes`` {name: per-row shape} with ``blocks()`` yielding ``(first row, {name: (m, *shape)})`` blocks
    that are streamed to disk (rows never yielded stay zeros)."""

    arrays: dict[str, np.ndarray]
    valid: np.ndarray
    errors: dict[str, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    shapes: dict[str, tuple] = field(default_factory=dict)
    blocks: Callable[[], Iterator[tuple[int, dict[str, np.ndarray]]]] | None = None


class FeatureExtractionError(ArtifactError):
    """The extraction itself broke down (not one file): e.g. a worker process was killed."""



def make_pool(jobs: int):
    """A process pool whose workers run one thread each and have librosa imported already."""
    from core.parallel import process_pool

    return process_pool(jobs, initializer=_worker.init, context="forkserver", preload=("core.features._preload",))


def _chunk_file(part: Path, c: int) -> Path:
    return _worker.chunk_file(part, c)


def _save_chunk(part: Path, c: int, buf: dict) -> None:
    _worker.save_chunk(part, c, valid=buf["valid"], errors=buf["errors"], arrays=buf["arrays"])


def _load_chunk(part: Path, c: int, length: int, shapes: dict) -> dict | None:
    return _worker.load_chunk(part, c, length, shapes)


def _cancelled(saved: int, n_chunks: int) -> Cancelled:
    return Cancelled(f"Feature extraction cancelled; {saved} of {n_chunks} chunks are saved and the next run "
                     "resumes from them.")


def run_rows(dataset, cfg: FeatureConfig, *, group_fp: str, shapes: dict, row_fn, row_args: tuple = (),
             progress=no_progress, cancel=never_cancel, jobs: int | None = None,
             scheduler: str | None = None) -> GroupResult:
    """``row_fn(path, offset_s, duration_s, *row_args)`` → ("ok", {name: array of shapes[name]}) or
    ("error", reason) for every row with a path (a module-level function: workers import it by name).

    Runs on the executor ``scheduler`` names (core.executors): by default ``jobs`` local worker processes,
    one row per task; on a Dask cluster one chunk per task, written by the worker to the shared partial
    folder. Chunks of ``cfg.chunk_size`` rows are saved as they finish, so a cancelled or killed run
    resumes where it stopped. Rows that fail are zeros with valid False and their reason in ``errors``
    (keyed by track_id). Memory: the chunks being filled (a window of ``4 * jobs`` rows in flight), never
    the whole group: the result streams the saved chunks (``GroupResult.blocks``).
    """
    from core.executors import WorkerLostError, resolve
    from core.features.extract import partial_dir

    t = dataset.tracks
    n, cs = len(t), int(cfg.chunk_size)
    n_chunks = (n + cs - 1) // cs
    part = partial_dir(dataset, group_fp, cs)
    paths = t["path"].astype(str).tolist()
    offsets = [float(x) if x == x else 0.0 for x in t["offset_s"]]
    durations = [float(x) if x == x else None for x in t["duration_s"]]
    executor = resolve(scheduler, jobs=jobs, pool=make_pool)

    def length(c: int) -> int:
        return min(cs, n - c * cs)

    chunks: dict[int, dict] = {}
    for c in range(n_chunks):
        got = _load_chunk(part, c, length(c), shapes)
        if got is not None:
            got["arrays"] = None  # validated; read again when assembling (keeps memory to one chunk)
            chunks[c] = got
    step = sum(length(c) for c in chunks)
    resumed = len(chunks)
    progress(step, n, {"file": "", "resumed_chunks": resumed})

    def saved() -> int:
        return sum(1 for b in chunks.values() if b["left"] == 0)

    if executor.granularity == "chunk":
        todo = [c for c in range(n_chunks) if c not in chunks]
        items = [(str(part), c, [(paths[i], offsets[i], durations[i]) for i in range(c * cs, c * cs + length(c))],
                  shapes, row_fn, row_args) for c in todo]
        keys = [f"songscape-chunk-{group_fp[:16]}-c{cs}-{c:05d}" for c in todo]
        part.mkdir(parents=True, exist_ok=True)
        halted, reused = False, 0

        def stop() -> bool:
            nonlocal halted
            halted = halted or bool(cancel())
            return halted

        for _, res in executor.imap(_worker.run_chunk, items, keys=keys, stop=stop):
            c = int(res["c"])
            reused += 0 if res["computed"] else 1
            chunks[c] = {"arrays": None, "valid": np.asarray(res["valid"], bool),
                         "errors": {int(j): str(m) for j, m in res["errors"].items()}, "left": 0}
            step += length(c)
            workers = getattr(executor, "workers", 0)
            progress(step, n, {"file": f"chunk {c + 1}/{n_chunks}" + (f" on {workers} Dask workers" if workers else "")})
        if halted and len(chunks) < n_chunks:
            raise _cancelled(saved(), n_chunks)
    else:
        reused = 0
        _run_local_rows(executor, chunks=chunks, part=part, shapes=shapes, n=n, cs=cs, n_chunks=n_chunks,
                        paths=paths, offsets=offsets, durations=durations, row_fn=row_fn, row_args=row_args,
                        progress=progress, cancel=cancel, step=step, error=WorkerLostError)

    valid = np.concatenate([chunks[c]["valid"] for c in range(n_chunks)]) if n_chunks else np.zeros(0, bool)
    ids = t["track_id"].astype(str).tolist()
    errors = {ids[c * cs + j]: msg for c in range(n_chunks) for j, msg in chunks[c]["errors"].items()}
    info = {"n_failed": int(len(errors)), "chunk_size": cs, "jobs": executor.jobs or 0,
            "executor": executor.name, "chunks_reused": resumed + reused,
            "chunks_computed": n_chunks - resumed - reused}

    def blocks() -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        for c in range(n_chunks):
            got = _load_chunk(part, c, length(c), shapes)
            if got is None:
                where = (" Every Dask worker must write to the same SONGSCAPE_HOME this machine reads (a shared "
                         "filesystem mounted at the same path)." if executor.granularity == "chunk" else "")
                raise FeatureExtractionError(f"Partial result {_chunk_file(part, c)} vanished or is corrupt; rerun "
                                             f"to recompute that chunk.{where}")
            yield c * cs, got["arrays"]

    return GroupResult(arrays={}, valid=valid, errors=errors, info=info, shapes=dict(shapes), blocks=blocks)


def _run_local_rows(executor, *, chunks, part, shapes, n, cs, n_chunks, paths, offsets, durations, row_fn,
                    row_args, progress, cancel, step, error) -> None:
    """One row per task on the local executor; a chunk's buffer exists only while its rows are in flight."""

    def length(c: int) -> int:
        return min(cs, n - c * cs)

    def new_buf(c: int) -> dict:
        return {"arrays": {k: np.zeros((length(c), *s), dtype=np.float32) for k, s in shapes.items()},
                "valid": np.zeros(length(c), dtype=bool), "errors": {}, "left": length(c)}

    tasks = []
    for c in range(n_chunks):
        if c in chunks:
            continue
        buf = {"arrays": None, "valid": np.zeros(length(c), dtype=bool), "errors": {}, "left": length(c)}
        chunks[c] = buf
        for j in range(length(c)):
            i = c * cs + j
            if paths[i]:
                tasks.append((c, j, i))
            else:
                buf["errors"][j] = _worker.EMPTY_PATH
                buf["left"] -= 1
                step += 1
        if buf["left"] == 0:  # nothing to compute: a chunk of zeros
            _save_chunk(part, c, {**buf, "arrays": new_buf(c)["arrays"]})

    def finish(c: int, j: int, i: int, res) -> None:
        nonlocal step
        status, payload = res
        buf = chunks[c]
        if buf["arrays"] is None:  # first finished row of this chunk
            buf["arrays"] = new_buf(c)["arrays"]
        if status == "ok":
            for k, arr in payload.items():
                buf["arrays"][k][j] = arr
            buf["valid"][j] = True
        else:
            buf["errors"][j] = payload
        buf["left"] -= 1
        step += 1
        progress(step, n, {"file": os.path.basename(paths[i])})
        if buf["left"] == 0:
            _save_chunk(part, c, buf)
            buf["arrays"] = None  # on disk now; streamed from there at the end

    stopped, last = {"now": False}, {"done": False}

    def stop() -> bool:  # polled after every row: cancel() is asked each time a chunk has just been saved
        if not stopped["now"] and last["done"] and cancel():
            stopped["now"] = True
        return stopped["now"]

    items = [(paths[i], offsets[i], durations[i], *row_args) for _, _, i in tasks]
    try:
        for k, res in executor.imap(row_fn, items, stop=stop):
            c, j, i = tasks[k]
            finish(c, j, i, res)
            last["done"] = chunks[c]["left"] == 0
    except error as exc:  # a worker died (out of memory?): keep finished chunks only
        c, j, i = tasks[exc.index]
        raise FeatureExtractionError(
            f"An extraction worker process died while reading {paths[i]} ({exc}). Finished chunks are "
            "kept; rerun to resume, with fewer jobs if memory is short.") from exc
    if stopped["now"] and any(b["left"] for b in chunks.values()):
        raise _cancelled(sum(1 for b in chunks.values() if b["left"] == 0), n_chunks)
