"""The preset of “Hybrid Variational Autoencoder for Multi-Modal Music Clustering”
(Razin Sufian): its grid, tables and published numbers.

Where the report leaves a setting open, the choice made here is written in the table's ``notes``.
"""

from __future__ import annotations

from core.experiments.spec import DatasetCaps, RepEntry, TrainSpec, latent
from core.presets.base import (
    AG,
    CH,
    DBI,
    PRESETS,
    SIL,
    Citation,
    K,
    Plan,
    Preset,
    Row,
    TableLayout,
    ari,
    nmi,
    pur,
)

CITATION = Citation(
    "Hybrid Variational Autoencoder for Multi-Modal Music Clustering",
    ("Razin Sufian",), year="", venue="BRAC University, CSE425 Neural Networks", key="Sufian")


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


PRESETS.add("report-001", Preset(
    "report-001", "Hybrid Variational Autoencoder for Multi-Modal Music Clustering",
    "Hybrid β-VAE (CNN audio 39×130 + MLP lyrics 64), latent 32, KL annealing 0→1 over 50 epochs, α_a 1, α_t 0.1; "
    "KMeans k=4 with the K selection 2–10, PCA-32 + KMeans; Sil/CH/DB/ARI/NMI/Purity vs genre.",
    citation=CITATION, plan=_plan_001))
