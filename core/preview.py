"""What the Dataset page shows for one track: its audio and a log-mel spectrogram, a bounded window of it.

A track may be two hours long. Players and previews never decode or send a whole track: they take a
window of at most ``PREVIEW_SECONDS`` (60 s) starting ``start`` seconds into the track (or segment),
and players get it compressed (OGG Vorbis, about 5 kB per second) instead of raw WAV (44 kB per
second at 22 050 Hz). ``preview_window`` computes the window, ``max_start`` how far it can move,
``clip_audio`` decodes and encodes it, ``track_preview`` computes its log-mel.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from core.audio import SAMPLE_RATE, load_audio
from core.errors import ParameterError

PREVIEW_SECONDS = 60.0
PREVIEW_MIME = "audio/ogg"


@dataclass(frozen=True)
class TrackPreview:
    audio: np.ndarray     # (n_samples,) float32 mono at ``sr``
    sr: int
    logmel_db: np.ndarray  # (128, n_frames) power in dB relative to the clip's peak
    seconds: float
    start: float = 0.0     # seconds into the track (or segment) where the window begins


def _span(row: Mapping) -> tuple[float, float | None]:
    """(offset in the file, duration or None if unknown) of a track row (segment-aware)."""
    offset = row.get("offset_s", 0.0)
    offset = float(offset) if offset not in (None, "") and math.isfinite(float(offset)) else 0.0
    dur = row.get("duration_s")
    dur = float(dur) if dur not in (None, "") and math.isfinite(float(dur)) and float(dur) > 0 else None
    return max(0.0, offset), dur


def _check_seconds(max_seconds: float) -> None:
    if not (isinstance(max_seconds, (int, float)) and math.isfinite(max_seconds) and max_seconds > 0):
        raise ParameterError("max_seconds", value=max_seconds, expected="a positive number of seconds",
                             fix=f"Use the default {PREVIEW_SECONDS:g}.")


def max_start(row: Mapping, *, max_seconds: float = PREVIEW_SECONDS) -> float:
    """How far (s) into the track the window may start: duration − max_seconds, 0 if it fits whole."""
    _check_seconds(max_seconds)
    _, dur = _span(row)
    return max(0.0, dur - max_seconds) if dur is not None else 0.0


def preview_window(row: Mapping, *, start: float = 0.0, max_seconds: float = PREVIEW_SECONDS) -> tuple[float, float]:
    """(offset in the file, duration) of the window to decode, duration ≤ ``max_seconds``.

    start: seconds into the track (segment), clipped to [0, max_start]. A track of unknown length
    gets ``max_seconds`` from ``start``.
    """
    _check_seconds(max_seconds)
    offset, dur = _span(row)
    start = float(start) if start is not None and math.isfinite(float(start)) else 0.0
    start = min(max(0.0, start), max_start(row, max_seconds=max_seconds)) if dur is not None else max(0.0, start)
    length = min(max_seconds, dur - start) if dur is not None else max_seconds
    return offset + start, length


def encode_ogg(y: np.ndarray, *, sr: int = SAMPLE_RATE) -> bytes:
    """Mono float audio (n_samples,) → OGG Vorbis bytes, peak-normalized if it clips."""
    import soundfile as sf

    y = np.asarray(y, dtype=np.float32)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 1.0:
        y = y / peak
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="OGG", subtype="VORBIS")
    return buf.getvalue()


def clip_audio(path: str, *, offset: float, duration: float, sr: int = SAMPLE_RATE) -> bytes:
    """Decode ``duration`` s of ``path`` from ``offset`` s and encode it for a player (OGG Vorbis).

    Raises AudioDecodeError (unreadable file), ParameterError (duration not a positive number).
    """
    _check_seconds(duration)
    return encode_ogg(load_audio(path, sr=sr, offset=offset, duration=duration), sr=sr)


def track_preview(row: Mapping, *, start: float = 0.0, sr: int = SAMPLE_RATE,
                  max_seconds: float = PREVIEW_SECONDS) -> TrackPreview:
    """Decode a window of a track row (``preview_window``) and compute its log-mel (n_fft 2048, hop 512,
    128 mels)."""
    import librosa

    offset, dur = preview_window(row, start=start, max_seconds=max_seconds)
    y = load_audio(row["path"], sr=sr, offset=offset, duration=dur)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    return TrackPreview(audio=y, sr=sr, logmel_db=librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32),
                        seconds=len(y) / sr, start=offset - _span(row)[0])
