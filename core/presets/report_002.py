"""The preset of “Unsupervised Clustering of Hybrid-Language Music via Variational Autoencoders and Audio–Lyrics Fusion”
(MD Tanzim Qaiyum): its grid, tables and published numbers.

Where the report leaves a setting open, the choice made here is written in the table's ``notes``.
"""

from __future__ import annotations

from core.experiments.spec import DatasetCaps, RepEntry, TrainSpec, latent
from core.presets.base import (
    AG,
    CH,
    DB,
    DBI,
    NOISE,
    PRESETS,
    SIL,
    Citation,
    K,
    Plan,
    Preset,
    Row,
    TableLayout,
    _cap,
    ari,
    nmi,
    pur,
)

CITATION = Citation(
    "Unsupervised Clustering of Hybrid-Language Music via Variational Autoencoders and Audio–Lyrics Fusion",
    ("MD Tanzim Qaiyum",), year="", venue="BRAC University", key="Qaiyum")


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


PRESETS.add("report-002", Preset(
    "report-002", "Unsupervised Clustering of Hybrid-Language Music via VAEs and Audio–Lyrics Fusion",
    "MLP-VAE vs PCA on MFCC stats (k=2); ConvVAE latent 32 on log-mel and fusion α=0.25 (k=4, DBSCAN); β-VAE β=2 "
    "fused α=2 vs language (k=4) and genre (k=12).", citation=CITATION, plan=_plan_002))
