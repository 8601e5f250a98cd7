"""Runs inside extraction worker processes (and in-process when jobs == 1).

Light to import (the parent pickles these functions by name); ``core.features._preload`` warms
librosa in the forkserver so every worker forks from an already-warm interpreter.
"""

from __future__ import annotations

import os

import numpy as np
from core.features import spectral

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def warm() -> None:
    """Import librosa and build the default filterbanks (done once in the forkserver)."""
    import librosa  # noqa: F401
    import librosa.onset  # noqa: F401

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


def extract_row(path: str, offset: float, duration: float | None, config: spectral.SpectralConfig):
    """Decode one row and compute its bundle. → ("ok", {name: array}) or ("error", reason). Never raises."""
    try:
        y = spectral.load_clip(path, offset=offset, duration=duration, config=config)
        return "ok", spectral.extract_clip(y, config=config)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the dataset
        msg = str(exc)
        if type(exc).__name__ != "AudioDecodeError":
            msg = f"{type(exc).__name__}: {msg}"
        return "error", msg


def floor_row(path: str, offset: float, duration: float | None, config: spectral.SpectralConfig):
    """The benchmark floor: decode + one STFT, nothing else. → float (sum of |S|)."""
    from core.audio import fix_length

    y = spectral.load_clip(path, offset=offset, duration=duration, config=config)
    y = fix_length(y, n_samples=config.n_samples)
    return float(spectral.stft_magnitude(y, n_fft=config.n_fft, hop_length=config.hop_length)[0, 0])
