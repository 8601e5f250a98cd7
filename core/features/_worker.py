"""Runs inside extraction worker processes (and in-process when jobs == 1), and on Dask workers.

Light to import (the parent pickles these functions by name); ``core.features._preload`` warms
librosa in the forkserver so every worker forks from an already-warm interpreter.

``run_chunk`` is one Dask task: every row of one chunk through a row function, saved as the chunk file
(``chunk_NNNNN.npz``, the format ``save_chunk``/``load_chunk`` share with the local pass) in the partial
folder, which the cluster sees on its shared filesystem. A chunk whose file is already there is read,
not recomputed, so a rerun task (its worker died, or another run asked for it) never repeats work.
"""

from __future__ import annotations

import os

import numpy as np

from core.features import spectral

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def warm() -> None:
    """Import librosa and the audio decoders and build the default filterbanks (done once in the forkserver)."""
    import librosa  # noqa: F401
    import librosa.onset  # noqa: F401

    from core.audio import warm_decoders

    warm_decoders()
    cfg = spectral.SpectralConfig()
    spectral.mel_power_tf(np.zeros((2, cfg.n_fft // 2 + 1), dtype=np.float32), sr=cfg.sr, n_fft=cfg.n_fft,
                          n_mels=cfg.n_mels)


def init() -> None:
    """Pool initializer: one thread per worker process (the pool is the parallelism)."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # noqa: BLE001 - threadpoolctl is optional
        pass


def _reason(exc: Exception) -> str:
    msg = str(exc)
    return msg if type(exc).__name__ == "AudioDecodeError" else f"{type(exc).__name__}: {msg}"


def extract_row(path: str, offset: float, duration: float | None, config: spectral.SpectralConfig):
    """Decode one row and compute its bundle. → ("ok", {name: array}) or ("error", reason). Never raises."""
    try:
        y = spectral.load_clip(path, offset=offset, duration=duration, config=config)
        return "ok", spectral.extract_clip(y, config=config)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the dataset
        return "error", _reason(exc)


def musicnn_row(path: str, offset: float, duration: float | None, kind: str, model: str, device: str,
                clip_s: float):
    """One row through a musicnn tagger (the same excerpt as the audio pass: at most ``clip_s`` s from
    ``offset``, decoded at 16 kHz). → ("ok", {kind: (2·D,) embedding, kind_tags: (50,)}) or ("error", reason)."""
    try:
        from core.audio import load_audio
        from core.features.musicnn import SR
        from core.features.musicnn.embed import embed_clip

        dur = clip_s if duration is None or not np.isfinite(duration) or duration <= 0 else min(duration, clip_s)
        y = load_audio(path, sr=SR, offset=float(offset or 0.0), duration=dur)
        out = embed_clip(y, model=model, device=device)
        return "ok", {kind: out["embedding"], f"{kind}_tags": out["tags"]}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the dataset
        return "error", _reason(exc)


EMPTY_PATH = "no audio file (path is empty)"


def chunk_file(part, c: int):
    from pathlib import Path

    return Path(part) / f"chunk_{c:05d}.npz"


def save_chunk(part, c: int, *, valid: np.ndarray, errors: dict, arrays: dict) -> None:
    """Write chunk ``c`` atomically: valid (m,), errors {row in chunk: reason}, arrays {name: (m, *shape)}."""
    from core import artifacts

    errs = sorted(errors.items())
    artifacts.save_npz(chunk_file(part, c), valid=valid, err_idx=np.array([i for i, _ in errs], dtype=np.int64),
                       err_msg=np.array([m for _, m in errs], dtype=str),
                       **{f"f_{k}": v for k, v in arrays.items()})


def load_chunk(part, c: int, length: int, shapes: dict) -> dict | None:
    """Chunk ``c`` as {"arrays", "valid", "errors", "left": 0}, or None if it is missing or damaged
    (a damaged file is deleted, so the chunk is computed again)."""
    from core import artifacts
    from core.errors import ArtifactError

    f = chunk_file(part, c)
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


def run_chunk(part: str, c: int, rows: list, shapes: dict, row_fn, row_args: tuple) -> dict:
    """One chunk as one task: ``rows`` = [(path, offset_s, duration_s)] in chunk order, each through
    ``row_fn(path, offset_s, duration_s, *row_args)``; the chunk file is written to ``part`` (or read, if
    there already). → {"c", "valid" (m,) bool, "errors" {row in chunk: reason}, "computed" bool}."""
    init()
    length = len(rows)
    got = load_chunk(part, c, length, shapes)
    if got is not None:
        return {"c": c, "valid": got["valid"], "errors": got["errors"], "computed": False}
    arrays = {k: np.zeros((length, *s), dtype=np.float32) for k, s in shapes.items()}
    valid = np.zeros(length, dtype=bool)
    errors: dict[int, str] = {}
    for j, (path, offset, duration) in enumerate(rows):
        if not path:
            errors[j] = EMPTY_PATH
            continue
        status, payload = row_fn(path, offset, duration, *row_args)
        if status == "ok":
            for k, arr in payload.items():
                arrays[k][j] = arr
            valid[j] = True
        else:
            errors[j] = payload
    from pathlib import Path

    Path(part).mkdir(parents=True, exist_ok=True)
    save_chunk(part, c, valid=valid, errors=errors, arrays=arrays)
    return {"c": c, "valid": valid, "errors": errors, "computed": True}


def floor_row(path: str, offset: float, duration: float | None, config: spectral.SpectralConfig):
    """The benchmark floor: decode + one STFT, nothing else. → float (sum of |S|)."""
    from core.audio import fix_length

    y = spectral.load_clip(path, offset=offset, duration=duration, config=config)
    y = fix_length(y, n_samples=config.n_samples)
    return float(spectral.stft_magnitude(y, n_fft=config.n_fft, hop_length=config.hop_length)[0, 0])
