"""β sweep: train one model per β (or reuse its cached artifact), then measure its latent space."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import ParameterError
from core.experiments import backend
from core.experiments.grid import EXTERNAL_METRICS, INTERNAL_METRICS, _run_cell, dataset_caps, params_str
from core.progress import Cancelled, CancelFn, ProgressFn, never_cancel, no_progress

ACTIVE_UNIT_THRESHOLD = 0.01


def active_units(mu: np.ndarray, *, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Latent dimensions whose mean μ_j varies across tracks: Var_x[μ_j(x)] > threshold. mu: (n, d)."""
    if mu.ndim != 2 or len(mu) < 2:
        return 0
    return int((np.var(mu, axis=0) > threshold).sum())


def beta_sweep(dataset, *, model: str = "mlp_vae", betas: Sequence[float] = (0.1, 1, 2, 4),
               features: str | None = None, config: Mapping[str, Any] | None = None,
               model_params: Mapping[str, Any] | None = None, algorithm: str = "kmeans",
               params: Mapping[str, Any] | None = None, label_columns: Sequence[str] | None = None,
               seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> pd.DataFrame:
    """One row per β: beta, recon, kl, active_units, silhouette, calinski_harabasz, davies_bouldin,
    ari_<col>, nmi_<col>, purity_<col>, n_clusters, model_id, warnings.

    features defaults to mfcc_stats (tabular without audio); params default to k = number of classes
    of the first label column (4 without labels). A cancelled sweep returns the rows finished so far.
    """
    if not betas:
        raise ParameterError("betas", value=betas, expected="at least one β value, e.g. (0.1, 1, 2, 4)")
    if any(float(b) < 0 for b in betas):
        raise ParameterError("betas", value=list(betas), expected="β ≥ 0 (β = 0 is a plain autoencoder)")
    progress, cancel = progress or no_progress, cancel or never_cancel
    caps = dataset_caps(dataset)
    features = features or caps.spectral
    label_columns = tuple(label_columns if label_columns is not None else caps.labels)
    if params is None:
        k = caps.n_classes.get(label_columns[0], 4) if label_columns else 4
        params = {"n_clusters": max(2, int(k))} if algorithm in ("kmeans", "agglomerative", "gmm") else {}
    rows = []
    for i, beta in enumerate(betas):
        if cancel():
            break
        cfg = {"epochs": 30, **dict(config or {}), "beta": float(beta)}
        try:
            out = backend.train_model(dataset, model=model, features=features, model_params=dict(model_params or {}),
                                      config=cfg, seed=seed, cancel=cancel)
        except Cancelled:
            break
        rep = backend.model_latents(out.model_id, dataset)
        row, _ = _run_cell(rep, dataset, algorithm=algorithm, params=dict(params), seed=seed,
                           label_columns=label_columns, sample_size=5000)
        mu = rep.X[rep.valid]
        rows.append({"beta": float(beta), "recon": out.recon, "kl": out.kl, "active_units": active_units(mu),
                     "latent_dim": int(mu.shape[1]) if mu.ndim == 2 else 0,
                     **{m: row[m] for m in INTERNAL_METRICS},
                     **{f"{m}_{c}": row[f"{m}_{c}"] for c in label_columns for m in EXTERNAL_METRICS},
                     "n_clusters": row["n_clusters"], "algorithm": algorithm, "params": params_str(params),
                     "model_id": out.model_id, "warnings": row["warnings"]})
        progress(i + 1, len(betas), {"beta": float(beta), "recon": out.recon, "kl": out.kl})
    cols = ["beta", "recon", "kl", "active_units", "latent_dim", *INTERNAL_METRICS,
            *[f"{m}_{c}" for c in label_columns for m in EXTERNAL_METRICS], "n_clusters", "algorithm", "params",
            "model_id", "warnings"]
    return pd.DataFrame(rows, columns=cols)
