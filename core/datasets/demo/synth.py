"""The demo's synthesizer toolkit: filters, band-limited oscillators, envelopes, plucked and FM
instruments, reverb and drum one-shots. All numpy/scipy, vectorized; shapes are (n,) at SAMPLE_RATE.

Pure functions of their arguments (drums and reverb draw from the ``rng`` they are given); the
cached instruments (``saw``, ``pluck``, ``epiano``) return read-only arrays.
"""

from __future__ import annotations

import functools

import numpy as np

from core.audio import SAMPLE_RATE
from core.errors import ParameterError

_SOS_CACHE: dict = {}


def _sos(kind: str, cutoff, sr: int, order: int = 2):
    key = (kind, cutoff if np.isscalar(cutoff) else tuple(cutoff), sr, order)
    if key not in _SOS_CACHE:
        from scipy.signal import butter

        nyq = sr / 2
        wn = np.clip(np.asarray(cutoff, dtype=float) / nyq, 1e-4, 0.999)
        _SOS_CACHE[key] = butter(order, wn, btype=kind, output="sos")
    return _SOS_CACHE[key]


def filt(x: np.ndarray, kind: str, cutoff, sr: int = SAMPLE_RATE, order: int = 2) -> np.ndarray:
    """Butterworth 'lowpass' | 'highpass' | 'bandpass' (cutoff=(lo, hi)). (n,) → (n,)"""
    from scipy.signal import sosfilt

    return sosfilt(_sos(kind, cutoff, sr, order), x)


def midi_hz(m):
    """MIDI note number(s) → Hz (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=float) - 69.0) / 12.0)


def _saw_from_phase(phase: np.ndarray, dt: np.ndarray | float) -> np.ndarray:
    """Band-limited (polyBLEP) sawtooth from a phase in cycles and the per-sample increment dt."""
    t = phase % 1.0
    y = 2.0 * t - 1.0
    dt = np.broadcast_to(np.asarray(dt, dtype=float), t.shape)
    lo = t < dt
    x = t[lo] / dt[lo]
    y[lo] -= x + x - x * x - 1.0
    hi = t > 1.0 - dt
    x = (t[hi] - 1.0) / dt[hi]
    y[hi] -= x * x + x + x + 1.0
    return y


def saw(freq: float, n: int, sr: int = SAMPLE_RATE, phase0: float = 0.0) -> np.ndarray:
    """Band-limited sawtooth, (n,). Read-only and cached when phase0 == 0."""
    if phase0 == 0.0:
        return _saw_cached(round(float(freq), 4), int(n), sr)
    return _saw_from_phase(phase0 + freq * np.arange(n) / sr, freq / sr)


@functools.lru_cache(maxsize=256)
def _saw_cached(freq: float, n: int, sr: int) -> np.ndarray:
    y = _saw_from_phase(freq * np.arange(n) / sr, freq / sr).astype(np.float32)
    y.flags.writeable = False
    return y


def square(freq: float, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    return 0.5 * (saw(freq, n, sr) - saw(freq, n, sr, 0.5))


def sine(freq, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    return np.sin(2 * np.pi * (freq * np.arange(n) / sr))


def env(n: int, *, attack: float = 0.005, decay: float = 0.3, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Linear attack then exponential decay (time constant ``decay`` s). (n,)"""
    t = np.arange(n) / sr
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / max(decay, 1e-4))


def gate(n: int, *, attack: float, release: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Sustained note: linear attack, flat, linear release at the end. (n,)"""
    e = np.ones(n)
    a, r = min(n, int(attack * sr)), min(n, int(release * sr))
    if a:
        e[:a] = np.linspace(0, 1, a, endpoint=False)
    if r:
        e[n - r:] *= np.linspace(1, 0, r)
    return e


def place(buf: np.ndarray, sig: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Add ``sig`` into ``buf`` at sample ``start`` (clipped at both ends)."""
    if start >= len(buf) or start + len(sig) <= 0:
        return
    s0 = max(0, -start)
    end = min(len(buf), start + len(sig))
    buf[start + s0:end] += gain * sig[s0:end - start]


def pluck(freq: float, seconds: float, *, bright: float = 0.6, decay: float = 0.8, n_harm: int = 12,
          inharm: float = 0.0, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Additive plucked string: higher harmonics are weaker and die faster. (n,), read-only (cached)."""
    return _pluck(round(float(freq), 3), round(float(seconds), 4), bright=bright, decay=decay, n_harm=n_harm,
                  inharm=inharm, sr=sr)


@functools.lru_cache(maxsize=384)
def _pluck(freq: float, seconds: float, *, bright: float = 0.6, decay: float = 0.8, n_harm: int = 12,
          inharm: float = 0.0, sr: int = SAMPLE_RATE) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    k = np.arange(1, n_harm + 1)
    fk = freq * k * np.sqrt(1 + inharm * k ** 2)
    keep = fk < sr / 2 * 0.9
    k, fk = k[keep], fk[keep]
    amp = bright ** (k - 1) / k ** 0.5
    rates = (1.0 / decay) * (1 + 0.6 * (k - 1))
    y = (amp[None, :] * np.sin(2 * np.pi * fk[None, :] * t[:, None]) * np.exp(-t[:, None] * rates[None, :])).sum(1)
    att = min(n, int(0.002 * sr))
    y[:att] *= np.linspace(0, 1, att)
    y = (y / max(1e-9, amp.sum())).astype(np.float32)
    y.flags.writeable = False
    return y


@functools.lru_cache(maxsize=128)
def epiano(freq: float, seconds: float, *, index: float = 1.5, decay: float = 1.2, sr: int = SAMPLE_RATE) -> np.ndarray:
    """FM electric piano (Rhodes-ish bell). (n,), read-only (cached)"""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    mod = index * np.exp(-t / 0.25) * np.sin(2 * np.pi * freq * t)
    y = np.sin(2 * np.pi * freq * t + mod) * np.exp(-t / decay)
    y *= np.minimum(1, t / 0.003)
    y = y.astype(np.float32)
    y.flags.writeable = False
    return y


def supersaw(freq: float, n: int, *, voices: int = 5, detune: float = 0.012, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``voices`` detuned saws (±``detune`` relative) averaged. (n,)"""
    out = np.zeros(n)
    for d in np.linspace(-detune, detune, voices):
        out += saw(freq * (1 + d), n, sr)
    return out / voices


def reverb(x: np.ndarray, *, seconds: float, wet: float, rng, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Exponentially decaying noise impulse response (RT60 ≈ ``seconds``), FFT-convolved."""
    if wet <= 0 or seconds <= 0:
        return x
    from scipy.signal import oaconvolve

    m = int(seconds * sr)
    t = np.arange(m) / sr
    ir = rng.standard_normal(m) * np.exp(-6.9 * t / seconds)
    ir = filt(ir, "lowpass", 5000.0, sr)
    ir[: int(0.01 * sr)] = 0.0  # pre-delay
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-12
    w = oaconvolve(x, ir)[: len(x)]
    return (1 - wet) * x + wet * w


def rms(x: np.ndarray) -> float:
    """Root mean square (never 0). (n,) → float"""
    return float(np.sqrt(np.mean(x ** 2)) + 1e-12)


# --------------------------------------------------------------------------- drum one-shots

def kick(rng, *, f0: float = 50.0, punch: float = 160.0, decay: float = 0.28, sr: int = SAMPLE_RATE):
    n = int(0.6 * sr)
    t = np.arange(n) / sr
    f = f0 + punch * np.exp(-t / 0.03)
    y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / decay)
    y[: int(0.003 * sr)] += rng.standard_normal(int(0.003 * sr)) * 0.3
    return y


def snare(rng, *, tone: float = 190.0, decay: float = 0.13, bright: float = 5000.0, sr: int = SAMPLE_RATE):
    n = int(0.4 * sr)
    t = np.arange(n) / sr
    noise = filt(rng.standard_normal(n), "bandpass", (1200.0, bright), sr) * np.exp(-t / decay)
    body = np.sin(2 * np.pi * tone * t) * np.exp(-t / 0.05)
    return 1.4 * noise + 0.6 * body


def clap(rng, sr: int = SAMPLE_RATE):
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    e = np.zeros(n)
    for off in (0.0, 0.011, 0.022):
        e += (t >= off) * np.exp(-np.clip(t - off, 0, None) / (0.008 if off < 0.02 else 0.09))
    return filt(rng.standard_normal(n), "bandpass", (900.0, 4500.0), sr) * e * 1.5


def hat(rng, *, decay: float = 0.035, sr: int = SAMPLE_RATE):
    n = int(min(1.0, decay * 8) * sr)
    t = np.arange(n) / sr
    return filt(rng.standard_normal(n), "highpass", 7000.0, sr) * np.exp(-t / decay)


def ride(rng, *, decay: float = 0.9, sr: int = SAMPLE_RATE):
    n = int(1.4 * sr)
    t = np.arange(n) / sr
    partials = np.array([1.0, 1.47, 1.83, 2.41, 2.93, 3.57]) * rng.uniform(420, 520)
    metal = np.sign(np.sin(2 * np.pi * partials[None, :] * t[:, None])).sum(1) / 6
    y = filt(metal + 0.5 * rng.standard_normal(n), "highpass", 3000.0, sr) * np.exp(-t / decay)
    ping = np.sin(2 * np.pi * partials[2] * 2 * t) * np.exp(-t / 0.15)
    return 0.6 * y + 0.3 * ping


def crash(rng, sr: int = SAMPLE_RATE):
    n = int(1.8 * sr)
    t = np.arange(n) / sr
    return filt(rng.standard_normal(n), "highpass", 4000.0, sr) * np.exp(-t / 0.7)


def hand_drum(rng, *, low: bool, sr: int = SAMPLE_RATE):
    """Khol / dhol-like membrane: low 'dha' with a pitch bend, or a ringing high 'na' + slap."""
    n = int(0.5 * sr)
    t = np.arange(n) / sr
    if low:
        f = rng.uniform(85, 110) * (1 + 0.35 * np.exp(-t / 0.06))
        y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.22)
    else:
        f = rng.uniform(380, 520)
        y = (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(2 * np.pi * f * 2.3 * t)) * np.exp(-t / 0.09)
    slap = filt(rng.standard_normal(n), "bandpass", (1500.0, 6000.0), sr) * np.exp(-t / 0.01)
    return y + 0.5 * slap


def shaker(rng, sr: int = SAMPLE_RATE):
    n = int(0.12 * sr)
    t = np.arange(n) / sr
    return filt(rng.standard_normal(n), "bandpass", (4000.0, 9000.0), sr) * np.minimum(1, t / 0.015) * np.exp(-t / 0.03)


# --------------------------------------------------------------------------- oscillators

def oscillator(freq: np.ndarray, kind: str, *, rng=None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Continuous-phase oscillator following a per-sample frequency. (n,) → (n,)"""
    phase = np.cumsum(freq) / sr + (0.0 if rng is None else rng.random())
    dt = freq / sr
    if kind == "sine":
        return np.sin(2 * np.pi * phase)
    if kind == "saw":
        return _saw_from_phase(phase, dt)
    if kind == "square":
        return 0.5 * (_saw_from_phase(phase, dt) - _saw_from_phase(phase + 0.5, dt))
    if kind == "tri":
        return 2 * np.abs(2 * (phase % 1.0) - 1) - 1
    raise ParameterError("kind", value=kind, expected="one of sine, saw, square, tri")
