"""Experiments: grids, seeds summary, resume/cancel, exports, presets, β sweep, CLI.

Features and training are synthetic stand-ins (monkeypatched into core.experiments.backend) so these
tests run in seconds; clustering and metrics are the real core.cluster / core.metrics. The last test
runs a preset end to end on a tiny generated demo corpus with the real extraction and training.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.experiments import backend
from core.experiments.grid import GridSpec, RepEntry, TrainSpec, latent, run_grid, seed_agreement
from core.hashing import fingerprint

LANG = np.array(["English", "Bangla"] * 12)
GENRE = np.array(["pop", "rock", "folk", "edm"] * 6)


def make_dataset(*, lyrics: bool = True, audio: bool = True, name: str = "toy"):
    from core.datasets import Dataset
    from core.schema import normalize_tracks

    n = len(LANG)
    tracks = pd.DataFrame({
        "track_id": [f"t{i:02d}" for i in range(n)],
        "path": [f"/nowhere/t{i}.ogg" if audio else "" for i in range(n)],
        "title": [f"song {i} {'gaan' if LANG[i] == 'Bangla' else 'love'}" for i in range(n)],
        "artist": [f"artist{i % 5}" for i in range(n)],
        "language": LANG, "genre": GENRE,
        "lyrics": [("ami tomake" if LANG[i] == "Bangla" else "i love you") if lyrics else "" for i in range(n)],
    })
    if not audio:
        tracks["energy"] = np.linspace(0, 1, n)
    tracks = normalize_tracks(tracks)
    return Dataset(name=name, root=Path("/nowhere"), tracks=tracks, info={"fingerprint": fingerprint(name, lyrics, audio)},
                   skipped=[])


class Fake:
    """Synthetic features (language-structured) and 'training' that records its calls."""

    shapes = {"mfcc_stats": (80,), "spectral_stats": (12,), "tabular": (12,), "lyrics": (64,), "logmel": (16, 8),
              "mfcc_frames": (8, 12), "audio_stack": (6, 10)}

    def __init__(self):
        self.train_calls, self.cluster_calls = [], 0

    def features(self, dataset, name, **_):
        n = len(dataset.tracks)
        d = int(np.prod(self.shapes[name]))
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        lang = (dataset.tracks["language"] == "English").to_numpy(float)
        X = rng.normal(0, 0.3, (n, d))
        X[:, : max(1, d // 2)] += 3 * lang[:, None]
        valid = np.ones(n, bool)
        if name == "lyrics":
            valid = (dataset.tracks["lyrics"] != "").to_numpy()
            X[~valid] = 0
        return backend.RepData(X=X, valid=valid, fingerprint=fingerprint("fake", name, n), meta={"features": name})

    def train(self, dataset, *, model, features, model_params, config, seed, cond_column=None, **_):
        self.train_calls.append({"model": model, "features": features, "config": dict(config), "seed": seed,
                                 "cond_column": cond_column, "params": dict(model_params)})
        mid = fingerprint(model, features, model_params, config, seed, cond_column)[:12]
        return backend.TrainOut(model_id=f"{model}/{mid}", history={"warnings": []},
                                recon=1.0 / (1 + config.get("beta", 1.0)), kl=float(config.get("beta", 1.0)))

    def latents(self, model_id, dataset):
        n = len(dataset.tracks)
        rng = np.random.default_rng(int(model_id.split("/")[1], 16) % 2**32)
        lang = (dataset.tracks["language"] == "English").to_numpy(float)
        Z = rng.normal(0, 0.2, (n, 8))
        Z[:, 0] += 3 * lang
        Z[:, 7] = 0.0  # one inactive unit
        return backend.RepData(X=Z, valid=np.ones(n, bool), fingerprint=fingerprint("lat", model_id),
                               meta={"model_id": model_id})


@pytest.fixture
def fake(monkeypatch):
    f = Fake()
    real_cluster = backend.cluster

    def counting_cluster(*a, **k):
        f.cluster_calls += 1
        return real_cluster(*a, **k)

    monkeypatch.setattr(backend, "load_features", f.features)
    monkeypatch.setattr(backend, "train_model", f.train)
    monkeypatch.setattr(backend, "model_latents", f.latents)
    monkeypatch.setattr(backend, "available_features", lambda ds: list(Fake.shapes))
    monkeypatch.setattr(backend, "cluster", counting_cluster)
    return f


def small_spec(**kw) -> GridSpec:
    reps = [RepEntry("mfcc", "features", {"features": "mfcc_stats"}),
            latent("vae", TrainSpec("mlp_vae", "mfcc_stats", {"latent_dim": 8}, {"epochs": 3}))]
    base = dict(representations=reps, algorithms={"kmeans": {"n_clusters": [2, 3]}}, seeds=(0, 1),
                label_columns=("language", "genre"), baselines=False)
    base.update(kw)
    return GridSpec(**base)


# ----------------------------------------------------------------------------------------------- grid
def test_grid_rows_columns_and_values(fake):
    ds = make_dataset()
    res = run_grid(ds, small_spec())
    t = res.table
    assert len(t) == 2 * 2 * 2  # reps × k × seeds
    for col in ("representation", "algorithm", "params", "seed", "silhouette", "calinski_harabasz", "davies_bouldin",
                "ari_language", "nmi_language", "purity_language", "ari_genre", "nmi_genre", "purity_genre",
                "noise_share", "n_clusters", "seconds", "warnings"):
        assert col in t.columns
    k2 = t[t["params"] == "n_clusters=2"]
    assert np.allclose(k2["ari_language"], 1.0) and np.allclose(k2["purity_language"], 1.0)
    assert (k2["silhouette"] > 0.3).all() and (t["noise_share"] == 0).all()
    assert set(t["n_clusters"]) == {2.0, 3.0}
    # the seed reaches training: one model per seed
    assert sorted(c["seed"] for c in fake.train_calls) == [0, 1]
    assert all(c["config"]["epochs"] == 3 for c in fake.train_calls)
    s = res.summary
    assert len(s) == 4 and (s["n_seeds"] == 2).all()
    row = s[(s["representation"] == "mfcc") & (s["params"] == "n_clusters=2")].iloc[0]
    assert row["agreement_ari"] == pytest.approx(1.0)
    json.dumps(res.configs)  # JSON-able
    assert res.configs["seeds"] == [0, 1]


def test_epochs_override_and_baselines(fake):
    ds = make_dataset()
    res = run_grid(ds, small_spec(epochs=1, baselines=True, seeds=(0,)))
    reps = list(dict.fromkeys(res.table["representation"]))
    assert any(r.startswith("baseline: PCA") for r in reps)
    assert "baseline: spectral_stats + KMeans" in reps
    assert "baseline: mfcc_stats + KMeans" not in reps  # same content as the grid's own "mfcc": not repeated
    assert "baseline: autoencoder + KMeans" in reps
    base = res.table[res.table["representation"].str.startswith("baseline")]
    assert set(base["algorithm"]) == {"kmeans"}
    assert all(c["config"]["epochs"] == 1 for c in fake.train_calls)
    assert {c["model"] for c in fake.train_calls} == {"mlp_vae", "mlp_ae"}


def test_tabular_dataset_baselines_use_tabular(fake):
    ds = make_dataset(audio=False)
    res = run_grid(ds, small_spec(seeds=(0,), baselines=True))
    reps = set(res.table["representation"])
    assert "baseline: tabular + KMeans" in reps and "baseline: mfcc_stats + KMeans" not in reps


def test_summary_mean_std_hand_checked(fake, monkeypatch):
    values = {0: 0.10, 1: 0.40, 2: 0.70}

    def stub_eval(X, result, *, labels, uses_labels, seed, sample_size=None):
        k = result.n_clusters
        return backend.MetricOut(values={"silhouette": values[seed] + k, "calinski_harabasz": 10.0 * seed,
                                         "davies_bouldin": 1.0}, warnings=[])

    monkeypatch.setattr(backend, "evaluate", stub_eval)
    res = run_grid(make_dataset(), small_spec(seeds=(0, 1, 2), label_columns=("language",)))
    s = res.summary.set_index(["representation", "params"])
    r = s.loc[("mfcc", "n_clusters=3")]
    sil = [0.10 + 3, 0.40 + 3, 0.70 + 3]
    assert r["silhouette_mean"] == pytest.approx(np.mean(sil))
    assert r["silhouette_std"] == pytest.approx(np.std(sil))  # population std (ddof=0) = 0.2449…
    assert r["silhouette_std"] == pytest.approx(0.244949, abs=1e-6)
    assert r["calinski_harabasz_mean"] == pytest.approx(10.0) and r["davies_bouldin_std"] == 0.0
    assert np.isnan(r["ari_language_mean"])  # the stub gave no external metric


def test_seed_agreement():
    a = np.array([0, 0, 1, 1, 2, 2])
    assert seed_agreement([a, a.copy()]) == pytest.approx(1.0)
    assert seed_agreement([a, np.array([2, 2, 0, 0, 1, 1])]) == pytest.approx(1.0)  # renaming is agreement
    assert np.isnan(seed_agreement([a]))
    b = np.array([0, 1, 0, 1, 0, 1])
    assert seed_agreement([a, b]) < 0.1
    # rows not clustered (-2) are left out
    assert seed_agreement([np.array([0, 0, 1, 1, -2]), np.array([1, 1, 0, 0, 5])]) == pytest.approx(1.0)


def test_resume_skips_cells_and_cancel_keeps_rows(fake):
    ds = make_dataset()
    spec = small_spec()
    n_cells = 8
    res1 = run_grid(ds, spec)
    assert fake.cluster_calls == n_cells and len(fake.train_calls) == 2
    res2 = run_grid(ds, spec)
    assert fake.cluster_calls == n_cells and len(fake.train_calls) == 2  # nothing recomputed, nothing retrained
    pd.testing.assert_frame_equal(res1.table.drop(columns="seconds"), res2.table.drop(columns="seconds"))
    assert res2.configs["cached_cells"] == n_cells

    # a different grid: cancel after 3 cells, then resume
    spec3 = small_spec(algorithms={"kmeans": {"n_clusters": [4, 5]}})
    steps = []
    res3 = run_grid(ds, spec3, progress=lambda s, t, logs: steps.append(s), cancel=lambda: len(steps) >= 3)
    assert res3.cancelled and len(res3.table) == 3
    before = fake.cluster_calls
    res4 = run_grid(ds, spec3)
    assert not res4.cancelled and len(res4.table) == n_cells
    assert fake.cluster_calls - before == n_cells - 3


def test_failed_representation_is_reported_not_fatal(fake):
    ds = make_dataset()
    spec = small_spec(representations=[RepEntry("missing", "onehot", {"column": "no_such_column"}),
                                       RepEntry("mfcc", "features", {"features": "mfcc_stats"})], seeds=(0,))
    res = run_grid(ds, spec)
    bad = res.table[res.table["representation"] == "missing"]
    assert bad["silhouette"].isna().all() and bad["warnings"].str.contains("no_such_column").all()
    assert res.table[res.table["representation"] == "mfcc"]["silhouette"].notna().all()


def test_label_leak_is_flagged(fake):
    ds = make_dataset()
    spec = small_spec(representations=[RepEntry("genre onehot", "onehot", {"column": "genre"})],
                      algorithms={"kmeans": {"n_clusters": [4]}}, seeds=(0,))
    res = run_grid(ds, spec)
    row = res.table.iloc[0]
    assert row["uses_labels"] and "leak" in row["warnings"]
    assert row["ari_genre"] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------- export
def _tex_rows(tex: str) -> list[list[str]]:
    body = tex.split("\\hline")
    rows = []
    for line in tex.splitlines():
        line = line.strip()
        if line.endswith("\\\\"):
            rows.append([c.strip() for c in line[:-2].split(" & ")])
    assert body
    return rows


def test_export_grid_files_and_latex_fragment(fake, tmp_path):
    from core.experiments import export_grid

    ds = make_dataset()
    res = run_grid(ds, small_spec(representations=[RepEntry("mfcc_stats & 100% #1", "features",
                                                            {"features": "mfcc_stats"})]))
    paths = export_grid(res, tmp_path)
    names = {p.name for p in paths}
    assert names == {"grid.csv", "grid_summary.csv", "grid_summary.md", "grid_summary.tex", "grid.json"}
    tex = (tmp_path / "grid_summary.tex").read_text()
    assert tex.count("\\begin{tabular}") == 1 == tex.count("\\end{tabular}")
    assert tex.index("\\begin{tabular}") < tex.index("\\end{tabular}")
    assert re.match(r"\\begin\{tabular\}\{lllc+\}", tex)
    rows = _tex_rows(tex)
    n_cols = len(rows[0])
    assert all(len(r) == n_cols for r in rows) and len(rows) == 1 + len(res.summary)
    amp = re.compile(r"(?<!\\)&")  # unescaped column separators
    assert all(len(amp.findall(line)) == n_cols - 1 for line in tex.splitlines() if line.endswith("\\\\"))
    assert "mfcc\\_stats \\& 100\\% \\#1" in tex
    # the numbers are the CSV's, rounded
    csv = pd.read_csv(tmp_path / "grid_summary.csv")
    header = rows[0]
    sil = header.index("silhouette")
    for r, (_, c) in zip(rows[1:], csv.iterrows()):
        m = re.fullmatch(r"\$(-?\d+\.\d{3}) \\pm (\d+\.\d{3})\$", r[sil])
        assert m, r[sil]
        assert float(m.group(1)) == round(c["silhouette_mean"], 3)
        assert float(m.group(2)) == round(c["silhouette_std"], 3)
    md = (tmp_path / "grid_summary.md").read_text()
    assert md.splitlines()[1].startswith("|---") and "±" in md
    js = json.loads((tmp_path / "grid.json").read_text())
    assert js["configs"]["seeds"] == [0, 1] and len(js["rows"]) == len(res.table)
    assert js["configs"]["representations"][0]["params"] == {"features": "mfcc_stats"}
    assert len(js["configs"]["cells"]) == len(res.table)
    tidy = pd.read_csv(tmp_path / "grid.csv")
    assert len(tidy) == len(res.table) and set(tidy["seed"]) == {0, 1}


# -------------------------------------------------------------------------------------------- presets
def test_published_numbers_transcribed():
    from core.presets import PRESETS, get_preset

    assert {"report-000", "report-001", "report-002", "report-003", "report-004"} <= set(PRESETS.names())
    p0 = get_preset("report-000").published
    assert [t.caption.split(":")[0] for t in p0] == ["Table 1", "Table 2", "Table 3"]
    t1 = p0[0].frame.set_index("Method")
    assert t1.loc["KMeans", "CH"] == 1436.78 and t1.loc["DBSCAN", "ARI"] == 0.00297
    assert p0[0].text[1][0] == "0.0660"  # exactly as printed
    assert np.isnan(p0[1].frame.set_index("Method").loc["DBSCAN", "Silhouette"])
    t001 = get_preset("report-001").published[0].frame.set_index("Method")
    assert t001.loc["VAE + K-Means", "Sil."] == 0.935 and t001.loc["PCA + K-Means", "Pur."] == 0.258
    p2 = get_preset("report-002").published
    assert len(p2) == 4 and p2[0].frame["Calinski–Harabasz"].tolist() == [2927.37, 2402.93]
    assert p2[1].frame["Noise"].tolist() == [0.0, 0.0, 0.14, 0.0, 0.0]
    assert np.isnan(p2[2].frame["Sil"].iloc[2]) and p2[3].frame["Purity"].iloc[1] == 0.3185
    p3 = get_preset("report-003").published
    assert p3[1].frame["ARI (language)"].tolist() == [-0.0322, 0.0268, 0.8619, 0.7329, 0.8619]
    assert p3[2].frame["NMI (genre)"].iloc[1] == 0.4972
    p4 = get_preset("report-004").published[0].frame
    assert (p4["Purity"] == 0.5743).all() and p4["Silhouette"].max() == 0.1324 and len(p4) == 7


def _check_table_filled(table):
    """Every measured cell is a number, or NaN with the reason in the row's warnings."""
    for i in range(len(table.measured)):
        for h in table.metric_headers:
            v = table.measured.loc[i, h]
            if pd.isna(v):
                assert table.warnings[i], (table.caption, i, h)


@pytest.mark.parametrize("preset_id", ["report-000", "report-001", "report-002", "report-003", "report-004"])
def test_preset_runs_and_fills_its_tables(fake, preset_id):
    from core.presets import get_preset, run_preset

    ds = make_dataset()
    res = run_preset(ds, preset_id, epochs=2, seeds=(0, 1))
    preset = get_preset(preset_id)
    layouts = preset.table_layout(ds)
    assert len(res.tables) == len(layouts)
    for t, lay in zip(res.tables, layouts):
        assert list(t.measured.columns) == list(lay.row_header) + [h for h, _ in lay.columns]
        assert len(t.measured) == len(lay.rows)
        if t.published is not None:
            assert list(t.published.columns) == list(t.measured.columns)
        _check_table_filled(t)
        sbs = t.side_by_side()
        assert len(sbs) == len(t.measured)
    assert not res.skipped
    assert all(c["config"]["epochs"] == 2 for c in fake.train_calls)
    # well separated languages: most cells have a number
    filled = sum(t.measured[t.metric_headers].notna().to_numpy().sum() for t in res.tables)
    total = sum(t.measured[t.metric_headers].size for t in res.tables)
    assert filled / total > 0.75


def test_preset_hyperparameters_reach_training(fake):
    from core.presets import run_preset

    run_preset(make_dataset(), "report-001", seeds=(0,))
    hyb = [c for c in fake.train_calls if c["model"] == "hybrid_vae"][0]
    assert hyb["config"] == {"epochs": 100, "batch_size": 64, "lr": 5e-4, "beta": 1.0, "kl_anneal": "linear",
                             "warmup_epochs": 50, "grad_clip": 1.0}
    assert hyb["params"]["latent_dim"] == 32 and hyb["params"]["alpha_lyrics"] == 0.1
    assert hyb["features"] == ("audio_stack", "lyrics")


def test_report_004_flags_cvae_leak_and_majority_purity(fake):
    from core.presets import run_preset

    ds = make_dataset()
    res = run_preset(ds, "report-004", epochs=1, seeds=(0,))
    t = res.tables[0]
    rows = {t.measured.loc[i, "Method"]: t.warnings[i] for i in range(len(t.measured))}
    assert "leak" in rows["CVAE + K-Means"] and "leak" in rows["Multi-Modal (CVAE+Text+Artist)"]
    assert "leak" not in rows["VAE + K-Means"]
    cv = [c for c in fake.train_calls if c["model"] == "cvae"]
    assert {c["cond_column"] for c in cv} == {"language"} and {c["config"]["beta"] for c in cv} == {1.0, 4.0}


def test_preset_adapts_to_missing_lyrics(fake):
    from core.presets import run_preset

    ds = make_dataset(lyrics=False)
    res = run_preset(ds, "report-000", epochs=1, seeds=(0,))
    assert "Multimodal VAE (audio + lyrics)" in res.skipped
    t2 = res.tables[1]
    assert t2.measured[t2.metric_headers].isna().all().all()
    assert all("no lyrics" in w for w in t2.warnings)
    assert res.tables[0].measured["CH"].notna().iloc[0]
    assert not any(c["model"] == "concat_vae" for c in fake.train_calls)


def test_preset_on_tabular_dataset(fake):
    from core.presets import run_preset

    ds = make_dataset(audio=False)
    res = run_preset(ds, "report-000", epochs=1, seeds=(0,))
    assert {c["features"] for c in fake.train_calls if c["model"] == "mlp_vae"} == {"tabular"}
    assert res.tables[0].measured["Silhouette"].notna().iloc[0]
    res4 = run_preset(ds, "report-004", epochs=1, seeds=(0,))
    assert all("no audio" in w for w in res4.tables[0].warnings)


def test_export_preset_tables(fake, tmp_path):
    from core.presets import export_preset, run_preset

    res = run_preset(make_dataset(), "report-002", epochs=1, seeds=(0, 1))
    paths = export_preset(res, tmp_path)
    names = {p.name for p in paths}
    assert {"report-002_table1.csv", "report-002_table1.tex", "report-002_table4.md", "grid.json"} <= names
    tex = (tmp_path / "report-002_table2.tex").read_text()
    rows = _tex_rows(tex)
    assert rows[0][:3] == ["Representation", "Algorithm", "Params"] and "Sil (published)" in rows[0]
    assert all(len(r) == len(rows[0]) for r in rows) and len(rows) == 6
    assert rows[1][rows[0].index("Sil (published)")] == "$0.456$"


# ------------------------------------------------------------------------------------------ β sweep, CLI
def test_beta_sweep(fake):
    from core.experiments import active_units, beta_sweep

    df = beta_sweep(make_dataset(), betas=(0.1, 1, 4), config={"epochs": 2})
    assert df["beta"].tolist() == [0.1, 1.0, 4.0]
    assert df["recon"].tolist() == pytest.approx([1 / 1.1, 0.5, 0.2]) and df["kl"].tolist() == [0.1, 1.0, 4.0]
    assert (df["active_units"] == 7).all() and (df["latent_dim"] == 8).all()  # the stand-in's dim 7 is constant
    assert np.allclose(df["ari_language"], 1.0) and (df["params"] == "n_clusters=2").all()
    assert [c["config"]["beta"] for c in fake.train_calls] == [0.1, 1.0, 4.0]
    mu = np.c_[np.linspace(0, 1, 50), np.full(50, 3.0), np.linspace(0, 0.1, 50)]
    assert active_units(mu) == 1


def test_grid_cli_writes_files(fake, tmp_path, capsys):
    from core.cli import main
    from core.datasets import ImportResult, save_dataset

    ds = make_dataset()
    save_dataset("toycli", ImportResult(tracks=ds.tracks, layout="test"))
    out = tmp_path / "out"
    rc = main(["grid", "--dataset", "toycli", "--preset", "report-000", "--out", str(out), "--seeds", "0,1",
               "--epochs", "1"])
    assert rc == 0
    for name in ("grid.csv", "grid_summary.csv", "grid_summary.md", "grid_summary.tex", "grid.json",
                 "report-000_table1.csv", "report-000_table1.tex", "report-000_table3.md"):
        assert (out / name).exists(), name
    js = json.loads((out / "grid.json").read_text())
    assert js["configs"]["seeds"] == [0, 1] and js["configs"]["spec"]["epochs"] == 1
    assert str(out / "grid.csv") in capsys.readouterr().out
    assert main(["grid", "--dataset", "toycli", "--preset", "report-999", "--out", str(out)]) == 2
    with pytest.raises(SystemExit):
        main(["grid", "--dataset", "toycli", "--out", str(out), "--seeds", "a,b"])


# ------------------------------------------------------------------------------------ real end to end
@pytest.mark.slow
def test_preset_end_to_end_on_demo_corpus(tmp_path):
    """report-000 on 24 generated demo tracks × 3 s with the real extraction and training (1 epoch)."""
    features = pytest.importorskip("core.features")
    if not hasattr(features, "get_features"):
        pytest.skip("core.features.get_features not available yet")
    from core.datasets import dataset_dir, load_dataset, save_dataset
    from core.datasets.demo import generate_demo
    from core.presets import run_preset

    result = generate_demo(dataset_dir("tinydemo"), n_tracks=24, seconds=3.0, seed=0, jobs=1)
    save_dataset("tinydemo", result)
    ds = load_dataset("tinydemo")
    res = run_preset(ds, "report-000", epochs=1, seeds=(0, 1))
    assert not res.cancelled
    for t in res.tables:
        _check_table_filled(t)
    t1 = res.tables[0]
    assert t1.measured.loc[0, ["Silhouette", "CH", "DB", "ARI"]].notna().all()  # KMeans row
    assert np.isfinite(res.grid.summary["agreement_ari"]).any()


def test_preset_with_real_training(monkeypatch):
    """report-000 with the real core.training (1 epoch) on synthetic feature sets: the glue to training,
    latents, small-dataset batch capping and DBSCAN's collapse (NaN with its warning)."""
    import types

    import core.features as F
    from core.datasets import ImportResult, load_dataset, save_dataset
    from core.presets import run_preset

    fake = Fake()

    def get_features(ds, name, progress=None, cancel=None, jobs=None):
        r = fake.features(ds, name)
        return types.SimpleNamespace(name=name, X=r.X.astype(np.float32), valid=r.valid, fingerprint=r.fingerprint,
                                     track_ids=ds.tracks["track_id"].to_numpy(), config={}, errors={})

    monkeypatch.setattr(F, "get_features", get_features, raising=False)
    monkeypatch.setattr(F, "available_features", lambda ds: list(Fake.shapes), raising=False)
    save_dataset("toyreal", ImportResult(tracks=make_dataset().tracks, layout="test"))
    ds = load_dataset("toyreal")
    res = run_preset(ds, "report-000", epochs=1, seeds=(0,), baselines=False)
    assert not res.grid.table["warnings"].str.startswith("failed").any()
    for t in res.tables:
        _check_table_filled(t)
        assert t.measured.loc[0, ["Silhouette", "CH", "DB", "ARI"]].notna().all()  # KMeans rows
        assert "batch_size 64 lowered" in t.warnings[0]
    ids = set(res.grid.table["model_id"])
    assert len(ids) == 3 and all(i.startswith(("mlp_vae", "concat_vae")) for i in ids)
    from core.training import load_trained

    assert load_trained(sorted(i for i in ids if i.startswith("concat"))[0]).config["meta"]["features"] == \
        {"audio": "mfcc_stats", "lyrics": "lyrics"}
