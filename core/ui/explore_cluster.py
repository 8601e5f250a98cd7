"""Explore page: the clusterer controls (data-derived "auto" values), the cached clustering and its
metrics, the metric row and class flags, and cluster names kept per clustering."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.explore import clusterer_table, k_below_classes, spec_uses_lyrics
from core.ui import data
from core.ui.widgets import param_widgets, plain, show_warnings

NAMES_KEY = "explore.cluster_names"  # {clustering fingerprint: {cluster: name}}

AUTO_WHY = {"eps": "knee of the k-distance curve", "min_samples": "10, at most n − 1",
            "min_cluster_size": "2 % of the tracks, at least 5"}


def _suggested_names(alg: str, X: np.ndarray, fp: str) -> dict:
    from core.cluster import CLUSTERERS

    spec = CLUSTERERS.get(alg)
    if spec.suggest is None or len(X) < 3:
        return {}
    return data.memo(("suggest", fp, alg), lambda: spec.suggest(X, {}))


def clusterer_controls(rep, *, key: str = "explore.alg") -> tuple[str, dict, int]:
    """Algorithm, its parameters (capped by the number of tracks; "auto" = data-derived, shown) and seed.

    Returns (algorithm, resolved params, seed).
    """
    from core.cluster import CLUSTERERS, resolve_auto
    from core.hashing import fingerprint

    X = np.nan_to_num(rep.X[rep.valid])
    n = int(len(X))
    names = CLUSTERERS.names()
    alg = st.selectbox("Algorithm", names, index=names.index("kmeans"), format_func=lambda a: CLUSTERERS.get(a).label,
                       key=f"{key}.name", help=CLUSTERERS.get(st.session_state.get(f"{key}.name", "kmeans")).help)
    pending = st.session_state.pop(f"{key}.pending", None)  # from an "Apply suggested …" button
    if pending and pending.get("algorithm") == alg:
        for name, value in pending["values"].items():
            st.session_state[f"{key}.{alg}.{name}.auto"] = False
            st.session_state[f"{key}.{alg}.{name}"] = value
    table = clusterer_table(alg, n=max(n, 2))
    suggested = _suggested_names(alg, X, rep.fingerprint)
    params: dict[str, Any] = {}
    for name in [p for p in table if p in suggested]:
        if st.toggle(f"{name.replace('_', ' ')}: auto", value=True, key=f"{key}.{alg}.{name}.auto",
                     help=f"Data-derived: {AUTO_WHY.get(name, 'suggested from the data')}."):
            params[name] = "auto"
    manual = {k: p for k, p in table.items() if k not in params}
    params.update(param_widgets(manual, key=f"{key}.{alg}", columns=1,
                                values={k: v for k, v in suggested.items() if k in manual}))
    seed = int(st.number_input("Seed", 0, 10_000, 0, key=f"{key}.seed"))
    resolved = data.memo(("resolve", rep.fingerprint, alg, fingerprint(params)),
                         lambda: resolve_auto(alg, params, X)) if n >= 3 else params
    for name in [k for k, v in params.items() if v == "auto"]:
        st.caption(f"{name.replace('_', ' ')} = **{resolved[name]:.4g}** (auto: {AUTO_WHY.get(name, 'data')})")
    return alg, dict(resolved), seed


# ----------------------------------------------------------------------------- computing

def representation(ds, spec: dict):
    from core.represent import build_representation

    return build_representation(ds, spec)  # cached in core.cache.CACHE (memory + disk)


def clustering_key(rep, alg: str, params: dict, seed: int) -> str:
    from core.hashing import fingerprint

    return fingerprint("explore-clustering", rep.fingerprint, alg, params, int(seed))


def clustering(rep, alg: str, params: dict, seed: int):
    from core.cluster import cluster_rows

    k = ("cluster", clustering_key(rep, alg, params, seed))
    return data.memo(k, lambda: cluster_rows(rep.X, rep.valid, algorithm=alg, params=params, random_state=seed))


def metrics(ds, rep, result, seed: int, label_cols=None):
    from core.hashing import array_fingerprint
    from core.metrics import evaluate
    from core.schema import label_columns

    cols_ = label_columns(ds.tracks) if label_cols is None else list(label_cols)

    def compute():
        cols = {c: ds.tracks[c].fillna("").astype(str).values for c in cols_ if c in ds.tracks}
        return evaluate(np.nan_to_num(rep.X), result, label_columns=cols, uses_labels=rep.uses_labels,
                        sample_size=3000, random_state=seed,
                        meta={"representation": rep.label, "algorithm": result.algorithm})

    key = ("metrics", ds.fingerprint, rep.fingerprint, array_fingerprint(np.asarray(result.labels)),
           result.algorithm, tuple(cols_), int(seed))
    return data.memo(key, compute)  # a rerun that changed nothing here (a colour, a tab) costs nothing


METRIC_LABELS = {"silhouette": "Silhouette", "calinski_harabasz": "Calinski–Harabasz", "davies_bouldin": "Davies–Bouldin",
                 "n_clusters": "Clusters", "noise_share": "Noise share"}
LANGUAGE_DETECTED = "detected from lyrics"


def metric_row(report, *, ds=None, spec: dict | None = None, models: pd.DataFrame | None = None) -> None:
    vals = report.values
    cols = st.columns(5)
    for col, (k, label) in zip(cols, METRIC_LABELS.items()):
        v = vals.get(k, np.nan)
        col.metric(label, "undefined" if v is None or (isinstance(v, float) and np.isnan(v))
                   else (f"{v:.0%}" if k == "noise_share" else (f"{int(v)}" if k == "n_clusters" else f"{v:.3f}")))
    ext = [c.split("_", 1)[1] for c in vals if c.startswith("ari_")]
    derived = ds is not None and ds.info.get("language_source") == LANGUAGE_DETECTED
    if ext:
        rows = []
        for c in ext:
            note = " (leaked: built from this label)" if c in report.leaked else \
                (" (derived: detected from lyrics)" if derived and c == "language" else "")
            rows.append({"against": c + note,
                         "ARI": vals.get(f"ari_{c}"), "NMI": vals.get(f"nmi_{c}"), "Purity": vals.get(f"purity_{c}"),
                         "Hungarian accuracy": vals.get(f"accuracy_{c}"), "majority share": vals.get(f"majority_share_{c}")})
        st.dataframe(pd.DataFrame(rows).round(4), hide_index=True, width="stretch")
        st.caption("Noise points count as their own cluster in the external metrics; tracks without this "
                   "representation are left out."
                   + (f" Silhouette on a seeded sample of {int(vals['silhouette_sampled'])} tracks."
                                                     if vals.get("silhouette_sampled") else ""))
    if derived and "language" in ext:
        st.caption("The language labels of this dataset were detected from the lyrics: a derived label, not "
                   "ground truth.")
        feats = dict(zip(models["model_id"], models["features"])) if models is not None and len(models) else {}
        if spec and spec_uses_lyrics(spec, feats):
            st.warning("This representation reads the lyrics, and the language labels were detected from those "
                       "same lyrics: the language scores partly measure that circularity.", icon=":material/warning:")
    show_warnings(report.warnings)


def class_flags(ds, result, label_cols) -> None:
    """Say when there are fewer clusters than classes of a scored label (purity and accuracy are capped)."""
    k = int(result.n_clusters) + (1 if result.n_noise else 0)
    cols = tuple(c for c in label_cols if c in ds.tracks)
    flags = data.memo(("class-flags", ds.fingerprint, cols, k), lambda: k_below_classes(
        k, {c: ds.tracks[c].fillna("").astype(str).values for c in cols}))
    for f in flags:
        st.info(f"{f['clusters']} clusters for {f['classes']} {plain(f['label'])} classes: purity and Hungarian "
                f"accuracy against {plain(f['label'])} can reach at most {f['cap']:.3f} here.", icon=":material/info:")


# ----------------------------------------------------------------------------- cluster names

def cluster_naming(result, fp: str) -> dict[int, str]:
    """Text inputs naming each cluster; names are kept per clustering fingerprint while the browser tab is open."""
    store = st.session_state.setdefault(NAMES_KEY, {})
    names = dict(store.get(fp, {}))
    ks = sorted(int(k) for k in result.sizes() if k >= 0)
    sizes = result.sizes()
    cols = st.columns(3)
    for i, k in enumerate(ks):
        v = cols[i % 3].text_input(f"cluster {k} ({sizes[k]} tracks)", value=names.get(k, ""), key=f"clname.{fp[:12]}.{k}",
                                   placeholder=f"cluster {k}")
        names[k] = v.strip()
    store[fp] = {k: v for k, v in names.items() if v}
    return store[fp]


def current_names(fp: str) -> dict[int, str]:
    return dict(st.session_state.get(NAMES_KEY, {}).get(fp, {}))
