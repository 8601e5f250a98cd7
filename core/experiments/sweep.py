"""β sweep: train one model per β (or reuse its cached artifact), then measure its latent space."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import ParameterError
from core.experiments.aggregate import EXTERNAL_METRICS, INTERNAL_METRICS
from core.experiments.grid import run_cell, train_for_grid
from core.experiments.spec import TrainSpec, dataset_caps
from core.metrics import active_units, params_str
from core.progress import CancelFn, Cancelled, ProgressFn, never_cancel, no_progress


def beta_sweep(dataset, *, model: str = "mlp_vae", betas: Sequence[float] = (0.1, 1, 2, 4),
               features: str | None = None, config: Mapping[str, Any] | None = None,
               model_params: Mapping[str, Any] | None = None, algorithm: str = "kmeans",
               params: Mapping[str, Any] | None = None, label_columns: Sequence[str] | None = None,
               seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> pd.DataFrame:
    """One row per β: beta, recon, kl, active_units, silhouette, calinski_harabasz, davies_bouldin,
    ari_<col>, nmi_<col>, purity_<col>, n_clusters, model_id, warnings.

    features defaults to mfcc_stats (tabular without audio); params default to k = number of classes
    of the first label column (4 without labels) for clusterers with a k parameter. A cancelled sweep
    returns the rows finished so far.
    """
    from core.cluster import CLUSTERERS
    from core.represent import RepresentationSpec, build_representation
    from core.training import load_trained

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
        k_param = CLUSTERERS.get(algorithm).k_param
        params = {k_param: max(2, int(k))} if k_param else {}
    rows = []
    for i, beta in enumerate(betas):
        if cancel():
            break
        spec = TrainSpec(model, features, dict(model_params or {}), {"epochs": 30, **dict(config or {}),
                                                                     "beta": float(beta)})
        try:
            model_id, train_warnings = train_for_grid(dataset, spec, seed=seed, cancel=cancel)
        except Cancelled:
            break
        rep = build_representation(dataset, RepresentationSpec("latent", {"model_id": model_id}))
        row, _ = run_cell(rep, dataset, algorithm=algorithm, params=dict(params), seed=seed,
                          label_columns=label_columns, sample_size=5000, extra_warnings=train_warnings)
        last = (load_trained(model_id).history or [{}])[-1]
        mu = rep.X[rep.valid]
        rows.append({"beta": float(beta), "recon": float(last.get("recon", np.nan)), "kl": float(last.get("kl", np.nan)),
                     "active_units": active_units(mu), "latent_dim": int(mu.shape[1]) if mu.ndim == 2 else 0,
                     **{m: row[m] for m in INTERNAL_METRICS},
                     **{f"{m}_{c}": row[f"{m}_{c}"] for c in label_columns for m in EXTERNAL_METRICS},
                     "n_clusters": row["n_clusters"], "algorithm": algorithm, "params": params_str(params),
                     "model_id": model_id, "warnings": row["warnings"]})
        progress(i + 1, len(betas), {"beta": float(beta), "recon": rows[-1]["recon"], "kl": rows[-1]["kl"]})
    cols = ["beta", "recon", "kl", "active_units", "latent_dim", *INTERNAL_METRICS,
            *[f"{m}_{c}" for c in label_columns for m in EXTERNAL_METRICS], "n_clusters", "algorithm", "params",
            "model_id", "warnings"]
    return pd.DataFrame(rows, columns=cols)
