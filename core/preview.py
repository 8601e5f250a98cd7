"""What the Dataset page shows for one track: its audio and a log-mel spectrogram."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from core.audio import SAMPLE_RATE, load_audio


@dataclass(frozen=True)
class TrackPreview:
    audio: np.ndarray     # (n_samples,) float32 mono at ``sr``
    sr: int
    logmel_db: np.ndarray  # (128, n_frames) power in dB relative to the clip's peak
    seconds: float


def track_preview(row: Mapping, *, sr: int = SAMPLE_RATE, max_seconds: float = 60.0) -> TrackPreview:
    """Decode a track row (segment-aware) and compute its log-mel (n_fft 2048, hop 512, 128 mels)."""
    import librosa

    dur = row.get("duration_s")
    dur = float(dur) if dur is not None and np.isfinite(float(dur)) else None
    dur = min(dur, max_seconds) if dur else max_seconds
    y = load_audio(row["path"], sr=sr, offset=float(row.get("offset_s", 0.0) or 0.0), duration=dur)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    return TrackPreview(audio=y, sr=sr, logmel_db=librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32),
                        seconds=len(y) / sr)
