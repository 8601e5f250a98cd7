"""Grid results over seeds: the metric columns of a grid table, mean ± std per cell, seed agreement."""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.metrics import params_str

INTERNAL_METRICS = ("silhouette", "calinski_harabasz", "davies_bouldin")
EXTERNAL_METRICS = ("ari", "nmi", "purity")
TAIL_METRICS = ("noise_share", "n_clusters", "seconds")


def metric_columns(label_columns: Sequence[str]) -> list[str]:
    cols = list(INTERNAL_METRICS)
    for c in label_columns:
        cols += [f"{m}_{c}" for m in EXTERNAL_METRICS]
    return cols + list(TAIL_METRICS)



# ----------------------------------------------------------------------------------------------
# summary over seeds
def seed_agreement(labelings: Sequence[np.ndarray]) -> float:
    """Mean pairwise ARI between the seeds' labelings (rows clustered in both; NaN with < 2 seeds)."""
    from sklearn.metrics import adjusted_rand_score

    scores = []
    for a, b in itertools.combinations(labelings, 2):
        if len(a) != len(b):
            continue
        m = (a >= -1) & (b >= -1)
        if m.sum() >= 2:
            scores.append(adjusted_rand_score(a[m], b[m]))
    return float(np.mean(scores)) if scores else float("nan")


def summarize(table: pd.DataFrame, label_columns: Sequence[str], labels: Mapping | None = None) -> pd.DataFrame:
    """Mean and (population, ddof=0) std over seeds per (representation, algorithm, params) cell.

    Columns: representation, algorithm, params, n_seeds, <metric>_mean, <metric>_std…, agreement_ari, warnings.
    """
    labels = labels or {}
    metrics = metric_columns(label_columns)
    keys = ["representation", "algorithm", "params"]
    out = []
    for key, g in table.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["n_seeds"] = int(g["seed"].nunique())
        for m in metrics:
            vals = pd.to_numeric(g[m], errors="coerce").to_numpy(dtype=float)
            ok = vals[~np.isnan(vals)]
            row[f"{m}_mean"] = float(ok.mean()) if len(ok) else float("nan")
            row[f"{m}_std"] = float(ok.std(ddof=0)) if len(ok) else float("nan")
        labs = [labels[(key[0], key[1], key[2], int(s))] for s in g["seed"] if (key[0], key[1], key[2], int(s)) in labels]
        row["agreement_ari"] = seed_agreement(labs)
        warns = []
        for w in g["warnings"].fillna(""):
            warns += [x.strip() for x in str(w).split(";") if x.strip()]
        row["warnings"] = "; ".join(dict.fromkeys(warns))
        flagged = set()
        for f in (g["flagged"].fillna("") if "flagged" in g else []):
            flagged |= {x for x in str(f).split(",") if x}
        row["flagged"] = ",".join(sorted(flagged))
        row["uses_labels"] = bool(g["uses_labels"].astype(bool).any())
        out.append(row)
    cols = keys + ["n_seeds"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")] + \
        ["agreement_ari", "warnings", "flagged", "uses_labels"]
    return pd.DataFrame(out, columns=cols)


def lookup(summary: pd.DataFrame, representation: str, algorithm: str, params: Mapping[str, Any]) -> pd.Series | None:
    """The summary row of one cell, or None."""
    m = (summary["representation"] == representation) & (summary["algorithm"] == algorithm) & \
        (summary["params"] == params_str(params))
    hit = summary[m]
    return hit.iloc[0] if len(hit) else None
