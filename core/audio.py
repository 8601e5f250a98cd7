"""The one place that touches audio files: decode, resample, mono, segment, encode.

Decoding goes through a small registry. ``FORMATS`` maps a file extension to an ordered chain of
decoders (``DECODERS``); ``load_audio`` tries them in order and the first that reads the file wins.
Each decoder opens the file, seeks to the window's first frame, reads only the window's frames, and
mixes the channels down to mono right away (column adds: ``mean(axis=1)`` on an (n, 2) array costs
~27 ms per 30-s stereo clip, the adds ~1 ms); then soxr resamples (quality "HQ") to the rate asked for.

    decoder     library                               formats                       seeks without decoding
    miniaudio   miniaudio (minimp3, dr_flac, dr_wav,  MP3, FLAC, WAV, Ogg Vorbis    FLAC, WAV, Vorbis; MP3 decodes
                stb_vorbis)                                                         from the start to the offset
    soundfile   libsndfile (mpg123, libFLAC,          everything libsndfile opens   yes
                libvorbis, libopus)                   (Opus: libsndfile ≥ 1.0.29)
    librosa     librosa.load (soundfile, then         whatever audioread's backend  no
                audioread: needs ffmpeg)              decodes (e.g. M4A/AAC)

The chain per extension follows measurements on this machine (docs/BENCHMARKS.md, "Real-like MP3
extraction"): miniaudio first for MP3, FLAC, WAV and Ogg Vorbis (Ogg files that hold Opus fall
through to soundfile). An MP3 window that starts later than ``BRUTE_SEEK_LIMIT_S`` goes to
soundfile first: minimp3 reaches the offset by decoding (~1.4 ms of CPU per second of offset, 45 ms
for a 5-s window at 25 s) while mpg123 seeks through its frame index (10 ms for the same window),
and the two decode a window at the same speed.

MP3 delay: both MP3 decoders read the encoder's LAME/Xing header and drop the encoder delay and
padding, so a 30-s MP3 decodes to the same 1,323,000 frames at 44.1 kHz (sample-aligned, max error
~2e-5) with either. Files without that header keep the encoder + decoder delay (1,105 samples at
44.1 kHz for a LAME file, the same with both decoders) and end on a whole frame (1,152 samples). On
a VBR file without that header libsndfile estimates the length from the first frame and stops
there (588,303 of 1,324,800 frames on a 30-s test file); minimp3 decodes to the end, one more
reason it comes first. A decoder that returns nothing for a window hands it to the next one.

Failures give one line that says what is wrong: a text file named ``.mp3`` is "not readable as
audio: it is a text file", a file cut before its first frame is "truncated or damaged", a FLAC/WAV/
Ogg file whose header promises more audio than decodes is "truncated".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import AudioDecodeError
from core.registry import Registry

SAMPLE_RATE = 22050
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aiff", ".aif", ".opus")
DECODERS_ENV = "SONGSCAPE_AUDIO_DECODERS"  # e.g. "soundfile": one chain for every format (rule out a decoder)
BRUTE_SEEK_LIMIT_S = 1.0     # MP3 windows starting later prefer decoders that seek through an index
_READ_BLOCK = 1 << 20        # frames per read when the window's length is open-ended


@dataclass(frozen=True)
class Decoder:
    """One way to decode a file.

    ``read(path, *, offset, duration, fmt)`` → (mono float32 (n,), native sample rate); raises any
    exception with a short reason when it cannot read the file. ``info(path, *, fmt)`` → (frames,
    native sample rate), or raises. ``seeks``: seeking costs nothing like decoding. ``exact_end``:
    a short read means the file ended (libsndfile stops at its MP3 length estimate instead).
    ``available()``: the library imports.
    """

    name: str
    read: Callable[..., tuple[np.ndarray, int]]
    info: Callable[..., tuple[int, int]]
    seeks: bool
    exact_end: bool
    available: Callable[[], bool]


@dataclass(frozen=True)
class AudioFormat:
    """An extension's decoder chain. ``exact_length``: the header's frame count is exact (so a
    file that decodes to less is truncated); MP3 headers only estimate it for VBR without Xing."""

    name: str
    decoders: tuple[str, ...]
    exact_length: bool = True


DECODERS: Registry[Decoder] = Registry("audio decoder")
FORMATS: dict[str, AudioFormat] = {
    ".mp3": AudioFormat("MP3", ("miniaudio", "soundfile", "librosa"), exact_length=False),
    ".flac": AudioFormat("FLAC", ("miniaudio", "soundfile", "librosa")),
    ".wav": AudioFormat("WAV", ("miniaudio", "soundfile", "librosa")),
    ".ogg": AudioFormat("Ogg", ("miniaudio", "soundfile", "librosa")),
    ".opus": AudioFormat("Opus", ("soundfile",)),
    ".aiff": AudioFormat("AIFF", ("soundfile", "librosa")),
    ".aif": AudioFormat("AIFF", ("soundfile", "librosa")),
    ".m4a": AudioFormat("M4A", ("soundfile", "librosa"), exact_length=False),
}
_OTHER = AudioFormat("audio", ("soundfile", "miniaudio", "librosa"), exact_length=False)


def audio_format(path: str | Path) -> AudioFormat:
    """The decoder chain for ``path``'s extension (unknown extensions try every decoder)."""
    return FORMATS.get(Path(path).suffix.lower(), _OTHER)


def _importable(module: str) -> Callable[[], bool]:
    @functools.lru_cache(maxsize=1)
    def check() -> bool:
        import importlib

        try:
            importlib.import_module(module)
            return True
        except Exception:  # noqa: BLE001 - a missing or broken optional library
            return False

    return check


def _downmix(a: np.ndarray) -> np.ndarray:
    """(n, channels) float32 → (n,) float32 mean of the channels (column adds; mean(axis=1) is ~25× slower)."""
    ch = a.shape[1]
    if ch == 1:
        return np.ascontiguousarray(a[:, 0])
    y = a[:, 0] + a[:, 1]
    for c in range(2, ch):
        y += a[:, c]
    y *= np.float32(1.0 / ch)
    return y


def _window(offset: float, duration: float | None, sr: int) -> tuple[int, int | None]:
    """(first frame, number of frames or None for "to the end") of a window in seconds."""
    start = max(0, int(round(offset * sr)))
    return start, (None if duration is None else max(0, int(round(duration * sr))))


# ---------------------------------------------------------------- soundfile (libsndfile)

def _sf_read(path: str, *, offset: float, duration: float | None, fmt: AudioFormat) -> tuple[np.ndarray, int]:
    import soundfile as sf

    with sf.SoundFile(path) as fh:
        native_sr = fh.samplerate
        start, n = _window(offset, duration, native_sr)
        if start:
            if fh.frames > 0 and start >= fh.frames:
                return np.zeros(0, np.float32), native_sr
            fh.seek(start)
        data = fh.read(frames=-1 if n is None else n, dtype="float32", always_2d=True)
    return _downmix(data), native_sr


def _sf_info(path: str, *, fmt: AudioFormat) -> tuple[int, int]:
    import soundfile as sf

    info = sf.info(path)
    return int(info.frames), int(info.samplerate)


# ---------------------------------------------------------------- miniaudio (minimp3, dr_flac, dr_wav, stb_vorbis)

_MA_ENCODING = {"MP3": "mp3", "FLAC": "flac", "WAV": "wav", "Ogg": "vorbis"}


@functools.lru_cache(maxsize=1)
def _ma_result_names() -> dict[int, str]:
    from miniaudio import lib

    return {getattr(lib, n): n for n in dir(lib) if n.startswith("MA_") and isinstance(getattr(lib, n), int)
            and getattr(lib, n) <= 0}


def _ma_check(result: int, what: str) -> None:
    from miniaudio import lib

    if result != lib.MA_SUCCESS:
        raise OSError(f"{what} failed ({_ma_result_names().get(result, result)})")


def _ma_open(path: str, fmt: AudioFormat):
    """An initialised ma_decoder (float32, native channels and rate) for ``fmt``'s codec only."""
    from miniaudio import ffi, lib

    dec = ffi.new("ma_decoder *")
    cfg = lib.ma_decoder_config_init(lib.ma_format_f32, 0, 0)
    enc = _MA_ENCODING.get(fmt.name)
    if enc:
        cfg.encodingFormat = getattr(lib, f"ma_encoding_format_{enc}")
    if lib.ma_decoder_init_file(path.encode(), ffi.addressof(cfg), dec) != lib.MA_SUCCESS:
        raise OSError(f"no {fmt.name} stream found" if enc else "no stream it decodes")
    return dec


def _ma_read(path: str, *, offset: float, duration: float | None, fmt: AudioFormat) -> tuple[np.ndarray, int]:
    from miniaudio import ffi, lib

    dec = _ma_open(path, fmt)
    try:
        native_sr, ch = int(dec.outputSampleRate), int(dec.outputChannels)
        start, n = _window(offset, duration, native_sr)
        if start and lib.ma_decoder_seek_to_pcm_frame(dec, start) != lib.MA_SUCCESS:
            return np.zeros(0, np.float32), native_sr   # past the end
        got = ffi.new("ma_uint64 *")
        blocks, total = [], 0
        while n is None or total < n:
            want = _READ_BLOCK if n is None else n - total
            buf = np.empty((want, ch), dtype=np.float32)
            res = lib.ma_decoder_read_pcm_frames(dec, ffi.from_buffer(buf), want, got)
            k = int(got[0])
            if k:
                blocks.append(_downmix(buf[:k]))
                total += k
            if res == lib.MA_AT_END or k < want:
                break
            _ma_check(res, "reading")
    finally:
        lib.ma_decoder_uninit(dec)
    y = blocks[0] if len(blocks) == 1 else (np.concatenate(blocks) if blocks else np.zeros(0, np.float32))
    if not y.size and not start:
        raise OSError("no frame decodes")
    return y, native_sr


def _ma_info(path: str, *, fmt: AudioFormat) -> tuple[int, int]:
    """Frames from the header (FLAC, WAV, Vorbis) or by counting MP3 frame headers (~0.4 ms for 30 s)."""
    import miniaudio

    get = {"MP3": miniaudio.mp3_get_file_info, "FLAC": miniaudio.flac_get_file_info,
           "WAV": miniaudio.wav_get_file_info, "Ogg": miniaudio.vorbis_get_file_info}
    info = get.get(fmt.name, miniaudio.get_file_info)(path)
    return int(info.num_frames), int(info.sample_rate)


# ---------------------------------------------------------------- librosa (soundfile, then audioread)

def _librosa_read(path: str, *, offset: float, duration: float | None, fmt: AudioFormat) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, sr = librosa.load(path, sr=None, mono=True, offset=offset, duration=duration)
    return np.asarray(y, dtype=np.float32), int(sr)


def _librosa_info(path: str, *, fmt: AudioFormat) -> tuple[int, int]:
    y, sr = _librosa_read(path, offset=0.0, duration=None, fmt=fmt)
    return len(y), sr


DECODERS.add("miniaudio", Decoder("miniaudio", _ma_read, _ma_info, seeks=False, exact_end=True,
                                  available=_importable("miniaudio")))
DECODERS.add("soundfile", Decoder("soundfile", _sf_read, _sf_info, seeks=True, exact_end=False,
                                  available=_importable("soundfile")))
DECODERS.add("librosa", Decoder("librosa", _librosa_read, _librosa_info, seeks=False, exact_end=True,
                                available=_importable("librosa")))


def warm_decoders() -> None:
    """Import every decoder library now (the extraction forkserver does, so workers fork with them loaded:
    importing miniaudio's compiled module costs 70–600 ms per process on the shared 2-core machine)."""
    for _, dec in DECODERS.items():
        if dec.name != "librosa":
            dec.available()


def decoder_chain(path: str | Path, *, offset: float = 0.0, duration: float | None = 1.0,
                  decoders: tuple[str, ...] | None = None) -> list[Decoder]:
    """The decoders ``load_audio`` tries for ``path``, in order.

    ``decoders`` (else the comma-separated names in the environment variable ``SONGSCAPE_AUDIO_DECODERS``)
    replaces the format's chain. MP3 decoders that seek by decoding move behind the others when a
    window of known ``duration`` starts after ``BRUTE_SEEK_LIMIT_S`` (FLAC, WAV and Vorbis in miniaudio
    seek properly; an open-ended MP3 window stays with minimp3, which decodes to the true end).
    """
    import os

    fmt = audio_format(path)
    forced = tuple(n.strip() for n in os.environ.get(DECODERS_ENV, "").split(",") if n.strip())
    chain = [DECODERS.get(n) for n in (decoders or forced or fmt.decoders)]
    chain = [d for d in chain if d.available()]
    if offset > BRUTE_SEEK_LIMIT_S and duration is not None and fmt.name == "MP3":
        chain.sort(key=lambda d: not d.seeks)
    return chain


# ---------------------------------------------------------------- failure reasons

_MAGIC = ((b"ID3", "MP3"), (b"fLaC", "FLAC"), (b"OggS", "Ogg"), (b"RIFF", "WAV"), (b"RF64", "WAV"),
          (b"FORM", "AIFF"), (b"caff", "CAF"))


def _sniff(path: Path) -> tuple[str | None, bytes]:
    """(container named by the first bytes, or None; the first 64 bytes)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None, b""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name, head
    if head[4:8] == b"ftyp":
        return "M4A", head
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MP3", head
    return None, head


def _looks_like_text(head: bytes) -> bool:
    """True when the bytes are printable UTF-8 text (a multi-byte character may be cut at the end)."""
    text = head.decode("utf-8", errors="ignore") if head else ""
    return (len(text.encode("utf-8")) >= len(head) - 3 and bool(text.strip())
            and all(c.isprintable() or c in "\r\n\t" for c in text))


def _reason(exc: BaseException) -> str:
    """An exception as a short clause, without libsndfile's misleading 'possibly a pipe?'."""
    msg = str(exc).strip()
    if "Error opening" in msg and "': " in msg:
        msg = msg.split("': ", 1)[1]
    msg = msg.removeprefix("Error : ")
    if "not a regular file" in msg or "Format not recognised" in msg:
        msg = "format not recognised"
    if type(exc).__name__ == "NoBackendError":
        msg = "no audioread backend reads it (is ffmpeg installed?)"
    msg = msg or type(exc).__name__
    return msg.rstrip(".")


def _failure(path: Path, fmt: AudioFormat, reasons: list[str]) -> AudioDecodeError:
    found, head = _sniff(path)
    tried = "; ".join(reasons) if reasons else "no decoder for this format is installed"
    if found is None and _looks_like_text(head):
        start = head.decode("utf-8", errors="replace").splitlines()[0][:40] if head.strip() else ""
        return AudioDecodeError(f"{path}: not readable as audio: it is a text file (starts with {start!r}), not "
                                f"{fmt.name}. Replace it with the audio file or remove it.")
    if found is None and fmt.name != "M4A":
        return AudioDecodeError(f"{path}: not readable as audio: no {fmt.name} or other known audio header (first "
                                f"bytes {head[:8].hex(' ')}; {tried}). Replace it with the audio file or remove it.")
    if fmt.name == "Opus" and not _sf_reads_opus():
        return AudioDecodeError(f"{path}: this libsndfile cannot decode Opus (needs ≥ 1.0.29 built with Opus, as in "
                                "soundfile's wheels). Update soundfile or convert the file to OGG Vorbis/FLAC.")
    return AudioDecodeError(f"{path}: truncated or damaged {found or fmt.name} file ({tried}). Re-export or "
                            "re-download it, convert it to WAV/FLAC/OGG, or remove it.")


def _sf_reads_opus() -> bool:
    try:
        import soundfile as sf

        return "OPUS" in sf.available_subtypes("OGG")
    except Exception:  # noqa: BLE001 - soundfile missing
        return False


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioDecodeError(f"{path}: file not found. Check the path or re-import the folder.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: file is empty (0 bytes).")


# ---------------------------------------------------------------- public API

def probe_duration(path: str | Path) -> float:
    """Duration in seconds from the header (decoding only where no header gives it); raises AudioDecodeError."""
    path = Path(path)
    _check_file(path)
    fmt = audio_format(path)
    reasons = []
    for dec in decoder_chain(path):
        try:
            frames, native_sr = dec.info(str(path), fmt=fmt)
        except Exception as exc:  # noqa: BLE001 - next decoder
            reasons.append(f"{dec.name}: {_reason(exc)}")
            continue
        if frames > 0 and native_sr > 0:
            return frames / float(native_sr)
        reasons.append(f"{dec.name}: no audio frames")
    raise _failure(path, fmt, reasons)


def load_audio(path: str | Path, *, sr: int = SAMPLE_RATE, offset: float = 0.0,
               duration: float | None = None, decoders: tuple[str, ...] | None = None) -> np.ndarray:
    """Decode ``duration`` seconds (None: to the end) from ``offset`` to mono float32 at ``sr``.

    Returns shape (n_samples,). The first decoder of the file's chain that reads it wins (see the
    module docstring); ``decoders`` names another chain (benchmarks, tests). Raises AudioDecodeError
    with a one-line reason (not found, empty, not audio, truncated or damaged, offset past the end).
    """
    path = Path(path)
    _check_file(path)
    fmt = audio_format(path)
    offset = float(offset or 0.0)
    reasons, best = [], None
    for dec in decoder_chain(path, offset=offset, duration=duration, decoders=decoders):
        try:
            y, native_sr = dec.read(str(path), offset=offset, duration=duration, fmt=fmt)
        except Exception as exc:  # noqa: BLE001 - next decoder
            reasons.append(f"{dec.name}: {_reason(exc)}")
            continue
        if best is None or y.size > best[0].size:
            best = (y, native_sr)
        want = None if duration is None else int(round(duration * native_sr))
        if y.size and (dec.exact_end or fmt.exact_length or want is None or y.size >= want):
            break
        # nothing, or less than asked where the decoder stops at a length estimate: try the next one
    if best is None:
        raise _failure(path, fmt, reasons)
    y, native_sr = best
    if y.size == 0:
        raise AudioDecodeError(f"{path}: decoded to 0 samples (offset {offset}s beyond the end?).")
    if fmt.exact_length:
        _check_truncation(path, y.size, native_sr, offset=offset, duration=duration)
    if not np.all(np.isfinite(y)):
        raise AudioDecodeError(f"{path}: contains NaN or infinite samples.")
    if native_sr != sr:
        import soxr

        y = soxr.resample(y, native_sr, sr, quality="HQ")
    return np.asarray(y, dtype=np.float32)


def _check_truncation(path: Path, got: int, native_sr: int, *, offset: float, duration: float | None) -> None:
    """Raise when the header promises more frames in the window than decoded (FLAC, WAV, Ogg)."""
    try:
        frames, hsr = _sf_info(str(path), fmt=_OTHER)
    except Exception:  # noqa: BLE001 - no header to compare with
        return
    if frames <= 0 or hsr != native_sr:
        return
    start, n = _window(offset, duration, native_sr)
    expected = frames - start if n is None else min(n, frames - start)
    if got < expected - (native_sr // 10 + expected // 100):
        raise AudioDecodeError(
            f"{path}: truncated: the header promises {frames / native_sr:.2f} s but decoding stops at "
            f"{(start + got) / native_sr:.2f} s. Re-export or re-download the file, or remove it.")


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
