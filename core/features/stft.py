"""The shared STFT of the audio pass and its filterbanks.

Framing (centred, zero-padded, strided view), the float32 |STFT| computed in cache-sized blocks of
frames, the cached per-process filterbanks (Hann window, Slaney mel, chroma, bin frequencies), the
banded mel-power product, time pooling and power → dB. ``core.features.spectral`` runs the one pass
over these blocks; ``core.features.descriptors`` holds the per-frame descriptors computed from them.
"""

from __future__ import annotations

import functools

import numpy as np

# ---------------------------------------------------------------- cached filterbanks (per process)

@functools.lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    import scipy.signal

    return scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)


@functools.lru_cache(maxsize=8)
def mel_basis(*, sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """Slaney mel filterbank, float32 (n_mels, 1 + n_fft // 2) — librosa.filters.mel."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


@functools.lru_cache(maxsize=8)
def chroma_basis(sr: int, n_fft: int, tuning: float, n_chroma: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma).astype(np.float32)


@functools.lru_cache(maxsize=8)
def fft_freqs(sr: int, n_fft: int) -> np.ndarray:
    return np.fft.rfftfreq(n_fft, 1.0 / sr)


@functools.lru_cache(maxsize=8)
def _mel_blocks(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None, group: int = 8) -> tuple:
    """The mel filterbank as (k0, k1, lo, hi, W[lo:hi, k0:k1]) blocks of ``group`` filters.

    Slaney filters are non-zero only on a narrow band of bins, so P[:, lo:hi] @ W per block does ~8×
    fewer flops than the dense product (and gives the same sums: only exact zeros are skipped).
    """
    mel = mel_basis(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    out = []
    for k0 in range(0, n_mels, group):
        k1 = min(n_mels, k0 + group)
        nz = np.flatnonzero(np.any(mel[k0:k1] != 0, axis=0))
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 1)
        out.append((k0, k1, lo, hi, np.ascontiguousarray(mel[k0:k1, lo:hi].T)))
    return tuple(out)


def mel_power_tf(P_tf: np.ndarray, *, sr: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                 fmax: float | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Mel power, time-major: P_tf (T, F) power spectrum → (T, n_mels) == (mel_basis @ P_tf.T).T."""
    if out is None:
        out = np.empty((P_tf.shape[0], n_mels), dtype=np.float32)
    for k0, k1, lo, hi, W in _mel_blocks(sr, n_fft, n_mels, fmin, fmax):
        np.matmul(P_tf[:, lo:hi], W, out=out[:, k0:k1])
    return out


# ---------------------------------------------------------------- framing, |STFT|, pooling, dB

def _frames(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Centred, zero-padded frames as a strided view (no copy of the frames). (n,) → (T, n_fft)."""
    pad = n_fft // 2
    yp = np.zeros(len(y) + 2 * pad, dtype=np.float32)
    yp[pad:pad + len(y)] = y
    return np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop_length]


STFT_BLOCK = 128  # frames per block: the block's frames, spectrum and temporaries stay in the 1-MB L2 cache


def stft_blocks(y: np.ndarray, *, n_fft: int, hop_length: int):
    """Yield (start, stop, |STFT| block (k, F) float32) over blocks of ``STFT_BLOCK`` frames."""
    import scipy.fft

    frames = _frames(np.asarray(y, dtype=np.float32), n_fft, hop_length)
    win = hann_window(n_fft)
    buf = np.empty((STFT_BLOCK, n_fft), dtype=np.float32)
    t = frames.shape[0]
    for a in range(0, t, STFT_BLOCK):
        b = min(t, a + STFT_BLOCK)
        np.multiply(frames[a:b], win, out=buf[: b - a])
        yield a, b, np.abs(scipy.fft.rfft(buf[: b - a], axis=-1, workers=1))


def stft_magnitude(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """|STFT| in float32, TIME-major. y (n,) → (1 + n // hop_length, 1 + n_fft // 2).

    Same framing as ``librosa.stft(y, center=True, pad_mode="constant")`` (transposed), computed in
    blocks of 64 frames so each block's FFT input and output stay in cache (~2× faster than one
    big rfft on this machine).
    """
    y = np.asarray(y, dtype=np.float32)
    out = np.empty((1 + len(y) // hop_length, n_fft // 2 + 1), dtype=np.float32)
    for a, b, blk in stft_blocks(y, n_fft=n_fft, hop_length=hop_length):
        out[a:b] = blk
    return out


def pool_frames(x: np.ndarray, *, pool: int, length: int) -> np.ndarray:
    """Average-pool the last axis by ``pool`` frames, then zero-pad / trim to ``length``.

    x (..., T) → (..., length). The last partial window averages the frames it has.
    """
    t = x.shape[-1]
    n_full = t // pool
    parts = []
    if n_full:
        acc = np.array(x[..., 0: n_full * pool: pool], dtype=np.float64)   # strided adds: fast for small pools
        for j in range(1, pool):
            acc += x[..., j: n_full * pool: pool]
        parts.append(acc / pool)
    if t % pool:
        parts.append(x[..., n_full * pool:].mean(axis=-1, keepdims=True))
    out = np.concatenate(parts, axis=-1) if parts else np.zeros((*x.shape[:-1], 0), dtype=x.dtype)
    if out.shape[-1] >= length:
        return np.ascontiguousarray(out[..., :length], dtype=np.float32)
    pad = [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])]
    return np.pad(out, pad).astype(np.float32)


def power_to_db(x: np.ndarray, *, top_db: float, amin: float = 1e-10) -> np.ndarray:
    """librosa.power_to_db(x, ref=1.0, amin=amin, top_db=top_db) (whole-array max)."""
    db = 10.0 * np.log10(np.maximum(amin, x))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db
