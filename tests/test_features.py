"""core.features: shapes, equality with librosa's separate calls, lyrics tokenizing, cache, resume."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from core.datasets import ImportResult, load_dataset, save_dataset
from core.errors import SchemaError
from core.progress import Cancelled

SR = 22050
KW = dict(n_fft=2048, hop_length=512)


def _clip(seconds: float = 5.0, *, f0: float = 220.0, seed: int = 0) -> np.ndarray:
    """Harmonic tone with a vibrato, a few clicks and noise: every feature has something to see."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.25 * np.sin(2 * np.pi * f0 * t + 3 * np.sin(2 * np.pi * 0.5 * t))
    y += 0.1 * np.sin(2 * np.pi * 3 * f0 * t) + 0.03 * rng.standard_normal(t.size)
    y[:: SR // 2] += 0.8
    return y.astype(np.float32)


def _dataset(tmp_path, n: int = 4, *, seconds: float = 2.0, lyrics=None, bad: bool = False, extra=None,
             name: str = "t"):
    rows = []
    for i in range(n):
        p = tmp_path / f"c{i}.wav"
        sf.write(str(p), _clip(seconds, f0=150.0 + 60 * i, seed=i), SR)
        row = {"track_id": f"t{i}", "path": str(p), "duration_s": seconds,
               "lyrics": lyrics[i] if lyrics else ""}
        row.update((extra or {}).get(i, {}))
        rows.append(row)
    if bad:
        p = tmp_path / "broken.ogg"
        p.write_bytes(b"this is not audio" * 50)
        rows.append({"track_id": "broken", "path": str(p), "duration_s": seconds, "lyrics": ""})
    save_dataset(name, ImportResult(tracks=pd.DataFrame(rows)))
    return load_dataset(name)


def _cfg(**kw):
    from core.features import FeatureConfig, SpectralConfig

    return FeatureConfig(spectral=SpectralConfig(clip_s=kw.pop("clip_s", 2.0)), **kw)


# ---------------------------------------------------------------- the shared-STFT pass vs librosa

def test_shared_stft_matches_librosa_separate_calls():
    import librosa

    from core.features.spectral import SpectralConfig, compute_frames

    y = _clip(5.0)
    fr = compute_frames(y, config=SpectralConfig(clip_s=5.0))
    mag = np.abs(librosa.stft(y, **KW))
    ref = {
        "mfcc": librosa.feature.mfcc(y=y, sr=SR, n_mfcc=40, **KW),
        "logmel_db": librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, **KW)),
        "chroma": librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0, **KW),
        "contrast": librosa.feature.spectral_contrast(y=y, sr=SR, **KW),
        "centroid": librosa.feature.spectral_centroid(y=y, sr=SR, **KW)[0],
        "bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=SR, **KW)[0],
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=SR, **KW)[0],
        "flatness": librosa.feature.spectral_flatness(y=y, **KW)[0],
        "rms": librosa.feature.rms(S=mag, frame_length=2048, hop_length=512)[0],
        "zcr": librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)[0],
        "onset": librosa.onset.onset_strength(y=y, sr=SR, **KW),
    }
    for key, r in ref.items():
        assert fr[key].shape == r.shape, key
        scale = float(np.abs(r).max())
        # float32 STFT here vs librosa's float64-then-cast: agreement to ~1e-6 of the range
        assert np.allclose(fr[key], r, rtol=1e-4, atol=2e-6 * scale + 1e-7), (key, np.abs(fr[key] - r).max())
    # frames that differ by a whole FFT bin would fail the check above; be explicit about roll-off
    assert np.array_equal(fr["rolloff"], ref["rolloff"])


def test_contrast_vectorized_matches_librosa_on_silence_and_noise():
    import librosa

    from core.features.descriptors import spectral_contrast_tf
    from core.features.stft import stft_magnitude

    y = np.concatenate([np.zeros(SR, np.float32), 0.1 * np.random.default_rng(1).standard_normal(SR).astype(np.float32)])
    S = stft_magnitude(y)
    assert np.allclose(spectral_contrast_tf(S, sr=SR, n_fft=2048), librosa.feature.spectral_contrast(S=S.T, sr=SR),
                       atol=1e-6)


def test_bundle_shapes_and_summaries_follow_the_frames():
    from core.features import FEATURES
    from core.features.spectral import SpectralConfig, compute_frames, extract_clip, pool_frames

    cfg = SpectralConfig()
    y = _clip(30.0)
    b = extract_clip(y, config=cfg)
    for name, arr in b.items():
        assert arr.shape == FEATURES.get(name).shape, name
        assert arr.dtype == np.float32 and np.all(np.isfinite(arr)), name
    fr = compute_frames(y, config=cfg)
    assert fr["mfcc"].shape == (40, 1292)
    assert np.allclose(b["mfcc_stats"], np.concatenate([fr["mfcc"].mean(1), fr["mfcc"].std(1)]), rtol=1e-5, atol=1e-4)
    assert np.allclose(b["mfcc20_stats"][:20], fr["mfcc"][:20].mean(1), rtol=1e-5, atol=1e-4)
    assert np.allclose(b["mfcc_frames"][:, 0], fr["mfcc"][:, :3].mean(1), atol=1e-4)   # pooled by 3
    assert np.allclose(b["mfcc_frames"][:, -1], fr["mfcc"][:, 1287:1290].mean(1), atol=1e-4)
    assert 0.0 <= b["logmel"].min() and b["logmel"].max() <= 1.0 and b["logmel"].max() > 0.9
    x = (np.clip(fr["logmel_db"] - fr["logmel_db"].max(), -80, 0) + 80) / 80
    assert np.allclose(b["logmel"], pool_frames(x, pool=5, length=256), atol=1e-6)
    assert np.allclose(b["audio_stack"][20:32, 0], fr["chroma"][:, :10].mean(1), atol=1e-6)  # chroma rows
    assert np.allclose(b["audio_stack"][:, -1], np.concatenate([fr["mfcc"][:20], fr["chroma"], fr["contrast"]])[:, 1290:].mean(1),
                       atol=1e-4)  # last window is the partial one (2 frames)
    assert pool_frames(np.ones((2, 7)), pool=3, length=4).tolist() == [[1, 1, 1, 0], [1, 1, 1, 0]]


def test_tempo_of_a_click_track():
    import librosa

    from core.features.spectral import SpectralConfig, extract_clip

    y = librosa.clicks(times=np.arange(0, 20, 0.5), sr=SR, length=20 * SR)  # 120 BPM
    bpm = extract_clip(y, config=SpectralConfig(clip_s=20.0))["spectral_stats"][-1]
    assert abs(bpm - 120) < 3


def test_short_clip_is_padded_and_stats_ignore_the_padding():
    from core.features.spectral import SpectralConfig, extract_clip

    cfg = SpectralConfig(clip_s=10.0)
    y = _clip(2.0)
    short = extract_clip(y, config=cfg)
    tiled = extract_clip(np.tile(y, 5), config=cfg)
    assert short["logmel"].shape == (128, 256)
    assert np.all(short["logmel"][:, 40:] == 0)               # 10-s clip pooled by 5 → 432 frames; silence after ~18
    # statistics use only frames of real audio: a loop of the same sound gives nearly the same means
    assert np.allclose(short["mfcc_stats"][:40], tiled["mfcc_stats"][:40], rtol=0.1, atol=3.0)


def test_logmel_round_trip_helpers():
    from core.features import compute_logmel, feature_config, logmel_to_audio

    y = _clip(3.0)
    x = compute_logmel(y, sr=SR)
    assert x.shape == (128, 1 + len(y) // 512) and x.min() >= 0 and x.max() == pytest.approx(1.0)
    audio = logmel_to_audio(x[:, :40], pooled=False, n_iter=4)
    assert audio.shape == (40 * 512,) and audio.dtype == np.float32
    audio = logmel_to_audio(compute_logmel(y, sr=SR, pooled=True)[:, :8], n_iter=2)
    assert audio.shape == (8 * 5 * 512,) and np.max(np.abs(audio)) == pytest.approx(0.5, rel=1e-3)
    cfg = feature_config()
    assert cfg["spectral"]["n_mels"] == 128 and "top_db" in cfg["spectral"]["logmel_normalization"]
    assert cfg["shapes"]["logmel"] == [128, 256]


# ---------------------------------------------------------------- lyrics

def test_tokenizer_keeps_bengali_and_english_words_whole():
    from sklearn.feature_extraction.text import CountVectorizer

    from core.features import tokenize_lyrics

    assert tokenize_lyrics("আমার সোনার বাংলা") == ["আমার", "সোনার", "বাংলা"]
    assert tokenize_lyrics("Don't stop, THE music!") == ["don't", "stop", "the", "music"]
    assert tokenize_lyrics("ক্ষমা করো, প্রিয়") == ["ক্ষমা", "করো", "প্রিয়"]  # virama + vowel signs stay
    # scikit-learn's default pattern breaks Bengali words at the vowel signs (category Mc)
    default = re.compile(r"(?u)\b\w\w+\b").findall("আমার সোনার বাংলা")
    assert default != ["আমার", "সোনার", "বাংলা"] and "আম" in default
    cv = CountVectorizer().fit(["আমার সোনার বাংলা"])
    assert "আমার" not in cv.vocabulary_


def test_lyrics_features_valid_mask_and_no_stop_words(tmp_path):
    from core.features import get_features
    from core.features.lyrics import lyrics_tfidf

    texts = ["the love of the night", "আমার সোনার বাংলা, আমি তোমায় ভালোবাসি", "", "the night is young",
             "   ", "সোনার তরী"]
    X, vec = lyrics_tfidf(texts)
    assert "the" in vec.vocabulary_ and "আমার" in vec.vocabulary_
    ds = _dataset(tmp_path, n=6, lyrics=texts)
    fs = get_features(ds, "lyrics", config=_cfg())
    assert fs.X.shape == (6, 64) and fs.valid.tolist() == [True, True, False, True, False, True]
    assert np.allclose(np.linalg.norm(fs.X[fs.valid], axis=1), 1.0, atol=1e-5)
    assert np.all(fs.X[~fs.valid] == 0)
    assert fs.config["info"]["svd_components"] == 3            # 4 documents → at most 3 components
    assert fs.config["info"]["warnings"]
    # the two English songs about the night are closer to each other than to a Bangla one
    e = fs.X
    assert e[0] @ e[3] > e[0] @ e[1]
    tf = get_features(ds, "lyrics_tfidf", config=_cfg())
    assert tf.X.shape == (6, 5000) and tf.valid.tolist() == fs.valid.tolist()


# ---------------------------------------------------------------- tabular, availability

def test_tabular_is_z_scored_and_availability(tmp_path):
    from core.features import available_features, get_features

    rows = pd.DataFrame({"track_id": [f"r{i}" for i in range(5)], "title": list("abcde"),
                         "danceability": [0.1, 0.5, 0.9, 0.3, 0.7], "energy": [1, 2, 3, 4, 5],
                         "tempo": [90, 120, 150, 100, 110], "popularity": [1, 2, 3, 4, 5]})
    save_dataset("tab", ImportResult(tracks=rows))
    ds = load_dataset("tab")
    assert available_features(ds) == ["tabular"]       # no audio, no lyrics
    fs = get_features(ds, "tabular")
    assert fs.X.shape == (5, 4) and fs.config["info"]["columns"] == ["danceability", "energy", "tempo", "popularity"]
    assert np.allclose(fs.X.mean(0), 0, atol=1e-6) and np.allclose(fs.X.std(0), 1, atol=1e-6)
    with pytest.raises(SchemaError, match="not available"):
        get_features(ds, "mfcc_stats")


def test_available_features_with_audio_only(tmp_path):
    from core.features import FEATURES, available_features

    ds = _dataset(tmp_path, n=2)
    names = available_features(ds)
    assert [n for n in names if not n.startswith("musicnn")] == [n for n, s in FEATURES.items() if s.kind == "audio"]


# ---------------------------------------------------------------- cache, resume, failures

def test_cache_second_call_does_not_recompute(tmp_path, monkeypatch):
    from core.features import extract, get_features

    ds = _dataset(tmp_path, n=3)
    calls = []
    real = extract.run_audio
    monkeypatch.setattr(extract, "run_audio", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = get_features(ds, "mfcc_stats", jobs=1, config=_cfg())
    b = get_features(ds, "mfcc_stats", jobs=1, config=_cfg())
    c = get_features(ds, "logmel", jobs=1, config=_cfg())          # same pass, other feature
    assert len(calls) == 1
    assert np.array_equal(a.X, b.X) and a.fingerprint == b.fingerprint != c.fingerprint
    assert a.X.shape == (3, 80) and c.X.shape == (3, 128, 256) and a.valid.all()
    assert list(a.track_ids) == ["t0", "t1", "t2"] and a.config["clip_s"] == 2.0
    d = get_features(ds, "mfcc_stats", jobs=1, config=_cfg(clip_s=1.0))  # another config → recomputed
    assert len(calls) == 2 and not np.allclose(a.X, d.X)


def test_resume_after_cancel_reuses_finished_chunks(tmp_path, monkeypatch):
    from core.features import _worker, extract, get_features

    ds = _dataset(tmp_path, n=6)
    cfg = _cfg(chunk_size=2)
    seen = []
    with pytest.raises(Cancelled):
        get_features(ds, "mfcc_stats", jobs=1, config=cfg, cancel=lambda: True,
                     progress=lambda s, t, logs: seen.append((s, t)))
    assert seen[-1] == (2, 6)                                         # stopped after the first chunk
    parts = list((extract.features_root(ds) / ".partial").rglob("chunk_*.npz"))
    assert [p.name for p in parts] == ["chunk_00000.npz"]
    rows = []
    real = _worker.extract_row
    monkeypatch.setattr(_worker, "extract_row", lambda path, *a: rows.append(path) or real(path, *a))
    progress = []
    fs = get_features(ds, "mfcc_stats", jobs=1, config=cfg, progress=lambda s, t, logs: progress.append(s))
    assert len(rows) == 4 and progress[0] == 2 and progress[-1] == 6   # 2 reused, 4 computed
    assert fs.valid.all()
    fresh = get_features(ds, "mfcc_stats", jobs=1, config=_cfg(chunk_size=5))  # same numbers in one go
    assert np.array_equal(fs.X, fresh.X) and fs.fingerprint == fresh.fingerprint
    assert not (extract.features_root(ds) / ".partial").exists()


def test_corrupt_file_is_reported_not_fatal(tmp_path):
    from core.features import get_features

    ds = _dataset(tmp_path, n=2, bad=True)
    fs = get_features(ds, "spectral_stats", jobs=1, config=_cfg())
    assert fs.valid.tolist() == [True, True, False]
    assert set(fs.errors) == {"broken"} and "broken.ogg" in fs.errors["broken"]
    assert np.all(fs.X[2] == 0) and np.all(fs.X[:2, 0] > 0)           # centroid mean of the good clips


def test_a_damaged_cached_feature_is_rebuilt_to_the_same_numbers(tmp_path):
    """A cached group whose .npy was cut short (disk full, copy interrupted) is detected when it is opened,
    rebuilt, and gives the numbers it gave before; a deleted meta.json counts as an unfinished group."""
    from core.features import get_features
    from core.features.extract import features_root

    ds = _dataset(tmp_path, n=3)
    before = np.array(get_features(ds, "logmel", jobs=1, config=_cfg()).X)
    npy = next(features_root(ds).rglob("logmel.npy"))
    npy.write_bytes(npy.read_bytes()[: npy.stat().st_size // 2])
    again = get_features(ds, "logmel", jobs=1, config=_cfg())
    assert np.array_equal(np.asarray(again.X), before)
    (npy.parent / "meta.json").unlink()
    assert np.array_equal(np.asarray(get_features(ds, "logmel", jobs=1, config=_cfg()).X), before)


def test_finite_garbage_or_an_empty_meta_in_a_cached_feature_is_caught_by_its_checksum(tmp_path):
    """Numbers overwritten in place (same size, same header, finite) are not served: the group's checksum
    catches them on first use, says so in one line, and the group is rebuilt; so is a meta.json of {}."""
    import json

    from core.cache import CACHE
    from core.features import get_features
    from core.features.extract import features_root

    ds = _dataset(tmp_path, n=3)
    before = np.array(get_features(ds, "mfcc_stats", jobs=1, config=_cfg()).X)
    npy = next(features_root(ds).rglob("mfcc_stats.npy"))
    meta = json.loads((npy.parent / "meta.json").read_text())
    assert set(meta["checksums"]) >= {"mfcc_stats.npy", "valid.npy", "track_ids.npy", "logmel.npy"}
    raw = bytearray(npy.read_bytes())
    raw[-400:] = np.full(100, 7.0, np.float32).tobytes()     # finite, plausible-looking garbage
    npy.write_bytes(bytes(raw))
    CACHE.clear_memory()                                      # a new process: nothing verified yet
    with pytest.warns(UserWarning, match="mfcc_stats.npy does not match its checksum.*rebuilt"):
        again = get_features(ds, "mfcc_stats", jobs=1, config=_cfg())
    assert np.array_equal(np.asarray(again.X), before)
    (next(features_root(ds).rglob("mfcc_stats.npy")).parent / "meta.json").write_text("{}")
    CACHE.clear_memory()
    with pytest.warns(UserWarning, match="incomplete meta.json"):
        assert np.array_equal(np.asarray(get_features(ds, "mfcc_stats", jobs=1, config=_cfg()).X), before)


def test_segment_rows_read_their_offset(tmp_path):
    from core.features import get_features

    p = tmp_path / "long.wav"
    y = np.concatenate([_clip(2.0, f0=200), np.zeros(2 * SR, np.float32)])
    sf.write(str(p), y, SR)
    rows = pd.DataFrame({"track_id": ["a", "b"], "path": [str(p)] * 2, "offset_s": [0.0, 2.0],
                         "duration_s": [2.0, 2.0], "parent_id": ["x", "x"], "segment": [0, 1]})
    save_dataset("seg", ImportResult(tracks=rows))
    fs = get_features(load_dataset("seg"), "spectral_stats", jobs=1, config=_cfg())
    rms_mean = fs.X[:, 4]
    assert rms_mean[0] > 0.05 and rms_mean[1] < 1e-6                   # the second segment is silence


def test_parallel_equals_serial_and_cli(tmp_path, capsys):
    from core.cli import main
    from core.features import get_features

    ds = _dataset(tmp_path, n=5, bad=True)
    serial = get_features(ds, "audio_stack", jobs=1, config=_cfg(chunk_size=2))
    import shutil

    from core.features import extract

    shutil.rmtree(extract.features_root(ds))
    par = get_features(ds, "audio_stack", jobs=2, config=_cfg(chunk_size=2))
    assert np.allclose(serial.X, par.X, atol=1e-6) and par.valid.tolist() == serial.valid.tolist()
    assert set(par.errors) == {"broken"}
    assert main(["extract", "--dataset", "t", "--jobs", "2", "--features", "mfcc_stats,logmel"]) == 0
    out = capsys.readouterr()
    assert "mfcc_stats" in out.out and "(80,)" in out.out and "(128, 256)" in out.out and "valid 5/6" in out.out
    assert "broken" in out.err


def test_import_is_light_and_registry_is_complete():
    import subprocess
    import sys

    code = ("import sys, core.features as F; "
            "print(sorted(m for m in ('librosa', 'sklearn', 'scipy', 'numba', 'torch') if m in sys.modules)); "
            "print(F.FEATURES.names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent)).stdout.splitlines()
    assert out[0] == "[]"
    assert eval(out[1]) == ["mfcc_stats", "mfcc20_stats", "mfcc_frames", "logmel", "audio_stack", "chroma_stats",
                            "contrast_stats", "spectral_stats", "lyrics", "lyrics_tfidf", "tabular", "musicnn_mtt",
                            "musicnn_mtt_tags", "musicnn_msd", "musicnn_msd_tags"]
