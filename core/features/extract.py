"""The feature cache and the parallel, resumable audio pass.

Layout (``workspace()/features/<dataset>/``)::

    <group fingerprint[:16]>/          complete groups, written with core.artifacts.atomic_dir
        meta.json                      group, fingerprint, config, errors, per-feature shapes
        track_ids.npy, valid.npy       (n,) row order = dataset.tracks
        <feature>.npy                  (n, *shape) float32, one per feature of the group; read
                                       memory-mapped (FeatureSet.X is a read-only np.memmap)
    .partial/<fingerprint[:16]>-c<chunk>/chunk_00000.npz …
                                       finished audio chunks of an interrupted run (reused on rerun)

Memory stays bounded by a window, not by the collection: the per-clip groups (``run_rows``) keep only the
chunks still being filled in memory, save each finished chunk, and the group's ``.npy`` files are then
assembled by streaming the chunks, one at a time, into preallocated ``np.lib.format.open_memmap`` files.
A group may return its arrays whole (``GroupResult.arrays``: lyrics, tabular) or as ``blocks`` (an
iterator of ``(first row, {name: rows})``) that ``_write_group`` streams the same way.

Parallel work runs on an executor (``core.executors``): this machine's process pool by default, or the
Dask cluster named by ``scheduler`` / ``$SONGSCAPE_SCHEDULER``, whose tasks are whole chunks written to
the same partial folder on the shared filesystem. A chunk already saved is never computed again. One
dataset's groups are built under ``workspace_lock("features", dataset)``: a second extraction of the same
dataset waits, then reads what the first one wrote.

A *group* is everything one pass computes: ``audio`` (all spectral features from one decode + one
STFT per clip), ``lyrics`` (lyrics, lyrics_tfidf), ``tabular``, and one group per pretrained musicnn
tagger (``musicnn_mtt``, ``musicnn_msd``: embedding + tags from one 16 kHz decode per clip). Groups
live in ``GROUPS``; a feature's ``kind`` names its group. ``run_rows`` is the per-clip, chunked,
resumable, parallel loop the audio and musicnn groups share.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from core import artifacts
from core.config import workspace
from core.errors import ArtifactError, SchemaError
from core.features import _worker
from core.features.base import FEATURES, FEATURES_VERSION, FeatureConfig, FeatureSet
from core.hashing import fingerprint
from core.progress import Cancelled, no_progress, never_cancel
from core.registry import Registry


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


GROUPS: Registry = Registry("feature group")


class FeatureExtractionError(ArtifactError):
    """The extraction itself broke down (not one file): e.g. a worker process was killed."""


def features_root(dataset) -> Path:
    return workspace() / "features" / dataset.name


def group_dir(dataset, group_fp: str) -> Path:
    return features_root(dataset) / group_fp[:16]


def partial_dir(dataset, group_fp: str, chunk_size: int) -> Path:
    return features_root(dataset) / ".partial" / f"{group_fp[:16]}-c{int(chunk_size)}"


# ---------------------------------------------------------------- groups

def _has_audio(tracks) -> bool:
    return "path" in tracks.columns and bool((tracks["path"].astype(str) != "").any())


def _audio_rows(dataset) -> tuple[list, list]:
    """What an audio pass reads: (track ids, paths, offsets, durations) and each file's (size, mtime)."""
    t = dataset.tracks
    stats = []
    for p in t["path"].astype(str):
        try:
            st = os.stat(p) if p else None
            stats.append([st.st_size, st.st_mtime_ns] if st else None)
        except OSError:
            stats.append(None)
    rows = [t["track_id"].astype(str).tolist(), t["path"].astype(str).tolist(),
            [float(x) for x in t["offset_s"]], [None if x != x else float(x) for x in t["duration_s"]]]
    return rows, stats


class AudioGroup:
    """Every spectral feature from one decode + one STFT per clip, in parallel, resumable."""

    kind = "audio"

    def names(self) -> list[str]:
        return [n for n, s in FEATURES.items() if s.kind == self.kind]

    def unavailable(self, dataset) -> str:
        return "" if _has_audio(dataset.tracks) else "the track table has no audio paths"

    def config(self, cfg: FeatureConfig) -> dict:
        return cfg.spectral.describe()

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        return fingerprint("audio", dataset.fingerprint, *_audio_rows(dataset), cfg.spectral, version=FEATURES_VERSION)

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs,
                scheduler: str | None = None) -> GroupResult:
        return run_audio(dataset, cfg, group_fp=group_fp, progress=progress, cancel=cancel, jobs=jobs,
                         scheduler=scheduler)


class LyricsGroup:
    kind = "lyrics"

    def names(self) -> list[str]:
        return [n for n, s in FEATURES.items() if s.kind == self.kind]

    def unavailable(self, dataset) -> str:
        t = dataset.tracks
        if "lyrics" not in t.columns:
            return "the track table has no lyrics column"
        n = int((t["lyrics"].astype(str).str.strip() != "").sum())
        return "" if n >= 2 else f"only {n} track(s) have lyrics (2 or more needed)"

    def config(self, cfg: FeatureConfig) -> dict:
        from dataclasses import asdict

        return asdict(cfg.lyrics)

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        t = dataset.tracks
        return fingerprint("lyrics", dataset.fingerprint, t["track_id"].astype(str).tolist(),
                           t["lyrics"].astype(str).tolist(), cfg.lyrics, version=FEATURES_VERSION)

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs,
                scheduler: str | None = None) -> GroupResult:
        from core.features.lyrics import lyrics_group

        progress(0, 1, {"file": "lyrics"})
        out = lyrics_group(dataset.tracks["lyrics"].tolist(), config=cfg.lyrics)
        progress(1, 1, {"file": "lyrics"})
        return GroupResult(arrays=out["arrays"], valid=out["valid"], info=out["info"])


class TabularGroup:
    kind = "tabular"

    def names(self) -> list[str]:
        return [n for n, s in FEATURES.items() if s.kind == self.kind]

    def unavailable(self, dataset) -> str:
        from core.features.tabular import tabular_columns

        try:
            cols = tabular_columns(dataset.tracks)
        except SchemaError as exc:
            return str(exc)
        return "" if cols else "the track table has no numeric columns besides the core ones"

    def config(self, cfg: FeatureConfig) -> dict:
        from dataclasses import asdict

        return asdict(cfg.tabular)

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        from core.features.tabular import tabular_columns

        t = dataset.tracks
        cols = tabular_columns(t, config=cfg.tabular)
        values = t[cols].astype(str).values.tolist()
        return fingerprint("tabular", dataset.fingerprint, t["track_id"].astype(str).tolist(), cols, values,
                           cfg.tabular, version=FEATURES_VERSION)

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs,
                scheduler: str | None = None) -> GroupResult:
        from core.features.tabular import tabular_group

        out = tabular_group(dataset.tracks, config=cfg.tabular)
        progress(1, 1, {"file": "tabular"})
        return GroupResult(arrays=out["arrays"], valid=out["valid"], info=out["info"])


class MusicnnGroup:
    """One pretrained musicnn tagger: its embedding and tag probabilities per clip (core.features.musicnn).

    Its own 16 kHz decode of the same excerpt the audio pass reads (offset_s, at most
    ``spectral.clip_s`` seconds); resumable and parallel like the audio pass (run_rows). On a CUDA or
    MPS device the rows run in this process, one clip at a time on the accelerator; on CPU in
    ``jobs`` worker processes of one thread each.
    """

    def __init__(self, kind: str, model: str):
        self.kind, self.model = kind, model

    def names(self) -> list[str]:
        return [n for n, s in FEATURES.items() if s.kind == self.kind]

    def unavailable(self, dataset) -> str:
        from core.features.musicnn import missing_reason

        return missing_reason(self.model) or AudioGroup().unavailable(dataset)

    def _params(self, cfg: FeatureConfig) -> dict:
        """What the numbers depend on (fingerprinted)."""
        from core.features import musicnn as M

        return {"model": self.model, "sr": M.SR, "n_fft": M.N_FFT, "hop": M.HOP, "n_mels": M.N_MELS,
                "patch_frames": M.PATCH_FRAMES, "patch_hop": M.PATCH_HOP, "clip_s": cfg.spectral.clip_s}

    def config(self, cfg: FeatureConfig) -> dict:
        from core.features import musicnn as M

        spec = M.MODELS.get(self.model)
        return {**self._params(cfg), "trained_on": spec.trained_on, "short_clips": "repeat-padded to one patch",
                "embedding": f"penultimate layer ({spec.embedding_dim}-D): mean | max over patches",
                "tags": "taggram mean over patches"}

    def _checkpoint_stat(self) -> list:
        from core.features.musicnn import checkpoint_dir

        data = checkpoint_dir(self.model) / ".data-00000-of-00001"
        return [data.stat().st_size] if data.exists() else [None]

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        return fingerprint("musicnn", dataset.fingerprint, *_audio_rows(dataset), self._params(cfg),
                           self._checkpoint_stat(), version=FEATURES_VERSION)

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs,
                scheduler: str | None = None) -> GroupResult:
        from core.features.musicnn.embed import select_device

        device = select_device("auto").type
        if device != "cpu":
            jobs, scheduler = 1, "local"  # this process drives its accelerator
        shapes = {n: tuple(FEATURES.get(n).shape) for n in self.names()}
        res = run_rows(dataset, cfg, group_fp=group_fp, shapes=shapes, row_fn=_worker.musicnn_row,
                       row_args=(self.kind, self.model, device, float(cfg.spectral.clip_s)), progress=progress,
                       cancel=cancel, jobs=jobs, scheduler=scheduler)
        res.info["device"] = device
        return res


GROUPS.add("audio", AudioGroup())
GROUPS.add("lyrics", LyricsGroup())
GROUPS.add("tabular", TabularGroup())
GROUPS.add("musicnn_mtt", MusicnnGroup("musicnn_mtt", "MTT_musicnn"))
GROUPS.add("musicnn_msd", MusicnnGroup("musicnn_msd", "MSD_musicnn"))


# ---------------------------------------------------------------- cache

def _write_group(path: Path, *, group: str, group_fp: str, dataset, result: GroupResult, config: dict) -> None:
    """The group's folder, atomically. Streamed results (``result.blocks``) go block by block into
    preallocated memory-mapped ``.npy`` files: memory holds one block, never the whole feature."""
    n = len(dataset.tracks)
    with artifacts.atomic_dir(path) as tmp:
        shapes = {k: tuple(v.shape[1:]) for k, v in result.arrays.items()}
        for name, arr in result.arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
        if result.blocks is not None:
            shapes.update({k: tuple(s) for k, s in result.shapes.items()})
            out = {k: np.lib.format.open_memmap(tmp / f"{k}.npy", mode="w+", dtype=np.float32, shape=(n, *s))
                   for k, s in result.shapes.items()}
            for start, block in result.blocks():
                for k, rows in block.items():
                    out[k][start: start + len(rows)] = rows
            for mm in out.values():
                mm.flush()
            del out
        np.save(tmp / "valid.npy", np.asarray(result.valid, dtype=bool), allow_pickle=False)
        np.save(tmp / "track_ids.npy", dataset.tracks["track_id"].astype(str).to_numpy(dtype=str),
                allow_pickle=False)
        artifacts.write_json(tmp / "meta.json", {
            "group": group, "fingerprint": group_fp, "dataset": dataset.name,
            "dataset_fingerprint": dataset.fingerprint, "features_version": FEATURES_VERSION,
            "n_tracks": int(n), "n_valid": int(np.sum(result.valid)),
            "shapes": {k: list(v) for k, v in shapes.items()},
            "config": config, "info": result.info, "errors": result.errors,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })


def _load_feature(path: Path, name: str, n_tracks: int) -> FeatureSet:
    """The cached feature; X is a read-only memory map of ``<name>.npy`` (pages are read on use)."""
    meta = artifacts.read_json(path / "meta.json")
    try:
        X = np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        valid = np.load(path / "valid.npy", allow_pickle=False)
        track_ids = np.load(path / "track_ids.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Cached feature '{name}' in {path} is unreadable ({exc}). Delete the folder to rebuild.") from exc
    if len(X) != n_tracks or len(valid) != n_tracks:
        raise ArtifactError(f"Cached feature '{name}' in {path} has {len(X)} rows; the dataset has {n_tracks}. "
                            "Delete the folder to rebuild.")
    config = {"feature": name, "group": meta["group"], "shape": list(X.shape[1:]), **meta["config"],
              "info": meta.get("info", {}), "features_version": meta.get("features_version")}
    return FeatureSet(name=name, X=X, valid=valid.astype(bool), track_ids=track_ids.astype(str),
                      fingerprint=fingerprint(meta["fingerprint"], name, version=FEATURES_VERSION),
                      config=config, errors=dict(meta.get("errors", {})))


def _try_load(path: Path, name: str, n: int) -> FeatureSet | None:
    if artifacts.is_complete(path):
        try:
            return _load_feature(path, name, n)
        except ArtifactError:
            shutil.rmtree(path, ignore_errors=True)  # corrupt: rebuild
    return None


def load_or_build(dataset, name: str, *, config: FeatureConfig | None = None, progress=None, cancel=None,
                  jobs: int | None = None, scheduler: str | None = None) -> FeatureSet:
    """The cached feature, or its group computed (on ``scheduler``'s executor; see core.executors) and
    cached first. One dataset's groups are built one at a time across processes: a second caller waits
    for the lock, then reads the finished group."""
    from core.locks import workspace_lock

    spec = FEATURES.get(name)
    cfg = config or FeatureConfig()
    group = GROUPS.get(spec.kind)
    why = group.unavailable(dataset)
    if why:
        raise SchemaError(f"Feature '{name}' is not available for dataset '{dataset.name}': {why}. "
                          f"Available: {available(dataset)}.")
    gfp = group.fingerprint(dataset, cfg)
    path = group_dir(dataset, gfp)
    n = len(dataset.tracks)
    got = _try_load(path, name, n)
    if got is not None:
        return got
    with workspace_lock("features", dataset.name):
        got = _try_load(path, name, n)  # built by another process while this one waited
        if got is not None:
            return got
        result = group.compute(dataset, cfg, group_fp=gfp, progress=progress or no_progress,
                               cancel=cancel or never_cancel, jobs=jobs, scheduler=scheduler)
        _write_group(path, group=spec.kind, group_fp=gfp, dataset=dataset, result=result, config=group.config(cfg))
        part = partial_dir(dataset, gfp, cfg.chunk_size)  # chunks of a run_rows pass, if any
        shutil.rmtree(part, ignore_errors=True)
        try:
            part.parent.rmdir()  # only when no other partial run is left
        except OSError:
            pass
    return _load_feature(path, name, n)


def available(dataset) -> list[str]:
    ok = {kind for kind, g in GROUPS.items() if not g.unavailable(dataset)}
    return [n for n, s in FEATURES.items() if s.kind in ok]


def default_names(dataset) -> list[str]:
    """What "extract every feature" computes: the available features except the on-demand ones
    (pretrained networks, much slower than the spectral pass on a CPU)."""
    return [n for n in available(dataset) if not FEATURES.get(n).on_demand]


# ---------------------------------------------------------------- the audio pass

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


def run_audio(dataset, cfg: FeatureConfig, *, group_fp: str, progress=no_progress, cancel=never_cancel,
              jobs: int | None = None, scheduler: str | None = None) -> GroupResult:
    """Decode + one STFT + every audio feature per row (see run_rows)."""
    return run_rows(dataset, cfg, group_fp=group_fp, shapes=cfg.spectral.shapes(), row_fn=_worker.extract_row,
                    row_args=(cfg.spectral,), progress=progress, cancel=cancel, jobs=jobs, scheduler=scheduler)


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
            progress(step, n, {"file": f"chunk {c + 1}/{n_chunks}"})
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
