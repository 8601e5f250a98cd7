"""Per-track production of a demo track: arrangement and mix on top of its genre.

``draw_production`` picks one (master tone, low cut, loudness, saturation, drum level, sections,
a shared instrument, a crossover from another genre); ``shared_layer`` and ``section_gains`` render
the parts render_track needs. This is the within-genre variety that makes genres overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.datasets.demo.genres import GENRES, Ctx, GenreStyle
from core.datasets.demo.synth import filt, gate, midi_hz, place, pluck, saw

DRUM_STEMS = ("drums", "perc")
SHARED = ("piano", "pad", "guitar")


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
    shared: str = ""  # "" or one of SHARED
    shared_level: float = 0.0
    crossover_genre: str = ""
    crossover_part: str = ""
    reverb_s: float = 1.0  # × the genre's reverb time


def draw_production(style: GenreStyle, language: str, rng) -> Production:
    """A random production for a track of ``style`` (seeded by the plan's rng)."""
    u = rng.random(12)
    drums = 0.0 if u[0] < 0.1 else (float(rng.uniform(1.6, 2.6)) if u[0] > 0.85 else float(rng.uniform(0.6, 1.3)))
    shared = SHARED[int(rng.integers(len(SHARED)))] if u[1] < 0.35 else ""
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


def shared_layer(ctx: Ctx, kind: str) -> np.ndarray:
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
        out = filt(out, "lowpass", 1800.0, ctx.sr)
    return out


def section_gains(ctx: Ctx, names: list, rng) -> dict:
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
