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


def floor_row(path: str, offset: float, duration: float | None, config: spectral.SpectralConfig):
    """The benchmark floor: decode + one STFT, nothing else. → float (sum of |S|)."""
    from core.audio import fix_length

    y = spectral.load_clip(path, offset=offset, duration=duration, config=config)
    y = fix_length(y, n_samples=config.n_samples)
    return float(spectral.stft_magnitude(y, n_fft=config.n_fft, hop_length=config.hop_length)[0, 0])
