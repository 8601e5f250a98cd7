"""Rendering one demo track from its TrackSpec: backing band, vocals, mastering.

``render_track(spec)`` is deterministic: the genre's band (plus any crossover part and shared
instrument) is balanced and arranged per the spec's Production; eSpeak NG speaks each lyric line,
whose spectral envelope is sung on the melody by the vocoder (hip-hop keeps speech timing with a
talky pitch contour); instrumentals get a lead line instead. Then reverb, noise and mastering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.audio import SAMPLE_RATE
from core.datasets.demo.genres import CHORDS, GENRES, SCALES, Ctx, GenreStyle
from core.datasets.demo.plan import TrackSpec
from core.datasets.demo.production import DRUM_STEMS, section_gains, shared_layer
from core.datasets.demo.synth import filt, gate, oscillator, reverb, rms
from core.datasets.demo.vocoder import HOP, NFFT, pitch_track, speech_envelope, stretch_frames, vocode_envelope
from core.datasets.demo.voice import reset_speech, speak


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
            for name in DRUM_STEMS:
                stems.pop(name, None)
            stems.update({f"x_{k}": v for k, v in theirs.items() if k in DRUM_STEMS})
        else:
            tonal = sorted(k for k in theirs if k not in DRUM_STEMS and k != "crackle")
            pick = tonal[int(rng.integers(len(tonal)))]
            mine = sorted(k for k in stems if k not in DRUM_STEMS)
            if len(mine) > 1:  # it replaces one of this genre's parts
                stems.pop(mine[int(rng.integers(len(mine)))])
            stems[f"x_{pick}"] = theirs[pick] * (rms(stems[mine[0]]) / rms(theirs[pick]) if mine[0] in stems
                                                 else 1.0)
    if prod.shared:
        layer = shared_layer(ctx, prod.shared)
        ref = np.mean([rms(v) for v in stems.values()])
        stems[prod.shared] = layer * (ref / rms(layer)) * prod.shared_level
    for name in sorted(stems):  # stem balance: log-normal levels, drums per the production
        level = prod.drums if name.removeprefix("x_") in DRUM_STEMS else 1.0
        stems[name] = stems[name] * level * float(np.exp(rng.normal(0, 0.25)))
    if prod.sections and len(stems) > 1:
        gains = section_gains(ctx, sorted(stems), rng)
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
        reset_speech()
        # Each line gets a phrase of ``phrase`` bars; very short tracks squeeze the lines to fit.
        # Sung lines are stretched (like held syllables) to fill most of their phrase; rap is not.
        slot_len = min(phrase * ctx.bar, (n - intro * ctx.bar) / len(spec.lines))
        n_frames = 1 + n // HOP + 1
        env_frames = np.zeros((n_frames, NFFT // 2 + 1), dtype=np.float32)
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
            f0_frame = start // HOP
            m = max(0, min(len(e), n_frames - f0_frame))
            env_frames[f0_frame:f0_frame + m] += e[:m]
        if style.vocal == "rap":  # spoken flow: small pitch accents on the eighths, falling along the line
            notes = _rap_contour(ctx, base + 2, rng)
            f0s = pitch_track(notes, n, glide=0.015, vibrato=0.0, rng=rng)
        else:
            notes = _melody(ctx, style, range(intro, ctx.n_bars), base, rng)
            f0s = pitch_track(notes, n, rng=rng, vibrato=0.2 if spec.genre != "classical" else 0.35)
        carrier = oscillator(f0s, "saw", rng=rng)
        vocals = filt(vocode_envelope(env_frames, carrier, rng=rng), "highpass", 90.0)
    elif spec.language == "Instrumental":
        lead_style = GENRES.get(prod.crossover_genre) if prod.crossover_part == "lead" else style
        notes = _melody(ctx, style, range(1, ctx.n_bars), 60 if lead_style.lead != "sine" else 72, rng)
        f0 = pitch_track(notes, n, rng=rng, vibrato=0.15)
        lead = oscillator(f0, lead_style.lead, rng=rng)
        gatev = np.zeros(n)
        for start, length, _m in notes:
            seg = gate(max(1, min(length, n - start)), attack=0.02, release=0.05)
            gatev[start:start + len(seg)] = np.maximum(gatev[start:start + len(seg)], seg)
        vocals = filt(lead * gatev, "lowpass", lead_style.lead_cutoff)  # the lead takes the vocal's place
    if np.any(vocals):
        vocals = vocals / rms(vocals[np.abs(vocals) > 1e-4]) * rms(backing) * vocal_level * 0.9
    mix = reverb(backing + vocals, seconds=style.reverb_s * prod.reverb_s, wet=min(0.6, style.reverb_wet * wet_jitter),
                 rng=rng)
    mix = mix + 10 ** (noise_db / 20) * rng.standard_normal(n) * rms(mix)
    # mastering: tone (low cut, darker or brighter), saturation (loud genres are compressed harder,
    # some productions are distorted whatever the genre), loudness around the genre's, soft limit
    mix = filt(mix, "highpass", prod.low_cut_hz)
    if prod.dark > 0:
        mix = (1 - prod.dark) * mix + prod.dark * filt(mix, "lowpass", prod.bright_hz)
    drive = style.drive * prod.drive + prod.extra_drive
    if drive > 0.05:
        mix = np.tanh(drive * mix / (np.max(np.abs(mix)) + 1e-9)) / np.tanh(drive)
    mix = mix * (style.target_rms * prod.loudness * energy / rms(mix))
    mix = np.tanh(mix / 0.98) * 0.98
    fade = int(0.02 * sr)
    mix[:fade] *= np.linspace(0, 1, fade)
    mix[-fade:] *= np.linspace(1, 0, fade)
    return TrackAudio(mix=mix.astype(np.float32), backing=backing.astype(np.float32),
                      vocals=vocals.astype(np.float32), stems=stems)
