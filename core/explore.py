"""Helpers behind the Explore page: contingency tables, playlists per cluster, similar songs."""

from __future__ import annotations

import numpy as np
import pandas as pd

NOISE_LABEL = -1
MISSING_LABEL = -2


def cluster_names(labels: np.ndarray) -> np.ndarray:
    """Readable names: 'noise' for −1, 'no data' for −2, else 'cluster k'. (n,) int → (n,) str"""
    labels = np.asarray(labels)
    out = np.array([f"cluster {v}" for v in labels], dtype=object)
    out[labels == NOISE_LABEL] = "noise"
    out[labels == MISSING_LABEL] = "no data"
    return out


def contingency(labels: np.ndarray, truth: np.ndarray, *, normalize: bool = False) -> pd.DataFrame:
    """Clusters (rows) × label values (columns); row-normalized when ``normalize``.

    Tracks with no data (label −2) and empty truth labels are left out; noise is its own row.
    """
    labels, truth = np.asarray(labels), np.asarray(truth).astype(str)
    keep = (labels != MISSING_LABEL) & (truth != "")
    table = pd.crosstab(pd.Series(cluster_names(labels[keep]), name="cluster"), pd.Series(truth[keep], name="label"))
    order = sorted(table.index, key=lambda s: (s == "noise", int(s.split()[-1]) if s.startswith("cluster") else 0))
    table = table.loc[order]
    if normalize:
        table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    return table


def typical_tracks(X: np.ndarray, labels: np.ndarray, *, n_typical: int = 5, n_random: int = 3,
                   random_state: int = 0) -> dict[int, dict[str, list[int]]]:
    """Per cluster: indices of the ``n_typical`` rows closest to its centroid, and ``n_random`` others.

    X: (n, d); labels: (n,) with −1 noise and −2 missing, which get no playlist.
    """
    rng = np.random.default_rng(random_state)
    out: dict[int, dict[str, list[int]]] = {}
    for c in sorted(set(np.asarray(labels).tolist()) - {NOISE_LABEL, MISSING_LABEL}):
        idx = np.flatnonzero(labels == c)
        center = X[idx].mean(axis=0)
        d = np.linalg.norm(X[idx] - center, axis=1)
        typical = idx[np.argsort(d, kind="stable")[:n_typical]]
        rest = np.setdiff1d(idx, typical)
        rand = rng.choice(rest, size=min(n_random, len(rest)), replace=False) if len(rest) else np.array([], int)
        out[int(c)] = {"typical": typical.tolist(), "random": sorted(rand.tolist())}
    return out


def nearest_neighbors(X: np.ndarray, valid: np.ndarray, index: int, *, k: int = 5) -> list[tuple[int, float]]:
    """The ``k`` valid rows nearest (Euclidean) to row ``index``, excluding itself: [(row, distance)]."""
    valid = np.asarray(valid, bool)
    if not valid[index]:
        return []
    cand = np.flatnonzero(valid)
    cand = cand[cand != index]
    d = np.linalg.norm(X[cand] - X[index], axis=1)
    order = np.argsort(d, kind="stable")[:k]
    return [(int(cand[i]), float(d[i])) for i in order]


def train_beta_variant(model_id: str, *, beta: float, progress=None, cancel=None):
    """Train the same model, features and settings as ``model_id`` with another β (the live β control).

    The variant keeps the input scaling of the original and, when the original has a name, is named
    "<name> · β=<beta>". Returns the TrainResult (instant when that β was trained before).
    """
    from core.training import TrainConfig, load_trained, train_on_dataset

    cfg = load_trained(model_id).config
    meta = cfg.get("meta", {})
    tc = TrainConfig.from_dict({**cfg.get("train_config", {}), "beta": float(beta)})
    params = {k: v for k, v in cfg.get("model_params", {}).items() if k != "n_classes"}
    name = f"{meta['name']} · β={float(beta):g}" if meta.get("name") else None
    return train_on_dataset(dataset=meta["dataset"], model=cfg["model"], features=meta.get("features"),
                            model_params=params, config=tc, cond_column=meta.get("cond_column"), name=name,
                            progress=progress, cancel=cancel)
