"""Audio files checked cheaply before import: duration, truncation (WAV, Ogg, libsndfile formats), not-audio."""

from __future__ import annotations

import contextlib
import math
import os
import struct
import threading
from pathlib import Path

from core.audio import audio_format, probe_duration
from core.errors import AudioDecodeError

_STDERR_LOCK = threading.Lock()


def _strip_path(msg: str, path: Path) -> str:
    for prefix in (f"{path}: ", f"{path.resolve()}: "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def _wav_truncation(path: Path) -> str | None:
    """For RIFF/WAVE files, compare the data chunk's declared size with the bytes present."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        endian = "<" if head[:4] == b"RIFF" else ">"
        byte_rate = block_align = 0
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            hdr = fh.read(8)
            if len(hdr) < 8:
                break
            cid, csize = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
            if cid == b"fmt ":
                fmt = fh.read(min(csize, 16))
                if len(fmt) >= 14:
                    byte_rate, block_align = struct.unpack(endian + "IH", fmt[8:14])
            elif cid == b"data":
                if csize in (0, 0xFFFFFFFF):  # size unknown (streamed writer): nothing to check
                    return None
                have = size - (pos + 8)
                if have + max(block_align, 1) <= csize:
                    if byte_rate:
                        return (f"truncated: the WAV header promises {csize / byte_rate:.2f} s of audio but the file "
                                f"holds only {max(have, 0) / byte_rate:.2f} s ({size} bytes). "
                                "Re-export or re-download the file, or remove it.")
                    return (f"truncated: the WAV header promises {csize} bytes of audio but the file holds only "
                            f"{max(have, 0)}. Re-export or re-download the file, or remove it.")
                return None
            pos += 8 + csize + (csize & 1)
    return None


OGG_SUFFIXES = (".ogg", ".oga", ".opus")
_OGG_TAIL = 70_000  # > the largest Ogg page (27 + 255 + 255 * 255 bytes)


def _ogg_truncation(path: Path) -> str | None:
    """For Ogg files: the last page must end exactly at the end of the file and carry the end-of-stream
    flag. libsndfile reports a cut file's duration as what remains, so nothing else notices."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(4) != b"OggS":
            return None
        start = max(0, size - _OGG_TAIL)
        fh.seek(start)
        tail = fh.read()
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        hdr = tail[pos:pos + 27]
        if len(hdr) == 27 and hdr[4] == 0:  # stream structure version 0
            nseg = hdr[26]
            table = tail[pos + 27:pos + 27 + nseg]
            end = start + pos + 27 + nseg + sum(table)
            if len(table) < nseg or end > size:
                return ("truncated: the file ends in the middle of its last Ogg page (it was cut short). "
                        "Re-export or re-download the file, or remove it.")
            if end < size:
                return (f"truncated or damaged: {size - end} bytes after the last complete Ogg page are not a "
                        "page. Re-export or re-download the file, or remove it.")
            if not hdr[5] & 0x04:
                return ("truncated: the Ogg stream stops without its end-of-stream marker (the file was cut "
                        "short). Re-export or re-download the file, or remove it.")
            return None
        pos = tail.rfind(b"OggS", 0, pos)
    return None


@contextlib.contextmanager
def _quiet_c_stderr(enabled: bool):
    """Silence C-level stderr (libmpg123 prints a harmless warning on every MP3 seek)."""
    if not enabled:
        yield
        return
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _tail_truncation(path: Path) -> str | None:
    """Read the last block: catches files whose header promises more frames than are decodable."""
    import soundfile as sf

    try:
        fh = sf.SoundFile(str(path))
    except Exception:  # noqa: BLE001 - not a libsndfile format; probe_duration decoded it fully
        return None
    try:
        with fh:
            frames, sr = fh.frames, fh.samplerate
            if frames <= 0 or not fh.seekable():
                return None
            n = int(min(frames, max(1024, sr // 10)))
            fh.seek(frames - n)
            got = len(fh.read(n, dtype="float32", always_2d=True))
    except Exception as exc:  # noqa: BLE001
        return (f"truncated or damaged: the end of the file cannot be read ({type(exc).__name__}: {exc}). "
                "Re-export or re-download the file, or remove it.")
    if got < n // 2:
        return (f"truncated: the header promises {frames / sr:.2f} s but the last {n / sr:.2f} s cannot be read "
                f"(got {got} of {n} frames). Re-export or re-download the file, or remove it.")
    return None


def _sf_error(path: Path) -> str:
    import soundfile as sf

    try:
        sf.info(str(path))
    except Exception as exc:  # noqa: BLE001
        return str(exc).replace(f"'{path}'", "file").replace(str(path), "file")
    return "no decoder could read it"


def check_audio(path: str | Path) -> float:
    """Validate an audio file cheaply and return its duration in seconds.

    Uses ``core.audio.probe_duration`` (header only for libsndfile formats), then catches truncated
    files: WAV data-chunk size vs file size, the last Ogg page (complete, end-of-stream flag), and a
    read of the last block for other formats.
    Raises AudioDecodeError with a message that says what is wrong and how to fix it.
    """
    path = Path(path)
    with _quiet_c_stderr(path.suffix.lower() == ".mp3"):
        try:
            duration = probe_duration(path)
        except AudioDecodeError as exc:
            if "cannot decode" not in str(exc):
                raise
            raise AudioDecodeError(f"{path}: not readable as audio ({_sf_error(path)}). If it is audio, convert it "
                                   "to WAV/FLAC/OGG/MP3; otherwise remove it.") from exc
        if not math.isfinite(duration) or duration <= 0:
            raise AudioDecodeError(f"{path}: no audio frames.")
        problem = _wav_truncation(path) if path.suffix.lower() in (".wav", ".wave") else None
        problem = problem or (_ogg_truncation(path) if path.suffix.lower() in OGG_SUFFIXES else None)
        if audio_format(path).exact_length:  # an MP3 header only estimates the length: nothing to hold it to
            problem = problem or _tail_truncation(path)
    if problem:
        raise AudioDecodeError(f"{path}: {problem}")
    return float(duration)

