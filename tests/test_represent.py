"""core.represent on synthetic FeatureSets (core.features.get_features is monkeypatched: no audio)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core.features
from core import represent
from core.cluster import cluster_rows
from core.datasets import Dataset
from core.errors import ParameterError
from core.metrics import evaluate
from core.represent import RepresentationSpec, build_representation

N = 60


@dataclass
class FakeFeatureSet:
    name: str
    X: np.ndarray
    valid: np.ndarray
    track_ids: np.ndarray
    fingerprint: str
    config: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def make_dataset(n: int = N, name: str = "toy") -> Dataset:
    rng = np.random.default_rng(0)
    genre = np.array(["pop", "rock", "folk"])[np.arange(n) % 3]
    language = np.where(np.arange(n) < n // 2, "English", "Bangla")
    tracks = pd.DataFrame({"track_id": [f"t{i:03d}" for i in range(n)], "title": [f"song {i}" for i in range(n)],
                           "language": language, "genre": genre,
                           "lyrics": ["la la" if i % 4 else "" for i in range(n)],
                           "x": rng.normal(size=n)})
    return Dataset(name=name, root=Path("."), tracks=tracks, info={"fingerprint": f"fp-{name}-{n}"}, skipped=[])


def make_features(dataset: Dataset) -> dict[str, FakeFeatureSet]:
    n = len(dataset.tracks)
    ids = dataset.tracks["track_id"].to_numpy()
    rng = np.random.default_rng(1)
    frames = rng.normal(size=(n, 4, 5)).astype(np.float32) * np.arange(1, 6, dtype=np.float32)  # 3-D feature
    valid = np.ones(n, bool)
    valid[[3, 7]] = False  # failed extraction
    frames[~valid] = 0.0
    lyr = rng.normal(size=(n, 6)).astype(np.float32) * 5 + 2
    lvalid = dataset.tracks["lyrics"].to_numpy() != ""
    lyr[~lvalid] = 0.0
    return {"frames": FakeFeatureSet("frames", frames, valid, ids, "fp-frames"),
            "lyrics": FakeFeatureSet("lyrics", lyr, lvalid, ids, "fp-lyrics")}


@pytest.fixture
def ds(monkeypatch):
    dataset = make_dataset()
    feats = make_features(dataset)
    calls = []

    def get_features(d, name, **kw):
        calls.append(name)
        if name not in feats:
            raise KeyError(name)
        return feats[name]

    monkeypatch.setattr(core.features, "get_features", get_features, raising=False)
    represent.clear_memory_cache()
    dataset.calls = calls  # type: ignore[attr-defined]
    dataset.feats = feats  # type: ignore[attr-defined]
    yield dataset
    represent.clear_memory_cache()


def test_raw_is_flattened_standardized_with_nan_for_invalid(ds):
    rep = build_representation(ds, RepresentationSpec("raw", {"feature": "frames"}))
    assert rep.X.shape == (N, 20) and rep.X.dtype == np.float32
    assert rep.valid.sum() == N - 2 and not rep.valid[[3, 7]].any()
    assert np.isnan(rep.X[[3, 7]]).all() and np.isfinite(rep.X[rep.valid]).all()
    Xv = rep.X[rep.valid]
    assert np.allclose(Xv.mean(axis=0), 0, atol=1e-5) and np.allclose(Xv.std(axis=0), 1, atol=1e-4)
    assert list(rep.track_ids[:2]) == ["t000", "t001"] and rep.uses_labels == frozenset()


def test_pca_dims_and_fit_on_valid_rows(ds):
    rep = build_representation(ds, RepresentationSpec("pca", {"feature": "frames", "n_components": 5}))
    assert rep.X.shape == (N, 5) and np.isnan(rep.X[3]).all()
    cov = np.cov(rep.X[rep.valid].T)
    assert np.allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-4)  # decorrelated
    assert np.all(np.diff(np.diag(cov)) <= 1e-6)  # variance decreasing
    capped = build_representation(ds, RepresentationSpec("pca", {"feature": "frames", "n_components": 25}))
    assert capped.X.shape == (N, 20) and capped.meta["requested_components"] == 25
    assert any("reduced to 20 components" in w for w in capped.warnings)


def test_cache_memory_and_disk(ds):
    spec = RepresentationSpec("pca", {"feature": "frames", "n_components": 3})
    a = build_representation(ds, spec)
    b = build_representation(ds, RepresentationSpec("pca", {"n_components": 3, "feature": "frames"}))
    assert b.X is a.X  # same request, memory hit
    represent.clear_memory_cache()
    from core.cache import CACHE

    before = CACHE.stats()["namespaces"]["representation"]["disk_hits"]
    c = build_representation(ds, spec)  # from disk
    assert CACHE.stats()["namespaces"]["representation"]["disk_hits"] == before + 1
    assert c.X is not a.X and np.array_equal(c.X, a.X, equal_nan=True) and c.fingerprint == a.fingerprint
    d = build_representation(ds, RepresentationSpec("pca", {"feature": "frames", "n_components": 4}))
    assert d.fingerprint != a.fingerprint


def test_lyrics_representation_leaves_out_tracks_without_lyrics(ds):
    rep = build_representation(ds, RepresentationSpec("lyrics", {}))
    no_lyrics = ds.tracks["lyrics"].to_numpy() == ""
    assert rep.X.shape == (N, 6) and np.array_equal(rep.valid, ~no_lyrics)
    assert np.isnan(rep.X[no_lyrics]).all()


def test_fusion_alpha_zero_is_the_audio_block_padded(ds):
    audio = RepresentationSpec("raw", {"feature": "frames"})
    a = build_representation(ds, audio)
    f0 = build_representation(ds, RepresentationSpec("fusion", {"audio": audio, "alpha": 0.0}))
    assert f0.X.shape == (N, 20 + 6)
    assert np.array_equal(f0.valid, a.valid)  # valid = audio valid, lyrics or not
    scale = np.sqrt(a.X[a.valid].var(axis=0).sum())  # the audio block is scaled to unit total variance
    assert np.allclose(f0.X[a.valid, :20] * scale, a.X[a.valid], atol=1e-4)
    assert np.all(f0.X[a.valid, 20:] == 0)
    assert np.isnan(f0.X[~a.valid]).all()


def test_fusion_blocks_unit_variance_and_zero_lyrics_for_missing(ds):
    audio = RepresentationSpec("pca", {"feature": "frames", "n_components": 4})
    f = build_representation(ds, RepresentationSpec("fusion", {"audio": audio, "alpha": 2.0}))
    has_lyr = ds.feats["lyrics"].valid
    rows = f.valid & has_lyr
    L = f.X[:, 4:]
    assert np.allclose(L[rows].mean(axis=0), 0, atol=1e-5)
    assert L[rows].var(axis=0).sum() == pytest.approx(4.0, rel=1e-3)  # alpha² × unit total variance
    raw = ds.feats["lyrics"].X[rows]  # the lyrics block keeps its own geometry (no per-dimension z-score)
    ratio = L[rows].std(axis=0) / raw.std(axis=0)
    assert np.allclose(ratio, ratio[0], rtol=1e-3)
    assert np.all(L[f.valid & ~has_lyr] == 0)
    assert f.X[f.valid, :4].var(axis=0).sum() == pytest.approx(1.0, rel=1e-3)
    assert f.meta["n_without_lyrics"] == int((f.valid & ~has_lyr).sum())
    f1 = build_representation(ds, RepresentationSpec("fusion", {"audio": audio, "alpha": 1.0}))
    assert np.allclose(f.X[f.valid, 4:], 2 * f1.X[f.valid, 4:], atol=1e-5)
    assert f1.fingerprint != f.fingerprint
    with pytest.raises(ParameterError, match="audio"):
        build_representation(ds, RepresentationSpec("fusion", {"alpha": 1.0}))
    with pytest.raises(ParameterError, match="alpha"):
        build_representation(ds, RepresentationSpec("fusion", {"audio": audio, "alpha": -1}))


def test_fusion_spec_as_dict(ds):
    f = build_representation(ds, {"kind": "fusion", "params": {"audio": {"kind": "raw", "params": {"feature": "frames"}},
                                                                 "alpha": 0.5}})
    assert f.X.shape == (N, 26)


def _fake_training(monkeypatch, *, uses_labels, n=N, d=3):
    mu = np.random.default_rng(2).normal(size=(n, d)).astype(np.float32)
    valid = np.ones(n, bool)
    valid[0] = False
    mu[0] = np.nan
    mod = types.ModuleType("core.training")
    mod.dataset_latents = lambda model_id, dataset: (mu, valid)
    mod.load_trained = lambda model_id: types.SimpleNamespace(config={"meta": {"uses_labels": uses_labels}})
    monkeypatch.setitem(sys.modules, "core.training", mod)
    return mu


def test_latent_uses_labels_propagated_through_fusion(ds, monkeypatch):
    mu = _fake_training(monkeypatch, uses_labels=["language"])
    lat = RepresentationSpec("latent", {"model_id": "cvae/abc123"})
    rep = build_representation(ds, lat)
    assert rep.uses_labels == frozenset({"language"}) and rep.X.shape == (N, 3)
    assert np.allclose(rep.X[1:], mu[1:]) and not rep.valid[0]
    fus = build_representation(ds, RepresentationSpec("fusion", {"audio": lat, "alpha": 1.0}))
    assert fus.uses_labels == frozenset({"language"})
    res = cluster_rows(fus.X, fus.valid, algorithm="kmeans", params={"n_clusters": 2})
    report = evaluate(fus.X, res, label_columns={"language": ds.tracks["language"].to_numpy()},
                      uses_labels=fus.uses_labels)
    assert "leak" in report.codes and "ari_language" in report.leaked
    with pytest.raises(ParameterError, match="model_id"):
        build_representation(ds, RepresentationSpec("latent", {}))


def test_latent_without_label_use(ds, monkeypatch):
    _fake_training(monkeypatch, uses_labels=[])
    rep = build_representation(ds, RepresentationSpec("latent", {"model_id": "vae/1"}))
    assert rep.uses_labels == frozenset()


def test_label_onehot_leaks_genre_and_the_warning_says_so(ds):
    rep = build_representation(ds, RepresentationSpec("label_onehot", {"feature": "frames", "label": "genre",
                                                                        "weight": 10.0}))
    assert rep.uses_labels == frozenset({"genre"}) and rep.X.shape == (N, 20 + 3)
    assert rep.meta["classes"] == ["folk", "pop", "rock"]
    res = cluster_rows(rep.X, rep.valid, algorithm="kmeans", params={"n_clusters": 3})
    report = evaluate(rep.X, res, label_columns={"genre": ds.tracks["genre"].to_numpy(),
                                                 "language": ds.tracks["language"].to_numpy()},
                      uses_labels=rep.uses_labels)
    # the one-hot dominates: clusters are the genres, by construction
    assert report.values["ari_genre"] == pytest.approx(1.0)
    leak = [w for w in report.warnings if w.code == "leak"]
    assert len(leak) == 1 and "genre" in leak[0].message
    assert report.leaked == frozenset({"ari_genre", "nmi_genre", "purity_genre", "accuracy_genre"})


def test_unknown_kind_and_feature_errors(ds):
    with pytest.raises(ParameterError, match="Available"):
        build_representation(ds, RepresentationSpec("wavelets", {}))
    with pytest.raises(KeyError):
        build_representation(ds, RepresentationSpec("raw", {"feature": "nope"}))


def test_spec_hash_and_eq():
    a = RepresentationSpec("fusion", {"alpha": 1.0, "audio": RepresentationSpec("raw", {"feature": "f"})})
    b = RepresentationSpec("fusion", {"audio": {"kind": "raw", "params": {"feature": "f"}}, "alpha": 1.0})
    assert a.to_dict() == RepresentationSpec.from_any(a.to_dict()).to_dict()
    assert hash(a) == hash(RepresentationSpec("fusion", {"audio": RepresentationSpec("raw", {"feature": "f"}),
                                                          "alpha": 1.0}))
    assert a == b  # a nested spec and its dict form are the same request
    assert a != RepresentationSpec("fusion", {"alpha": 2.0, "audio": RepresentationSpec("raw", {"feature": "f"})})


# ----------------------------------------------------------------------------- CLI and exports

def _saved_dataset(monkeypatch):
    from core.datasets import ImportResult, load_dataset, save_dataset

    tracks = make_dataset().tracks
    save_dataset("toy", ImportResult(tracks=tracks, layout="tabular"))
    ds = load_dataset("toy")
    feats = make_features(ds)
    monkeypatch.setattr(core.features, "get_features", lambda d, name, **kw: feats[name], raising=False)
    represent.clear_memory_cache()
    return ds


def _cli(argv):
    import argparse

    from core import cluster_cli

    parser = argparse.ArgumentParser()
    cluster_cli.register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_csv_equals_evaluate(monkeypatch, tmp_path):
    ds = _saved_dataset(monkeypatch)
    out, assign = tmp_path / "m.csv", tmp_path / "a.csv"
    rc = _cli(["cluster", "--dataset", "toy", "--representation", "pca", "--feature", "frames", "--n-components", "4",
               "--algorithm", "kmeans", "--param", "n_clusters=3", "--param", "n_init=2", "--seed", "5",
               "--out", str(out), "--assignments", str(assign)])
    assert rc == 0
    rep = build_representation(ds, RepresentationSpec("pca", {"feature": "frames", "n_components": 4, "random_state": 5}))
    res = cluster_rows(rep.X, rep.valid, algorithm="kmeans", params={"n_clusters": 3, "n_init": 2}, random_state=5)
    expected = evaluate(rep.X, res, label_columns={c: ds.tracks[c].to_numpy() for c in ("language", "genre")},
                        uses_labels=rep.uses_labels, random_state=5)
    got = pd.read_csv(out)
    assert len(got) == 1 and got["algorithm"][0] == "kmeans" and got["params"][0] == "n_clusters=3, n_init=2"
    for key, val in expected.values.items():
        assert got[key][0] == pytest.approx(val, rel=1e-12, nan_ok=True), key
    assert got["warnings"][0] == ";".join(expected.codes) == "missing_rows"
    a = pd.read_csv(assign, keep_default_na=True)
    assert list(a.columns) == ["track_id", "title", "artist", "language", "genre", "cluster"]
    assert a["cluster"].isna().sum() == 2 and a.loc[3, "cluster"] != a.loc[3, "cluster"]  # missing rows empty
    assert np.array_equal(a["cluster"].dropna().to_numpy(), res.labels[res.labels >= 0])


@pytest.mark.parametrize("suffix", ["md", "tex", "json"])
def test_cli_other_formats_with_warnings(monkeypatch, tmp_path, suffix):
    import json

    _saved_dataset(monkeypatch)
    out = tmp_path / f"m.{suffix}"
    rc = _cli(["cluster", "--dataset", "toy", "--representation", "label_onehot", "--feature", "frames",
               "--algorithm", "dbscan", "--param", "eps=1000", "--out", str(out)])
    assert rc == 0
    text = out.read_text()
    if suffix == "json":
        data = json.loads(text)
        codes = {w["code"] for w in data["warnings"]}
        assert {"one_cluster", "leak"} <= codes and data["rows"][0]["silhouette"] is None
    elif suffix == "md":
        assert text.startswith("| dataset | representation | algorithm |") or "| algorithm |" in text.splitlines()[0]
        assert "**Warnings**" in text and "- leak:" in text and "—" in text  # NaN silhouette as a dash
    else:
        assert text.startswith("\\begin{tabular}{") and "\\end{tabular}" in text and "booktabs" not in text
        assert "\\_" in text and "Warning -- leak" in text and "--" in text


def test_latex_escapes_and_compiles_shape():
    from core.export import to_latex, to_markdown

    df = pd.DataFrame({"method": ["PCA & K_means 50%"], "silhouette": [0.12345], "ch": [12068.2], "k": [4]})
    tex = to_latex(df)
    assert "PCA \\& K\\_means 50\\%" in tex and "0.1235" in tex and "12068.20" in tex and " 4 \\\\" in tex
    assert tex.count("&") == 3 + 3 + 1  # header, row, escaped \&
    md = to_markdown(df)
    assert md.splitlines()[1] == "|---|---:|---:|---:|"


def test_language_detected_from_lyrics_is_a_leak_for_lyrics_representations(ds):
    ds.info["language_source"] = "detected from lyrics"
    ds.info["fingerprint"] = "fp-toy-derived"  # another dataset content: another cache key
    rep = build_representation(ds, RepresentationSpec("lyrics", {}))
    assert rep.uses_labels == frozenset({"language"})
    fus = build_representation(ds, RepresentationSpec("fusion", {"audio": {"kind": "raw", "params": {"feature": "frames"}},
                                                                 "alpha": 1.0}))
    assert "language" in fus.uses_labels
    assert build_representation(ds, RepresentationSpec("raw", {"feature": "frames"})).uses_labels == frozenset()


def test_ui_memo_lives_in_the_bounded_cache_and_forgets_by_prefix(monkeypatch):
    """The app's per-rerun memo is the one cache's "ui" namespace: bounded in bytes, peekable, forgettable."""
    from core.cache import CACHE
    from core.ui import data

    monkeypatch.setenv("SONGSCAPE_CACHE_BYTES", str(3 * 8_000_000))
    calls = []

    def big(i):
        calls.append(i)
        return np.full(1_000_000, i, dtype=np.float64)  # 8 MB each

    for i in range(4):
        assert data.memo(("features", "fp", i), lambda i=i: big(i))[0] == i
    assert data.peek(("features", "fp", 0)) is None          # the oldest went when the fourth came in
    assert data.peek(("features", "fp", 3))[0] == 3
    assert CACHE.bytes_in_memory <= 3 * 8_000_000
    data.memo(("features", "fp", 3), lambda: big(99))        # held: not recomputed
    assert calls == [0, 1, 2, 3]
    data.memo(("ksel", "fp"), lambda: {"k": np.arange(3)})
    data.forget("features")
    assert data.peek(("features", "fp", 3)) is None and data.peek(("ksel", "fp"))["k"].tolist() == [0, 1, 2]


def test_a_changed_or_unreadable_cache_file_is_rebuilt_with_a_warning():
    """An entry of the shared cache on disk whose numbers changed (or that is not a zip at all) fails its
    checksum: it is deleted, counted as rebuilt, and computed again; never served."""
    import io
    import zipfile

    from core.cache import CACHE, Entry

    calls = []

    def compute():
        calls.append(1)
        return Entry({"x": np.arange(1000, dtype=np.float64)}, {"k": 1})

    CACHE.get_or_compute("test-ns", "abc123", compute)
    path = CACHE.path("test-ns", "abc123")
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    x = np.load(io.BytesIO(members["x.npy"]))
    x[5] = 999.0                                                 # finite, plausible: only the checksum sees it
    buf = io.BytesIO()
    np.save(buf, x)
    members["x.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    CACHE.clear_memory()
    with pytest.warns(UserWarning, match="unreadable.*checksum mismatch.*rebuilt"):
        got = CACHE.get_or_compute("test-ns", "abc123", compute)
    assert got.arrays["x"][5] == 5.0 and len(calls) == 2
    assert CACHE.stats()["namespaces"]["test-ns"]["rebuilt"] == 1
    path.write_bytes(b"not a zip")
    CACHE.clear_memory()
    with pytest.warns(UserWarning, match="rebuilt"):
        CACHE.get_or_compute("test-ns", "abc123", compute)
    assert len(calls) == 3
