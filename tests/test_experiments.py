"""Experiments: grids, seeds summary, resume/cancel, exports, presets, β sweep, CLI.

Every test runs the real path: representations from core.represent, real training (a few epochs),
real clustering and metrics. Most tests feed it small synthetic feature sets (language-structured,
of the real features' shapes) in place of audio extraction so they run in seconds; the first test
uses a real saved tabular dataset with no stand-in at all, and the last ones a generated demo corpus.
"""

from __future__ import annotations

import json
import re
import types
import zlib

import numpy as np
import pandas as pd
import pytest

from core.experiments.aggregate import seed_agreement
from core.experiments.grid import run_grid
from core.experiments.spec import GridSpec, RepEntry, TrainSpec, latent
from core.hashing import fingerprint

LANG = np.array(["English", "Bangla"] * 12)
GENRE = np.array(["pop", "rock", "folk", "edm"] * 6)


def make_dataset(*, lyrics: bool = True, audio: bool = True, name: str = "toy"):
    from core.datasets import ImportResult, load_dataset, save_dataset

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
    name = f"{name}{'' if lyrics else '_nolyr'}{'' if audio else '_tab'}"
    save_dataset(name, ImportResult(tracks=tracks, layout="test"))
    return load_dataset(name)


class Fake:
    """Synthetic feature sets (language-structured, the real features' shapes) instead of audio extraction;
    records the real training calls and counts the real clustering calls."""

    shapes = {"mfcc_stats": (80,), "spectral_stats": (15,), "tabular": (12,), "lyrics": (64,), "logmel": (128, 256),
              "mfcc_frames": (40, 430), "audio_stack": (39, 130)}

    def __init__(self):
        self.train_calls, self.cluster_calls = [], 0

    def features(self, dataset, name, **_):
        n = len(dataset.tracks)
        shape = self.shapes[name]
        d = int(np.prod(shape))
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        lang = (dataset.tracks["language"] == "English").to_numpy(float)
        X = rng.normal(0, 0.3, (n, d)).astype(np.float32)
        X[:, : max(1, d // 2)] += 3 * lang[:, None]
        valid = np.ones(n, bool)
        if name == "lyrics":
            valid = (dataset.tracks["lyrics"] != "").to_numpy()
            X[~valid] = 0
        return types.SimpleNamespace(name=name, X=X.reshape((n,) + shape), valid=valid,
                                     track_ids=dataset.tracks["track_id"].to_numpy(), config={}, errors={},
                                     fingerprint=fingerprint("fake", name, n, dataset.fingerprint))


@pytest.fixture
def fake(monkeypatch):
    import core.cluster as C
    import core.features as F
    import core.training as T

    f = Fake()
    real_cluster, real_train = C.cluster_rows, T.train_on_dataset

    def counting_cluster(*a, **k):
        f.cluster_calls += 1
        return real_cluster(*a, **k)

    def recording_train(*, dataset, model, features=None, model_params=None, config=None, cond_column=None, **kw):
        f.train_calls.append({"model": model, "features": tuple(features.values()) if len(features) > 1
                              else next(iter(features.values())), "config": config, "seed": config.seed,
                              "cond_column": cond_column, "params": dict(model_params or {})})
        return real_train(dataset=dataset, model=model, features=features, model_params=model_params, config=config,
                          cond_column=cond_column, **kw)

    monkeypatch.setattr(F, "get_features", f.features)
    monkeypatch.setattr(F, "available_features", lambda ds: [n for n in Fake.shapes if n != "lyrics" or
                                                              (ds.tracks["lyrics"] != "").sum() >= 2])
    monkeypatch.setattr(C, "cluster_rows", counting_cluster)
    monkeypatch.setattr(T, "train_on_dataset", recording_train)
    return f


def test_grid_real_path_raw_pca_latent_every_clusterer():
    """No stand-in at all: a saved tabular dataset, real features, real training, every clusterer."""
    from core.cluster import CLUSTERERS
    from core.datasets import ImportResult, load_dataset, save_dataset
    from core.represent import RepresentationSpec

    rng = np.random.default_rng(0)
    n = 60
    lang = np.where(np.arange(n) % 2 == 0, "English", "Bangla")
    cols = {f"f{j}": rng.normal(0, 1, n) + (4.0 if j < 4 else 0.0) * (lang == "English") for j in range(8)}
    tracks = pd.DataFrame({"track_id": [f"r{i}" for i in range(n)], "title": [f"s{i}" for i in range(n)],
                           "language": lang, "genre": np.where(np.arange(n) % 3 == 0, "pop", "rock"), **cols})
    save_dataset("realtab", ImportResult(tracks=tracks, layout="tabular"))
    ds = load_dataset("realtab")
    reps = [RepresentationSpec("raw", {"feature": "tabular"}),
            RepresentationSpec("pca", {"feature": "tabular", "n_components": 4}),
            latent("MLP VAE", TrainSpec("mlp_vae", "tabular", {"latent_dim": 4, "hidden": "32"},
                                        {"epochs": 15, "batch_size": 16}))]
    algs = {}
    for name, spec in CLUSTERERS.items():
        algs[name] = {spec.k_param: [2]} if spec.k_param else (
            {"eps": ["auto"], "min_samples": [5]} if name == "dbscan" else {"min_cluster_size": ["auto"]})
    res = run_grid(ds, GridSpec(representations=reps, algorithms=algs, seeds=(0,), baselines=False,
                                label_columns=("language",)))
    t = res.table
    assert len(t) == 3 * len(CLUSTERERS) and not t["warnings"].str.startswith("failed").any(), t["warnings"].tolist()
    assert np.isfinite(t[["silhouette", "ari_language", "nmi_language", "purity_language"]].to_numpy(float)).all()
    kmeans_raw = t[(t["algorithm"] == "kmeans") & t["representation"].str.startswith("raw")].iloc[0]
    assert kmeans_raw["ari_language"] == pytest.approx(1.0)
    assert t["model_id"].str.startswith("mlp_vae/").sum() == len(CLUSTERERS)


def small_spec(**kw) -> GridSpec:
    reps = [RepEntry("mfcc", "raw", {"feature": "mfcc_stats"}),
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
    assert all(c["config"].epochs == 3 for c in fake.train_calls)
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
    assert all(c["config"].epochs == 1 for c in fake.train_calls)
    assert {c["model"] for c in fake.train_calls} == {"mlp_vae", "mlp_ae"}


def test_tabular_dataset_baselines_use_tabular(fake):
    ds = make_dataset(audio=False)
    res = run_grid(ds, small_spec(seeds=(0,), baselines=True))
    reps = set(res.table["representation"])
    assert "baseline: tabular + KMeans" in reps and "baseline: mfcc_stats + KMeans" not in reps


def test_summary_mean_std_hand_checked():
    from core.experiments.aggregate import metric_columns, summarize

    cols = metric_columns(("language",))
    rows = []
    for seed, sil in enumerate((3.10, 3.40, 3.70)):
        row = {c: np.nan for c in cols}
        row.update(representation="mfcc", algorithm="kmeans", params="n_clusters=3", seed=seed, silhouette=sil,
                   calinski_harabasz=10.0 * seed, davies_bouldin=1.0, warnings="", uses_labels=False)
        rows.append(row)
    s = summarize(pd.DataFrame(rows), ("language",))
    r = s.iloc[0]
    assert r["silhouette_mean"] == pytest.approx(3.4)
    assert r["silhouette_std"] == pytest.approx(0.244949, abs=1e-6)  # population std (ddof=0)
    assert r["calinski_harabasz_mean"] == pytest.approx(10.0) and r["davies_bouldin_std"] == 0.0
    assert np.isnan(r["ari_language_mean"])


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
                                       RepEntry("mfcc", "raw", {"feature": "mfcc_stats"})], seeds=(0,))
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
    res = run_grid(ds, small_spec(representations=[RepEntry("mfcc_stats & 100% #1", "raw", {"feature": "mfcc_stats"})],
                                  algorithms={"kmeans": {"n_clusters": [2]},
                                              "dbscan": {"eps": [1e-6], "min_samples": [3]}}))  # all noise
    paths = export_grid(res, tmp_path)
    names = {p.name for p in paths}
    assert names == {"grid.csv", "grid_summary.csv", "grid_summary.md", "grid_summary.tex", "grid_summary.html",
                     "grid_summary.json"}
    tex = (tmp_path / "grid_summary.tex").read_text()
    assert tex.count("\\begin{tabular}") == 1 == tex.count("\\end{tabular}")
    rows = _tex_rows(tex)
    n_cols = len(rows[0])
    assert all(len(r) == n_cols for r in rows) and len(rows) == 1 + len(res.summary)
    amp = re.compile(r"(?<!\\)&")  # unescaped column separators
    assert all(len(amp.findall(line)) == n_cols - 1 for line in tex.splitlines() if line.endswith("\\\\"))
    assert "mfcc\\_stats \\& 100\\% \\#1" in tex
    # the numbers are the CSV's, rounded; ± only because there are two seeds
    csv = pd.read_csv(tmp_path / "grid_summary.csv")
    header = rows[0]
    sil = header.index("silhouette")
    km = [r for r in rows[1:] if r[1] == "kmeans"][0]
    kc = csv[csv["algorithm"] == "kmeans"].iloc[0]
    m = re.fullmatch(r"(-?\d+\.\d{3}) \$\\pm\$ (\d+\.\d{3})", km[sil])
    assert m, km[sil]
    assert float(m.group(1)) == round(kc["silhouette_mean"], 3) and float(m.group(2)) == round(kc["silhouette_std"], 3)
    # the all-noise cell: undefined scores are '—'/'--' (never 0.000), flagged, and its warning is in every format
    db = [r for r in rows[1:] if r[1] == "dbscan"][0]
    assert db[header.index("nmi\\_language")] == "--" and db[header.index("purity\\_language")] == "--"
    for name in ("grid_summary.md", "grid_summary.tex", "grid_summary.html", "grid_summary.json", "grid_summary.csv",
                 "grid.csv"):
        assert "all_noise" in (tmp_path / name).read_text().replace("\\_", "_"), name
    md = (tmp_path / "grid_summary.md").read_text()
    assert "†" in md and "±" in md and "— | — | —" in md.split("dbscan")[1].split("\n")[0]
    assert "&lt;" not in md and "<script" not in (tmp_path / "grid_summary.html").read_text()
    js = json.loads((tmp_path / "grid_summary.json").read_text())
    assert js["configs"]["seeds"] == [0, 1] and len(js["tidy_rows"]) == len(res.table)
    assert js["configs"]["representations"][0]["params"] == {"feature": "mfcc_stats"}
    assert any("all_noise" in w["message"] for w in js["warnings"])
    tidy = pd.read_csv(tmp_path / "grid.csv")
    assert len(tidy) == len(res.table) and set(tidy["seed"]) == {0, 1}


def test_one_seed_has_no_plus_minus(fake, tmp_path):
    from core.experiments import export_grid

    res = run_grid(make_dataset(), small_spec(representations=[RepEntry("mfcc", "raw", {"feature": "mfcc_stats"})],
                                              seeds=(0,)))
    export_grid(res, tmp_path, formats=("md",))
    assert "±" not in (tmp_path / "grid_summary.md").read_text().split("**Warnings**")[0]


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
    assert all(c["config"].epochs == 2 for c in fake.train_calls)
    # every cell of a k-based row has a number (DBSCAN at the reports' fixed eps may find one cluster: NaN, said)
    for t, lay in zip(res.tables, layouts):
        for i, row in enumerate(lay.rows):
            if row.algorithm != "dbscan" and "figure" not in lay.caption.lower():
                assert t.measured.loc[i, t.metric_headers].notna().all(), (t.caption, i, t.warnings[i])


def test_preset_hyperparameters_reach_training(fake):
    from core.presets import get_preset, run_preset

    grid = get_preset("report-001").grid(make_dataset(), seeds=(0,))
    hyb_spec = next(e.train for e in grid.entries() if e.train is not None and e.train.model == "hybrid_vae")
    assert dict(hyb_spec.config) == {"epochs": 100, "batch_size": 64, "lr": 5e-4, "beta": 1.0, "kl_anneal": "linear",
                                     "warmup_epochs": 50, "grad_clip": 1.0}
    run_preset(make_dataset(), "report-001", seeds=(0,), epochs=1)
    hyb = [c for c in fake.train_calls if c["model"] == "hybrid_vae"][0]
    cfg = hyb["config"]
    assert (cfg.epochs, cfg.lr, cfg.beta, cfg.kl_anneal, cfg.warmup_epochs, cfg.grad_clip) == \
        (1, 5e-4, 1.0, "linear", 50, 1.0)
    assert cfg.batch_size == 22  # 64 lowered to the 22 training rows of this small dataset
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
    assert {c["cond_column"] for c in cv} == {"language"} and {c["config"].beta for c in cv} == {1.0, 4.0}


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
    assert {"report-002_table1.csv", "report-002_table1.tex", "report-002_table4.md", "grid_summary.json",
            "report-002_table2.html"} <= names
    tex = (tmp_path / "report-002_table2.tex").read_text()
    rows = _tex_rows(tex)
    assert rows[0][:3] == ["Representation", "Algorithm", "Params"] and "Sil (published)" in rows[0]
    assert all(len(r) == len(rows[0]) for r in rows) and len(rows) == 6
    assert rows[1][rows[0].index("Sil (published)")] == "0.4562"
    md = (tmp_path / "report-002_table1.md").read_text()
    # the caption describes the user's data and quotes the paper's own caption as published on other data
    assert "Measured on dataset 'toy' (N=24" in md and "Published on the authors' data" in md
    assert "Qaiyum" in md and "BanglaBeats+GTZAN" in md.split("Published on")[1]


# ------------------------------------------------------------------------------------------ β sweep, CLI
def test_beta_sweep(fake):
    from core.cluster import CLUSTERERS
    from core.experiments import active_units, beta_sweep

    ds = make_dataset()
    df = beta_sweep(ds, betas=(0.1, 4), config={"epochs": 4}, model_params={"latent_dim": 8, "hidden": "32"})
    assert df["beta"].tolist() == [0.1, 4.0]
    assert np.isfinite(df["recon"]).all() and df["kl"].iloc[1] < df["kl"].iloc[0]  # a larger β squeezes the KL
    assert (df["active_units"] <= 8).all() and (df["latent_dim"] == 8).all()
    assert (df["params"] == "n_clusters=2").all() and np.isfinite(df["ari_language"]).all()
    assert [c["config"].beta for c in fake.train_calls] == [0.1, 4.0]
    for alg, spec in CLUSTERERS.items():  # every clusterer, with its own k parameter (or data-derived defaults)
        params = None if spec.k_param else ({"eps": "auto"} if alg == "dbscan" else {"min_cluster_size": "auto"})
        out = beta_sweep(ds, betas=(0.1,), config={"epochs": 4}, model_params={"latent_dim": 8, "hidden": "32"},
                         algorithm=alg, params=params)
        assert len(out) == 1 and not out["warnings"].iloc[0].startswith("failed"), (alg, out["warnings"].iloc[0])
        if spec.k_param:
            assert out["params"].iloc[0] == f"{spec.k_param}=2"
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
    for name in ("grid.csv", "grid_summary.csv", "grid_summary.md", "grid_summary.tex", "grid_summary.json",
                 "report-000_table1.csv", "report-000_table1.tex", "report-000_table3.md"):
        assert (out / name).exists(), name
    js = json.loads((out / "grid_summary.json").read_text())
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


def test_grid_cli_runs_a_spec_file(fake, tmp_path, capsys):
    from core.cli import main

    make_dataset(name="specds")
    spec = tmp_path / "grid.yaml"
    spec.write_text("""
representations:
  - {label: "PCA-4", kind: pca, params: {feature: mfcc_stats, n_components: 4}}
  - {label: "UMAP-3 of PCA", kind: umap, params: {base: {kind: pca, params: {feature: mfcc_stats}}, n_components: 3,
     n_neighbors: 5}}
algorithms: {kmeans: {n_clusters: [2]}, hdbscan: {min_cluster_size: [auto]}}
seeds: [0]
labels: [language]
baselines: false
""")
    out = tmp_path / "out"
    assert main(["grid", "--dataset", "specds", "--spec", str(spec), "--out", str(out), "--quiet"]) == 0
    summary = pd.read_csv(out / "grid_summary.csv")
    assert set(summary["representation"]) == {"PCA-4", "UMAP-3 of PCA"} and len(summary) == 4
    km = summary[(summary["representation"] == "PCA-4") & (summary["algorithm"] == "kmeans")].iloc[0]
    assert km["ari_language_mean"] == pytest.approx(1.0)
    assert "genre" not in " ".join(summary.columns)  # only the labels asked for
    bad = tmp_path / "bad.yaml"
    bad.write_text("representations: [{kind: pca}]\n")  # no algorithms
    assert main(["grid", "--dataset", "specds", "--spec", str(bad), "--out", str(out)]) == 2
    assert "algorithms" in capsys.readouterr().err


def test_select_k_cli_writes_curves_and_suggests(fake, tmp_path, capsys):
    from core.cli import main

    make_dataset(name="kds")
    out = tmp_path / "k"
    assert main(["select-k", "--dataset", "kds", "--representation", "pca", "--feature", "mfcc_stats",
                 "--n-components", "4", "--k-max", "6", "--out", str(out)]) == 0
    curves = pd.read_csv(out / "select_k.csv")
    assert curves["k"].tolist() == [2, 3, 4, 5, 6] and (out / "select_k.png").read_bytes()[:4] == b"\x89PNG"
    assert "suggested n_clusters = 2" in capsys.readouterr().out  # two well separated languages
    assert main(["select-k", "--dataset", "kds", "--representation", "pca", "--feature", "mfcc_stats",
                 "--algorithm", "dbscan", "--min-samples", "4", "--out", str(out)]) == 0
    assert (out / "k_distance.png").exists() and "suggested eps" in capsys.readouterr().out
