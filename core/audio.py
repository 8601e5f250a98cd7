"""The one place that touches audio files: decode, resample, mono, segment, encode."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import AudioDecodeError

SAMPLE_RATE = 22050
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aiff", ".aif", ".opus")


def probe_duration(path: str | Path) -> float:
    """Duration in seconds without decoding the whole file; raises AudioDecodeError."""
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"{path}: file not found.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: file is empty (0 bytes).")
    try:
        import soundfile as sf

        info = sf.info(str(path))
        if info.frames <= 0:
            raise AudioDecodeError(f"{path}: no audio frames.")
        return info.frames / float(info.samplerate)
    except AudioDecodeError:
        raise
    except Exception:  # noqa: BLE001 - fall back to a full decode (mp3 etc.)
        y = load_audio(path, sr=SAMPLE_RATE)
        return len(y) / SAMPLE_RATE


def load_audio(path: str | Path, *, sr: int = SAMPLE_RATE, offset: float = 0.0,
               duration: float | None = None) -> np.ndarray:
    """Decode to mono float32 at ``sr``. Returns shape (n_samples,). Raises AudioDecodeError."""
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"{path}: file not found. Check the path or re-import the folder.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: file is empty (0 bytes).")
    y = None
    try:
        import soundfile as sf

        with sf.SoundFile(str(path)) as fh:
            native_sr = fh.samplerate
            start = int(round(offset * native_sr))
            n = -1 if duration is None else int(round(duration * native_sr))
            if start:
                fh.seek(min(start, fh.frames))
            data = fh.read(frames=n, dtype="float32", always_2d=True)
        y = data.mean(axis=1)
        if native_sr != sr:
            import soxr

            y = soxr.resample(y, native_sr, sr, quality="HQ").astype(np.float32)
    except Exception as sf_exc:  # noqa: BLE001
        try:
            import warnings

            import librosa

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y, _ = librosa.load(str(path), sr=sr, mono=True, offset=offset, duration=duration)
        except Exception as exc:  # noqa: BLE001
            raise AudioDecodeError(f"{path}: cannot decode audio ({type(sf_exc).__name__}: {sf_exc}; {exc}). "
                                   "Convert it to WAV/FLAC/OGG or remove it.") from exc
    y = np.asarray(y, dtype=np.float32)
    if y.size == 0:
        raise AudioDecodeError(f"{path}: decoded to 0 samples (offset {offset}s beyond the end?).")
    if not np.all(np.isfinite(y)):
        raise AudioDecodeError(f"{path}: contains NaN or infinite samples.")
    return y


def fix_length(y: np.ndarray, *, n_samples: int) -> np.ndarray:
    """Pad with zeros or trim to exactly ``n_samples``. (n,) → (n_samples,)"""
    if len(y) >= n_samples:
        return y[:n_samples]
    return np.pad(y, (0, n_samples - len(y)))


def write_audio(path: str | Path, y: np.ndarray, *, sr: int = SAMPLE_RATE, fmt: str | None = None) -> Path:
    """Write mono audio atomically (format from suffix: .flac, .ogg, .wav)."""
    import soundfile as sf

    from core.artifacts import atomic_path

    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").upper()
    subtype = "VORBIS" if fmt == "OGG" else ("PCM_16" if fmt in ("FLAC", "WAV") else None)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.clip(y, -1.0, 1.0), sr, format=fmt, subtype=subtype)
    return path


def to_wav_bytes(y: np.ndarray, *, sr: int = SAMPLE_RATE) -> bytes:
    """Encode mono float audio as 16-bit WAV bytes (for players)."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 1.0:
        y = y / peak
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
