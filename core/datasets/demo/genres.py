"""The six genres of the demo corpus: musical context (Ctx), GenreStyle, and one band renderer each.

``GENRES`` (a Registry, in registration order: the plan cycles through it) maps a genre name to its
GenreStyle; ``style.render(ctx)`` returns the genre's stems {name: (n,)} for one track. Genres differ
in tempo, drum pattern, timbre, harmony/mode and dynamics, not only in one feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.audio import SAMPLE_RATE
from core.datasets.demo.synth import (
    clap,
    crash,
    env,
    epiano,
    filt,
    gate,
    hand_drum,
    hat,
    kick,
    midi_hz,
    place,
    pluck,
    ride,
    saw,
    shaker,
    sine,
    snare,
    square,
    supersaw,
)
from core.registry import Registry

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
    gtr = filt(np.tanh(6.0 * gtr), "lowpass", 3800.0, ctx.sr)
    bass = filt(bass, "lowpass", 700.0, ctx.sr)
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
        place(pads, sum(supersaw(midi_hz(m), bar_n) for m in chord), start)
        for off in (0.5, 1.5, 2.5, 3.5):
            place(bass, sine(midi_hz(ctx.root_midi(b, 2)), int(ctx.beat / 2)) * env(int(ctx.beat / 2), decay=0.15),
                  ctx.pos(b, off, humanize=0))
        arp_notes = chord + [chord[0] + 12]
        for i in range(16):
            m = arp_notes[(i * 3) % len(arp_notes)] + 12
            place(arp, square(midi_hz(m), sixteenth) * env(sixteenth, decay=0.06), start + i * sixteenth)
    sweep = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / (8 * ctx.bar))
    pads = filt(pads, "lowpass", 900.0, ctx.sr) * (1 - sweep) + filt(pads, "lowpass", 4000.0, ctx.sr) * sweep
    return {"drums": drums, "pads": pads * duck * 0.35, "bass": bass * duck * 0.8,
            "arp": filt(arp, "lowpass", 3000.0, ctx.sr) * duck * 0.12}


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
    keys = filt(keys, "lowpass", 2500.0, ctx.sr)
    return {"drums": drums, "bass": bass * 0.7, "keys": keys * 0.5, "crackle": filt(crackle, "highpass", 2000.0) * 0.1}


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
    strings = filt(strings, "lowpass", 2200.0, ctx.sr) * swell
    return {"strings": strings * 0.12, "cello": filt(cello, "lowpass", 1200.0) * swell * 0.25, "harp": harp * 0.35}


def _folk(ctx: Ctx) -> dict:
    rng, n = ctx.rng, ctx.n
    perc = np.zeros(n)
    lo, hi, sh = hand_drum(rng, low=True), hand_drum(rng, low=False), shaker(rng)
    _drum_pattern(ctx, perc, lo, (0, 6, 8), 1.0, humanize=0.008)
    _drum_pattern(ctx, perc, hi, (3, 4, 10, 12, 14), 0.6, humanize=0.008)
    _drum_pattern(ctx, perc, sh, tuple(range(0, 16, 2)), 0.3, vel_jitter=0.4, humanize=0.01)
    dotara, ektara = np.zeros(n), np.zeros(n)
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
            "harmonium": filt(drone, "lowpass", 1500.0) * 0.07}


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
    return {"drums": drums, "bass": filt(bass, "lowpass", 1500.0) * 0.9, "piano": piano * 0.6}


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
