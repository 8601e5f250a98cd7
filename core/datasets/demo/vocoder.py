"""The demo's singing voice: a channel vocoder that puts speech's words on a melody's pitch.

STFT helpers on a fixed grid (NFFT, HOP), ``pitch_track`` (melody notes → per-sample Hz with glide
and vibrato), ``speech_envelope`` (formants of eSpeak's speech), ``stretch_frames`` (held syllables)
and ``vocode_envelope`` (envelope × flattened carrier, noise above ~3 kHz for consonants).
"""

from __future__ import annotations

import functools

import numpy as np

from core.audio import SAMPLE_RATE
from core.datasets.demo.synth import midi_hz

NFFT, HOP = 1024, 256
_WIN = np.hanning(NFFT + 1)[:-1].astype(np.float32)


def _stft(x: np.ndarray, frames: np.ndarray | None = None) -> np.ndarray:
    """(n,) → (frames, NFFT/2+1) complex64 with a Hann window, centred frames (only ``frames`` if given)."""
    from numpy.lib.stride_tricks import sliding_window_view

    xp = np.pad(np.asarray(x, dtype=np.float32), (NFFT // 2, NFFT))
    view = sliding_window_view(xp, NFFT)[::HOP]
    if frames is not None:
        view = view[frames]
    return np.fft.rfft(view * _WIN, axis=1)


def _istft(spec: np.ndarray, n: int, frames: np.ndarray) -> np.ndarray:
    """(len(frames), NFFT/2+1) → (n,): overlap-add of the frames at indices ``frames`` (others silent)."""
    chunks = np.fft.irfft(spec, n=NFFT, axis=1) * _WIN
    out = np.zeros((n // HOP + 3) * HOP + NFFT)
    for i, fr in zip(frames, chunks):
        out[i * HOP:i * HOP + NFFT] += fr
    out /= float(np.sum(_WIN.astype(np.float64) ** 2)) / HOP
    return out[NFFT // 2:NFFT // 2 + n]


@functools.lru_cache(maxsize=1)
def _noise_phases(n_frames: int = 4096) -> np.ndarray:
    """A fixed table of unit-magnitude random spectra (the vocoder's noise source). (n_frames, F) complex64"""
    rng = np.random.default_rng(20240611)
    return np.exp(2j * np.pi * rng.random((n_frames, NFFT // 2 + 1))).astype(np.complex64)


def pitch_track(notes: list, n: int, *, glide: float = 0.04, vibrato: float = 0.25, rng=None,
                sr: int = SAMPLE_RATE) -> np.ndarray:
    """Per-sample frequency (Hz) following ``notes`` [(start, length, midi)], held between notes,
    with portamento (``glide`` s) and vibrato (``vibrato`` semitones at ~5.5 Hz). (n,)"""
    from scipy.signal import lfilter

    m = np.full(n, np.nan)
    for start, length, midi in notes:
        m[max(0, start):max(0, min(n, start + length))] = midi
    if np.all(np.isnan(m)):
        return np.full(n, 220.0)
    idx = np.where(~np.isnan(m), np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    first = np.flatnonzero(~np.isnan(m))[0]
    m = m[idx]
    m[:first] = m[first]
    a = np.exp(-1.0 / (glide * sr))
    m = lfilter([1 - a], [1, -a], m - m[0]) + m[0]
    rate = 5.5 if rng is None else rng.uniform(4.8, 6.2)
    m = m + vibrato * np.sin(2 * np.pi * rate * np.arange(n) / sr)
    return midi_hz(m)



def speech_envelope(speech: np.ndarray) -> np.ndarray:
    """Spectral envelope of speech: STFT magnitude smoothed across frequency (formants without the
    harmonics of eSpeak's own pitch). (n,) → (frames, NFFT/2+1), frames = 1 + n // HOP."""
    from scipy.ndimage import uniform_filter1d

    S = np.abs(_stft(np.asarray(speech, dtype=np.float32)))
    return np.exp(uniform_filter1d(np.log(S + 1e-7), 13, axis=1))


def stretch_frames(env_frames: np.ndarray, factor: float) -> np.ndarray:
    """Time-stretch an envelope by ``factor`` (linear interpolation between frames, in log). (T, F) → (T', F)"""
    t_out = max(1, int(round(len(env_frames) * factor)))
    if t_out == len(env_frames):
        return env_frames
    pos = np.linspace(0, len(env_frames) - 1, t_out)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, len(env_frames) - 1)
    w = (pos - i0)[:, None]
    log = np.log(env_frames + 1e-9)
    return np.exp((1 - w) * log[i0] + w * log[i1])


def vocode_envelope(env_frames: np.ndarray, carrier: np.ndarray, *, rng) -> np.ndarray:
    """Channel vocoder: impose a speech envelope (frames on the HOP grid of the output) on the
    carrier's pitch. Above ~3 kHz the carrier turns into noise so consonants hiss instead of buzz.
    Only frames where the envelope is audible are processed. (T, F), (n,) → (n,)"""
    from scipy.ndimage import uniform_filter1d

    n = len(carrier)
    t = min(len(env_frames), 1 + n // HOP)
    energy = np.sum(env_frames[:t] ** 2, axis=1)
    active = np.flatnonzero(energy > 1e-6 * (energy.max() + 1e-12))
    if not len(active):
        return np.zeros(n)
    C = _stft(carrier, frames=active)
    flat_c = C / np.exp(uniform_filter1d(np.log(np.abs(C) + 1e-7), 13, axis=1))
    table = _noise_phases()
    noise = table[(active + int(rng.integers(len(table)))) % len(table)]
    freqs = np.fft.rfftfreq(NFFT, 1 / SAMPLE_RATE)
    w = (np.clip((freqs - 3000.0) / 3000.0, 0, 1) * 0.8).astype(np.float32)[None, :]
    E = env_frames[active].astype(np.float32)
    Y = E * (flat_c * (1 - w) + noise * w)
    Y *= np.sqrt(energy[active][:, None] / (np.sum(np.abs(Y) ** 2, axis=1, keepdims=True) + 1e-12)).astype(np.float32)
    return _istft(Y, n, frames=active)
