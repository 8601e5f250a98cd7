"""Report presets: each of the five reports (../shared/papers 000–004) as a grid plus its own tables.

A preset knows the report's features, models, hyperparameters, algorithms and k, adapts them to what a
dataset has (no lyrics → lyrics models skipped; no audio → tabular features), lays the grid's numbers
out as the report's tables, and carries the report's published numbers (transcribed as printed) to
show side by side. ``run_preset(dataset, "report-002")`` runs it.

Where a report leaves a setting open, the choice made here is written in the table's ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import ParameterError
from core.experiments.grid import (
    DEFAULT_SEEDS, DatasetCaps, GridResult, GridSpec, RepEntry, TrainSpec, dataset_caps, latent, lookup, run_grid,
)
from core.registry import Registry

K = "kmeans"
AG = "agglomerative"
DB = "dbscan"

SIL, CH, DBI, NOISE = "silhouette", "calinski_harabasz", "davies_bouldin", "noise_share"


def ari(c): return f"ari_{c}"
def nmi(c): return f"nmi_{c}"
def pur(c): return f"purity_{c}"


# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One row of a report table: its printed text cells and the grid cell it reads."""

    cells: tuple[str, ...]
    rep: str
    algorithm: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class TableLayout:
    """A report table: caption, text header(s), rows, (printed header, metric key) columns and the
    published numbers as printed ('NaN' / '—' for undefined), one tuple per row; None = no published table."""

    caption: str
    row_header: tuple[str, ...]
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, str], ...]
    published: tuple[tuple[str, ...], ...] | None = None
    notes: tuple[str, ...] = ()

    def published_frame(self) -> pd.DataFrame | None:
        if self.published is None:
            return None
        data = {h: [r.cells[i] for r in self.rows] for i, h in enumerate(self.row_header)}
        for j, (h, _) in enumerate(self.columns):
            data[h] = [_num(p[j]) for p in self.published]
        return pd.DataFrame(data)


def _num(s: str) -> float:
    s = str(s).strip().replace("−", "-")
    if s in ("", "NaN", "nan", "—", "-", "--"):
        return float("nan")
    return float(s)


@dataclass(frozen=True)
class PresetOptions:
    epochs: int | None = None
    seeds: tuple[int, ...] = DEFAULT_SEEDS


@dataclass
class Plan:
    """What a preset builds for one dataset."""

    representations: list[RepEntry]
    algorithms: dict
    label_columns: tuple[str, ...]
    tables: list[TableLayout]
    skipped: dict[str, str] = field(default_factory=dict)  # representation label -> why it was skipped


@dataclass(frozen=True)
class PublishedTable:
    caption: str
    frame: pd.DataFrame
    text: tuple[tuple[str, ...], ...]  # the numbers exactly as printed


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    description: str
    report: str
    plan: Callable[[DatasetCaps], Plan]

    def grid(self, dataset, *, epochs: int | None = None, seeds: Sequence[int] = DEFAULT_SEEDS,
             baselines: bool = True) -> GridSpec:
        p = self.plan(dataset_caps(dataset))
        return GridSpec(representations=p.representations, algorithms=p.algorithms, seeds=tuple(int(s) for s in seeds),
                        label_columns=p.label_columns, baselines=baselines, epochs=epochs)

    def table_layout(self, dataset=None) -> list[TableLayout]:
        return self.plan(dataset_caps(dataset) if dataset is not None else REPORT_CAPS).tables

    @property
    def published(self) -> list[PublishedTable]:
        return [PublishedTable(t.caption, t.published_frame(), t.published)
                for t in self.plan(REPORT_CAPS).tables if t.published is not None]


PRESETS: Registry[Preset] = Registry("preset")

# What the reports' own datasets had: audio, lyrics, language and genre labels.
REPORT_CAPS = DatasetCaps(has_audio=True, has_lyrics=True, has_tabular=False, labels=("language", "genre"),
                          n_classes={"language": 2, "genre": 6}, n_tracks=1000)


def _k(caps: DatasetCaps, col: str, default: int) -> int:
    """k = number of classes of ``col`` in the dataset, else the report's value; at most n_tracks - 1."""
    k = caps.n_classes.get(col, default) or default
    return int(max(2, min(k, max(2, caps.n_tracks - 1))))


def _cap(k: int, caps: DatasetCaps) -> int:
    return int(max(2, min(k, max(2, caps.n_tracks - 1))))


# ----------------------------------------------------------------------------------------------
# report 000
def _plan_000(caps: DatasetCaps) -> Plan:
    feat = "mfcc_stats" if caps.has_audio else "tabular"
    cfg = {"epochs": 50, "batch_size": 64, "lr": 1e-3}
    mlp = {"latent_dim": 16, "hidden": "256-128"}
    vae = latent("VAE (latent 16)", TrainSpec("mlp_vae", feat, mlp, {**cfg, "beta": 1.0}))
    mm = latent("Multimodal VAE (audio + lyrics)", TrainSpec("concat_vae", (feat, "lyrics"), {"latent_dim": 16, "hidden": "512-256-128"},
                                                             {**cfg, "beta": 1.0}))
    beta = latent("Beta-VAE (β=4)", TrainSpec("mlp_vae", feat, mlp, {**cfg, "beta": 4.0}))
    skipped: dict[str, str] = {}
    if not caps.has_lyrics:
        skipped[mm.label] = "skipped: the dataset has no lyrics (the multimodal VAE needs them)"
    reps = [r for r in (vae, mm, beta) if r.label not in skipped]
    k = _cap(10, caps)
    algs = {K: {"n_clusters": [k]}, AG: {"n_clusters": [k]}, DB: {"eps": [1.5], "min_samples": [10]}}
    cols = (("Silhouette", SIL), ("CH", CH), ("DB", DBI), ("ARI", ari("language")))
    notes = (f"features: {feat} (report: 12 standardized Spotify audio features)",
             "epochs 50 (the report does not state them)", "ARI against language labels")

    def rows(rep):
        return (Row(("KMeans",), rep, K, {"n_clusters": k}), Row(("Agglomerative",), rep, AG, {"n_clusters": k}),
                Row(("DBSCAN",), rep, DB, {"eps": 1.5, "min_samples": 10}))

    tables = [
        TableLayout("Table 1: Clustering results on baseline VAE latent space.", ("Method",), rows(vae.label), cols,
                    (("0.114", "1436.78", "1.85", "0.0003"), ("0.0660", "1066.40", "2.29", "0.0012"),
                     ("0.1742", "126.99", "2.7316", "0.00297")), notes),
        TableLayout("Table 2: Clustering results on multimodal VAE latent space.", ("Method",), rows(mm.label), cols,
                    (("-0.0357", "43.54", "13.3116", "-0.01086"), ("-0.0278", "17.90", "27.6001", "0.00110"),
                     ("NaN", "NaN", "NaN", "0.00000")),
                    notes + ("report: audio + 5000-D lyrics TF-IDF concatenated; here the 64-D lyrics embedding",)),
        TableLayout("Table 3: Clustering results on Beta-VAE latent space.", ("Method",), rows(beta.label), cols,
                    (("0.017964", "490.16", "6.365678", "-0.010856"), ("0.015191", "490.283066", "6.347783", "-0.011217"),
                     ("NaN", "NaN", "NaN", "0.000000")), notes),
    ]
    return Plan(reps, algs, ("language",), tables, skipped)


# ----------------------------------------------------------------------------------------------
# report 001
def _plan_001(caps: DatasetCaps) -> Plan:
    hyb = latent("Hybrid β-VAE (latent 32)", TrainSpec(
        "hybrid_vae", ("audio_stack", "lyrics"),
        {"latent_dim": 32, "audio_channels": "32-64-128", "lyrics_hidden": "64-32", "alpha_audio": 1.0,
         "alpha_lyrics": 0.1},
        {"epochs": 100, "batch_size": 64, "lr": 5e-4, "beta": 1.0, "kl_anneal": "linear", "warmup_epochs": 50,
         "grad_clip": 1.0}))
    pca = RepEntry("PCA-32", "pca", {"feature": "audio_stack", "n_components": 32}, algorithms=(K,))
    skipped: dict[str, str] = {}
    if not caps.has_audio:
        skipped[hyb.label] = skipped[pca.label] = "skipped: the dataset has no audio (needs MFCC+chroma+contrast 39×130)"
    elif not caps.has_lyrics:
        skipped[hyb.label] = "skipped: the dataset has no lyrics (the hybrid VAE needs them)"
    reps = [r for r in (hyb, pca) if r.label not in skipped]
    ks = [k for k in range(2, 11) if k < max(3, caps.n_tracks)]
    algs = {K: {"n_clusters": ks}, AG: {"n_clusters": [4]}}
    g = "genre"
    cols = (("Sil.", SIL), ("CH", CH), ("DB", DBI), ("ARI", ari(g)), ("NMI", nmi(g)), ("Pur.", pur(g)))
    notes = ("α_a = 1, α_t = 0.1; β annealed 0→1 over 50 epochs; gradient clipping 1.0",
             "external metrics against genre")
    tables = [
        TableLayout("Table 2: Clustering evaluation results", ("Method",), (
            Row(("VAE + K-Means",), hyb.label, K, {"n_clusters": 4}),
            Row(("VAE + Agglo.",), hyb.label, AG, {"n_clusters": 4}),
            Row(("PCA + K-Means",), pca.label, K, {"n_clusters": 4})), cols,
            (("0.935", "12068", "0.225", "0.004", "0.018", "0.225"),
             ("0.889", "9856", "0.287", "0.003", "0.015", "0.218"),
             ("0.174", "210", "2.497", "0.010", "0.022", "0.258")), notes),
        TableLayout("Figure 3: Cluster selection (K-Means on the hybrid latent space); the report picks K=4.",
                    ("K",), tuple(Row((str(k),), hyb.label, K, {"n_clusters": k}) for k in ks),
                    (("Silhouette", SIL), ("Calinski-Harabasz", CH), ("Davies-Bouldin", DBI)), None,
                    ("a figure in the report: no numbers were printed",)),
    ]
    return Plan(reps, algs, (g,), tables, skipped)


# ----------------------------------------------------------------------------------------------
# report 002
def _plan_002(caps: DatasetCaps) -> Plan:
    feat = "mfcc_stats" if caps.has_audio else "tabular"
    mlp = latent("VAE latent (16D)", TrainSpec("mlp_vae", feat, {"latent_dim": 16, "hidden": "256-128"},
                                               {"epochs": 50, "batch_size": 64, "lr": 1e-3, "beta": 1.0}),
                 algorithms=(K,))
    pca = RepEntry("PCA (16D)", "pca", {"feature": feat, "n_components": 16}, algorithms=(K,))
    conv = latent("Audio latent (32D)", TrainSpec("conv2d_vae", "logmel", {"latent_dim": 32},
                                                  {"epochs": 25, "batch_size": 32, "lr": 1e-3, "beta": 1.0}))
    lyr = RepEntry("Lyrics embedding (64D)", "lyrics", {"feature": "lyrics"})
    fused = RepEntry("Fused (α=0.25)", "concat", parts=(conv, lyr), weights=(1.0, 0.25))
    bvae = latent("β-VAE audio latent (32D, β=2)", TrainSpec("conv2d_vae", "logmel", {"latent_dim": 32},
                                                            {"epochs": 20, "batch_size": 32, "lr": 1e-3, "beta": 2.0}))
    bfused = RepEntry("β-VAE fused (α=2.0)", "concat", parts=(bvae, lyr), weights=(1.0, 2.0))
    skipped: dict[str, str] = {}
    if not caps.has_audio:
        for r in (conv, fused, bfused):
            skipped[r.label] = "skipped: the dataset has no audio (needs log-mel 128×256)"
    elif not caps.has_lyrics:
        for r in (fused, bfused):
            skipped[r.label] = "skipped: the dataset has no lyrics (fusion needs them)"
    reps = [r for r in (mlp, pca, conv, fused, bfused) if r.label not in skipped]
    k12 = _cap(12, caps)
    algs = {K: {"n_clusters": sorted({2, 4, k12})}, AG: {"n_clusters": sorted({4, k12})},
            DB: {"eps": [1.2, 1.5], "min_samples": [10, 20]}}
    t3_cols = lambda c: (("Sil", SIL), ("DB", DBI), ("NMI", nmi(c)), ("ARI", ari(c)), ("Purity", pur(c)))  # noqa: E731
    db12 = {"eps": 1.2, "min_samples": 10}
    tables = [
        TableLayout("Table 1: MFCC clustering on BanglaBeats+GTZAN (k = 2): VAE latents vs. PCA baseline.", ("Method",), (
            Row(("VAE latent (16D) + K-Means",), mlp.label, K, {"n_clusters": 2}),
            Row(("PCA (16D) + K-Means",), pca.label, K, {"n_clusters": 2})),
            (("Silhouette", SIL), ("Calinski–Harabasz", CH)),
            (("0.2367", "2927.37"), ("0.1833", "2402.93")), (f"features: {feat} (MFCC mean+std, 80-D)",)),
        TableLayout("Table 2: JamendoLyrics clustering (N=2924 for full coverage): audio-only vs. fused audio+lyrics.",
                    ("Representation", "Algorithm", "Params"), (
                        Row(("Audio latent (32D)", "K-Means", "k = 4"), conv.label, K, {"n_clusters": 4}),
                        Row(("Audio latent (32D)", "Aggro", "k = 4"), conv.label, AG, {"n_clusters": 4}),
                        Row(("Audio latent (32D)", "DBSCAN", "eps=1.5, ms=20"), conv.label, DB,
                            {"eps": 1.5, "min_samples": 20}),
                        Row(("Fused (α = 0.25)", "K-Means", "k = 4"), fused.label, K, {"n_clusters": 4}),
                        Row(("Fused (α = 0.25)", "Aggro", "k = 4"), fused.label, AG, {"n_clusters": 4})),
                    (("Sil", SIL), ("DB", DBI), ("Noise", NOISE)),
                    (("0.4562", "0.9365", "0.00"), ("0.4393", "0.8935", "0.00"), ("0.5582", "0.5387", "0.14"),
                     ("0.3908", "1.0319", "0.00"), ("0.3712", "0.9925", "0.00")),
                    ("fusion: [z_audio, α·e_lyrics], each part standardized",)),
        TableLayout("Table 3: Fused embedding vs. language labels (k = 4, N=945).", ("Algorithm", "Params"), (
            Row(("K-Means", "k = 4"), bfused.label, K, {"n_clusters": 4}),
            Row(("Agglo", "k = 4"), bfused.label, AG, {"n_clusters": 4}),
            Row(("DBSCAN", "eps=1.2, ms=10"), bfused.label, DB, db12)), t3_cols("language"),
            (("0.0299", "3.8111", "0.0863", "0.0108", "0.3429"), ("0.1216", "2.2800", "0.0231", "0.0002", "0.2730"),
             ("—", "—", "0.0000", "0.0000", "0.2540")), ("β-VAE β = 2, 20 epochs; lyrics weight α = 2.0",)),
        TableLayout("Table 4: Fused embedding vs. genre labels (k = 12, N=945).", ("Algorithm", "Params"), (
            Row(("K-Means", "k = 12"), bfused.label, K, {"n_clusters": k12}),
            Row(("Agglo", "k = 12"), bfused.label, AG, {"n_clusters": k12}),
            Row(("DBSCAN", "eps=1.2, ms=10"), bfused.label, DB, db12)), t3_cols("genre"),
            (("0.0287", "3.0691", "0.0782", "0.0070", "0.2931"), ("0.1072", "1.0069", "0.0963", "0.0022", "0.3185"),
             ("—", "—", "0.0000", "0.0000", "0.2794")),
            ("β-VAE β = 2, 20 epochs; lyrics weight α = 2.0",) + ((f"k capped at {k12} (dataset size)",) if k12 != 12 else ())),
    ]
    return Plan(reps, algs, ("language", "genre"), tables, skipped)


# ----------------------------------------------------------------------------------------------
# report 003
def _plan_003(caps: DatasetCaps) -> Plan:
    easy_feat = "mfcc_stats" if caps.has_audio else "tabular"
    spec_feat = "spectral_stats" if caps.has_audio else "tabular"
    cfg = {"epochs": 400, "batch_size": 32, "lr": 1e-3}
    easy = latent("VAE (dim=8)", TrainSpec("mlp_vae", easy_feat, {"latent_dim": 8}, {**cfg, "beta": 1.0}),
                  algorithms=(K,))
    easy_pca = RepEntry("PCA (dim=8)", "pca", {"feature": easy_feat, "n_components": 8}, algorithms=(K,))
    meanmel = RepEntry("Audio baseline (mean-mel)", "time_mean", {"feature": "logmel"})
    conv = latent("Audio Conv-VAE latent", TrainSpec("conv2d_vae", "logmel", {"latent_dim": 16}, {**cfg, "beta": 1.0}))
    lyr = RepEntry("Lyrics SVD embedding", "lyrics", {"feature": "lyrics"})
    hyb3 = RepEntry("Hybrid (α=0.3 audio+lyrics)", "concat", parts=(conv, lyr), weights=(0.3, 0.7))
    hyb1 = RepEntry("Hybrid (α≈0.1 audio+lyrics)", "concat", parts=(conv, lyr), weights=(0.1, 0.9))
    pca16 = RepEntry("Spectral PCA16", "pca", {"feature": spec_feat, "n_components": 16})
    bvae = latent("Beta-VAE audio latent", TrainSpec("conv2d_vae", "logmel", {"latent_dim": 16}, {**cfg, "beta": 0.1}))
    ae = latent("AE audio latent", TrainSpec("conv2d_ae", "logmel", {"latent_dim": 16}, {**cfg, "beta": 0.0}))
    hybh = RepEntry("Hybrid audio+lyrics", "concat", parts=(bvae, lyr), weights=(0.3, 0.7))
    leak = RepEntry("Hybrid audio+lyrics+genre one-hot", "concat",
                    parts=(bvae, lyr, RepEntry("genre one-hot", "onehot", {"column": "genre"})), weights=(0.3, 0.7, 1.0))
    skipped: dict[str, str] = {}
    if not caps.has_audio:
        for r in (meanmel, conv, hyb3, hyb1, bvae, ae, hybh, leak):
            skipped[r.label] = "skipped: the dataset has no audio (needs log-mel spectrograms)"
    if not caps.has_lyrics:
        for r in (lyr, hyb3, hyb1, hybh, leak):
            skipped.setdefault(r.label, "skipped: the dataset has no lyrics")
    if "genre" not in caps.labels:
        skipped.setdefault(leak.label, "skipped: the dataset has no genre labels")
    reps = [r for r in (easy, easy_pca, meanmel, conv, lyr, hyb3, hyb1, pca16, bvae, ae, hybh, leak)
            if r.label not in skipped]
    kl, kg = _k(caps, "language", 2), _k(caps, "genre", 4)
    algs = {K: {"n_clusters": sorted({2, kl, kg})}, AG: {"n_clusters": sorted({kl, kg})}}
    L, G = "language", "genre"
    notes_k = (f"k = {kl} (languages in the dataset) for the medium task, k = {kg} (genres) for the hard task; "
               "the report does not print k", "400 epochs (the report's main runs)",
               "hybrid: [α·z_audio, (1−α)·e_lyrics], each part standardized")
    tables = [
        TableLayout("Table 1: Easy task clustering metrics (Silhouette, Calinski–Harabasz).", ("Method",), (
            Row(("VAE+KMeans (dim=8, k=2)",), easy.label, K, {"n_clusters": 2}),
            Row(("PCA+KMeans (dim=8, k=2)",), easy_pca.label, K, {"n_clusters": 2})),
            (("Silhouette", SIL), ("Calinski–Harabasz", CH)), (("0.4075", "14.0420"), ("0.3310", "9.9249")),
            (f"features: {easy_feat} (the report's 'baseline spectral features')",)),
        TableLayout("Table 2: Medium task (selected best-per-representation).", ("Representation", "Best Clustering"), (
            Row(("Audio baseline (mean-mel)", "KMeans"), meanmel.label, K, {"n_clusters": kl}),
            Row(("Audio Conv-VAE latent", "Ward Agglomerative"), conv.label, AG, {"n_clusters": kl}),
            Row(("Lyrics SVD embedding", "KMeans"), lyr.label, K, {"n_clusters": kl}),
            Row(("Hybrid (α = 0.3 audio+lyrics)", "KMeans"), hyb3.label, K, {"n_clusters": kl}),
            Row(("Hybrid (α ≈ 0.1 audio+lyrics)", "KMeans"), hyb1.label, K, {"n_clusters": kl})),
            (("Silhouette", SIL), ("ARI (language)", ari(L))),
            (("0.3431", "-0.0322"), ("0.0526", "0.0268"), ("0.0212", "0.8619"), ("0.0202", "0.7329"),
             ("0.0210", "0.8619")), notes_k),
        TableLayout("Table 3: Hard task (selected best-per-representation; genre-based).",
                    ("Representation", "Best Clustering"), (
                        Row(("Spectral PCA16", "KMeans"), pca16.label, K, {"n_clusters": kg}),
                        Row(("Lyrics embedding", "Ward Agglomerative"), lyr.label, AG, {"n_clusters": kg}),
                        Row(("Beta-VAE audio latent", "Ward Agglomerative"), bvae.label, AG, {"n_clusters": kg}),
                        Row(("AE audio latent", "Ward Agglomerative"), ae.label, AG, {"n_clusters": kg}),
                        Row(("Hybrid audio+lyrics", "Ward Agglomerative"), hybh.label, AG, {"n_clusters": kg})),
                    (("ARI (genre)", ari(G)), ("NMI (genre)", nmi(G))),
                    (("0.0244", "0.3021"), ("0.2081", "0.4972"), ("0.0043", "0.2117"), ("0.1279", "0.3673"),
                     ("0.1309", "0.3245")), notes_k + ("Beta-VAE β = 0.1; AE = the Conv-VAE network with β = 0 (no sampling)",)),
        TableLayout("Genre-aware multimodal features (genre one-hot appended): a label leak the report mentions",
                    ("Representation", "Best Clustering"), (
                        Row(("Hybrid audio+lyrics+genre one-hot", "Ward Agglomerative"), leak.label, AG,
                            {"n_clusters": kg}),),
                    (("ARI (genre)", ari(G)), ("NMI (genre)", nmi(G))), None,
                    ("built from the genre labels it is scored against: high scores are by construction",)),
    ]
    return Plan(reps, algs, (L, G), tables, skipped)


# ----------------------------------------------------------------------------------------------
# report 004
def _plan_004(caps: DatasetCaps) -> Plan:
    cfg = {"epochs": 10, "batch_size": 32, "lr": 1e-4}
    c1 = {"latent_dim": 64, "channels": "64-128-256"}
    pca = RepEntry("PCA (64D) on MFCC frames", "pca", {"feature": "mfcc_frames", "n_components": 64})
    spec = RepEntry("Flattened MFCC frames (17,200D)", "raw", {"feature": "mfcc_frames", "standardize": False})
    vae = latent("Conv1D VAE (latent 64)", TrainSpec("conv1d_vae", "mfcc_frames", c1, {**cfg, "beta": 1.0}))
    ae = latent("Conv1D autoencoder", TrainSpec("conv1d_ae", "mfcc_frames", c1, {**cfg, "beta": 0.0}))
    cvae = latent("CVAE (language)", TrainSpec("cvae", "mfcc_frames", {"latent_dim": 64, "cond_dim": 16}, {**cfg, "beta": 1.0},
                                               cond_column="language"))
    bcvae = latent("Beta-VAE (CVAE, β=4)", TrainSpec("cvae", "mfcc_frames", {"latent_dim": 64, "cond_dim": 16},
                                                     {**cfg, "beta": 4.0}, cond_column="language"))
    text = RepEntry("Text (title+artist TF-IDF, 32D)", "metadata_text", {"columns": "title,artist", "n_components": 32})
    artist = RepEntry("Artist one-hot (top 20)", "onehot", {"column": "artist", "top": 20})
    mm = RepEntry("Multi-Modal (CVAE+Text+Artist)", "concat", parts=(cvae, text, artist), weights=(1.0, 1.0, 1.0))
    skipped: dict[str, str] = {}
    if not caps.has_audio:
        for r in (pca, spec, vae, ae, cvae, bcvae, mm):
            skipped[r.label] = "skipped: the dataset has no audio (needs MFCC frames 40×430)"
    if "language" not in caps.labels:
        for r in (cvae, bcvae, mm):
            skipped.setdefault(r.label, "skipped: the CVAE is conditioned on language labels, which the dataset lacks")
    reps = [r for r in (pca, spec, vae, ae, cvae, bcvae, mm) if r.label not in skipped]
    algs = {K: {"n_clusters": [2]}}
    L = "language"
    k2 = {"n_clusters": 2}
    tables = [TableLayout(
        "5.1 Quantitative Results", ("Method",), (
            Row(("PCA + K-Means",), pca.label, K, k2), Row(("Spectral + K-Means",), spec.label, K, k2),
            Row(("VAE + K-Means",), vae.label, K, k2), Row(("Autoencoder + K-Means",), ae.label, K, k2),
            Row(("CVAE + K-Means",), cvae.label, K, k2), Row(("Beta-VAE + K-Means",), bcvae.label, K, k2),
            Row(("Multi-Modal (CVAE+Text+Artist)",), mm.label, K, k2)),
        (("Silhouette", SIL), ("NMI", nmi(L)), ("ARI", ari(L)), ("Purity", pur(L))),
        (("0.0500", "0.0030", "0.0078", "0.5743"), ("0.0249", "0.0028", "0.0070", "0.5743"),
         ("0.0874", "0.0007", "0.0001", "0.5743"), ("0.1324", "0.0000", "-0.0001", "0.5743"),
         ("0.0179", "0.0001", "-0.0001", "0.5743"), ("0.0190", "0.0000", "-0.0002", "0.5743"),
         ("0.0957", "0.0333", "-0.0099", "0.5743")),
        ("the CVAE rows are conditioned on language, the label they are scored against (flagged as a leak)",
         "purity equal in every row = the majority share: a degenerate result",
         "autoencoder = the Conv1D network without sampling, β = 0; Beta-VAE = the CVAE with β = 4 (as the report)"))]
    return Plan(reps, algs, (L,), tables, skipped)


# ----------------------------------------------------------------------------------------------
def _plan_baselines(caps: DatasetCaps) -> Plan:
    ks = [k for k in (2, 4, 6, 10) if k < max(3, caps.n_tracks)]
    return Plan([], {K: {"n_clusters": ks}}, tuple(caps.labels) or ("language", "genre"), [], {})


PRESETS.add("report-000", Preset(
    "report-000", "Unsupervised Music Clustering using Variational Autoencoders",
    "MLP VAE (latent 16), multimodal VAE on concatenated audio + lyrics, β-VAE β=4; KMeans/Agglomerative k=10, "
    "DBSCAN eps 1.5 min_samples 10; Sil/CH/DB/ARI vs language.", "000_38975f547991a5e7.txt", _plan_000))
PRESETS.add("report-001", Preset(
    "report-001", "Hybrid Variational Autoencoder for Multi-Modal Music Clustering",
    "Hybrid β-VAE (CNN audio 39×130 + MLP lyrics 64), latent 32, KL annealing 0→1 over 50 epochs, α_a 1, α_t 0.1; "
    "KMeans k=4 with the K selection 2–10, PCA-32 + KMeans; Sil/CH/DB/ARI/NMI/Purity vs genre.",
    "001_3e4e4e648e855231.txt", _plan_001))
PRESETS.add("report-002", Preset(
    "report-002", "Unsupervised Clustering of Hybrid-Language Music via VAEs and Audio–Lyrics Fusion",
    "MLP-VAE vs PCA on MFCC stats (k=2); ConvVAE latent 32 on log-mel and fusion α=0.25 (k=4, DBSCAN); β-VAE β=2 "
    "fused α=2 vs language (k=4) and genre (k=12).", "002_55751a640301b9b1.txt", _plan_002))
PRESETS.add("report-003", Preset(
    "report-003", "VAE for Hybrid Language Music Clustering (Easy + Medium + Hard)",
    "VAE dim 8 vs PCA 8; Conv-VAE + lyrics hybrids α 0.3/0.1 vs language; β-VAE β=0.1, AE, spectral PCA16, lyrics, "
    "hybrid vs genre (Ward); the genre one-hot label leak.", "003_1341a58eb923354c.txt", _plan_003))
PRESETS.add("report-004", Preset(
    "report-004", "Language-Based Music Clustering Using VAEs",
    "Conv1D VAE latent 64 on MFCC 40×430, autoencoder, CVAE on language, β-VAE β=4, text + artist fusion; PCA-64 and "
    "flattened-MFCC baselines; KMeans k=2; Sil/NMI/ARI/Purity vs language.", "004_ad80e8544e366806.txt", _plan_004))
PRESETS.add("baselines", Preset(
    "baselines", "Baselines only", "PCA + KMeans, KMeans on spectral (or tabular) features, autoencoder + KMeans.",
    "", _plan_baselines))


def get_preset(preset_id: str) -> Preset:
    return PRESETS.get(preset_id)


# ----------------------------------------------------------------------------------------------
@dataclass
class PresetTable:
    """A report table filled from the grid: ``measured`` (mean over seeds), ``std``, ``published``.

    All three have the report's rows and columns (text columns first). ``warnings`` holds, per row,
    what the metrics said (degenerate clusters, undefined scores, label leaks, skipped representations).
    """

    caption: str
    row_header: tuple[str, ...]
    measured: pd.DataFrame
    std: pd.DataFrame
    published: pd.DataFrame | None
    warnings: list[str]
    notes: tuple[str, ...] = ()

    @property
    def metric_headers(self) -> list[str]:
        return [c for c in self.measured.columns if c not in self.row_header]

    def side_by_side(self) -> pd.DataFrame:
        """Text columns, then for each metric '<header>' (measured mean), '<header> ±', '<header> (published)'."""
        out = self.measured[list(self.row_header)].copy()
        for h in self.metric_headers:
            out[h] = self.measured[h]
            out[f"{h} ±"] = self.std[h]
            if self.published is not None:
                out[f"{h} (published)"] = self.published[h].to_numpy()
        out["warnings"] = self.warnings
        return out


@dataclass
class PresetResult:
    preset: Preset
    grid: GridResult
    tables: list[PresetTable]
    skipped: dict[str, str]

    @property
    def cancelled(self) -> bool:
        return self.grid.cancelled


def fill_tables(layouts: Sequence[TableLayout], grid: GridResult, skipped: Mapping[str, str]) -> list[PresetTable]:
    """Read each layout's cells from the grid summary."""
    out = []
    for t in layouts:
        text = {h: [r.cells[i] for r in t.rows] for i, h in enumerate(t.row_header)}
        mean, std = pd.DataFrame(text), pd.DataFrame(text)
        warns = []
        for h, _ in t.columns:
            mean[h], std[h] = np.nan, np.nan
        for i, r in enumerate(t.rows):
            hit = lookup(grid.summary, r.rep, r.algorithm, r.params) if len(grid.summary) else None
            if hit is None:
                warns.append(skipped.get(r.rep) or ("not computed: the run was cancelled" if grid.cancelled
                                                    else "not computed"))
                continue
            for h, key in t.columns:
                mean.loc[i, h] = hit.get(f"{key}_mean", np.nan)
                std.loc[i, h] = hit.get(f"{key}_std", np.nan)
            warns.append(str(hit.get("warnings", "") or ""))
        for h, key in t.columns:  # a label column the dataset lacks: say so
            if key.split("_", 1)[0] in ("ari", "nmi", "purity") and key.split("_", 1)[1] not in grid.label_columns:
                warns = [w or f"no '{key.split('_', 1)[1]}' labels" for w in warns]
        out.append(PresetTable(t.caption, t.row_header, mean, std, t.published_frame(), warns, t.notes))
    return out


def run_preset(dataset, preset_id: str, *, epochs: int | None = None, seeds: Sequence[int] = DEFAULT_SEEDS,
               baselines: bool = True, progress=None, cancel=None) -> PresetResult:
    """Run a report preset on ``dataset``: its grid (plus baselines), then its tables side by side with the
    report's numbers. ``epochs`` overrides every model's epoch count (quick runs)."""
    preset = get_preset(preset_id)
    if epochs is not None and int(epochs) < 1:
        raise ParameterError("epochs", value=epochs, expected="an int ≥ 1 (or None for the report's value)")
    caps = dataset_caps(dataset)
    plan = preset.plan(caps)
    spec = GridSpec(representations=plan.representations, algorithms=plan.algorithms,
                    seeds=tuple(int(s) for s in seeds), label_columns=plan.label_columns, baselines=baselines,
                    epochs=epochs)
    grid = run_grid(dataset, spec, progress=progress, cancel=cancel)
    grid.configs["preset"] = preset.id
    grid.configs["skipped"] = dict(plan.skipped)
    return PresetResult(preset, grid, fill_tables(plan.tables, grid, plan.skipped), dict(plan.skipped))


def export_preset(result: PresetResult, out_dir, *, formats: Sequence[str] = ("csv", "md", "tex", "json")) -> list:
    """The grid's files (grid.csv, …) plus one file per report table: <preset>_table<i>.{csv,md,tex}."""
    from pathlib import Path

    from core import artifacts
    from core.experiments.export import export_grid, latex_escape, pm_frame, to_latex_tabular, to_markdown

    out = Path(out_dir)
    paths = export_grid(result.grid, out, formats=formats)
    for i, t in enumerate(result.tables, start=1):
        stem = f"{result.preset.id}_table{i}"
        sbs = t.side_by_side()
        if "csv" in formats:
            paths.append(artifacts.write_csv(out / f"{stem}.csv", sbs))
        text = list(t.row_header)
        for latex in (False, True):
            if ("tex" if latex else "md") not in formats:
                continue
            shown = pm_frame(t.measured, t.std, latex=latex, text_columns=text)
            if t.published is not None:
                for h in t.metric_headers:
                    shown[f"{h} (published)"] = pm_frame(t.published[[h]], None, latex=latex)[h].to_numpy()
            if latex:
                body = to_latex_tabular(shown, n_text=len(text))
                paths.append(artifacts.write_text(out / f"{stem}.tex", f"% {latex_escape(t.caption)}\n" + body))
            else:
                paths.append(artifacts.write_text(out / f"{stem}.md", f"**{t.caption}**\n\n" + to_markdown(shown)))
    return paths

