"""The preset of “Unsupervised Music Clustering using Variational Autoencoders”
(Argha Das): its grid, tables and published numbers.

Where the report leaves a setting open, the choice made here is written in the table's ``notes``.
"""

from __future__ import annotations

from core.experiments.spec import DatasetCaps, TrainSpec, latent
from core.presets.base import (
    AG,
    CH,
    DB,
    DBI,
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
)

CITATION = Citation(
    "Unsupervised Music Clustering using Variational Autoencoders",
    ("Argha Das",), year="", venue="BRAC University", key="Das")


def _plan_000(caps: DatasetCaps) -> Plan:
    feat = "mfcc_stats" if caps.has_audio else "tabular"
    cfg = {"epochs": 50, "batch_size": 64, "lr": 1e-3}
    mlp = {"latent_dim": 16, "hidden": "256-128"}
    vae = latent("VAE (latent 16)", TrainSpec("mlp_vae", feat, mlp, {**cfg, "beta": 1.0}))
    mm = latent("Multimodal VAE (audio + lyrics)", TrainSpec("concat_vae", (feat, "lyrics"),
                                                             {"latent_dim": 16, "hidden": "512-256-128"},
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


PRESETS.add("report-000", Preset(
    "report-000", "Unsupervised Music Clustering using Variational Autoencoders",
    "MLP VAE (latent 16), multimodal VAE on concatenated audio + lyrics, β-VAE β=4; KMeans/Agglomerative k=10, "
    "DBSCAN eps 1.5 min_samples 10; Sil/CH/DB/ARI vs language.", citation=CITATION, plan=_plan_000))
