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
resumable, parallel loop the audio and musicnn groups share (core.features.rows).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np

from core import artifacts
from core.config import workspace
from core.errors import ArtifactError, SchemaError
from core.features import _worker
from core.features.base import FEATURES, FEATURES_VERSION, FeatureConfig, FeatureSet
from core.features.rows import FeatureExtractionError, GroupResult, make_pool, run_rows  # noqa: F401 - re-exported: the pass every audio group runs
from core.hashing import fingerprint
from core.progress import never_cancel, no_progress
from core.registry import Registry
from core.schema import has_audio

GROUPS: Registry = Registry("feature group")


def features_root(dataset) -> Path:
    return workspace() / "features" / dataset.name


def group_dir(dataset, group_fp: str) -> Path:
    return features_root(dataset) / group_fp[:16]


def partial_dir(dataset, group_fp: str, chunk_size: int) -> Path:
    return features_root(dataset) / ".partial" / f"{group_fp[:16]}-c{int(chunk_size)}"


# ---------------------------------------------------------------- groups

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
        return "" if has_audio(dataset.tracks) else "the track table has no audio paths"

    def config(self, cfg: FeatureConfig) -> dict:
        return cfg.spectral.describe()

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        return fingerprint("audio", dataset.fingerprint, *_audio_rows(dataset), cfg.spectral, version=FEATURES_VERSION)

    def compute(self, dataset, cfg: FeatureConfig, *, group_fp: str, progress, cancel, jobs,
                scheduler: str | None = None) -> GroupResult:
        return run_audio(dataset, cfg, group_fp=group_fp, progress=progress, cancel=cancel, jobs=jobs,
                         scheduler=scheduler)


def by_table(dataset, what: str, compute, *extra):
    """``compute()`` once per content of the track table: a dataset saved in the workspace carries the
    fingerprint of every cell (``info["content_fingerprint"]``), so checks and fingerprints that scan
    the whole table (100,000 rows: about a second each) are kept in the one cache under it."""
    from core.cache import CACHE

    info = getattr(dataset, "info", None)
    content = info.get("content_fingerprint") if isinstance(info, dict) else None
    if not content:
        return compute()
    key = fingerprint(what, content, dataset.fingerprint, *extra)
    return CACHE.get_or_compute_object("track-table", key, compute, nbytes=lambda v: 256)


class LyricsGroup:
    kind = "lyrics"

    def names(self) -> list[str]:
        return [n for n, s in FEATURES.items() if s.kind == self.kind]

    def unavailable(self, dataset) -> str:
        t = dataset.tracks
        if "lyrics" not in t.columns:
            return "the track table has no lyrics column"
        n = by_table(dataset, "lyrics-count", lambda: int((t["lyrics"].astype(str).str.strip() != "").sum()))
        return "" if n >= 2 else f"only {n} track(s) have lyrics (2 or more needed)"

    def config(self, cfg: FeatureConfig) -> dict:
        from dataclasses import asdict

        return asdict(cfg.lyrics)

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        t = dataset.tracks
        return by_table(dataset, "lyrics-group", lambda: fingerprint(
            "lyrics", dataset.fingerprint, t["track_id"].astype(str).tolist(), t["lyrics"].astype(str).tolist(),
            cfg.lyrics, version=FEATURES_VERSION), cfg.lyrics)

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

        def check() -> str:
            try:
                cols = tabular_columns(dataset.tracks)
            except SchemaError as exc:
                return str(exc)
            return "" if cols else "the track table has no numeric columns besides the core ones"

        return by_table(dataset, "tabular-available", check)

    def config(self, cfg: FeatureConfig) -> dict:
        from dataclasses import asdict

        return asdict(cfg.tabular)

    def fingerprint(self, dataset, cfg: FeatureConfig) -> str:
        from core.features.tabular import tabular_columns

        def compute() -> str:
            t = dataset.tracks
            cols = tabular_columns(t, config=cfg.tabular)
            values = t[cols].astype(str).values.tolist()
            return fingerprint("tabular", dataset.fingerprint, t["track_id"].astype(str).tolist(), cols, values,
                               cfg.tabular, version=FEATURES_VERSION)

        return by_table(dataset, "tabular-group", compute, cfg.tabular)

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
        if result.blocks is not None and n == 0:
            for k, s in result.shapes.items():
                np.save(tmp / f"{k}.npy", np.zeros((0, *s), dtype=np.float32), allow_pickle=False)
                shapes[k] = tuple(s)
        elif result.blocks is not None:
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
        checksums = {f.name: file_sha256(f) for f in sorted(tmp.glob("*.npy"))}
        artifacts.write_json(tmp / "meta.json", {
            "checksums": checksums,
            "group": group, "fingerprint": group_fp, "dataset": dataset.name,
            "dataset_fingerprint": dataset.fingerprint, "features_version": FEATURES_VERSION,
            "n_tracks": int(n), "n_valid": int(np.sum(result.valid)),
            "shapes": {k: list(v) for k, v in shapes.items()},
            "config": config, "info": result.info, "errors": result.errors,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })


VERIFY_MAX_BYTES = 2 << 30  # files up to this size are checked against their sha256 on first use in a process


def file_sha256(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:  # file_digest reads in small buffers: memory stays flat for a 13 GB feature
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _verify(path: Path, files: list[str], checksums: dict) -> None:
    """Each file's sha256 against meta.json's, once per process per (file, size, mtime); files above
    VERIFY_MAX_BYTES are checked for their header and length only (hashing 13 GB on every start is not
    worth it). Raises ArtifactError naming the damaged file."""
    from core.cache import CACHE

    for f in files:
        fp = path / f
        want = checksums.get(f)
        if want is None:
            continue
        st = fp.stat()
        if st.st_size > VERIFY_MAX_BYTES:
            continue
        key = fingerprint(str(fp), st.st_size, st.st_mtime_ns)
        if CACHE.peek("verified", key):
            continue
        if file_sha256(fp) != want:
            raise ArtifactError(f"{f} does not match its checksum")
        CACHE.get_or_compute_object("verified", key, lambda: True, nbytes=lambda v: 64)


def _load_feature(path: Path, name: str, n_tracks: int) -> FeatureSet:
    """The cached feature; X is a read-only memory map of ``<name>.npy`` (pages are read on use)."""
    meta = artifacts.read_json(path / "meta.json")
    if not isinstance(meta, dict) or not {"group", "fingerprint", "config"} <= set(meta):
        raise ArtifactError(f"Cached feature '{name}' in {path} has an incomplete meta.json.")
    _verify(path, [f"{name}.npy", "valid.npy", "track_ids.npy"], meta.get("checksums") or {})
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
        except ArtifactError as exc:
            import warnings

            warnings.warn(f"Cached feature '{name}' was damaged ({exc}); it is rebuilt.", stacklevel=3)
            shutil.rmtree(path, ignore_errors=True)
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

def run_audio(dataset, cfg: FeatureConfig, *, group_fp: str, progress=no_progress, cancel=never_cancel,
              jobs: int | None = None, scheduler: str | None = None) -> GroupResult:
    """Decode + one STFT + every audio feature per row (see run_rows)."""
    return run_rows(dataset, cfg, group_fp=group_fp, shapes=cfg.spectral.shapes(), row_fn=_worker.extract_row,
                    row_args=(cfg.spectral,), progress=progress, cancel=cancel, jobs=jobs, scheduler=scheduler)
