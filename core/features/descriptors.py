"""Per-frame spectral descriptors computed from |STFT| blocks, each matching its librosa counterpart.

Spectral contrast (octave-band peak / valley), the moment matrix behind centroid and bandwidth, rolloff
from per-block magnitude sums, zero-crossing rate from the samples and tempo from the onset envelope.
``core.features.spectral.compute_frames`` calls these on each block of the one STFT pass.
"""

from __future__ import annotations

import functools

import numpy as np

from core.features.stft import fft_freqs


@functools.lru_cache(maxsize=8)
def contrast_band_bins(sr: int, n_fft: int, fmin: float, n_bands: int, quantile: float) -> tuple:
    """(start, stop, idx) per band, reproducing librosa.feature.spectral_contrast's band selection."""
    freq = np.fft.rfftfreq(n_fft, 1.0 / sr)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    out = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        band = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1:] = True
        sel = np.flatnonzero(band)
        start, stop = int(sel[0]), int(sel[-1]) + 1
        q = int(max(np.rint(quantile * band.sum()), 1))
        if k < n_bands:
            stop -= 1  # librosa drops the last bin of every band but the top one
        out.append((start, stop, q))
    return tuple(out)



@functools.lru_cache(maxsize=8)
def _contrast_plan(bands: tuple) -> tuple:
    """Group contrast_band_bins' output for contrast_peaks: (runs, sorted).

    runs: (start, stop, offsets, ks) for each run of adjacent single-bin-quantile bands (min/max of
    each band via one np.minimum/maximum.reduceat call per run: per-row reductions of 18-37 bins cost
    more in call overhead than in work); sorted: (k, start, stop, mean-of-q weights (q,)) for the rest.
    """
    runs, srt, cur = [], [], []
    for k, (a, b, q) in enumerate(bands):
        if q == 1:
            if cur and cur[-1][2] != a:
                runs.append(cur)
                cur = []
            cur.append((k, a, b))
            continue
        srt.append((k, a, b, np.full(q, 1.0 / q, dtype=np.float32)))
    if cur:
        runs.append(cur)
    runs = tuple((r[0][1], r[-1][2], np.array([a - r[0][1] for _, a, _ in r], dtype=np.intp),
                  tuple(k for k, _, _ in r)) for r in runs)
    return runs, tuple(srt)


def contrast_peaks(S_tf: np.ndarray, bands: tuple, valley: np.ndarray, peak: np.ndarray) -> None:
    """Fill valley/peak (n_bands + 1, T) with the band quantile means of S_tf (T, F)."""
    runs, srt_bands = _contrast_plan(bands)
    for a, b, offsets, ks in runs:
        sub = S_tf[:, a:b]
        valley[list(ks)] = np.minimum.reduceat(sub, offsets, axis=1).T
        peak[list(ks)] = np.maximum.reduceat(sub, offsets, axis=1).T
    for k, a, b, w in srt_bands:
        q = len(w)
        srt = np.sort(S_tf[:, a:b], axis=-1)  # SIMD sort along contiguous rows: faster than partition
        valley[k] = srt[:, :q] @ w            # mean of the q smallest / largest (a gemv: no per-row overhead)
        peak[k] = srt[:, -q:] @ w


def spectral_contrast_tf(S_tf: np.ndarray, *, sr: int, n_fft: int, fmin: float = 200.0, n_bands: int = 6,
                         quantile: float = 0.02) -> np.ndarray:
    """Vectorized librosa.feature.spectral_contrast(S=S_tf.T). S_tf (T, F) magnitude → (n_bands + 1, T).

    Sorts each band along the contiguous frequency axis of the time-major spectrum (numpy's SIMD
    sort); a band whose quantile covers one bin uses min/max.
    """
    import librosa

    t = S_tf.shape[0]
    valley = np.empty((n_bands + 1, t))
    peak = np.empty((n_bands + 1, t))
    contrast_peaks(S_tf, contrast_band_bins(sr, n_fft, fmin, n_bands, quantile), valley, peak)
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


ROLL_BLOCK = 32


@functools.lru_cache(maxsize=8)
def moment_matrix(sr: int, n_fft: int) -> np.ndarray:
    """(F, 2) float32: columns 1 and f. ``S @ M`` gives Σ|S| and Σf|S| in one matmul."""
    f = fft_freqs(sr, n_fft)
    return np.ascontiguousarray(np.stack([np.ones_like(f), f], axis=1), dtype=np.float32)


@functools.lru_cache(maxsize=8)
def _ones(n: int) -> np.ndarray:
    return np.ones(n, dtype=np.float32)


def block_sums(S_tf: np.ndarray, block: int = ROLL_BLOCK) -> np.ndarray:
    """Sums of |S| over consecutive ``block`` bins (the last block holds the remainder). (T, F) → (T, n_blocks)."""
    t, f = S_tf.shape
    nfull = f // block
    full = S_tf[:, : nfull * block].reshape(t, nfull, block) @ _ones(block)   # batched gemv: no per-row overhead
    if f % block == 0:
        return full
    rest = S_tf[:, nfull * block:]
    return np.concatenate([full, (rest[:, 0] if rest.shape[1] == 1 else rest.sum(axis=1))[:, None]], axis=1)


def rolloff_from_sums(S_tf: np.ndarray, sums: np.ndarray, *, freq: np.ndarray, roll_percent: float,
                       block: int = ROLL_BLOCK) -> np.ndarray:
    """librosa.feature.spectral_rolloff(S=S_tf.T): the first bin where the cumulative magnitude reaches
    roll_percent of the total. S_tf (T, F), sums (T, n_blocks) per-block sums → (T,) Hz."""
    t, f = S_tf.shape
    nfull = f // block
    cum = np.cumsum(sums, axis=1, dtype=np.float64)
    thr = roll_percent * cum[:, -1]
    b = np.argmax(cum >= thr[:, None], axis=1)                 # first block that reaches the threshold
    rows = np.arange(t)
    prefix = cum[rows, b - 1]
    prefix[b == 0] = 0.0
    if nfull == 0:
        vals = S_tf.astype(np.float64)
        last = np.zeros(t, dtype=bool)
    else:
        # the block's bins, gathered from a (T, nfull, block) view; a frame whose threshold falls in the
        # partial last block (b == nfull) reads a full block here and is fixed below
        vals = S_tf[:, : nfull * block].reshape(t, nfull, block)[rows, np.minimum(b, nfull - 1)].astype(np.float64)
        last = b >= nfull
        if last.any():
            rest = S_tf[last, nfull * block:].astype(np.float64)
            vals[last] = 0.0
            vals[last, : rest.shape[1]] = rest
    j = np.argmax(prefix[:, None] + np.cumsum(vals, axis=1) >= thr[:, None], axis=1)
    return freq[np.minimum(b * block + j, f - 1)]


def zero_crossing_rate(y: np.ndarray, *, frame_length: int, hop_length: int, n_frames: int) -> np.ndarray:
    """librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center=True)[0]. (n,) → (T,).

    librosa zeroes |y| <= 1e-10 and compares sign bits, i.e. a sample is "negative" iff y < -1e-10.
    Edge padding adds no crossings, and a frame's first sample is not counted (pad=False).
    """
    n = len(y)
    pad = frame_length // 2
    neg = y < -1e-10
    cy = np.zeros(n, dtype=bool)
    np.not_equal(neg[1:], neg[:-1], out=cy[1:])
    starts = np.arange(n_frames) * hop_length
    first = starts - pad                                   # index into y of each frame's first sample
    inside = (first >= 0) & (first < n)
    c_first = np.where(inside, cy[np.clip(first, 0, n - 1)], False)
    if frame_length % hop_length == 0 and pad % hop_length == 0:
        r, lead = frame_length // hop_length, pad // hop_length
        nfull = n // hop_length
        if hop_length % 8 == 0 and hop_length // 8 <= 255:
            # 8 booleans per uint64 word; summing <= 255 words per block keeps every byte lane < 256, so
            # the byte lanes of the word sum hold partial counts: add them up (≈10× faster than count_nonzero)
            words = cy[: nfull * hop_length].view(np.uint64).reshape(nfull, hop_length // 8).sum(axis=1, dtype=np.uint64)
            blocks = words.view(np.uint8).reshape(nfull, 8).sum(axis=1, dtype=np.int64)
        else:
            blocks = np.count_nonzero(cy[: nfull * hop_length].reshape(nfull, hop_length), axis=1)
        if n % hop_length:
            blocks = np.append(blocks, np.count_nonzero(cy[nfull * hop_length:]))
        nblk = n_frames - 1 + r
        padded = np.zeros(max(nblk, lead + len(blocks)), dtype=np.int64)
        padded[lead:lead + len(blocks)] = blocks
        cs = np.concatenate([[0], np.cumsum(padded)])
        counts = cs[r:r + n_frames] - cs[:n_frames] - c_first
    else:
        c = np.zeros(n + 2 * pad + 1, dtype=np.int64)
        c[pad:pad + n] = cy
        cs = np.concatenate([[0], np.cumsum(c)])
        counts = cs[starts + frame_length] - cs[starts] - c_first
    return counts.astype(np.float64) / frame_length


def tempo_bpm(onset: np.ndarray, *, sr: int, hop_length: int, win_length: int = 384, start_bpm: float = 120.0,
           max_tempo: float = 320.0) -> float:
    """Tempo (BPM) from the global autocorrelation of the onset envelope with librosa's prior."""
    import scipy.fft

    n = len(onset)
    if n < 4 or not np.any(onset > 0):
        return 0.0
    m = scipy.fft.next_fast_len(2 * n)
    spec = scipy.fft.rfft(onset.astype(np.float64), m)
    ac = scipy.fft.irfft(spec * np.conj(spec), m)[: min(win_length, n)]
    if ac[0] <= 0:
        return 0.0
    ac = np.maximum(ac / ac[0], 0.0)
    lags = np.arange(len(ac))
    with np.errstate(divide="ignore"):
        bpms = 60.0 * sr / (hop_length * lags.astype(np.float64))
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / 1.0) ** 2
    logprior[0] = -np.inf
    logprior[bpms > max_tempo] = -np.inf
    return float(bpms[int(np.argmax(np.log1p(1e6 * ac) + logprior))])
