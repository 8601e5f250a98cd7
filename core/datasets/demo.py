"""The embedded demo corpus: synthetic English / Bangla / code-switched songs in six genres.

``generate_demo(out_dir)`` writes ``out_dir/audio/<genre>_<i>.ogg`` and ``out_dir/metadata.csv`` and
returns an ImportResult whose ``path`` column is relative to ``out_dir``. ``ensure_demo_dataset()``
keeps the workspace dataset ``demo`` (DEMO_NAME) built and reuses it when its parameters match.

How a track is made (all numpy, vectorized, one process per worker):
  plan_corpus()   decides every track's labels, key, tempo, voice, lyric lines (seeded; cheap)
  render_track()  backing band from the genre's renderer (GENRES registry) + vocals, mastered
  vocals          eSpeak NG (espeakng-loader's libespeak-ng, via ctypes) speaks each lyric line
                  (English voices 'en'/'en-us', Bangla 'bn', with a per-artist variant); the
                  speech's spectral envelope is put on a carrier that follows the melody (a channel
                  vocoder: pitch from the melody, words from the speech). Sung lines are stretched
                  to fill their phrase; hip-hop keeps speech timing with a talky pitch contour (rap).
Deterministic: the same (n_tracks, seconds, seed) gives the same metadata and the same samples,
whatever ``jobs`` is (eSpeak is reloaded per track; see _Espeak.reset).
Genres differ in tempo, drum pattern, timbre, harmony/mode and dynamics, not only in one feature,
but like real collections they overlap: every track gets its own production (Production: master
tone, low cut, loudness, saturation, stem balance, sparse or drum-heavy arrangements, sections
that bring instruments in and out, noise, reverb), instruments shared across genres (piano, pad,
acoustic guitar) and ~16 % "crossover" tracks that borrow the drums or a harmony part from another
genre. Nearest-centroid on MFCC statistics still finds the genre most of the time, while KMeans
no longer recovers it exactly (see bench/demo_separability.py).
Labels: language ∈ {English, Bangla, Hybrid (code-switched lines), Instrumental (no lyrics)}.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core import artifacts
from core.audio import SAMPLE_RATE, fix_length, write_audio
from core.datasets import DEMO_NAME, Dataset, ImportResult, dataset_dir, datasets_dir, load_dataset, save_dataset
from core.datasets.lyrics_bank import ARTISTS, ENGLISH_STOPWORDS, LINES
from core.errors import ParameterError, SongscapeError
from core.registry import Registry
from core.schema import stable_id

DEMO_VERSION = 2  # bump when the generator's output changes: ensure_demo_dataset then rebuilds
LANGUAGES = ("English", "Bangla", "Hybrid", "Instrumental")
# Language of the j-th track of each genre; 40% English, 40% Bangla, 10% Hybrid, 10% Instrumental,
# ordered so that a small corpus (4 tracks per genre) already has every language in every genre.
_LANGUAGE_CYCLE = ("English", "Bangla", "Hybrid", "Instrumental", "English", "Bangla", "English", "Bangla",
                   "English", "Bangla")
_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4")
_FORMAT = "ogg"
_INSTRUMENTAL_SUFFIX = {"rock": ("Riff", "Instrumental", "Overdrive"), "electronic": ("Dub", "Mix", "Pulse"),
                        "hiphop": ("Beat", "Loop", "Instrumental"), "classical": ("Interlude", "Nocturne", "Suite"),
                        "folk": ("Dhun", "Tune", "Melody"), "jazz": ("Blues", "Changes", "Ballad")}

# --------------------------------------------------------------------------- small DSP toolkit

_SOS_CACHE: dict = {}


def _sos(kind: str, cutoff, sr: int, order: int = 2):
    key = (kind, cutoff if np.isscalar(cutoff) else tuple(cutoff), sr, order)
    if key not in _SOS_CACHE:
        from scipy.signal import butter

        nyq = sr / 2
        wn = np.clip(np.asarray(cutoff, dtype=float) / nyq, 1e-4, 0.999)
        _SOS_CACHE[key] = butter(order, wn, btype=kind, output="sos")
    return _SOS_CACHE[key]


def _filt(x: np.ndarray, kind: str, cutoff, sr: int = SAMPLE_RATE, order: int = 2) -> np.ndarray:
    """Butterworth 'lowpass' | 'highpass' | 'bandpass' (cutoff=(lo, hi)). (n,) → (n,)"""
    from scipy.signal import sosfilt

    return sosfilt(_sos(kind, cutoff, sr, order), x)


def midi_hz(m):
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


def square(freq: float, n: int, sr: int = SAMPLE_RATE, phase0: float = 0.0) -> np.ndarray:
    return 0.5 * (saw(freq, n, sr, phase0) - saw(freq, n, sr, phase0 + 0.5))


def sine(freq, n: int, sr: int = SAMPLE_RATE, phase0: float = 0.0) -> np.ndarray:
    return np.sin(2 * np.pi * (phase0 + freq * np.arange(n) / sr))


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


def supersaw(freq: float, n: int, *, voices: int = 5, detune: float = 0.012, rng=None, sr: int = SAMPLE_RATE):
    rng = rng or np.random.default_rng(0)
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
    ir = _filt(ir, "lowpass", 5000.0, sr)
    ir[: int(0.01 * sr)] = 0.0  # pre-delay
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-12
    w = oaconvolve(x, ir)[: len(x)]
    return (1 - wet) * x + wet * w


def _rms(x: np.ndarray) -> float:
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
    noise = _filt(rng.standard_normal(n), "bandpass", (1200.0, bright), sr) * np.exp(-t / decay)
    body = np.sin(2 * np.pi * tone * t) * np.exp(-t / 0.05)
    return 1.4 * noise + 0.6 * body


def clap(rng, sr: int = SAMPLE_RATE):
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    e = np.zeros(n)
    for off in (0.0, 0.011, 0.022):
        e += (t >= off) * np.exp(-np.clip(t - off, 0, None) / (0.008 if off < 0.02 else 0.09))
    return _filt(rng.standard_normal(n), "bandpass", (900.0, 4500.0), sr) * e * 1.5


def hat(rng, *, decay: float = 0.035, sr: int = SAMPLE_RATE):
    n = int(min(1.0, decay * 8) * sr)
    t = np.arange(n) / sr
    return _filt(rng.standard_normal(n), "highpass", 7000.0, sr) * np.exp(-t / decay)


def ride(rng, *, decay: float = 0.9, sr: int = SAMPLE_RATE):
    n = int(1.4 * sr)
    t = np.arange(n) / sr
    partials = np.array([1.0, 1.47, 1.83, 2.41, 2.93, 3.57]) * rng.uniform(420, 520)
    metal = np.sign(np.sin(2 * np.pi * partials[None, :] * t[:, None])).sum(1) / 6
    y = _filt(metal + 0.5 * rng.standard_normal(n), "highpass", 3000.0, sr) * np.exp(-t / decay)
    ping = np.sin(2 * np.pi * partials[2] * 2 * t) * np.exp(-t / 0.15)
    return 0.6 * y + 0.3 * ping


def crash(rng, sr: int = SAMPLE_RATE):
    n = int(1.8 * sr)
    t = np.arange(n) / sr
    return _filt(rng.standard_normal(n), "highpass", 4000.0, sr) * np.exp(-t / 0.7)


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
    slap = _filt(rng.standard_normal(n), "bandpass", (1500.0, 6000.0), sr) * np.exp(-t / 0.01)
    return y + 0.5 * slap


def shaker(rng, sr: int = SAMPLE_RATE):
    n = int(0.12 * sr)
    t = np.arange(n) / sr
    return _filt(rng.standard_normal(n), "bandpass", (4000.0, 9000.0), sr) * np.minimum(1, t / 0.015) * np.exp(-t / 0.03)


# --------------------------------------------------------------------------- music theory

CHORDS = {"5": (0, 7, 12), "maj": (0, 4, 7), "min": (0, 3, 7), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
          "dom7": (0, 4, 7, 10), "sus2": (0, 2, 7)}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10), "dorian": (0, 2, 3, 5, 7, 9, 10),
          "mixolydian": (0, 2, 4, 5, 7, 9, 10), "minor_penta": (0, 3, 5, 7, 10), "major_penta": (0, 2, 4, 7, 9)}


@dataclass
class Ctx:
    """What a genre renderer needs for one track (all positions in samples)."""

    rng: np.random.Generator
    n: int
    bpm: float
    key: int  # pitch class of the tonic, 0 = C
    swing: float  # where the off-beat eighth falls inside the beat: 0.5 straight, 0.66 swung
    chords: list  # per bar: (root pitch class, intervals)
    scale: tuple
    sr: int = SAMPLE_RATE
    energy: float = 1.0  # per-track dynamics jitter

    @property
    def beat(self) -> float:
        return 60.0 * self.sr / self.bpm

    @property
    def bar(self) -> float:
        return 4 * self.beat

    @property
    def n_bars(self) -> int:
        return int(np.ceil(self.n / self.bar))

    def pos(self, bar: int, beat: float, *, humanize: float = 0.004) -> int:
        """Sample index of ``beat`` (0..4, may be fractional) in ``bar``; swung off-beat eighths."""
        whole, frac = divmod(beat, 1.0)
        if abs(frac - 0.5) < 1e-6:
            frac = self.swing
        elif abs(frac - 0.25) < 1e-6 or abs(frac - 0.75) < 1e-6:
            frac = frac if self.swing <= 0.5 else (self.swing / 2 if frac < 0.5 else (1 + self.swing) / 2)
        jitter = self.rng.normal(0, humanize) * self.sr if humanize else 0.0
        return int(bar * self.bar + (whole + frac) * self.beat + jitter)

    def chord_midi(self, bar: int, octave: int) -> list[float]:
        root, ivs = self.chords[bar % len(self.chords)]
        return [12 * octave + root + i for i in ivs]

    def root_midi(self, bar: int, octave: int) -> int:
        return 12 * octave + self.chords[bar % len(self.chords)][0]


def _drum_pattern(ctx: Ctx, buf: np.ndarray, sound: np.ndarray, steps: tuple, gain: float, *,
                  vel_jitter: float = 0.15, bars=None, humanize: float = 0.004) -> None:
    """Place a one-shot on 16th-note ``steps`` (0..15) of every bar."""
    for bar in (range(ctx.n_bars) if bars is None else bars):
        for s in steps:
            v = gain * (1 + ctx.rng.uniform(-vel_jitter, vel_jitter))
            place(buf, sound, ctx.pos(bar, s / 4.0, humanize=humanize), v)


# --------------------------------------------------------------------------- genres

@dataclass(frozen=True)
class GenreStyle:
    """One genre: tempo, harmony, vocal treatment, mastering, and the function rendering its band."""

    name: str
    bpm: float
    scale: str
    progressions: tuple  # of tuples of (semitones above the tonic, chord quality)
    bars_per_chord: int
    swing: float
    vocal: str  # "sung" | "rap"
    speech_rate: tuple  # words per minute range for eSpeak
    rhythms: tuple  # melody rhythm cells, beats per note (each sums to 4)
    phrase_bars: int
    reverb_s: float
    reverb_wet: float
    target_rms: float  # loudness after mastering
    drive: float  # master saturation (compression)
    lead: str  # lead instrument used for instrumentals: sine | saw | square | tri
    lead_cutoff: float
    render: Callable[[Ctx], dict] = field(repr=False, compare=False, default=None)


GENRES: Registry[GenreStyle] = Registry("genre")


def _rock(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    drums = np.zeros(n)
    k, s, h, c = kick(rng, f0=55), snare(rng, bright=7000), hat(rng, decay=0.05), crash(rng)
    kick_steps = [(0, 8), (0, 8, 10), (0, 6, 8)][rng.integers(3)]
    _drum_pattern(ctx, drums, k, kick_steps, 1.0)
    _drum_pattern(ctx, drums, s, (4, 12), 0.9)
    _drum_pattern(ctx, drums, h, (0, 2, 4, 6, 8, 10, 12, 14), 0.25)
    _drum_pattern(ctx, drums, c, (0,), 0.5, bars=range(0, ctx.n_bars, 4))
    gtr, bass = np.zeros(n), np.zeros(n)
    bar_n = int(ctx.bar) + 1
    eighth = int(ctx.beat / 2)
    chug = np.resize(env(eighth, attack=0.002, decay=0.09, sr=ctx.sr), bar_n)
    for b in range(ctx.n_bars):
        open_bar = b % 4 == 3
        notes = ctx.chord_midi(b, 3)
        wave = sum(saw(midi_hz(m) * (1 + d), bar_n, ctx.sr) for m in notes for d in (-0.004, 0.004))
        e = env(bar_n, attack=0.003, decay=1.5, sr=ctx.sr) if open_bar else chug
        place(gtr, wave * e, ctx.pos(b, 0, humanize=0))
        place(bass, saw(midi_hz(ctx.root_midi(b, 2)), bar_n, ctx.sr) * chug, ctx.pos(b, 0, humanize=0))
    gtr = _filt(np.tanh(6.0 * gtr), "lowpass", 3800.0, ctx.sr)
    bass = _filt(bass, "lowpass", 700.0, ctx.sr)
    return {"drums": drums, "guitar": gtr * 0.5, "bass": bass * 0.6}


def _electronic(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    drums = np.zeros(n)
    _drum_pattern(ctx, drums, kick(rng, f0=48, punch=220, decay=0.3), (0, 4, 8, 12), 1.1, vel_jitter=0.02, humanize=0)
    _drum_pattern(ctx, drums, clap(rng), (4, 12), 0.7, humanize=0)
    _drum_pattern(ctx, drums, hat(rng, decay=0.12), (2, 6, 10, 14), 0.35, humanize=0)
    _drum_pattern(ctx, drums, hat(rng, decay=0.02), tuple(range(16)), 0.12, humanize=0)
    # side-chain: everything but the drums ducks after each kick
    since = (np.arange(n) % ctx.beat) / ctx.sr
    duck = 1 - 0.75 * np.exp(-since / 0.09)
    pads, bass, arp = np.zeros(n), np.zeros(n), np.zeros(n)
    bar_n = int(ctx.bar) + 1
    sixteenth = int(ctx.beat / 4)
    for b in range(ctx.n_bars):
        start = ctx.pos(b, 0, humanize=0)
        chord = ctx.chord_midi(b, 4)
        place(pads, sum(supersaw(midi_hz(m), bar_n, rng=rng) for m in chord), start)
        for off in (0.5, 1.5, 2.5, 3.5):
            place(bass, sine(midi_hz(ctx.root_midi(b, 2)), int(ctx.beat / 2)) * env(int(ctx.beat / 2), decay=0.15),
                  ctx.pos(b, off, humanize=0))
        arp_notes = chord + [chord[0] + 12]
        for i in range(16):
            m = arp_notes[(i * 3) % len(arp_notes)] + 12
            place(arp, square(midi_hz(m), sixteenth) * env(sixteenth, decay=0.06), start + i * sixteenth)
    sweep = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / (8 * ctx.bar))
    pads = _filt(pads, "lowpass", 900.0, ctx.sr) * (1 - sweep) + _filt(pads, "lowpass", 4000.0, ctx.sr) * sweep
    return {"drums": drums, "pads": pads * duck * 0.35, "bass": bass * duck * 0.8,
            "arp": _filt(arp, "lowpass", 3000.0, ctx.sr) * duck * 0.12}


def _hiphop(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    drums = np.zeros(n)
    kick_steps = [(0, 7, 10), (0, 3, 10), (0, 8, 9)][rng.integers(3)]
    k = kick(rng, f0=52, punch=120, decay=0.25)
    _drum_pattern(ctx, drums, k, kick_steps, 1.2, humanize=0.008)
    _drum_pattern(ctx, drums, snare(rng, tone=170, decay=0.18, bright=4000), (4, 12), 1.1, humanize=0.008)
    _drum_pattern(ctx, drums, hat(rng, decay=0.03), (0, 2, 4, 6, 8, 10, 12, 14), 0.22, vel_jitter=0.4, humanize=0.01)
    bass, keys = np.zeros(n), np.zeros(n)
    for b in range(ctx.n_bars):
        root = midi_hz(ctx.root_midi(b, 1) + 12)
        for st in kick_steps:
            # 808: a long sine with a short downward glide
            m = int(ctx.beat * 1.5)
            t = np.arange(m) / ctx.sr
            f = root * (1 + 0.5 * np.exp(-t / 0.02))
            place(bass, np.tanh(2 * np.sin(2 * np.pi * np.cumsum(f) / ctx.sr)) * np.exp(-t / 0.6), ctx.pos(b, st / 4))
        for m in ctx.chord_midi(b, 4):
            place(keys, epiano(midi_hz(m), ctx.bar / ctx.sr, decay=1.5, index=1.0), ctx.pos(b, 0), 0.3)
    crackle = np.zeros(n)
    idx = rng.integers(0, n, size=int(n / ctx.sr * 25))
    crackle[idx] = rng.uniform(-1, 1, len(idx))
    keys = _filt(keys, "lowpass", 2500.0, ctx.sr)
    return {"drums": drums, "bass": bass * 0.7, "keys": keys * 0.5, "crackle": _filt(crackle, "highpass", 2000.0) * 0.1}


def _classical(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    strings, cello, harp = np.zeros(n), np.zeros(n), np.zeros(n)
    bar_n = int(ctx.bar) + 1
    vib = 1 + 0.004 * np.sin(2 * np.pi * 5.2 * np.arange(bar_n) / ctx.sr)
    for b in range(ctx.n_bars):
        start = ctx.pos(b, 0, humanize=0)
        chord = ctx.chord_midi(b, 4)
        g = gate(bar_n, attack=0.5, release=0.3, sr=ctx.sr)
        wave = 0.0
        for m in chord:
            f = midi_hz(m)
            for d in (-0.003, 0.0, 0.003):
                ph = rng.random() + np.cumsum(f * (1 + d) * vib) / ctx.sr
                wave = wave + (2.0 * (ph % 1.0) - 1.0)  # naive saw: low notes, low-passed below
        place(strings, wave * g, start)
        f = midi_hz(ctx.root_midi(b, 2))
        ph = np.cumsum(f * vib) / ctx.sr
        place(cello, (2.0 * (ph % 1.0) - 1.0) * gate(bar_n, attack=0.3, release=0.3), start)
        arp = chord + [chord[0] + 12, chord[1] + 12]
        order = [0, 1, 2, 3, 4, 3, 2, 1]
        for i in range(8):
            m = arp[order[i] % len(arp)] + 12
            place(harp, pluck(midi_hz(m), 1.2, bright=0.4, decay=0.9, n_harm=8), ctx.pos(b, i / 2, humanize=0.006),
                  rng.uniform(0.7, 1.0))
    swell = 0.65 + 0.35 * np.sin(2 * np.pi * np.arange(n) / (ctx.sr * rng.uniform(9, 16)) + rng.uniform(0, 6.28))
    strings = _filt(strings, "lowpass", 2200.0, ctx.sr) * swell
    return {"strings": strings * 0.12, "cello": _filt(cello, "lowpass", 1200.0) * swell * 0.25, "harp": harp * 0.35}


def _folk(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    perc = np.zeros(n)
    lo, hi, sh = hand_drum(rng, low=True), hand_drum(rng, low=False), shaker(rng)
    _drum_pattern(ctx, perc, lo, (0, 6, 8), 1.0, humanize=0.008)
    _drum_pattern(ctx, perc, hi, (3, 4, 10, 12, 14), 0.6, humanize=0.008)
    _drum_pattern(ctx, perc, sh, tuple(range(0, 16, 2)), 0.3, vel_jitter=0.4, humanize=0.01)
    dotara, ektara, drone = np.zeros(n), np.zeros(n), np.zeros(n)
    scale = SCALES["major_penta"]
    for b in range(ctx.n_bars):
        chord = ctx.chord_midi(b, 4)
        deg = rng.integers(0, 5)
        for i in range(8):
            if rng.random() < 0.2:
                continue
            deg = int(np.clip(deg + rng.integers(-2, 3), 0, 9))
            m = 12 * 5 + ctx.key + scale[deg % 5] + 12 * (deg // 5) - 12
            if i % 4 == 0:
                m = chord[0] + 12
            place(dotara, pluck(midi_hz(m), 0.7, bright=0.75, decay=0.45, n_harm=14, inharm=2e-4),
                  ctx.pos(b, i / 2, humanize=0.006), rng.uniform(0.6, 1.0))
        # ektara: one string on the tonic, its pitch bent by squeezing the neck
        for beat in (0, 2):
            m = int(ctx.beat * 1.8)
            t = np.arange(m) / ctx.sr
            f = midi_hz(12 * 4 + ctx.key) * (1 + rng.choice([-1, 1]) * 0.06 * (1 - np.exp(-t / 0.15)))
            place(ektara, np.tanh(1.5 * np.sin(2 * np.pi * np.cumsum(f) / ctx.sr)) * np.exp(-t / 0.5), ctx.pos(b, beat))
    tonic = midi_hz(12 * 3 + ctx.key)
    drone = 0.5 * square(tonic, n) + 0.3 * square(tonic * 1.5, n)
    drone *= 0.8 + 0.2 * np.sin(2 * np.pi * 0.4 * np.arange(n) / ctx.sr)
    return {"perc": perc * 0.8, "dotara": dotara * 0.5, "ektara": ektara * 0.25,
            "harmonium": _filt(drone, "lowpass", 1500.0) * 0.07}


def _jazz(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    drums = np.zeros(n)
    _drum_pattern(ctx, drums, ride(rng), (0, 4, 6, 8, 12, 14), 0.35, vel_jitter=0.25, humanize=0.006)
    _drum_pattern(ctx, drums, hat(rng, decay=0.02), (4, 12), 0.3)
    _drum_pattern(ctx, drums, kick(rng, f0=60, punch=60, decay=0.2), (0, 4, 8, 12), 0.15, vel_jitter=0.3)
    brush = snare(rng, tone=220, decay=0.08, bright=3500)
    for b in range(ctx.n_bars):
        for s in rng.choice(16, size=2, replace=False):
            if s % 2 == 0:
                place(drums, brush, ctx.pos(b, s / 4), rng.uniform(0.1, 0.3))
    bass, piano = np.zeros(n), np.zeros(n)
    q = ctx.beat / ctx.sr
    for b in range(ctx.n_bars):
        chord = ctx.chord_midi(b, 2)
        nxt = ctx.root_midi(b + 1, 2)
        line = [chord[0], rng.choice(chord[1:]), rng.choice(chord), nxt + rng.choice([-1, 1])]
        for beat, m in enumerate(line):
            place(bass, pluck(midi_hz(m), q * 1.1, bright=0.35, decay=0.5, n_harm=6), ctx.pos(b, beat), 0.9)
        voicing = [m + 12 for m in ctx.chord_midi(b, 4)[1:]] + [ctx.root_midi(b, 4) + 14]
        for beat in sorted(rng.choice([0.5, 1.5, 2.0, 2.5, 3.5], size=2, replace=False)):
            dur = q * rng.choice([0.6, 1.2])
            for m in voicing:
                place(piano, pluck(midi_hz(m - 12), dur, bright=0.5, decay=0.6, n_harm=8), ctx.pos(b, beat), 0.3)
    return {"drums": drums, "bass": _filt(bass, "lowpass", 1500.0) * 0.9, "piano": piano * 0.6}


def _style(name, render, **kw) -> GenreStyle:
    return GENRES.add(name, GenreStyle(name=name, render=render, **kw))


_style("rock", _rock, bpm=124, scale="minor_penta", progressions=(((0, "5"), (10, "5"), (8, "5"), (7, "5")),
       ((0, "5"), (5, "5"), (10, "5"), (5, "5")), ((0, "5"), (3, "5"), (10, "5"), (5, "5"))), bars_per_chord=1,
       swing=0.5, vocal="sung", speech_rate=(150, 180), rhythms=((1, 1, 1, 1), (0.5, 0.5, 1, 2), (1.5, 0.5, 2), (2, 1, 1)),
       phrase_bars=2, reverb_s=0.8, reverb_wet=0.12, target_rms=0.2, drive=2.5, lead="saw", lead_cutoff=3000)
_style("electronic", _electronic, bpm=127, scale="minor", progressions=(((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),
       ((0, "min"), (5, "min"), (8, "maj"), (7, "maj"))), bars_per_chord=1, swing=0.5, vocal="sung",
       speech_rate=(150, 175), rhythms=((0.5, 0.5, 0.5, 0.5, 2), (1, 1, 2), (0.5, 1, 0.5, 2)), phrase_bars=2,
       reverb_s=1.6, reverb_wet=0.2, target_rms=0.22, drive=2.0, lead="square", lead_cutoff=4000)
_style("hiphop", _hiphop, bpm=90, scale="minor_penta", progressions=(((0, "m7"), (8, "maj7")), ((0, "m7"), (5, "m7")),
       ((0, "m7"), (10, "dom7"))), bars_per_chord=2, swing=0.58, vocal="rap", speech_rate=(200, 240),
       rhythms=((0.5, 0.5, 1, 0.5, 0.5, 1), (1, 0.5, 0.5, 2)), phrase_bars=1, reverb_s=0.4, reverb_wet=0.06,
       target_rms=0.18, drive=1.6, lead="sine", lead_cutoff=2500)
_style("classical", _classical, bpm=72, scale="major", progressions=(((0, "maj"), (9, "min"), (5, "maj"), (7, "maj")),
       ((0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")), ((9, "min"), (2, "min"), (7, "maj"), (0, "maj"))),
       bars_per_chord=1, swing=0.5, vocal="sung", speech_rate=(120, 140), rhythms=((2, 2), (3, 1), (4,), (1, 1, 2)),
       phrase_bars=2, reverb_s=2.4, reverb_wet=0.35, target_rms=0.07, drive=0.3, lead="tri", lead_cutoff=2500)
_style("folk", _folk, bpm=100, scale="mixolydian", progressions=(((0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")),
       ((0, "maj"), (10, "maj"), (0, "maj"), (0, "maj"))), bars_per_chord=2, swing=0.5, vocal="sung",
       speech_rate=(140, 165), rhythms=((1, 1, 2), (0.5, 0.5, 1, 2), (1, 0.5, 0.5, 2)), phrase_bars=2,
       reverb_s=0.9, reverb_wet=0.15, target_rms=0.12, drive=0.8, lead="sine", lead_cutoff=3500)
_style("jazz", _jazz, bpm=138, scale="dorian", progressions=(((2, "m7"), (7, "dom7"), (0, "maj7"), (9, "dom7")),
       ((0, "maj7"), (9, "m7"), (2, "m7"), (7, "dom7"))), bars_per_chord=1, swing=0.66, vocal="sung",
       speech_rate=(150, 170), rhythms=((1.5, 0.5, 1, 1), (0.5, 1, 0.5, 2), (1, 1, 2)), phrase_bars=2,
       reverb_s=1.1, reverb_wet=0.18, target_rms=0.1, drive=0.5, lead="square", lead_cutoff=1800)


# --------------------------------------------------------------------------- per-track production

_DRUM_STEMS = ("drums", "perc")
_SHARED = ("piano", "pad", "guitar")


@dataclass(frozen=True)
class Production:
    """How one track is arranged and mixed, on top of its genre (the within-genre variety).

    Levels are linear gains; a crossover borrows ``crossover_part`` ('drums' | 'harmony' | 'lead')
    from ``crossover_genre``'s band; ``shared`` adds an instrument any genre may use."""

    bright_hz: float = 20000.0  # master low-pass (tone control) cutoff
    dark: float = 0.0  # share of the low-passed signal in the master (0 = untouched)
    low_cut_hz: float = 20.0  # master high-pass
    loudness: float = 1.0  # × the genre's target RMS
    drive: float = 1.0  # × the genre's master saturation
    extra_drive: float = 0.0  # added saturation (lo-fi, distorted productions)
    drums: float = 1.0  # drum/percussion stem level (0 = no drums)
    sections: bool = False  # instruments come and go every few bars
    shared: str = ""  # "" or one of _SHARED
    shared_level: float = 0.0
    crossover_genre: str = ""
    crossover_part: str = ""
    reverb_s: float = 1.0  # × the genre's reverb time


def _draw_production(style: "GenreStyle", language: str, rng) -> Production:
    """A random production for a track of ``style`` (seeded by the plan's rng)."""
    u = rng.random(12)
    drums = 0.0 if u[0] < 0.1 else (float(rng.uniform(1.6, 2.6)) if u[0] > 0.85 else float(rng.uniform(0.6, 1.3)))
    shared = _SHARED[int(rng.integers(len(_SHARED)))] if u[1] < 0.35 else ""
    xgenre, xpart = "", ""
    if u[2] < 0.16:
        parts = ["drums", "harmony"] + (["lead"] if language == "Instrumental" else [])
        xpart = parts[int(rng.integers(len(parts)))]
        others = [g for g in GENRES.names() if g != style.name and not (xpart == "drums" and g == "classical")]
        xgenre = others[int(rng.integers(len(others)))]
    # loudness: genres keep their tendency (rock loud, classical quiet) with wide overlap
    loud = float(np.exp(0.2 * np.log(0.13 / style.target_rms) + rng.normal(0, 0.25)))
    return Production(bright_hz=float(np.round(np.exp(rng.uniform(np.log(2000), np.log(12000))), -2)),
                      dark=float(rng.uniform(0.0, 0.25)),
                      low_cut_hz=float(np.round(np.exp(rng.uniform(np.log(25), np.log(150))), -1)),
                      loudness=loud, drive=float(np.exp(rng.normal(0, 0.4))),
                      extra_drive=float(rng.uniform(1.0, 4.0)) if u[3] < 0.07 else 0.0,
                      drums=drums, sections=bool(u[4] < 0.4), shared=shared,
                      shared_level=float(rng.uniform(0.3, 1.2)) if shared else 0.0,
                      crossover_genre=xgenre, crossover_part=xpart,
                      reverb_s=float(rng.uniform(0.5, 1.8)))


def _shared_layer(ctx: Ctx, kind: str) -> np.ndarray:
    """An instrument any genre may use, following the track's chords: 'piano' | 'pad' | 'guitar'. (n,)"""
    rng, n = ctx.rng, ctx.n
    out = np.zeros(n)
    bar_n = int(ctx.bar) + 1
    q = ctx.beat / ctx.sr
    for b in range(ctx.n_bars):
        chord = ctx.chord_midi(b, 4)
        if kind == "piano":
            for beat in (0.0, 2.0) if rng.random() < 0.6 else (0.0, 1.0, 2.0, 3.0):
                for m in chord:
                    place(out, pluck(midi_hz(m), q * 2, bright=0.55, decay=0.9, n_harm=10), ctx.pos(b, beat), 0.35)
        elif kind == "pad":
            wave = sum(saw(midi_hz(m - 12), bar_n, ctx.sr) for m in chord)
            place(out, wave * gate(bar_n, attack=0.3, release=0.3, sr=ctx.sr), ctx.pos(b, 0, humanize=0), 0.25)
        else:  # strummed acoustic guitar: down-strokes on the beats, notes a few ms apart
            for beat in (0.0, 1.0, 1.5, 2.5, 3.0):
                start = ctx.pos(b, beat)
                for j, m in enumerate(chord + [chord[0] + 12]):
                    place(out, pluck(midi_hz(m - 12), q * 1.5, bright=0.7, decay=0.5, n_harm=12, inharm=1e-4),
                          start + int(j * 0.008 * ctx.sr), 0.3)
    if kind == "pad":
        out = _filt(out, "lowpass", 1800.0, ctx.sr)
    return out


def _section_gains(ctx: Ctx, names: list, rng) -> dict:
    """Per-stem gain curves for an arrangement in 4-bar sections: each stem plays in a section with
    probability 0.75 (at least one plays), and sections differ in level. {name: (n,)}"""
    sec = int(4 * ctx.bar)
    n_sec = max(1, int(np.ceil(ctx.n / sec)))
    on = rng.random((n_sec, len(names))) < 0.75
    for k in range(n_sec):
        if not on[k].any():
            on[k, int(rng.integers(len(names)))] = True
    level = rng.uniform(0.6, 1.3, size=(n_sec, 1))
    g = on * level
    ramp = max(1, int(0.05 * ctx.sr))
    kernel = np.ones(ramp) / ramp
    out = {}
    for j, name in enumerate(names):
        curve = np.repeat(g[:, j], sec)[: ctx.n]
        out[name] = np.convolve(curve, kernel, mode="same") if n_sec > 1 else curve
    return out


# --------------------------------------------------------------------------- eSpeak NG via ctypes

class _Espeak:
    """Per-process binding of espeakng-loader's libespeak-ng (synchronous mode, callback collects int16)."""

    _lock = threading.Lock()
    _inst: "_Espeak | None" = None

    def __init__(self):
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        AUDIO_OUTPUT_SYNCHRONOUS = 2
        self.sr = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if self.sr <= 0:
            raise SongscapeError(f"eSpeak NG failed to initialise (returned {self.sr}) with data at "
                                 f"{espeakng_loader.get_data_path()}. Reinstall espeakng-loader.")
        self._chunks: list[np.ndarray] = []
        cb_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def _cb(wav, n, _events):
            if n > 0 and wav:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._cb = cb_type(_cb)  # keep a reference: ctypes callbacks must outlive their use
        lib.espeak_SetSynthCallback(self._cb)
        # eSpeak keeps state between utterances (pitch flutter index, noise generators), so the same
        # call could give slightly different samples depending on what was spoken before. A constant
        # F0 (the melody replaces the pitch anyway) and re-seeded generators make every call a pure
        # function of its arguments.
        lib.espeak_ng_SetConstF0.argtypes = [ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._libc = ctypes.CDLL(None)

    @classmethod
    def get(cls) -> "_Espeak":
        with cls._lock:
            if cls._inst is None:
                cls._inst = cls()
            return cls._inst

    @classmethod
    def reset(cls) -> None:
        """Unload the library so the next call starts from its initial state (~15 ms).

        Some of eSpeak's synthesis state lives in C statics that no API call resets; without a
        reload the same text can come out a few samples different depending on what was spoken
        before in this process. render_track() resets once per track, so a track's audio does not
        depend on which worker rendered it, or after which other track.
        """
        import _ctypes

        with cls._lock:
            inst, cls._inst = cls._inst, None
            if inst is not None:
                inst.lib.espeak_Terminate()
                _ctypes.dlclose(inst.lib._handle)

    def speak(self, text: str, *, voice: str, rate: int = 160, pitch: int = 50, f0: int = 120) -> np.ndarray:
        """Speech for ``text`` as float32 at SAMPLE_RATE, shape (n,); monotone at ``f0`` Hz."""
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SongscapeError(f"eSpeak NG has no voice '{voice}'. Use e.g. 'en+m3' or 'bn+f2'.")
            self.lib.espeak_SetParameter(1, int(np.clip(rate, 80, 450)), 0)  # espeakRATE
            self.lib.espeak_SetParameter(3, int(np.clip(pitch, 0, 99)), 0)  # espeakPITCH (also shifts formants)
            self.lib.espeak_ng_SetConstF0(int(f0))
            self.lib.espeak_ng_SetRandSeed(12345)
            self._libc.srand(12345)
            self._chunks = []
            data = text.encode("utf-8")
            espeakCHARS_UTF8 = 1
            self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, espeakCHARS_UTF8, None, None)
            y = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        y = y.astype(np.float32) / 32768.0
        if self.sr != SAMPLE_RATE:
            import soxr

            y = soxr.resample(y, self.sr, SAMPLE_RATE).astype(np.float32)
        return y


def speak(text: str, *, voice: str, rate: int = 160, pitch: int = 50, f0: int = 120) -> np.ndarray:
    """eSpeak NG speech for ``text`` with ``voice`` ('en+m3', 'bn+f2', …), monotone at ``f0`` Hz.
    Returns float32 (n,) at SAMPLE_RATE. Deterministic for a given sequence of calls after
    ``_Espeak.reset()`` (eSpeak carries a little state from one utterance to the next)."""
    return _Espeak.get().speak(text, voice=voice, rate=rate, pitch=pitch, f0=f0)


# --------------------------------------------------------------------------- vocals

_NFFT, _HOP = 1024, 256


_WIN = np.hanning(_NFFT + 1)[:-1].astype(np.float32)


def _stft(x: np.ndarray, frames: np.ndarray | None = None) -> np.ndarray:
    """(n,) → (frames, NFFT/2+1) complex64 with a Hann window, centred frames (only ``frames`` if given)."""
    from numpy.lib.stride_tricks import sliding_window_view

    xp = np.pad(np.asarray(x, dtype=np.float32), (_NFFT // 2, _NFFT))
    view = sliding_window_view(xp, _NFFT)[::_HOP]
    if frames is not None:
        view = view[frames]
    return np.fft.rfft(view * _WIN, axis=1)


def _istft(spec: np.ndarray, n: int, frames: np.ndarray | None = None) -> np.ndarray:
    """(T, NFFT/2+1) → (n,). With ``frames``, ``spec`` holds only those frame indices (others silent)."""
    if frames is None:
        frames = np.flatnonzero(np.any(spec != 0, axis=1))
        spec = spec[frames]
    chunks = np.fft.irfft(spec, n=_NFFT, axis=1) * _WIN
    out = np.zeros((n // _HOP + 3) * _HOP + _NFFT)
    for i, fr in zip(frames, chunks):
        out[i * _HOP:i * _HOP + _NFFT] += fr
    out /= float(np.sum(_WIN.astype(np.float64) ** 2)) / _HOP
    return out[_NFFT // 2:_NFFT // 2 + n]


@functools.lru_cache(maxsize=1)
def _noise_phases(n_frames: int = 4096) -> np.ndarray:
    """A fixed table of unit-magnitude random spectra (the vocoder's noise source). (n_frames, F) complex64"""
    rng = np.random.default_rng(20240611)
    return np.exp(2j * np.pi * rng.random((n_frames, _NFFT // 2 + 1))).astype(np.complex64)


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
    t = min(len(env_frames), 1 + n // _HOP)
    energy = np.sum(env_frames[:t] ** 2, axis=1)
    active = np.flatnonzero(energy > 1e-6 * (energy.max() + 1e-12))
    if not len(active):
        return np.zeros(n)
    C = _stft(carrier, frames=active)
    flat_c = C / np.exp(uniform_filter1d(np.log(np.abs(C) + 1e-7), 13, axis=1))
    table = _noise_phases()
    noise = table[(active + int(rng.integers(len(table)))) % len(table)]
    freqs = np.fft.rfftfreq(_NFFT, 1 / SAMPLE_RATE)
    w = (np.clip((freqs - 3000.0) / 3000.0, 0, 1) * 0.8).astype(np.float32)[None, :]
    E = env_frames[active].astype(np.float32)
    Y = E * (flat_c * (1 - w) + noise * w)
    Y *= np.sqrt(energy[active][:, None] / (np.sum(np.abs(Y) ** 2, axis=1, keepdims=True) + 1e-12)).astype(np.float32)
    return _istft(Y, n, frames=active)


def vocode(speech: np.ndarray, carrier: np.ndarray, *, rng=None) -> np.ndarray:
    """Speech's words on the carrier's pitch (see vocode_envelope). (n,), (n,) → (n,)"""
    env_frames = speech_envelope(fix_length(np.asarray(speech), n_samples=len(carrier)))
    return vocode_envelope(env_frames, carrier, rng=rng or np.random.default_rng(0))


# --------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class TrackSpec:
    """Everything that decides one track (labels + musical choices); rendering is a pure function of it."""

    index: int
    genre: str
    language: str
    title: str
    artist: str
    lines: tuple  # sung lines in order: ((text, 'en'|'bn'), ...); empty for instrumentals
    key: int
    bpm: float
    progression: tuple
    voice_variant: str
    english_voice: str
    female: bool
    seconds: float
    intro_bars: int
    render_seed: int
    mix: tuple  # (vocal level, noise level dB, reverb wet jitter, energy)
    production: Production = field(default_factory=Production)

    @property
    def file(self) -> str:
        return f"audio/{self.genre}_{self.index:04d}.{_FORMAT}"

    @property
    def lyrics(self) -> str:
        return "\n".join(text for text, _ in self.lines)


def _title(line: str, lang: str, rng) -> str:
    words = line.split()
    if lang == "en":
        content = [w for w in words if w.lower() not in ENGLISH_STOPWORDS] or words
        k = int(rng.integers(1, min(3, len(content)) + 1))
        s = int(rng.integers(0, len(content) - k + 1))
        return " ".join(w.capitalize() for w in content[s:s + k])
    k = int(rng.integers(2, min(3, len(words)) + 1))
    s = int(rng.integers(0, len(words) - k + 1))
    return " ".join(words[s:s + k])


def _pick_lines(genre: str, lang: str, k: int, rng) -> list[str]:
    pool = list(LINES[genre][lang])
    out = [pool[i] for i in rng.permutation(len(pool))[:k]]
    if rng.random() < 0.25:  # a borrowed line from another genre: lyrics alone do not give the genre away
        other = [g for g in LINES if g != genre][int(rng.integers(len(LINES) - 1))]
        out[-1] = LINES[other][lang][int(rng.integers(len(LINES[other][lang])))]
    return out


def _song_lines(style: GenreStyle, language: str, n_slots: int, rng) -> list[tuple[str, str]]:
    """Verse/chorus order of sung lines, cycled to fill ``n_slots`` phrases."""
    if language == "Instrumental" or n_slots <= 0:
        return []
    if language == "Hybrid":
        en = [(x, "en") for x in _pick_lines(style.name, "English", 3, rng)]
        bn = [(x, "bn") for x in _pick_lines(style.name, "Bangla", 3, rng)]
        verse = [en[0], bn[0], en[1], bn[1]] if rng.random() < 0.5 else [bn[0], en[0], bn[1], en[1]]
        chorus = [en[2], bn[2]]
    else:
        code = "en" if language == "English" else "bn"
        picked = [(x, code) for x in _pick_lines(style.name, language, 5, rng)]
        verse, chorus = picked[:3], picked[3:]
    order = verse[:2] + chorus + verse[2:] + chorus
    return [order[i % len(order)] for i in range(n_slots)]


def plan_corpus(*, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0) -> list[TrackSpec]:
    """Labels and musical choices for every track; deterministic for a seed. Genre cycles fastest,
    so any prefix of the corpus is balanced across genres; languages follow _LANGUAGE_CYCLE."""
    _check(n_tracks=n_tracks, seconds=seconds, seed=seed)
    rng = np.random.default_rng([int(seed), 7919])
    genres = GENRES.names()
    specs: list[TrackSpec] = []
    rotation: dict[tuple, list] = {}
    for i in range(n_tracks):
        style = GENRES.get(genres[i % len(genres)])
        language = _LANGUAGE_CYCLE[(i // len(genres)) % len(_LANGUAGE_CYCLE)]
        pool = ARTISTS[style.name][language]
        rot = rotation.setdefault((style.name, language), [int(rng.integers(len(pool))), 0])
        artist = pool[(rot[0] + rot[1]) % len(pool)]  # artists take turns: each class has several
        rot[1] += 1
        # The artist is the singer: voice variant and accent follow the artist (with the seed).
        h = int(hashlib.sha1(f"{artist}:{seed}".encode()).hexdigest(), 16)
        variant = _VARIANTS[h % len(_VARIANTS)]
        english_voice = ("en", "en-us")[(h >> 8) % 2]
        bpm = round(style.bpm * rng.uniform(0.85, 1.15), 2)
        bar_s = 240.0 / bpm
        n_bars = int(np.ceil(seconds / bar_s))
        intro = 1 if style.phrase_bars == 1 else int(rng.integers(1, 3))
        n_slots = max(0, (n_bars - intro) // style.phrase_bars)
        min_slots = {"English": 1, "Bangla": 1, "Hybrid": 2}.get(language, 0)
        if n_slots < min_slots:  # very short tracks: no intro, lines squeezed to fit (see render_track)
            intro, n_slots = 0, min_slots
        lines = _song_lines(style, language, n_slots, rng)
        if lines:
            title_line = lines[min(2, len(lines) - 1)]
            title = _title(title_line[0], title_line[1], rng)
        else:
            pool = LINES[style.name]["English"]
            words = _title(pool[int(rng.integers(len(pool)))], "en", rng)
            title = f"{words} {_INSTRUMENTAL_SUFFIX[style.name][int(rng.integers(3))]}"
        prog = style.progressions[int(rng.integers(len(style.progressions)))]
        mix = (float(rng.uniform(0.5, 1.5)), float(rng.uniform(-55, -38)), float(rng.uniform(0.4, 2.5)),
               float(rng.uniform(0.8, 1.2)))
        production = _draw_production(style, language, rng)
        specs.append(TrackSpec(index=i, genre=style.name, language=language, title=title, artist=artist,
                               lines=tuple(lines), key=int(rng.integers(12)), bpm=bpm, progression=prog,
                               voice_variant=variant, english_voice=english_voice, female=variant.startswith("f"),
                               seconds=float(seconds), intro_bars=intro, render_seed=int(rng.integers(2 ** 31)), mix=mix,
                               production=production))
    return specs


def _check(*, n_tracks, seconds, seed) -> None:
    if not isinstance(n_tracks, (int, np.integer)) or n_tracks < 1 or n_tracks > 5000:
        raise ParameterError("n_tracks", value=n_tracks, expected="an integer in [1, 5000]")
    if not np.isfinite(seconds) or seconds < 1.0 or seconds > 300.0:
        raise ParameterError("seconds", value=seconds, expected="a number of seconds in [1, 300]")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError("seed", value=seed, expected="a non-negative integer")


# --------------------------------------------------------------------------- rendering

@dataclass
class TrackAudio:
    """Stems of one track, float arrays of shape (n,) at SAMPLE_RATE. ``mix`` is what gets written."""

    mix: np.ndarray
    backing: np.ndarray
    vocals: np.ndarray
    stems: dict


def _melody(ctx: Ctx, style: GenreStyle, bars: range, base: int, rng) -> list:
    """Notes [(start, length, midi)] over ``bars``: a walk on the scale, strong beats on chord tones."""
    scale = SCALES[style.scale]
    notes, deg = [], int(rng.integers(0, len(scale)))
    for b in bars:
        cell = style.rhythms[int(rng.integers(len(style.rhythms)))]
        beat = 0.0
        chord_pcs = {(ctx.chords[b % len(ctx.chords)][0] + iv) % 12 for iv in ctx.chords[b % len(ctx.chords)][1]}
        for dur in cell:
            deg = int(np.clip(deg + rng.choice([-2, -1, -1, 0, 1, 1, 2]), -2, len(scale) + 4))
            midi = base + ctx.key + scale[deg % len(scale)] + 12 * (deg // len(scale))
            if beat in (0.0, 2.0):  # strong beats: nearest chord tone
                for d in (0, -1, 1, -2, 2):
                    if (midi + d) % 12 in chord_pcs:
                        midi += d
                        break
            start = ctx.pos(b, beat, humanize=0)
            notes.append((start, int(dur * ctx.beat), midi))
            beat += dur
    return notes


def _rap_contour(ctx: Ctx, base: int, rng) -> list:
    """Notes [(start, length, midi)] for rap: eighth-note accents around ``base``, a fall per bar."""
    notes = []
    for b in range(ctx.n_bars):
        for i in range(8):
            midi = base + float(rng.choice([0, 0, 0, 2, 3, -2])) - 0.4 * i
            notes.append((ctx.pos(b, i / 2, humanize=0), int(ctx.beat / 2), midi))
    return notes


def render_track(spec: TrackSpec) -> TrackAudio:
    """Synthesize one track (backing, vocals, mastered mix) from its spec; deterministic."""
    style = GENRES.get(spec.genre)
    sr = SAMPLE_RATE
    n = int(round(spec.seconds * sr))
    rng = np.random.default_rng(spec.render_seed)
    vocal_level, noise_db, wet_jitter, energy = spec.mix
    chords = []
    for root, quality in spec.progression:
        chords += [((spec.key + root) % 12, CHORDS[quality])] * style.bars_per_chord
    ctx = Ctx(rng=rng, n=n, bpm=spec.bpm, key=spec.key, swing=style.swing, chords=chords, scale=SCALES[style.scale],
              energy=energy)
    prod = spec.production
    stems = style.render(ctx)
    if prod.crossover_genre and prod.crossover_part in ("drums", "harmony"):
        other = GENRES.get(prod.crossover_genre)
        theirs = other.render(Ctx(rng=rng, n=n, bpm=spec.bpm, key=spec.key, swing=other.swing, chords=chords,
                                  scale=ctx.scale, energy=energy))
        if prod.crossover_part == "drums":
            for name in _DRUM_STEMS:
                stems.pop(name, None)
            stems.update({f"x_{k}": v for k, v in theirs.items() if k in _DRUM_STEMS})
        else:
            tonal = sorted(k for k in theirs if k not in _DRUM_STEMS and k != "crackle")
            pick = tonal[int(rng.integers(len(tonal)))]
            mine = sorted(k for k in stems if k not in _DRUM_STEMS)
            if len(mine) > 1:  # it replaces one of this genre's parts
                stems.pop(mine[int(rng.integers(len(mine)))])
            stems[f"x_{pick}"] = theirs[pick] * (_rms(stems[mine[0]]) / _rms(theirs[pick]) if mine[0] in stems
                                                 else 1.0)
    if prod.shared:
        layer = _shared_layer(ctx, prod.shared)
        ref = np.mean([_rms(v) for v in stems.values()])
        stems[prod.shared] = layer * (ref / _rms(layer)) * prod.shared_level
    for name in sorted(stems):  # stem balance: log-normal levels, drums per the production
        level = prod.drums if name.removeprefix("x_") in _DRUM_STEMS else 1.0
        stems[name] = stems[name] * level * float(np.exp(rng.normal(0, 0.25)))
    if prod.sections and len(stems) > 1:
        gains = _section_gains(ctx, sorted(stems), rng)
        for name in stems:
            stems[name] = stems[name] * gains[name]
    backing = np.zeros(n)
    for name in sorted(stems):
        backing += stems[name]
    backing *= energy

    vocals = np.zeros(n)
    phrase = style.phrase_bars
    intro = spec.intro_bars
    base = 48 if not spec.female else 57
    if spec.lines:
        _Espeak.reset()
        # Each line gets a phrase of ``phrase`` bars; very short tracks squeeze the lines to fit.
        # Sung lines are stretched (like held syllables) to fill most of their phrase; rap is not.
        slot_len = min(phrase * ctx.bar, (n - intro * ctx.bar) / len(spec.lines))
        n_frames = 1 + n // _HOP + 1
        env_frames = np.zeros((n_frames, _NFFT // 2 + 1), dtype=np.float32)
        for k, (text, lang) in enumerate(spec.lines):
            start = int(round(intro * ctx.bar + k * slot_len))
            slot = int(slot_len * (0.92 if style.vocal == "rap" else 0.85))
            voice = f"{spec.english_voice if lang == 'en' else 'bn'}+{spec.voice_variant}"
            rate = int(rng.uniform(*style.speech_rate))
            pitch = int(rng.uniform(35, 65))
            f0 = 200 if spec.female else 115
            y = speak(text, voice=voice, rate=rate, pitch=pitch, f0=f0)
            if len(y) > slot:  # too long for its phrase: speak faster once, then trim with a fade
                y = speak(text, voice=voice, rate=int(rate * len(y) / slot * 1.05), pitch=pitch, f0=f0)
                if len(y) > slot:
                    y = y[:slot] * np.r_[np.ones(slot - 256), np.linspace(1, 0, 256)]
            e = speech_envelope(y)
            if style.vocal != "rap":
                e = stretch_frames(e, float(np.clip(0.8 * slot / max(1, len(y)), 1.0, 2.5)))
            f0_frame = start // _HOP
            m = max(0, min(len(e), n_frames - f0_frame))
            env_frames[f0_frame:f0_frame + m] += e[:m]
        if style.vocal == "rap":  # spoken flow: small pitch accents on the eighths, falling along the line
            notes = _rap_contour(ctx, base + 2, rng)
            f0s = pitch_track(notes, n, glide=0.015, vibrato=0.0, rng=rng)
        else:
            notes = _melody(ctx, style, range(intro, ctx.n_bars), base, rng)
            f0s = pitch_track(notes, n, rng=rng, vibrato=0.2 if spec.genre != "classical" else 0.35)
        carrier = oscillator(f0s, "saw", rng=rng)
        vocals = _filt(vocode_envelope(env_frames, carrier, rng=rng), "highpass", 90.0)
    elif spec.language == "Instrumental":
        lead_style = GENRES.get(prod.crossover_genre) if prod.crossover_part == "lead" else style
        notes = _melody(ctx, style, range(1, ctx.n_bars), 60 if lead_style.lead != "sine" else 72, rng)
        f0 = pitch_track(notes, n, rng=rng, vibrato=0.15)
        lead = oscillator(f0, lead_style.lead, rng=rng)
        gatev = np.zeros(n)
        for start, length, _m in notes:
            seg = gate(max(1, min(length, n - start)), attack=0.02, release=0.05)
            gatev[start:start + len(seg)] = np.maximum(gatev[start:start + len(seg)], seg)
        vocals = _filt(lead * gatev, "lowpass", lead_style.lead_cutoff)  # the lead takes the vocal's place
    if np.any(vocals):
        vocals = vocals / _rms(vocals[np.abs(vocals) > 1e-4]) * _rms(backing) * vocal_level * 0.9
    mix = reverb(backing + vocals, seconds=style.reverb_s * prod.reverb_s, wet=min(0.6, style.reverb_wet * wet_jitter),
                 rng=rng)
    mix = mix + 10 ** (noise_db / 20) * rng.standard_normal(n) * _rms(mix)
    # mastering: tone (low cut, darker or brighter), saturation (loud genres are compressed harder,
    # some productions are distorted whatever the genre), loudness around the genre's, soft limit
    mix = _filt(mix, "highpass", prod.low_cut_hz)
    if prod.dark > 0:
        mix = (1 - prod.dark) * mix + prod.dark * _filt(mix, "lowpass", prod.bright_hz)
    drive = style.drive * prod.drive + prod.extra_drive
    if drive > 0.05:
        mix = np.tanh(drive * mix / (np.max(np.abs(mix)) + 1e-9)) / np.tanh(drive)
    mix = mix * (style.target_rms * prod.loudness * energy / _rms(mix))
    mix = np.tanh(mix / 0.98) * 0.98
    fade = int(0.02 * sr)
    mix[:fade] *= np.linspace(0, 1, fade)
    mix[-fade:] *= np.linspace(1, 0, fade)
    return TrackAudio(mix=mix.astype(np.float32), backing=backing.astype(np.float32),
                      vocals=vocals.astype(np.float32), stems=stems)


def _render_and_write(spec: TrackSpec, out_dir: str) -> dict:
    audio = render_track(spec)
    write_audio(Path(out_dir) / spec.file, audio.mix)
    return {"index": spec.index, "duration_s": len(audio.mix) / SAMPLE_RATE,
            "audio_sha1": hashlib.sha1(audio.mix.tobytes()).hexdigest()}


def _worker_init() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # noqa: BLE001 - best effort only
        pass


# --------------------------------------------------------------------------- public API

def generate_demo(out_dir: Path, *, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0,
                  progress=None, jobs: int | None = None) -> ImportResult:
    """Write the demo corpus to ``out_dir`` (audio/*.ogg + metadata.csv) and return its track table.

    ``path`` in the returned table is relative to ``out_dir``. ``jobs`` worker processes render
    tracks (default core.config.default_jobs()); the output does not depend on ``jobs``.
    """
    from core.config import default_jobs

    specs = plan_corpus(n_tracks=n_tracks, seconds=seconds, seed=seed)
    out_dir = Path(out_dir)
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ParameterError("jobs", value=jobs, expected="a positive number of worker processes")
    jobs = min(jobs, len(specs))
    results: dict[int, dict] = {}
    total = len(specs)
    if progress:
        progress(0, total, {"message": "synthesizing demo tracks"})
    if jobs == 1:
        for spec in specs:
            results[spec.index] = _render_and_write(spec, str(out_dir))
            if progress:
                progress(len(results), total, {"track": spec.file})
    else:
        from concurrent.futures import FIRST_COMPLETED, wait

        from core.parallel import process_pool

        with process_pool(jobs, initializer=_worker_init) as ex:
            pending = {ex.submit(_render_and_write, s, str(out_dir)): s for s in specs}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        spec = pending.pop(fut)
                        results[spec.index] = fut.result()
                        if progress:
                            progress(len(results), total, {"track": spec.file})
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    rows = []
    for spec in specs:
        rows.append({"track_id": stable_id("demo", spec.file), "path": spec.file, "title": spec.title,
                     "artist": spec.artist, "language": spec.language, "genre": spec.genre, "lyrics": spec.lyrics,
                     "duration_s": round(results[spec.index]["duration_s"], 3), "source": "demo"})
    tracks = pd.DataFrame(rows)
    meta = tracks[["title", "artist", "language", "genre", "lyrics"]].copy()
    meta["file"] = tracks["path"]
    artifacts.write_csv(out_dir / "metadata.csv", meta)
    return ImportResult(tracks=tracks, skipped=[], layout="demo", source=str(out_dir))


def _demo_params(n_tracks: int, seconds: float, seed: int) -> dict:
    return {"n_tracks": int(n_tracks), "seconds": float(seconds), "seed": int(seed), "random_state": int(seed),
            "demo_version": DEMO_VERSION}


def demo_is_current(*, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0) -> bool:
    """True when the workspace dataset 'demo' exists, is complete and was built with these parameters."""
    root = dataset_dir(DEMO_NAME)
    if not (root / "tracks.csv").exists() or not (root / "info.json").exists():
        return False
    try:
        info = artifacts.read_json(root / "info.json")
    except SongscapeError:
        return False
    want = _demo_params(n_tracks, seconds, seed)
    if any(info.get(k) != v for k, v in want.items()):
        return False
    return len(list((root / "audio").glob(f"*.{_FORMAT}"))) == int(n_tracks)


def ensure_demo_dataset(*, progress=None, n_tracks: int = 240, seconds: float = 30.0, seed: int = 0,
                        jobs: int | None = None) -> Dataset:
    """Load the workspace dataset 'demo' if it was built with these parameters; else (re)build it.

    The corpus is generated in a hidden temporary folder and renamed into place, so an interrupted
    build never leaves a half corpus that loads.
    """
    if demo_is_current(n_tracks=n_tracks, seconds=seconds, seed=seed):
        return load_dataset(DEMO_NAME)
    final = dataset_dir(DEMO_NAME)
    tmp = Path(tempfile.mkdtemp(prefix=f".{DEMO_NAME}.building.", dir=datasets_dir()))
    try:
        result = generate_demo(tmp, n_tracks=n_tracks, seconds=seconds, seed=seed, progress=progress, jobs=jobs)
        save_dataset(DEMO_NAME, result, extra_info=_demo_params(n_tracks, seconds, seed), root=tmp)
        old = None
        if final.exists():
            old = final.with_name(f".{DEMO_NAME}.old.{os.getpid()}.{time.time_ns()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_dataset(DEMO_NAME)


def register_cli(sub) -> None:
    p = sub.add_parser("demo", help="generate the synthetic demo corpus (English/Bangla/Hybrid songs, 6 genres)",
                       description="Write the demo corpus to --out DIR, or build/refresh the workspace dataset "
                                   f"'{DEMO_NAME}' when --out is omitted.")
    p.add_argument("--out", type=Path, default=None, help="folder to write audio/ and metadata.csv into")
    p.add_argument("--tracks", type=int, default=240, help="number of tracks (default 240)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each track in seconds (default 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    from core.progress import console_progress

    t0 = time.perf_counter()
    bar = console_progress("demo")
    if args.out is not None:
        res = generate_demo(args.out, n_tracks=args.tracks, seconds=args.seconds, seed=args.seed, progress=bar,
                            jobs=args.jobs)
        tracks, where = res.tracks, Path(args.out) / "metadata.csv"
    else:
        ds = ensure_demo_dataset(progress=bar, n_tracks=args.tracks, seconds=args.seconds, seed=args.seed,
                                 jobs=args.jobs)
        tracks, where = ds.tracks, ds.root
    counts = pd.crosstab(tracks["genre"], tracks["language"])
    print(f"demo corpus: {len(tracks)} tracks of {args.seconds:g} s in {time.perf_counter() - t0:.1f} s -> {where}")
    print(counts.to_string())
    return 0
