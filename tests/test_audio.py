"""core.audio: the decoder chain per format against the plain soundfile + soxr path, windows, failures."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.audio import BRUTE_SEEK_LIMIT_S, DECODERS, audio_format, decoder_chain, load_audio, probe_duration
from core.errors import AudioDecodeError

SR = 44100


def _music(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Stereo 44.1 kHz test signal (n, 2): a different harmonic tone per channel, vibrato, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    chans = []
    for f0 in (220.0, 330.0):
        y = sum((0.3 / h) * np.sin(2 * np.pi * h * f0 * t + 2 * np.sin(2 * np.pi * 3 * t)) for h in range(1, 5))
        chans.append(y + 0.02 * rng.standard_normal(t.size))
    y = np.stack(chans, axis=1)
    return (0.8 * y / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """{ext: path} of the same 3-s stereo signal as MP3 (via libsndfile), FLAC, WAV, Ogg Vorbis, Opus."""
    d = tmp_path_factory.mktemp("audio")
    y = _music(3.0)
    out = {}
    for ext, fmt, sub in (("mp3", "MP3", "MPEG_LAYER_III"), ("flac", "FLAC", "PCM_16"), ("wav", "WAV", "PCM_16"),
                          ("ogg", "OGG", "VORBIS")):
        out[ext] = d / f"clip.{ext}"
        sf.write(str(out[ext]), y, SR, format=fmt, subtype=sub)
    import soxr

    out["opus"] = d / "clip.opus"  # libsndfile's Opus takes 48 kHz

    y48 = soxr.resample(y, SR, 48000)
    sf.write(str(out["opus"]), y48, 48000, format="OGG", subtype="OPUS")
    out["opus_in_ogg"] = d / "opus_inside.ogg"
    sf.write(str(out["opus_in_ogg"]), y48, 48000, format="OGG", subtype="OPUS")
    out["signal"] = y
    return out


def _old_path(path, *, sr: int, offset: float = 0.0, duration: float | None = None) -> np.ndarray:
    """What load_audio did before the decoder chain: soundfile, mean over channels, soxr HQ."""
    import soxr

    with sf.SoundFile(str(path)) as fh:
        start = int(round(offset * fh.samplerate))
        if start:
            fh.seek(start)
        data = fh.read(frames=-1 if duration is None else int(round(duration * fh.samplerate)),
                       dtype="float32", always_2d=True)
        native = fh.samplerate
    return soxr.resample(data.mean(axis=1), native, sr, quality="HQ").astype(np.float32)


# ---------------------------------------------------------------- the chain per format

def test_chain_order_per_format():
    assert [d.name for d in decoder_chain("a.mp3")] == ["miniaudio", "soundfile", "librosa"]
    assert [d.name for d in decoder_chain("a.FLAC")][0] == "miniaudio"
    assert [d.name for d in decoder_chain("a.opus")] == ["soundfile"]
    # a late MP3 window goes to the decoder that seeks through an index (minimp3 would decode up to it)
    assert [d.name for d in decoder_chain("a.mp3", offset=BRUTE_SEEK_LIMIT_S + 1)][0] == "soundfile"
    assert [d.name for d in decoder_chain("a.mp3", offset=BRUTE_SEEK_LIMIT_S)][0] == "miniaudio"
    assert [d.name for d in decoder_chain("a.flac", offset=60.0)][0] == "miniaudio"
    assert audio_format("x.unknown").decoders[0] == "soundfile"
    assert set(DECODERS.names()) == {"miniaudio", "soundfile", "librosa"}


@pytest.mark.parametrize("ext", ["mp3", "flac", "wav", "ogg"])
@pytest.mark.parametrize("sr", [22050, 16000])
def test_fast_chain_matches_the_soundfile_path(clips, ext, sr):
    new = load_audio(clips[ext], sr=sr)
    old = _old_path(clips[ext], sr=sr)
    assert new.dtype == np.float32 and new.ndim == 1
    assert len(new) == len(old) == 3 * sr  # libsndfile writes a LAME header: both decoders drop delay + padding
    err = np.abs(new - old).max()
    assert np.corrcoef(new, old)[0, 1] > 0.99999
    assert err < {"mp3": 1e-4, "ogg": 1e-5}.get(ext, 1e-6), err  # FLAC/WAV are bit-identical PCM


def test_mp3_decodes_sample_aligned_with_the_original_signal(clips):
    """Encoder delay is removed: the decoded MP3 lines up with what was encoded (lag 0)."""
    y = load_audio(clips["mp3"], sr=SR)
    ref = clips["signal"].mean(axis=1)
    assert len(y) == len(ref)
    seg, lags = slice(SR, 2 * SR), np.arange(-600, 601)
    xc = [np.dot(y[seg], np.roll(ref, k)[seg]) for k in lags]
    assert lags[int(np.argmax(xc))] == 0
    assert np.corrcoef(y[seg], ref[seg])[0, 1] > 0.99


@pytest.mark.parametrize("ext", ["mp3", "flac", "wav", "ogg"])
def test_every_decoder_reads_the_same_window(clips, ext):
    full = load_audio(clips[ext], sr=22050, decoders=("soundfile",))
    for name in ("miniaudio", "soundfile"):
        w = load_audio(clips[ext], sr=22050, offset=1.0, duration=0.5, decoders=(name,))
        assert len(w) == 11025
        # resampling the window alone differs from the full decode only at its edges
        core = slice(200, -200)
        assert np.abs(w[core] - full[22050:33075][core]).max() < 2e-3, name
        assert np.corrcoef(w, _old_path(clips[ext], sr=22050, offset=1.0, duration=0.5))[0, 1] > 0.9999


def test_window_to_the_end_and_past_the_end(clips):
    tail = load_audio(clips["mp3"], offset=2.5)
    assert len(tail) == pytest.approx(0.5 * 22050, abs=2)
    with pytest.raises(AudioDecodeError, match="0 samples"):
        load_audio(clips["flac"], offset=10.0)
    with pytest.raises(AudioDecodeError, match="0 samples"):
        load_audio(clips["mp3"], offset=10.0, decoders=("miniaudio",))


def test_opus_decodes_through_soundfile_also_inside_an_ogg_file(clips):
    ref = _old_path(clips["opus"], sr=22050)
    for key in ("opus", "opus_in_ogg"):  # stb_vorbis refuses the Opus stream, soundfile reads it
        y = load_audio(clips[key], sr=22050)
        assert len(y) == 3 * 22050
        assert np.abs(y - ref).max() < 1e-6
    mp3 = load_audio(clips["mp3"], sr=22050)
    assert np.corrcoef(load_audio(clips["opus"], sr=22050)[2000:-2000], mp3[2000:-2000])[0, 1] > 0.95


def test_probe_duration(clips):
    for ext in ("mp3", "flac", "wav", "ogg", "opus"):
        assert probe_duration(clips[ext]) == pytest.approx(3.0, abs=1e-3), ext


# ---------------------------------------------------------------- failures: one true line

def _one_line_error(path, **kw) -> str:
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and "pipe" not in msg and str(path) in msg
    return msg


def test_a_text_file_named_mp3_is_not_audio(tmp_path):
    p = tmp_path / "song.mp3"
    p.write_text("this is a text file pretending to be audio\n" * 20)
    msg = _one_line_error(p)
    assert "not readable as audio" in msg and "text file" in msg and "this is a text file" in msg
    with pytest.raises(AudioDecodeError, match="text file"):
        probe_duration(p)


def test_random_bytes_named_mp3_have_no_audio_header(tmp_path):
    p = tmp_path / "noise.mp3"
    p.write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes().replace(b"\xff", b"\x00"))
    msg = _one_line_error(p)
    assert "not readable as audio" in msg and "no MP3 or other known audio header" in msg


def test_truncated_files_say_truncated(clips, tmp_path):
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(clips["mp3"].read_bytes()[:300])  # ID3 + part of the first frame
    msg = _one_line_error(cut)
    assert "truncated or damaged MP3" in msg
    half = tmp_path / "half.flac"
    half.write_bytes(clips["flac"].read_bytes()[: clips["flac"].stat().st_size // 2])
    msg = _one_line_error(half)
    assert "truncated" in msg and "promises 3.00 s" in msg
    # the part before the cut still decodes
    assert len(load_audio(half, duration=0.5)) == 11025


def test_missing_and_empty(tmp_path):
    assert "not found" in _one_line_error(tmp_path / "nope.mp3")
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert "empty (0 bytes)" in _one_line_error(tmp_path / "empty.mp3")


def test_the_environment_can_force_one_chain(clips, monkeypatch):
    monkeypatch.setenv("SONGSCAPE_AUDIO_DECODERS", "soundfile")
    assert [d.name for d in decoder_chain(clips["mp3"])] == ["soundfile"]
    assert np.abs(load_audio(clips["flac"]) - _old_path(clips["flac"], sr=22050)).max() < 1e-6
    monkeypatch.setenv("SONGSCAPE_AUDIO_DECODERS", "nope")
    with pytest.raises(ValueError, match="audio decoder"):
        load_audio(clips["flac"])


def _without_xing(data: bytes) -> bytes:
    """The MP3 bytes without the LAME/Xing info frame (the first frame, right after any ID3 tag)."""
    tag = max(data.find(b"Xing"), data.find(b"Info"))
    start = data.rfind(b"\xff", 0, tag)
    while not (data[start + 1] & 0xE0 == 0xE0):
        start = data.rfind(b"\xff", 0, start)
    h = int.from_bytes(data[start:start + 4], "big")
    kbps = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320][(h >> 12) & 0xF]
    return data[:start] + data[start + 144 * kbps * 1000 // SR + ((h >> 9) & 1):]


def test_vbr_mp3_without_its_xing_header_decodes_to_the_end(tmp_path):
    """libsndfile estimates such a file's length from the first frame and stops early; minimp3 does not."""
    y = _music(3.0, seed=5)
    p = tmp_path / "vbr.mp3"
    sf.write(str(p), y, SR, format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="VARIABLE", compression_level=0.9)
    bare = tmp_path / "bare.mp3"
    bare.write_bytes(_without_xing(p.read_bytes()))
    full = load_audio(bare, sr=SR)
    assert len(full) == pytest.approx(3 * SR + 1105, abs=1152)  # encoder + decoder delay stay in, whole frames
    ref = y.mean(axis=1)
    seg = slice(SR, 2 * SR)
    assert np.corrcoef(full[1105:][seg], ref[seg])[0, 1] > 0.99  # the delay: 576 (LAME) + 529 (decoder)
    assert probe_duration(bare) == pytest.approx(len(full) / SR, abs=0.03)
    est = sf.info(str(bare)).frames / SR
    assert est < len(full) / SR - 0.3  # libsndfile's estimate from the first frame falls short
    # a window across that estimate still decodes whole: soundfile comes first (offset > 1 s), stops
    # at its estimate, and the window goes on to minimp3
    off = est - 0.2
    tail = load_audio(bare, sr=SR, offset=off, duration=0.4)
    assert len(tail) == int(0.4 * SR)
    i = int(round(off * SR))
    assert np.abs(tail[100:-100] - full[i:i + len(tail)][100:-100]).max() < 0.02


def test_a_damaged_opus_file_is_named_as_such(clips, tmp_path):
    cut = tmp_path / "cut.opus"
    cut.write_bytes(clips["opus"].read_bytes()[:200])
    msg = _one_line_error(cut)
    assert "truncated or damaged Ogg" in msg


def test_an_mp3_whose_size_based_length_estimate_overshoots_imports_at_its_decoded_length(tmp_path):
    """Real MP3s often have no Xing header and an ID3v1 tag (plus padding) at the end: libsndfile then
    estimates the length from the file size, past the last frame. That is not a truncated file."""
    from core.datasets.audiocheck import check_audio

    p = tmp_path / "cbr.mp3"
    sf.write(str(p), _music(4.0, seed=2), SR, format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT",
             compression_level=0.5)
    bare = tmp_path / "tagged.mp3"
    id3v1 = b"TAG" + b"Frontiers".ljust(30, b"\0") + b"\0" * 95
    bare.write_bytes(_without_xing(p.read_bytes()) + b"\0" * 8192 + id3v1)
    decoded = len(load_audio(bare, sr=SR)) / SR
    assert sf.info(str(bare)).frames / SR > decoded + 0.1   # the estimate runs past the audio
    assert check_audio(bare) == pytest.approx(decoded, abs=0.03)
