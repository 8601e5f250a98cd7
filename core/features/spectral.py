"""Audio features from ONE shared STFT per clip.

One pass per clip: decode (core.audio) → pad/trim to ``clip_s`` → float32 STFT (scipy rfft over a
strided frame view, Hann window, centred with zero padding: the same framing as ``librosa.stft``) →
``|S|`` and ``|S|²`` once → everything else is derived from those. The STFT runs in blocks of 128
frames and every per-frame feature is computed while its block is still in the L2 cache:

    mel power      = mel_basis @ |S|²                       (banded matmul; librosa.filters.mel, Slaney)
    log-mel (dB)   = power_to_db(mel, ref=1.0, top_db)      (what librosa.feature.mfcc(y=...) uses)
    MFCC           = DCT-II(ortho) of log-mel dB            (== librosa.feature.mfcc(S=log_mel_db))
    chroma         = normalize_inf(chroma_fb @ |S|²)        (== librosa.feature.chroma_stft(S=|S|², tuning))
    contrast       = octave-band peak/valley of |S|          (== librosa.feature.spectral_contrast(S=|S|),
                                                              vectorized with np.partition)
    centroid, bandwidth, rolloff, flatness, rms  from |S|    (== librosa.feature.spectral_*(S=|S|), rms(S=|S|))
    zcr            from y                                    (== librosa.feature.zero_crossing_rate(y))
    onset strength from log-mel dB                           (== librosa.onset.onset_strength(S=log_mel_db))
    tempo          argmax of the onset envelope's global autocorrelation under librosa's log-normal
                   120-BPM prior (an approximation of librosa.feature.tempo, ~100× cheaper)

Time pooling (30 s at hop 512 = 1292 frames): average-pool by k non-overlapping frames (the last,
partial window averages the frames it has), then pad with zeros / trim to a fixed length:
    mfcc_frames  k=3  → 431 → (40, 430)         [report 004: 40×430]
    logmel       k=5  → 259 → (128, 256)        [reports 002/003: 128×256]
    audio_stack  k=10 → 130 → (39, 130)         [report 001: MFCC20 + chroma12 + contrast7, 39×130]

Log-mel normalization (``logmel``): dB relative to the clip's loudest mel bin, clipped to
[-top_db, 0] and mapped linearly to [0, 1]: ``x = (dB - max dB) / top_db + 1``. 0 = silence floor,
1 = the loudest bin. ``logmel_to_audio`` undoes it up to the lost absolute level.

Summary statistics (``*_stats``) are computed over the frames that cover real audio only (padding
frames of a clip shorter than ``clip_s`` are excluded).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import ParameterError

SPECTRAL_STATS_COLUMNS = (
    "centroid_mean", "bandwidth_mean", "rolloff_mean", "flatness_mean", "rms_mean", "zcr_mean", "onset_mean",
    "centroid_std", "bandwidth_std", "rolloff_std", "flatness_std", "rms_std", "zcr_std", "onset_std",
    "tempo_bpm",
)
AUDIO_FEATURES = ("mfcc_stats", "mfcc20_stats", "mfcc_frames", "logmel", "audio_stack",
                  "chroma_stats", "contrast_stats", "spectral_stats")
LOGMEL_NORMALIZATION = ("dB re the clip's loudest mel bin (librosa.power_to_db(mel_power, ref=np.max, "
                        "amin=1e-10, top_db=top_db)), clipped to [-top_db, 0], scaled x = dB/top_db + 1 "
                        "into [0, 1]; time average-pooled by logmel_pool frames of hop_length")


@dataclass(frozen=True)
class SpectralConfig:
    """Every parameter of the audio pass (recorded with each cached feature)."""

    sr: int = 22050
    clip_s: float = 30.0           # every clip is padded with silence / trimmed to this length
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None      # None = sr / 2
    n_mfcc: int = 40
    top_db: float = 80.0
    chroma_tuning: float = 0.0     # fixed A440; librosa's estimate_tuning costs as much as the STFT
    n_chroma: int = 12
    contrast_fmin: float = 200.0
    contrast_bands: int = 6
    contrast_quantile: float = 0.02
    rolloff_percent: float = 0.85
    mfcc_frames_pool: int = 3
    mfcc_frames_len: int = 430
    logmel_pool: int = 5
    logmel_len: int = 256
    stack_pool: int = 10
    stack_len: int = 130
    stack_n_mfcc: int = 20
    tempo: bool = True

    def __post_init__(self):
        if self.sr <= 0:
            raise ParameterError("sr", value=self.sr, expected="a positive sample rate in Hz")
        if self.clip_s <= 0:
            raise ParameterError("clip_s", value=self.clip_s, expected="a positive number of seconds")
        if self.n_fft < 16 or self.hop_length < 1 or self.hop_length > self.n_fft:
            raise ParameterError("hop_length", value=(self.n_fft, self.hop_length),
                                 expected="n_fft >= 16 and 1 <= hop_length <= n_fft")
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise ParameterError("n_mfcc", value=self.n_mfcc, expected=f"an int in [1, n_mels={self.n_mels}]")
        if not 1 <= self.stack_n_mfcc <= self.n_mfcc:
            raise ParameterError("stack_n_mfcc", value=self.stack_n_mfcc, expected=f"an int in [1, n_mfcc={self.n_mfcc}]")
        for name in ("mfcc_frames_pool", "mfcc_frames_len", "logmel_pool", "logmel_len", "stack_pool", "stack_len"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(name, value=getattr(self, name), expected="a positive int")
        if self.contrast_fmin <= 0 or self.contrast_fmin * 2 ** (self.contrast_bands - 1) >= self.sr / 2:
            raise ParameterError("contrast_bands", value=self.contrast_bands,
                                 expected="bands below Nyquist", fix="Reduce contrast_fmin or contrast_bands.")

    @property
    def n_samples(self) -> int:
        return int(round(self.clip_s * self.sr))

    @property
    def n_frames(self) -> int:
        """STFT frames of one clip (centred framing): 1 + n_samples // hop_length."""
        return 1 + self.n_samples // self.hop_length

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-track shape of every audio feature under this config."""
        stack_rows = self.stack_n_mfcc + self.n_chroma + self.contrast_bands + 1
        return {
            "mfcc_stats": (2 * self.n_mfcc,),
            "mfcc20_stats": (2 * self.stack_n_mfcc,),
            "mfcc_frames": (self.n_mfcc, self.mfcc_frames_len),
            "logmel": (self.n_mels, self.logmel_len),
            "audio_stack": (stack_rows, self.stack_len),
            "chroma_stats": (2 * self.n_chroma,),
            "contrast_stats": (2 * (self.contrast_bands + 1),),
            "spectral_stats": (len(SPECTRAL_STATS_COLUMNS),),
        }

    def describe(self) -> dict:
        """Config plus the derived facts a consumer needs (e.g. to invert the log-mel)."""
        return {**asdict(self), "n_samples": self.n_samples, "n_frames": self.n_frames,
                "fmax_effective": self.fmax if self.fmax is not None else self.sr / 2,
                "window": "hann (periodic)", "center": True, "pad_mode": "constant",
                "mel_htk": False, "mel_norm": "slaney", "mfcc_dct": "type 2, ortho, no lifter",
                "logmel_normalization": LOGMEL_NORMALIZATION,
                "pooling": "non-overlapping average pooling (last partial window averages its frames), "
                           "then zero-pad / trim to the fixed length",
                "stats": "mean then std (ddof=0) over the frames covering real audio",
                "spectral_stats_columns": list(SPECTRAL_STATS_COLUMNS),
                "audio_stack_rows": f"MFCC 0..{self.stack_n_mfcc - 1}, chroma {self.n_chroma}, "
                                    f"contrast {self.contrast_bands + 1}",
                "mfcc_frames_normalization": "none (MFCC of dB log-mel; standardize per coefficient downstream)"}


# ---------------------------------------------------------------- cached filterbanks (per process)

@functools.lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    import scipy.signal

    return scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)


@functools.lru_cache(maxsize=8)
def mel_basis(*, sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """Slaney mel filterbank, float32 (n_mels, 1 + n_fft // 2) — librosa.filters.mel."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _chroma_basis(sr: int, n_fft: int, tuning: float, n_chroma: int) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _freq(sr: int, n_fft: int) -> np.ndarray:
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


@functools.lru_cache(maxsize=8)
def _contrast_bands(sr: int, n_fft: int, fmin: float, n_bands: int, quantile: float) -> tuple:
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


# ---------------------------------------------------------------- building blocks

def _frames(y: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """Centred, zero-padded frames as a strided view (no copy of the frames). (n,) → (T, n_fft)."""
    pad = n_fft // 2
    yp = np.zeros(len(y) + 2 * pad, dtype=np.float32)
    yp[pad:pad + len(y)] = y
    return np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop_length]


_BLOCK = 128  # frames per block: the block's frames, spectrum and temporaries stay in the 1-MB L2 cache


def _stft_blocks(y: np.ndarray, *, n_fft: int, hop_length: int):
    """Yield (start, stop, |STFT| block (k, F) float32) over blocks of ``_BLOCK`` frames."""
    import scipy.fft

    frames = _frames(np.asarray(y, dtype=np.float32), n_fft, hop_length)
    win = _window(n_fft)
    buf = np.empty((_BLOCK, n_fft), dtype=np.float32)
    t = frames.shape[0]
    for a in range(0, t, _BLOCK):
        b = min(t, a + _BLOCK)
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
    for a, b, blk in _stft_blocks(y, n_fft=n_fft, hop_length=hop_length):
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


def _power_to_db(x: np.ndarray, *, top_db: float, amin: float = 1e-10) -> np.ndarray:
    """librosa.power_to_db(x, ref=1.0, amin=amin, top_db=top_db) (whole-array max)."""
    db = 10.0 * np.log10(np.maximum(amin, x))
    if top_db is not None:
        db = np.maximum(db, db.max() - top_db)
    return db


@functools.lru_cache(maxsize=8)
def _contrast_plan(bands: tuple) -> tuple:
    """Group _contrast_bands' output for _contrast_peaks: (runs, sorted).

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


def _contrast_peaks(S_tf: np.ndarray, bands: tuple, valley: np.ndarray, peak: np.ndarray) -> None:
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
    _contrast_peaks(S_tf, _contrast_bands(sr, n_fft, fmin, n_bands, quantile), valley, peak)
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


_ROLL_BLOCK = 32


@functools.lru_cache(maxsize=8)
def _moment_matrix(sr: int, n_fft: int) -> np.ndarray:
    """(F, 2) float32: columns 1 and f. ``S @ M`` gives Σ|S| and Σf|S| in one matmul."""
    f = _freq(sr, n_fft)
    return np.ascontiguousarray(np.stack([np.ones_like(f), f], axis=1), dtype=np.float32)


@functools.lru_cache(maxsize=8)
def _ones(n: int) -> np.ndarray:
    return np.ones(n, dtype=np.float32)


def _block_sums(S_tf: np.ndarray, block: int = _ROLL_BLOCK) -> np.ndarray:
    """Sums of |S| over consecutive ``block`` bins (the last block holds the remainder). (T, F) → (T, n_blocks)."""
    t, f = S_tf.shape
    nfull = f // block
    full = S_tf[:, : nfull * block].reshape(t, nfull, block) @ _ones(block)   # batched gemv: no per-row overhead
    if f % block == 0:
        return full
    rest = S_tf[:, nfull * block:]
    return np.concatenate([full, (rest[:, 0] if rest.shape[1] == 1 else rest.sum(axis=1))[:, None]], axis=1)


def _rolloff_from_sums(S_tf: np.ndarray, sums: np.ndarray, *, freq: np.ndarray, roll_percent: float,
                       block: int = _ROLL_BLOCK) -> np.ndarray:
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


def _zcr(y: np.ndarray, *, frame_length: int, hop_length: int, n_frames: int) -> np.ndarray:
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


def _tempo(onset: np.ndarray, *, sr: int, hop_length: int, win_length: int = 384, start_bpm: float = 120.0,
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


# ---------------------------------------------------------------- the one pass

def compute_frames(y: np.ndarray, *, config: SpectralConfig | None = None) -> dict[str, np.ndarray]:
    """Frame-level features of one clip from one STFT. y (n,) at config.sr → dict of (rows, T) arrays.

    Keys: mfcc (n_mfcc, T), logmel_db (n_mels, T) [dB re 1.0, top_db-clipped], chroma (n_chroma, T),
    contrast (bands + 1, T), centroid/bandwidth/rolloff/flatness/rms/zcr/onset (T,).
    """
    import librosa
    import scipy.fft

    cfg = config or SpectralConfig()
    y = np.asarray(y, dtype=np.float32)
    t = 1 + len(y) // cfg.hop_length
    nb = cfg.contrast_bands + 1
    mel_t = np.empty((t, cfg.n_mels), dtype=np.float32)
    raw_chroma = np.empty((t, cfg.n_chroma), dtype=np.float32)
    valley, peak = np.empty((nb, t)), np.empty((nb, t))
    m01 = np.empty((t, 2), dtype=np.float32)                                # Σ|S|, Σf|S|
    m2, cbar = np.empty(t, dtype=np.float32), np.empty(t)                   # Σ(f - c̄)²|S|, c̄ per frame
    psum, pmean, mlog2, edge = (np.empty(t, dtype=np.float32) for _ in range(4))
    rolloff = np.empty(t)
    cb_t = np.ascontiguousarray(_chroma_basis(cfg.sr, cfg.n_fft, float(cfg.chroma_tuning), cfg.n_chroma).T)
    bands = _contrast_bands(cfg.sr, cfg.n_fft, cfg.contrast_fmin, cfg.contrast_bands, cfg.contrast_quantile)
    freq = _freq(cfg.sr, cfg.n_fft)
    mom = _moment_matrix(cfg.sr, cfg.n_fft)
    n_bins = cfg.n_fft // 2 + 1
    tiny = np.finfo(np.float32).tiny
    # One pass over blocks of frames: everything that needs the spectrum is computed while the block is
    # in cache; the per-frame arithmetic on the resulting (T,) vectors runs once after the loop.
    for a, b, S in _stft_blocks(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length):   # S: (k, F) magnitude
        P = S * S
        mel_power_tf(P, sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, out=mel_t[a:b])
        np.matmul(P, cb_t, out=raw_chroma[a:b])
        _contrast_peaks(S, bands, valley[:, a:b], peak[:, a:b])
        np.matmul(S, mom, out=m01[a:b])
        # Σ(f - c)²|S| = Σ(f - c̄)²|S| - (c - c̄)²Σ|S|, c̄ = the block's mean centroid (precise in float32)
        c_blk = float(m01[a:b, 1].sum(dtype=np.float64) / max(m01[a:b, 0].sum(dtype=np.float64), tiny))
        cbar[a:b] = c_blk
        np.matmul(S, ((freq - c_blk) ** 2).astype(np.float32), out=m2[a:b])
        rolloff[a:b] = _rolloff_from_sums(S, _block_sums(S), freq=freq, roll_percent=cfg.rolloff_percent)
        P.sum(axis=1, out=psum[a:b])
        edge[a:b] = 0.5 * P[:, 0] + (0.5 * P[:, -1] if cfg.n_fft % 2 == 0 else 0.0)
        if P.min() < 1e-10:
            np.maximum(P, np.float32(1e-10), out=P)                        # P is now librosa's S_thresh
            P.mean(axis=1, out=pmean[a:b])
        else:                                                               # nothing to threshold
            np.divide(psum[a:b], np.float32(n_bins), out=pmean[a:b])
        np.log2(P, out=P)
        P.sum(axis=1, out=mlog2[a:b])
    m01 = m01.astype(np.float64)
    den = np.where(m01[:, 0] >= tiny, m01[:, 0], 1.0)
    centroid = m01[:, 1] / den
    bandwidth = np.sqrt(np.maximum(m2 / den - (centroid - cbar) ** 2 * (m01[:, 0] >= tiny), 0.0))
    flatness = (np.exp2(mlog2 / np.float32(n_bins)) / pmean).astype(np.float64)   # geometric / arithmetic mean
    rms = np.sqrt(np.maximum(2.0 * (psum - edge) / cfg.n_fft ** 2, 0.0)).astype(np.float64)
    db_t = _power_to_db(mel_t, top_db=cfg.top_db).astype(np.float32)       # (T, n_mels)
    mfcc = scipy.fft.dct(db_t, axis=1, type=2, norm="ortho")[:, : cfg.n_mfcc].T
    mag = raw_chroma.max(axis=1, keepdims=True)                             # librosa.util.normalize(norm=inf)
    chroma = (raw_chroma / np.where(mag < tiny, 1.0, mag)).T
    contrast = librosa.power_to_db(peak) - librosa.power_to_db(valley)
    zcr = _zcr(y, frame_length=cfg.n_fft, hop_length=cfg.hop_length, n_frames=t)
    onset = librosa.onset.onset_strength(S=db_t.T, sr=cfg.sr, hop_length=cfg.hop_length, n_fft=cfg.n_fft)
    return {"mfcc": np.ascontiguousarray(mfcc, dtype=np.float32), "logmel_db": db_t.T,
            "chroma": np.ascontiguousarray(chroma, dtype=np.float32), "contrast": contrast.astype(np.float32),
            "centroid": centroid, "bandwidth": bandwidth, "rolloff": rolloff, "flatness": flatness,
            "rms": rms, "zcr": zcr, "onset": onset[:t]}


def _mean_std(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([x.mean(axis=-1), x.std(axis=-1)]).astype(np.float32)


def normalize_logmel_db(db: np.ndarray, *, top_db: float = 80.0) -> np.ndarray:
    """dB re 1.0 → [0, 1] relative to the array's max: x = clip(dB - max, -top_db, 0) / top_db + 1."""
    return (np.clip(db - db.max(), -top_db, 0.0) / top_db + 1.0).astype(np.float32)


def summarize(frames: dict[str, np.ndarray], *, n_real: int | None = None,
              config: SpectralConfig | None = None) -> dict[str, np.ndarray]:
    """Frame-level features → the fixed-shape bundle (see SpectralConfig.shapes()).

    ``n_real``: samples of real audio before padding; statistics use only the frames covering it.
    """
    cfg = config or SpectralConfig()
    mfcc, chroma, contrast = frames["mfcc"], frames["chroma"], frames["contrast"]
    t = mfcc.shape[1]
    tv = t if n_real is None else int(min(t, max(1, 1 + n_real // cfg.hop_length)))
    spectral = [frames[k][:tv] for k in ("centroid", "bandwidth", "rolloff", "flatness", "rms", "zcr", "onset")]
    tempo = _tempo(frames["onset"][:tv], sr=cfg.sr, hop_length=cfg.hop_length) if cfg.tempo else 0.0
    stack = np.concatenate([mfcc[: cfg.stack_n_mfcc], chroma, contrast], axis=0)
    return {
        "mfcc_stats": _mean_std(mfcc[:, :tv]),
        "mfcc20_stats": _mean_std(mfcc[: cfg.stack_n_mfcc, :tv]),
        "mfcc_frames": pool_frames(mfcc, pool=cfg.mfcc_frames_pool, length=cfg.mfcc_frames_len),
        "logmel": pool_frames(normalize_logmel_db(frames["logmel_db"], top_db=cfg.top_db),
                              pool=cfg.logmel_pool, length=cfg.logmel_len),
        "audio_stack": pool_frames(stack, pool=cfg.stack_pool, length=cfg.stack_len),
        "chroma_stats": _mean_std(chroma[:, :tv]),
        "contrast_stats": _mean_std(contrast[:, :tv]),
        "spectral_stats": np.concatenate([_mean_std(np.stack(spectral)), [tempo]]).astype(np.float32),
    }


def extract_clip(y: np.ndarray, *, config: SpectralConfig | None = None) -> dict[str, np.ndarray]:
    """All audio features of one decoded clip. y (n,) at config.sr → bundle (pads/trims to clip_s)."""
    from core.audio import fix_length

    cfg = config or SpectralConfig()
    n_real = min(len(y), cfg.n_samples)
    y = fix_length(np.asarray(y, dtype=np.float32), n_samples=cfg.n_samples)
    return summarize(compute_frames(y, config=cfg), n_real=n_real, config=cfg)


def load_clip(path: str, *, offset: float = 0.0, duration: float | None = None,
              config: SpectralConfig | None = None) -> np.ndarray:
    """Decode at most ``clip_s`` seconds of a row (offset_s, duration_s). Raises AudioDecodeError."""
    from core.audio import load_audio

    cfg = config or SpectralConfig()
    dur = cfg.clip_s if duration is None or not np.isfinite(duration) or duration <= 0 else min(duration, cfg.clip_s)
    return load_audio(path, sr=cfg.sr, offset=float(offset or 0.0), duration=dur)


# ---------------------------------------------------------------- log-mel helpers for other pages

def compute_logmel(y: np.ndarray, *, sr: int = 22050, config: SpectralConfig | None = None,
                   pooled: bool = False) -> np.ndarray:
    """Normalized [0, 1] log-mel of ``y``: (n_mels, 1 + len(y) // hop), or (n_mels, logmel_len) if pooled.

    Same numbers as the cached ``logmel`` feature (which is ``pooled=True`` on the padded clip).
    ``y`` at another rate than config.sr (22,050 Hz) is resampled first.
    """
    import librosa

    cfg = config or SpectralConfig()
    y = np.asarray(y, dtype=np.float32)
    if sr != cfg.sr:
        y = librosa.resample(y, orig_sr=sr, target_sr=cfg.sr)
    S = stft_magnitude(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    mel_t = mel_power_tf(S * S, sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    x = normalize_logmel_db(_power_to_db(mel_t, top_db=cfg.top_db), top_db=cfg.top_db).T
    return pool_frames(x, pool=cfg.logmel_pool, length=cfg.logmel_len) if pooled else x


def logmel_to_audio(logmel: np.ndarray, *, sr: int = 22050, config: SpectralConfig | None = None,
                    pooled: bool = True, n_iter: int = 32, peak: float = 0.5, random_state: int = 0) -> np.ndarray:
    """Invert a normalized log-mel (n_mels, T) to audio with Griffin-Lim (librosa).

    ``pooled=True`` (the cached 128×256 ``logmel``): each frame is repeated ``logmel_pool`` times
    before inversion, so the output has ``T * logmel_pool * hop_length`` samples (655,360 ≈ 29.7 s
    at the defaults; returned at ``sr``, resampled from config.sr if they differ). The absolute level
    is lost by the normalization: the result is scaled to ``peak``. Returns float32 (n_samples,).
    """
    import librosa

    cfg = config or SpectralConfig()
    x = np.clip(np.asarray(logmel, dtype=np.float64), 0.0, 1.0)
    if x.ndim != 2 or x.shape[0] != cfg.n_mels:
        raise ParameterError("logmel", value=getattr(x, "shape", None), expected=f"an array of shape ({cfg.n_mels}, T)")
    if pooled:
        x = np.repeat(x, cfg.logmel_pool, axis=1)
    power = 10.0 ** (((x - 1.0) * cfg.top_db) / 10.0)
    mag = librosa.feature.inverse.mel_to_stft(power, sr=cfg.sr, n_fft=cfg.n_fft, power=2.0,
                                              fmin=cfg.fmin, fmax=cfg.fmax)
    from core.audio import fix_length

    # T centred frames span (T - 1) hops; pad the last hop with silence so that duration = T frames × hop
    y = librosa.griffinlim(mag, n_iter=n_iter, hop_length=cfg.hop_length, n_fft=cfg.n_fft, random_state=random_state)
    y = fix_length(y, n_samples=x.shape[1] * cfg.hop_length)
    if sr != cfg.sr:
        y = librosa.resample(y, orig_sr=cfg.sr, target_sr=sr)
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if top > 0:
        y = y * (peak / top)
    return y.astype(np.float32)
