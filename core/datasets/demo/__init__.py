"""The embedded demo corpus: synthetic English / Bangla / code-switched songs in six genres.

``generate_demo(out_dir)`` writes ``out_dir/audio/<genre>_<i>.ogg`` and ``out_dir/metadata.csv`` and
returns an ImportResult whose ``path`` column is relative to ``out_dir``. ``ensure_demo_dataset()``
keeps the workspace dataset ``demo`` (DEMO_NAME) built and reuses it when its parameters match.

How a track is made (all numpy, vectorized, one process per worker), one module per step:
  plan        plan_corpus() decides every track's labels, key, tempo, voice, lyric lines (seeded; cheap)
  genres      the six genres (GENRES registry): musical context and one band renderer each
  production  per-track arrangement and mix on top of the genre (the within-genre variety)
  synth       oscillators, envelopes, plucked/FM instruments, drums, reverb
  voice       eSpeak NG (espeakng-loader's libespeak-ng, via ctypes) speaks each lyric line
              (English voices 'en'/'en-us', Bangla 'bn', with a per-artist variant)
  vocoder     the speech's spectral envelope is put on a carrier that follows the melody (a channel
              vocoder: pitch from the melody, words from the speech)
  render      render_track(): backing band + vocals, mastered. Sung lines are stretched to fill their
              phrase; hip-hop keeps speech timing with a talky pitch contour (rap)
  corpus      generate_demo() (process pool), ensure_demo_dataset(), demo_is_current()
  cli         ``python -m core demo``
Deterministic: the same (n_tracks, seconds, seed) gives the same metadata and the same samples,
whatever ``jobs`` is (eSpeak is reloaded per track; see voice.reset_speech).
Genres differ in tempo, drum pattern, timbre, harmony/mode and dynamics, not only in one feature,
but like real collections they overlap: every track gets its own production (Production: master
tone, low cut, loudness, saturation, stem balance, sparse or drum-heavy arrangements, sections
that bring instruments in and out, noise, reverb), instruments shared across genres (piano, pad,
acoustic guitar) and ~16 % "crossover" tracks that borrow the drums or a harmony part from another
genre. Nearest-centroid on MFCC statistics still finds the genre most of the time, while KMeans
no longer recovers it exactly (see bench/demo_separability.py).
Labels: language ∈ LANGUAGES = {English, Bangla, Hybrid (code-switched lines), Instrumental (no lyrics)}.
"""

from __future__ import annotations

from core.datasets.demo.cli import register_cli
from core.datasets.demo.corpus import DEMO_VERSION, demo_is_current, ensure_demo_dataset, generate_demo
from core.datasets.demo.genres import GENRES, GenreStyle
from core.datasets.demo.plan import LANGUAGES, TrackSpec, plan_corpus
from core.datasets.demo.production import Production
from core.datasets.demo.render import TrackAudio, render_track
from core.datasets.demo.voice import speak

__all__ = ["DEMO_VERSION", "GENRES", "LANGUAGES", "GenreStyle", "Production", "TrackAudio", "TrackSpec",
           "demo_is_current", "ensure_demo_dataset", "generate_demo", "plan_corpus", "register_cli",
           "render_track", "speak"]
