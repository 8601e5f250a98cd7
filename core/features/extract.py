"""The feature cache and the parallel, resumable audio pass.

Layout (``workspace()/features/<dataset>/``)::

    <group fingerprint[:16]>/          complete groups, written with core.artifacts.atomic_dir
        meta.json                      group, fingerprint, config, errors, per-feature shapes
        track_ids.npy, valid.npy       (n,) row order = dataset.tracks
        <feature>.npy                  (n, *shape) float32, one per feature of the group
    .partial/<fingerprint[:16]>-c<chunk>/chunk_00000.npz …
                                       finished audio chunks of an interrupted run (reused on rerun)

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

import numpy as np

from core import artifacts
from core.config import default_jobs, workspace
from core.errors import ArtifactError, SchemaError
from core.features.base import FEATURES, FEATURES_VERSION, FeatureConfig, FeatureSet
from core.hashing import fingerprint
from core.progress import Cancelled, no_progress, never_cancel
from core.registry import Registry


@dataclass
class GroupResult:
    arrays: dict[str, np.ndarray]
    valid: np.ndarray
    errors: dict[str, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


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

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs) -> GroupResult:
        return run_audio(dataset, cfg, group_fp=group_fp, progress=progress, cancel=cancel, jobs=jobs)


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

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs) -> GroupResult:
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

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs) -> GroupResult:
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

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs) -> GroupResult:
        from core.features import _worker
        from core.features.musicnn.embed import select_device

        device = select_device("auto").type
        if device != "cpu":
            jobs = 1  # one process drives the accelerator
        shapes = {n: tuple(FEATURES.get(n).shape) for n in self.names()}
        res = run_rows(dataset, cfg, group_fp=group_fp, shapes=shapes, row_fn=_worker.musicnn_row,
                       row_args=(self.kind, self.model, device, float(cfg.spectral.clip_s)), progress=progress,
                       cancel=cancel, jobs=jobs)
        res.info["device"] = device
        return res


GROUPS.add("audio", AudioGroup())
GROUPS.add("lyrics", LyricsGroup())
GROUPS.add("tabular", TabularGroup())
GROUPS.add("musicnn_mtt", MusicnnGroup("musicnn_mtt", "MTT_musicnn"))
GROUPS.add("musicnn_msd", MusicnnGroup("musicnn_msd", "MSD_musicnn"))


# ---------------------------------------------------------------- cache

def _write_group(path: Path, *, group: str, group_fp: str, dataset, result: GroupResult, config: dict) -> None:
    with artifacts.atomic_dir(path) as tmp:
        for name, arr in result.arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr, dtype=np.float32), allow_pickle=False)
        np.save(tmp / "valid.npy", np.asarray(result.valid, dtype=bool), allow_pickle=False)
        np.save(tmp / "track_ids.npy", dataset.tracks["track_id"].astype(str).to_numpy(dtype=str),
                allow_pickle=False)
        artifacts.write_json(tmp / "meta.json", {
            "group": group, "fingerprint": group_fp, "dataset": dataset.name,
            "dataset_fingerprint": dataset.fingerprint, "features_version": FEATURES_VERSION,
            "n_tracks": int(len(dataset.tracks)), "n_valid": int(np.sum(result.valid)),
            "shapes": {k: list(v.shape[1:]) for k, v in result.arrays.items()},
            "config": config, "info": result.info, "errors": result.errors,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })


def _load_feature(path: Path, name: str, n_tracks: int) -> FeatureSet:
    meta = artifacts.read_json(path / "meta.json")
    try:
        X = np.load(path / f"{name}.npy", allow_pickle=False)
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


def load_or_build(dataset, name: str, *, config: FeatureConfig | None = None, progress=None, cancel=None,
                  jobs: int | None = None) -> FeatureSet:
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
    if artifacts.is_complete(path):
        try:
            return _load_feature(path, name, n)
        except ArtifactError:
            shutil.rmtree(path, ignore_errors=True)  # corrupt: rebuild below
    result = group.compute(dataset, cfg, group_fp=gfp, progress=progress or no_progress,
                           cancel=cancel or never_cancel, jobs=jobs)
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
    from core.features import _worker
    from core.parallel import process_pool

    return process_pool(jobs, initializer=_worker.init, context="forkserver", preload=("core.features._preload",))


def _chunk_file(part: Path, c: int) -> Path:
    return part / f"chunk_{c:05d}.npz"


def _save_chunk(part: Path, c: int, buf: dict) -> None:
    errs = sorted(buf["errors"].items())
    artifacts.save_npz(_chunk_file(part, c), valid=buf["valid"],
                       err_idx=np.array([i for i, _ in errs], dtype=np.int64),
                       err_msg=np.array([m for _, m in errs], dtype=str),
                       **{f"f_{k}": v for k, v in buf["arrays"].items()})


def _load_chunk(part: Path, c: int, length: int, shapes: dict) -> dict | None:
    f = _chunk_file(part, c)
    if not f.exists():
        return None
    try:
        d = artifacts.load_npz(f)
        arrays = {k: d[f"f_{k}"] for k in shapes}
        if any(arrays[k].shape != (length, *shapes[k]) for k in shapes) or d["valid"].shape != (length,):
            raise ArtifactError("shape mismatch")
    except (ArtifactError, KeyError):
        f.unlink(missing_ok=True)
        return None
    errors = {int(i): str(m) for i, m in zip(d["err_idx"], d["err_msg"])}
    return {"arrays": arrays, "valid": d["valid"].astype(bool), "errors": errors, "left": 0}


def run_audio(dataset, cfg: FeatureConfig, *, group_fp: str, progress=no_progress, cancel=never_cancel,
              jobs: int | None = None) -> GroupResult:
    """Decode + one STFT + every audio feature per row (see run_rows)."""
    from core.features import _worker

    return run_rows(dataset, cfg, group_fp=group_fp, shapes=cfg.spectral.shapes(), row_fn=_worker.extract_row,
                    row_args=(cfg.spectral,), progress=progress, cancel=cancel, jobs=jobs)


def run_rows(dataset, cfg: FeatureConfig, *, group_fp: str, shapes: dict, row_fn, row_args: tuple = (),
             progress=no_progress, cancel=never_cancel, jobs: int | None = None) -> GroupResult:
    """``row_fn(path, offset_s, duration_s, *row_args)`` → ("ok", {name: array of shapes[name]}) or
    ("error", reason) for every row with a path, in ``jobs`` worker processes (a module-level function:
    workers import it by name). Chunks of ``cfg.chunk_size`` rows are saved as they finish, so a
    cancelled or killed run resumes where it stopped. Rows that fail are zeros with valid False and
    their reason in ``errors`` (keyed by track_id)."""
    t = dataset.tracks
    n, cs = len(t), int(cfg.chunk_size)
    n_chunks = (n + cs - 1) // cs
    part = partial_dir(dataset, group_fp, cs)
    paths = t["path"].astype(str).tolist()
    offsets = [float(x) if x == x else 0.0 for x in t["offset_s"]]
    durations = [float(x) if x == x else None for x in t["duration_s"]]

    chunks: dict[int, dict] = {}
    for c in range(n_chunks):
        got = _load_chunk(part, c, min(cs, n - c * cs), shapes)
        if got is not None:
            got["arrays"] = None  # validated; read again when assembling (keeps memory to one copy)
            chunks[c] = got
    step = sum(min(cs, n - c * cs) for c in chunks)
    progress(step, n, {"file": "", "resumed_chunks": len(chunks)})

    tasks = []
    pending_save: list[int] = []
    for c in range(n_chunks):
        if c in chunks:
            continue
        length = min(cs, n - c * cs)
        buf = {"arrays": {k: np.zeros((length, *s), dtype=np.float32) for k, s in shapes.items()},
               "valid": np.zeros(length, dtype=bool), "errors": {}, "left": length}
        chunks[c] = buf
        for j in range(length):
            i = c * cs + j
            if paths[i]:
                tasks.append((c, j, i))
            else:
                buf["errors"][j] = "no audio file (path is empty)"
                buf["left"] -= 1
                step += 1
        if buf["left"] == 0:
            pending_save.append(c)
    for c in pending_save:
        _save_chunk(part, c, chunks[c])
        chunks[c]["arrays"] = None

    def finish(c: int, j: int, i: int, res) -> bool:
        """Store one row's result; True when its chunk is now complete (and saved)."""
        nonlocal step
        status, payload = res
        buf = chunks[c]
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
            buf["arrays"] = None  # on disk now; assembled from there at the end
            return True
        return False

    jobs = max(1, int(jobs or default_jobs()))
    if jobs == 1 or len(tasks) <= 1:
        for c, j, i in tasks:
            if finish(c, j, i, row_fn(paths[i], offsets[i], durations[i], *row_args)) and cancel():
                raise Cancelled(f"Feature extraction cancelled; {sum(1 for b in chunks.values() if b['left'] == 0)} "
                                f"of {n_chunks} chunks are saved and the next run resumes from them.")
    else:
        _run_parallel(tasks, finish, paths, offsets, durations, row_fn, row_args, jobs=min(jobs, len(tasks)),
                      cancel=cancel, n_chunks=n_chunks, chunks=chunks)

    arrays = {k: np.zeros((n, *s), dtype=np.float32) for k, s in shapes.items()}
    for c in range(n_chunks):
        src = chunks[c]["arrays"]
        if src is None:
            got = _load_chunk(part, c, min(cs, n - c * cs), shapes)
            if got is None:
                raise FeatureExtractionError(f"Partial result {_chunk_file(part, c)} vanished or is corrupt; rerun "
                                             "to recompute that chunk.")
            src = got["arrays"]
        for k in shapes:
            arrays[k][c * cs: c * cs + len(src[k])] = src[k]
        chunks[c]["arrays"] = None
    valid = np.concatenate([chunks[c]["valid"] for c in range(n_chunks)])
    ids = t["track_id"].astype(str).tolist()
    errors = {ids[c * cs + j]: msg for c in range(n_chunks) for j, msg in chunks[c]["errors"].items()}
    info = {"n_failed": int(len(errors)), "chunk_size": cs, "jobs": jobs}
    return GroupResult(arrays=arrays, valid=valid, errors=errors, info=info)


def _run_parallel(tasks, finish, paths, offsets, durations, row_fn, row_args, *, jobs, cancel, n_chunks,
                  chunks) -> None:
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    window = 4 * jobs
    todo = list(reversed(tasks))
    with make_pool(jobs) as pool:
        inflight = {}
        stop = False
        while todo or inflight:
            while todo and not stop and len(inflight) < window:
                c, j, i = todo.pop()
                fut = pool.submit(row_fn, paths[i], offsets[i], durations[i], *row_args)
                inflight[fut] = (c, j, i)
            if not inflight:
                break
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in done:
                c, j, i = inflight.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:  # a worker died (out of memory?): keep finished chunks only
                    raise FeatureExtractionError(
                        f"An extraction worker process died while reading {paths[i]} ({exc}). Finished chunks are "
                        "kept; rerun to resume, with fewer jobs if memory is short.") from exc
                if finish(c, j, i, res) and not stop and cancel():
                    stop = True  # let the in-flight rows finish (their chunks may complete), submit nothing new
        if stop:
            saved = sum(1 for b in chunks.values() if b["left"] == 0)
            raise Cancelled(f"Feature extraction cancelled; {saved} of {n_chunks} chunks are saved and the next "
                            "run resumes from them.")
