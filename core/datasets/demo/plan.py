"""The demo corpus plan: every track's labels and musical choices, decided up front (seeded, cheap).

``plan_corpus(n_tracks, seconds, seed)`` returns one TrackSpec per track: genre (cycling fastest),
language (``_LANGUAGE_CYCLE``: 40 % English, 40 % Bangla, 10 % Hybrid, 10 % Instrumental), artist,
title, lyric lines from core.datasets.lyrics_bank, key, tempo, voice and production. Rendering is a
pure function of the spec (core.datasets.demo.render).
Labels: language ∈ LANGUAGES = {English, Bangla, Hybrid (code-switched lines), Instrumental (no lyrics)}.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from core.datasets.demo.genres import GENRES, GenreStyle
from core.datasets.demo.production import Production, draw_production
from core.datasets.lyrics_bank import ARTISTS, ENGLISH_STOPWORDS, LINES
from core.errors import ParameterError

LANGUAGES = ("English", "Bangla", "Hybrid", "Instrumental")
# Language of the j-th track of each genre; 40% English, 40% Bangla, 10% Hybrid, 10% Instrumental,
# ordered so that a small corpus (4 tracks per genre) already has every language in every genre.
_LANGUAGE_CYCLE = ("English", "Bangla", "Hybrid", "Instrumental", "English", "Bangla", "English", "Bangla",
                   "English", "Bangla")
_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4")
AUDIO_FORMAT = "ogg"
_INSTRUMENTAL_SUFFIX = {"rock": ("Riff", "Instrumental", "Overdrive"), "electronic": ("Dub", "Mix", "Pulse"),
                        "hiphop": ("Beat", "Loop", "Instrumental"), "classical": ("Interlude", "Nocturne", "Suite"),
                        "folk": ("Dhun", "Tune", "Melody"), "jazz": ("Blues", "Changes", "Ballad")}

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
        return f"audio/{self.genre}_{self.index:04d}.{AUDIO_FORMAT}"

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
        production = draw_production(style, language, rng)
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
