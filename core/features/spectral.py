"""Audio features from ONE shared STFT per clip.

One pass per clip: decode (core.audio) → pad/trim to ``clip_s`` → float32 STFT (scipy rfft over a
strided frame view, Hann window, centred with zero padding: the same framing as ``librosa.stft``) →
``|S|`` and ``|S|²`` once → everything else is derived from those:

    mel power      = mel_basis @ |S|²                       (one matmul; librosa.filters.mel, Slaney)
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
                 fmax: float | None = None) -> np.ndarray:
    """Mel power, time-major: P_tf (T, F) power spectrum → (T, n_mels) == (mel_basis @ P_tf.T).T."""
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

def stft_magnitude(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """|STFT| in float32, TIME-major. y (n,) → (1 + n // hop_length, 1 + n_fft // 2).

    Same framing as ``librosa.stft(y, center=True, pad_mode="constant")`` (transposed).
    """
    import scipy.fft

    y = np.asarray(y, dtype=np.float32)
    pad = n_fft // 2
    yp = np.pad(y, (pad, pad))
    frames = np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop_length]
    spec = scipy.fft.rfft(frames * _window(n_fft), axis=-1, workers=1, overwrite_x=True)
    return np.abs(spec)


def pool_frames(x: np.ndarray, *, pool: int, length: int) -> np.ndarray:
    """Average-pool the last axis by ``pool`` frames, then zero-pad / trim to ``length``.

    x (..., T) → (..., length). The last partial window averages the frames it has.
    """
    t = x.shape[-1]
    n_full = t // pool
    parts = []
    if n_full:
        parts.append(x[..., : n_full * pool].reshape(*x.shape[:-1], n_full, pool).mean(axis=-1))
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


def spectral_contrast_tf(S_tf: np.ndarray, *, sr: int, n_fft: int, fmin: float = 200.0, n_bands: int = 6,
                         quantile: float = 0.02) -> np.ndarray:
    """Vectorized librosa.feature.spectral_contrast(S=S_tf.T). S_tf (T, F) magnitude → (n_bands + 1, T).

    Sorts each band along the contiguous frequency axis of the time-major spectrum (numpy's SIMD sort).
    """
    import librosa

    bands = _contrast_bands(sr, n_fft, fmin, n_bands, quantile)
    t = S_tf.shape[0]
    valley = np.empty((n_bands + 1, t))
    peak = np.empty((n_bands + 1, t))
    for k, (a, b, q) in enumerate(bands):
        srt = np.sort(S_tf[:, a:b], axis=-1)  # SIMD sort along contiguous rows: faster than partition
        valley[k] = srt[:, :q].mean(axis=-1)
        peak[k] = srt[:, -q:].mean(axis=-1)
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


def _rolloff_tf(S_tf: np.ndarray, *, freq: np.ndarray, roll_percent: float, block: int = 32) -> np.ndarray:
    """librosa.feature.spectral_rolloff(S=S_tf.T) via blocked cumulative sums. (T, F) → (T,) Hz."""
    t, f = S_tf.shape
    nb = f // block
    main = S_tf[:, : nb * block].reshape(t, nb, block)
    sums = main.sum(axis=-1)
    if f % block:
        sums = np.concatenate([sums, S_tf[:, nb * block:].sum(axis=-1)[:, None]], axis=1)
    cum = np.cumsum(sums.astype(np.float64), axis=1)
    thr = roll_percent * cum[:, -1]
    b = np.argmax(cum >= thr[:, None], axis=1)
    prefix = np.where(b > 0, cum[np.arange(t), np.maximum(b - 1, 0)], 0.0)
    idx = b[:, None] * block + np.arange(block)[None, :]
    inside = idx < f
    vals = np.take_along_axis(S_tf, np.minimum(idx, f - 1), axis=1).astype(np.float64) * inside
    cw = prefix[:, None] + np.cumsum(vals, axis=1)
    j = np.argmax(cw >= thr[:, None], axis=1)
    return freq[np.minimum(b * block + j, f - 1)]


def _zcr(y: np.ndarray, *, frame_length: int, hop_length: int, n_frames: int) -> np.ndarray:
    """librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center=True)[0]. (n,) → (T,)."""
    pad = frame_length // 2
    yp = np.pad(y, (pad, pad), mode="edge")
    sb = np.signbit(np.where(np.abs(yp) <= 1e-10, np.float32(0.0), yp))
    c = np.zeros(len(yp), dtype=np.int32)
    c[1:] = sb[1:] != sb[:-1]
    starts = np.arange(n_frames) * hop_length
    if frame_length % hop_length == 0:
        # block sums of hop_length samples; a frame is frame_length // hop_length consecutive blocks
        r = frame_length // hop_length
        nblk = n_frames - 1 + r
        cb = np.zeros(nblk * hop_length, dtype=np.int32)
        m = min(len(c), len(cb))
        cb[:m] = c[:m]
        blocks = cb.reshape(nblk, hop_length).sum(axis=1)
        cs = np.concatenate([[0], np.cumsum(blocks)])
        counts = cs[r:r + n_frames] - cs[:n_frames] - c[starts]
    else:
        cs = np.concatenate([[0], np.cumsum(c)])
        counts = cs[starts + frame_length] - cs[starts + 1]
    # crossings inside a frame exclude the frame's first sample (librosa: pad=False)
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
    import scipy.fft
    import librosa

    cfg = config or SpectralConfig()
    y = np.asarray(y, dtype=np.float32)
    S = stft_magnitude(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)   # (T, F), time-major throughout
    P = S * S
    t = S.shape[0]
    mel_t = mel_power_tf(P, sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    db_t = _power_to_db(mel_t, top_db=cfg.top_db).astype(np.float32)   # (T, n_mels)
    mfcc = scipy.fft.dct(db_t, axis=1, type=2, norm="ortho")[:, : cfg.n_mfcc].T
    raw_chroma = P @ _chroma_basis(cfg.sr, cfg.n_fft, float(cfg.chroma_tuning), cfg.n_chroma).T  # (T, 12)
    mag = raw_chroma.max(axis=1, keepdims=True)                         # librosa.util.normalize(norm=inf)
    chroma = (raw_chroma / np.where(mag < np.finfo(np.float32).tiny, 1.0, mag)).T
    contrast = spectral_contrast_tf(S, sr=cfg.sr, n_fft=cfg.n_fft, fmin=cfg.contrast_fmin,
                                    n_bands=cfg.contrast_bands, quantile=cfg.contrast_quantile)
    freq = _freq(cfg.sr, cfg.n_fft)
    m01 = S @ np.stack([np.ones_like(freq), freq], axis=1).astype(np.float32)   # (T, 2): Σ|S|, Σf|S|
    tiny = np.finfo(np.float32).tiny
    total = m01[:, 0].astype(np.float64)
    den = np.where(total >= tiny, total, 1.0)
    centroid = m01[:, 1] / den
    # Σ(f - c)²|S| = Σ(f - c̄)²|S| - (c - c̄)²Σ|S| with c̄ the clip's mean centroid (keeps float32 precise)
    cbar = float(np.sum(m01[:, 1], dtype=np.float64) / max(np.sum(total), tiny))
    m2 = (S @ ((freq - cbar) ** 2).astype(np.float32)).astype(np.float64)
    bandwidth = np.sqrt(np.maximum(m2 / den - (centroid - cbar) ** 2 * np.where(total >= tiny, 1.0, 0.0), 0.0))
    rolloff = _rolloff_tf(S, freq=freq, roll_percent=cfg.rolloff_percent)
    Pt = np.maximum(P, np.float32(1e-10))
    flatness = np.exp(np.log(Pt).mean(axis=1)) / Pt.mean(axis=1)
    edge = 0.5 * P[:, 0] + (0.5 * P[:, -1] if cfg.n_fft % 2 == 0 else 0.0)
    rms = np.sqrt(np.maximum(2.0 * (P.sum(axis=1) - edge) / cfg.n_fft ** 2, 0.0))
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
    """
    import librosa

    cfg = config or SpectralConfig(sr=sr)
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
    at the defaults). The absolute level is lost by the normalization: the result is scaled to
    ``peak``. Returns float32 (n_samples,).
    """
    import librosa

    cfg = config or SpectralConfig(sr=sr)
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
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if top > 0:
        y = y * (peak / top)
    return y.astype(np.float32)
