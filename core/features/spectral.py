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

This module holds the config, the one pass (``compute_frames``), the per-clip bundle and the log-mel
helpers; the framing, |STFT| blocks and filterbanks are in ``core.features.stft``, the per-frame
descriptors (contrast, rolloff, zero-crossing rate, tempo) in ``core.features.descriptors``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.errors import ParameterError
from core.features.descriptors import (
    block_sums,
    contrast_band_bins,
    contrast_peaks,
    moment_matrix,
    rolloff_from_sums,
    tempo_bpm,
    zero_crossing_rate,
)
from core.features.stft import (
    chroma_basis,
    fft_freqs,
    mel_power_tf,
    pool_frames,
    power_to_db,
    stft_blocks,
    stft_magnitude,
)

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
    cb_t = np.ascontiguousarray(chroma_basis(cfg.sr, cfg.n_fft, float(cfg.chroma_tuning), cfg.n_chroma).T)
    bands = contrast_band_bins(cfg.sr, cfg.n_fft, cfg.contrast_fmin, cfg.contrast_bands, cfg.contrast_quantile)
    freq = fft_freqs(cfg.sr, cfg.n_fft)
    mom = moment_matrix(cfg.sr, cfg.n_fft)
    n_bins = cfg.n_fft // 2 + 1
    tiny = np.finfo(np.float32).tiny
    # One pass over blocks of frames: everything that needs the spectrum is computed while the block is
    # in cache; the per-frame arithmetic on the resulting (T,) vectors runs once after the loop.
    for a, b, S in stft_blocks(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length):   # S: (k, F) magnitude
        P = S * S
        mel_power_tf(P, sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, out=mel_t[a:b])
        np.matmul(P, cb_t, out=raw_chroma[a:b])
        contrast_peaks(S, bands, valley[:, a:b], peak[:, a:b])
        np.matmul(S, mom, out=m01[a:b])
        # Σ(f - c)²|S| = Σ(f - c̄)²|S| - (c - c̄)²Σ|S|, c̄ = the block's mean centroid (precise in float32)
        c_blk = float(m01[a:b, 1].sum(dtype=np.float64) / max(m01[a:b, 0].sum(dtype=np.float64), tiny))
        cbar[a:b] = c_blk
        np.matmul(S, ((freq - c_blk) ** 2).astype(np.float32), out=m2[a:b])
        rolloff[a:b] = rolloff_from_sums(S, block_sums(S), freq=freq, roll_percent=cfg.rolloff_percent)
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
    db_t = power_to_db(mel_t, top_db=cfg.top_db).astype(np.float32)       # (T, n_mels)
    mfcc = scipy.fft.dct(db_t, axis=1, type=2, norm="ortho")[:, : cfg.n_mfcc].T
    mag = raw_chroma.max(axis=1, keepdims=True)                             # librosa.util.normalize(norm=inf)
    chroma = (raw_chroma / np.where(mag < tiny, 1.0, mag)).T
    contrast = librosa.power_to_db(peak) - librosa.power_to_db(valley)
    zcr = zero_crossing_rate(y, frame_length=cfg.n_fft, hop_length=cfg.hop_length, n_frames=t)
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
    tempo = tempo_bpm(frames["onset"][:tv], sr=cfg.sr, hop_length=cfg.hop_length) if cfg.tempo else 0.0
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
    x = normalize_logmel_db(power_to_db(mel_t, top_db=cfg.top_db), top_db=cfg.top_db).T
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
