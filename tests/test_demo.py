"""The embedded demo corpus: determinism, labels, audio, vocals, the workspace dataset, the CLI."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core.audio import SAMPLE_RATE, load_audio
from core.datasets import DEMO_NAME, datasets_dir, demo, list_datasets, load_dataset
from core.datasets.demo import corpus as demo_corpus
from core.errors import ParameterError

BENGALI = re.compile(r"[\u0980-\u09FF]")
LATIN = re.compile(r"[A-Za-z]")
N, SECONDS = 24, 3.0  # 6 genres x (English, Bangla, Hybrid, Instrumental)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The same small corpus generated twice: in-process and with two worker processes."""
    a, b = tmp_path_factory.mktemp("demo_a"), tmp_path_factory.mktemp("demo_b")
    calls = []
    res_a = demo.generate_demo(a, n_tracks=N, seconds=SECONDS, seed=3, jobs=1,
                               progress=lambda s, t, logs: calls.append((s, t)))
    res_b = demo.generate_demo(b, n_tracks=N, seconds=SECONDS, seed=3, jobs=2)
    return a, res_a, b, res_b, calls


def test_generation_is_deterministic_and_independent_of_jobs(corpus):
    a, res_a, b, res_b, calls = corpus
    assert (a / "metadata.csv").read_bytes() == (b / "metadata.csv").read_bytes()
    pd.testing.assert_frame_equal(res_a.tracks, res_b.tracks)
    for rel in res_a.tracks["path"]:
        np.testing.assert_array_equal(load_audio(a / rel), load_audio(b / rel))
    assert calls[0] == (0, N) and calls[-1] == (N, N) and len(calls) == N + 1


def test_different_seed_gives_different_audio_and_plan():
    s0 = demo.plan_corpus(n_tracks=6, seconds=2.0, seed=0)
    s1 = demo.plan_corpus(n_tracks=6, seconds=2.0, seed=1)
    assert [s.genre for s in s0] == [s.genre for s in s1]  # labels follow the layout, not the seed
    assert [(s.key, s.bpm) for s in s0] != [(s.key, s.bpm) for s in s1]
    y0, y1 = demo.render_track(s0[0]).mix, demo.render_track(s1[0]).mix
    assert y0.shape == y1.shape == (2 * SAMPLE_RATE,)
    assert not np.allclose(y0, y1)
    # ... and the same spec renders to the same samples
    np.testing.assert_array_equal(y0, demo.render_track(s0[0]).mix)


def test_labels_and_lyrics(corpus):
    _, res, *_ = corpus
    t = res.tracks
    assert t["genre"].nunique() >= 6
    assert set(t["language"]) == {"English", "Bangla", "Hybrid", "Instrumental"}
    table = pd.crosstab(t["genre"], t["language"])
    assert (table[["English", "Bangla"]] >= 1).all().all(), table
    assert (t["source"] == "demo").all() and t["track_id"].is_unique
    for _, row in t.iterrows():
        lyr = row["lyrics"]
        if row["language"] == "Instrumental":
            assert lyr == ""
        elif row["language"] == "Bangla":
            assert BENGALI.search(lyr) and not LATIN.search(lyr), lyr
        elif row["language"] == "English":
            assert LATIN.search(lyr) and not BENGALI.search(lyr), lyr
        else:  # Hybrid: code-switched, both scripts, line by line
            lines = lyr.split("\n")
            assert any(BENGALI.search(x) for x in lines) and any(LATIN.search(x) for x in lines), lyr
        assert row["title"] and row["artist"]


def test_default_mix_is_40_40_10_10_and_every_genre_in_every_language():
    specs = demo.plan_corpus(n_tracks=240, seconds=30.0, seed=0)
    t = pd.DataFrame([{"genre": s.genre, "language": s.language, "artist": s.artist, "n": len(s.lines)} for s in specs])
    share = t["language"].value_counts(normalize=True)
    assert share["English"] == share["Bangla"] == pytest.approx(0.4)
    assert share["Hybrid"] == share["Instrumental"] == pytest.approx(0.1)
    assert (pd.crosstab(t["genre"], t["language"]) >= 4).all().all()
    assert t.groupby(["genre", "language"])["artist"].nunique().min() >= 2  # a few artists per class
    assert (t.loc[t["language"] != "Instrumental", "n"] >= 3).all()  # 30 s songs have several sung lines


def test_files_metadata_and_durations(corpus):
    a, res, *_ = corpus
    meta = pd.read_csv(a / "metadata.csv", keep_default_na=False)
    assert list(meta.columns) == ["title", "artist", "language", "genre", "lyrics", "file"]
    assert list(meta["file"]) == list(res.tracks["path"])
    assert list(meta["lyrics"]) == list(res.tracks["lyrics"])
    for rel, dur in zip(res.tracks["path"], res.tracks["duration_s"]):
        assert rel.startswith("audio/") and rel.endswith(".ogg")
        y = load_audio(a / rel)
        assert abs(len(y) / SAMPLE_RATE - SECONDS) <= 0.1
        assert dur == pytest.approx(SECONDS, abs=0.01)
        assert 0.01 < float(np.sqrt(np.mean(y ** 2))) < 0.5 and np.max(np.abs(y)) <= 1.0


def test_espeak_speaks_english_and_bangla():
    en = demo.speak("the river carries my name", voice="en+m3")
    bn = demo.speak("নদীর ধারে বসে আছি একা", voice="bn+f2")
    for y in (en, bn):
        assert y.dtype == np.float32 and 0.8 * SAMPLE_RATE < len(y) < 4 * SAMPLE_RATE
        assert float(np.sqrt(np.mean(y ** 2))) > 0.02
    fast = demo.speak("the river carries my name", voice="en+m3", rate=320)
    assert len(fast) < 0.8 * len(en)


def _pitch_hz(y: np.ndarray) -> float:
    """Median F0 (Hz) of the loud frames, by autocorrelation. (n,) → float"""
    frame, hop = 2048, 1024
    f0s = []
    for s in range(0, len(y) - frame, hop):
        x = y[s:s + frame] * np.hanning(frame)
        if np.sqrt(np.mean(x ** 2)) < 0.02:
            continue
        r = np.fft.irfft(np.abs(np.fft.rfft(x, 2 * frame)) ** 2)[:frame]
        lo, hi = SAMPLE_RATE // 600, SAMPLE_RATE // 70
        f0s.append(SAMPLE_RATE / (lo + np.argmax(r[lo:hi])))
    return float(np.median(f0s))


def test_vocals_are_present_and_follow_the_melody():
    specs = demo.plan_corpus(n_tracks=24, seconds=6.0, seed=0)
    english_rock = next(s for s in specs if s.genre == "rock" and s.language == "English")
    audio = demo.render_track(english_rock)
    rms = lambda x: float(np.sqrt(np.mean(np.asarray(x, float) ** 2)))  # noqa: E731
    assert rms(audio.vocals) > 0.2 * rms(audio.backing) > 0
    assert not np.allclose(audio.mix, 0) and {"guitar", "bass"} <= set(audio.stems)
    # The vocoded voice sings in a vocal register (male ~100-300 Hz, female higher).
    assert 80 < _pitch_hz(audio.vocals) < 700
    # Instrumentals carry a lead line instead of a voice; their lyrics are empty.
    instr = next(s for s in specs if s.language == "Instrumental")
    assert instr.lyrics == "" and rms(demo.render_track(instr).vocals) > 0


def test_genres_are_distinguishable_but_overlap():
    """Nearest centroid on MFCC statistics beats chance by far, yet KMeans does not recover the genres
    exactly (real collections overlap: ARI well below 1). Default corpus, 240 x 10 s, measured with
    bench/demo_separability.py: KMeans ARI ~0.25-0.35, nearest-centroid accuracy ~0.7."""
    import librosa
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    specs = demo.plan_corpus(n_tracks=48, seconds=4.0, seed=1)
    X, y = [], []
    for s in specs:
        mix = demo.render_track(s).mix
        mf = librosa.feature.mfcc(y=mix, sr=SAMPLE_RATE, n_mfcc=20)
        X.append(np.r_[mf.mean(1), mf.std(1)])
        y.append(s.genre)
    X = np.asarray(X)
    X = (X - X.mean(0)) / (X.std(0) + 1e-9)
    y = np.asarray(y)
    hits = 0
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        cents = {g: X[keep & (y == g)].mean(0) for g in np.unique(y)}
        hits += min(cents, key=lambda g: np.linalg.norm(X[i] - cents[g])) == y[i]
    acc = hits / len(X)
    ari = adjusted_rand_score(y, KMeans(n_clusters=6, n_init=10, random_state=0).fit_predict(X))
    assert acc >= 0.45, acc  # chance is 1/6
    assert ari < 0.85, ari  # not six trivially separated islands


def test_tracks_vary_within_a_genre():
    """Per-track production: crossovers, shared instruments, sparse arrangements and sections occur,
    every genre still appears in every language, and loud genres stay louder on average."""
    specs = demo.plan_corpus(n_tracks=240, seconds=30.0, seed=0)
    prods = [s.production for s in specs]
    share = lambda f: np.mean([bool(f(p)) for p in prods])  # noqa: E731
    assert 0.08 < share(lambda p: p.crossover_genre) < 0.3
    assert all(p.crossover_genre != s.genre for s, p in zip(specs, prods))
    assert 0.2 < share(lambda p: p.shared) < 0.5
    assert 0.03 < share(lambda p: p.drums == 0) < 0.2 and 0.05 < share(lambda p: p.drums > 1.5) < 0.3
    assert 0.25 < share(lambda p: p.sections) < 0.6
    bpms = pd.Series([s.bpm for s in specs if s.genre == "rock"])
    assert bpms.max() / bpms.min() > 1.2  # tempo spread ~±15 %
    # a crossover really carries the other genre's part
    spec = next(s for s in demo.plan_corpus(n_tracks=120, seconds=4.0, seed=0)
                if s.production.crossover_part in ("drums", "harmony"))
    assert any(k.startswith("x_") for k in demo.render_track(spec).stems)
    # loudness overlaps but keeps its genre tendency
    loud = {}
    for s in demo.plan_corpus(n_tracks=36, seconds=3.0, seed=2):
        if s.genre in ("rock", "classical"):
            loud.setdefault(s.genre, []).append(np.sqrt(np.mean(demo.render_track(s).mix ** 2)))
    assert np.mean(loud["rock"]) > 1.3 * np.mean(loud["classical"])


def test_parameters_are_checked(tmp_path):
    with pytest.raises(ParameterError, match="n_tracks"):
        demo.generate_demo(tmp_path, n_tracks=0)
    with pytest.raises(ParameterError, match="seconds"):
        demo.plan_corpus(n_tracks=3, seconds=0.1)
    with pytest.raises(ParameterError, match="jobs"):
        demo.generate_demo(tmp_path, n_tracks=2, seconds=2.0, jobs=0)


def test_ensure_demo_dataset_creates_then_reuses(monkeypatch):
    calls = []
    real = demo.generate_demo

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(demo_corpus, "generate_demo", counting)
    ds = demo.ensure_demo_dataset(n_tracks=6, seconds=2.0, seed=0, jobs=1)
    assert len(calls) == 1 and len(ds.tracks) == 6 and DEMO_NAME in list_datasets()
    assert all(p.endswith(".ogg") and __import__("os").path.exists(p) for p in ds.tracks["path"])
    assert ds.info["random_state"] == 0 and ds.info["seconds"] == 2.0 and ds.info["n_tracks"] == 6
    assert ds.info["source"] == str(ds.root)  # not the temporary build folder
    mtime = (ds.root / "tracks.csv").stat().st_mtime_ns

    again = demo.ensure_demo_dataset(n_tracks=6, seconds=2.0, seed=0, jobs=1)
    assert len(calls) == 1 and (again.root / "tracks.csv").stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(again.tracks, load_dataset(DEMO_NAME).tracks)

    other = demo.ensure_demo_dataset(n_tracks=6, seconds=2.0, seed=5, jobs=1)  # new parameters: rebuilt
    assert len(calls) == 2 and other.info["seed"] == 5
    assert [p.name for p in datasets_dir().iterdir()] == [DEMO_NAME]  # no temp or old folders left


def test_failed_build_leaves_no_half_corpus(monkeypatch):
    def boom(spec, out_dir):
        if spec.index == 2:
            raise RuntimeError("synthetic failure")
        return real(spec, out_dir)

    real = demo_corpus._render_and_write
    monkeypatch.setattr(demo_corpus, "_render_and_write", boom)
    with pytest.raises(RuntimeError):
        demo.ensure_demo_dataset(n_tracks=4, seconds=2.0, jobs=1)
    assert list_datasets() == [] and list(datasets_dir().iterdir()) == []


def test_cli_writes_corpus(tmp_path, capsys):
    from core.cli import main

    out = tmp_path / "corpus"
    assert main(["demo", "--out", str(out), "--tracks", "12", "--seconds", "3", "--jobs", "1"]) == 0
    meta = pd.read_csv(out / "metadata.csv", keep_default_na=False)
    assert len(meta) == 12 and len(list((out / "audio").glob("*.ogg"))) == 12
    assert "12 tracks" in capsys.readouterr().out
    assert main(["demo", "--tracks", "6", "--seconds", "2", "--jobs", "1"]) == 0  # workspace dataset
    assert len(load_dataset(DEMO_NAME).tracks) == 6
