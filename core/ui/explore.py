"""Explore page sections: representation picker (with the live β control), clusterer, map, tabs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import viz
from core.explore import cluster_names, contingency, nearest_neighbors, typical_tracks
from core.ui import data, keys
from core.ui.widgets import ProgressReporter, param_widgets, play_track, show_warnings

BETA_CHOICES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
FLAT_OK = ("mfcc_stats", "mfcc20_stats", "spectral_stats", "chroma_stats", "contrast_stats", "tabular", "lyrics",
           "mfcc_frames", "audio_stack", "logmel")


def trained_models(ds) -> pd.DataFrame:
    try:
        from core.training import list_trained
    except ImportError:
        return pd.DataFrame()
    df = list_trained(dataset=ds.name)
    return df if df is not None else pd.DataFrame()


def _beta_family(ds, models: pd.DataFrame, key: str):
    """Pick a family (model + features + latent), then β: trained β swap at once, new β train now."""
    from core.explore import train_beta_variant

    fam_cols = [c for c in ("model", "features", "latent_dim") if c in models.columns]
    families = models.drop_duplicates(fam_cols)
    labels = [" · ".join(str(r[c]) for c in fam_cols) for _, r in families.iterrows()]
    fi = st.selectbox("Model family", range(len(labels)), format_func=labels.__getitem__, key=f"{key}.family")
    fam = families.iloc[fi]
    members = models
    for c in fam_cols:
        members = members[members[c].astype(str) == str(fam[c])]
    trained = {round(float(b), 4): mid for b, mid in zip(members["beta"], members["model_id"])}
    choices = sorted(set(BETA_CHOICES) | set(trained))
    default = float(fam["beta"]) if "beta" in fam else 1.0
    beta = st.select_slider("β", options=choices, value=round(default, 4), key=f"{key}.beta",
                            format_func=lambda b: f"{b:g}" + (" ✓" if round(b, 4) in trained else " (train)"),
                            help="Models of this family trained at different β. ✓ = trained; picking another β trains it now.")
    if round(beta, 4) in trained:
        return trained[round(beta, 4)]
    rep = ProgressReporter(f"Training β={beta:g}", curves=("loss", "recon", "kl"))
    res = train_beta_variant(str(fam["model_id"]), beta=float(beta), progress=rep, cancel=rep.cancel)
    rep.done()
    rep.reraise()
    data.forget("models")
    return res.model_id


def representation_controls(ds, *, key: str = "explore.rep") -> dict:
    """Widgets → a RepresentationSpec dict {'kind', 'params'}."""
    from core.represent import REPRESENTATIONS

    feats = [f for f in data.available_features(ds) if f in FLAT_OK]
    audio_feats = [f for f in feats if f != "lyrics"]
    models = trained_models(ds)
    kinds = [k for k in REPRESENTATIONS.names() if k != "latent" or len(models)]
    if not ds.has_audio or "lyrics" not in feats:
        kinds = [k for k in kinds if k != "fusion" or "lyrics" in feats]
    default_kind = "latent" if len(models) else "pca"
    kind = st.selectbox("Representation", kinds, index=kinds.index(default_kind) if default_kind in kinds else 0,
                        format_func=lambda k: REPRESENTATIONS.get(k).label, key=f"{key}.kind",
                        help=REPRESENTATIONS.get(default_kind).help)

    def audio_part(sub: str) -> dict:
        if len(models) and st.toggle("Use a trained model's latents", value=True, key=f"{key}.{sub}.use_model"):
            return {"kind": "latent", "params": {"model_id": _beta_family(ds, models, f"{key}.{sub}")}}
        f = st.selectbox("Feature", audio_feats or feats, key=f"{key}.{sub}.feature")
        return {"kind": "pca", "params": {"feature": f, "n_components": 16}}

    if kind in ("raw", "label_onehot"):
        params = {"feature": st.selectbox("Feature", audio_feats or feats, key=f"{key}.feature")}
        if kind == "label_onehot":
            params["label"] = st.selectbox("Label appended (a leak, on purpose)", ["genre", "language"], key=f"{key}.label")
        return {"kind": kind, "params": params}
    if kind == "pca":
        f = st.selectbox("Feature", audio_feats or feats, key=f"{key}.feature")
        n = st.slider("PCA components", 2, 64, 16, key=f"{key}.ncomp")
        return {"kind": "pca", "params": {"feature": f, "n_components": n}}
    if kind == "latent":
        explicit = st.session_state.get(keys.EXPLORE_MODEL)
        if explicit and explicit in set(models["model_id"]):
            st.caption(f"Model from the Train page: `{explicit}`")
            if not st.button("Choose by family and β instead", key=f"{key}.clear_explicit"):
                return {"kind": "latent", "params": {"model_id": explicit}}
            st.session_state.pop(keys.EXPLORE_MODEL, None)
        return {"kind": "latent", "params": {"model_id": _beta_family(ds, models, f"{key}.latent")}}
    if kind == "lyrics":
        return {"kind": "lyrics", "params": {}}
    # fusion
    audio = audio_part("fusion")
    alpha = st.slider("α (weight of lyrics)", 0.0, 4.0, 1.0, 0.05, key=f"{key}.alpha",
                      help="[z_audio, α·e_lyrics], each standardized (reports 002–004)")
    return {"kind": "fusion", "params": {"audio": audio, "alpha": alpha}}


def clusterer_controls(*, n: int, key: str = "explore.alg") -> tuple[str, dict, int]:
    from core.cluster import CLUSTERERS

    names = CLUSTERERS.names()
    alg = st.selectbox("Algorithm", names, index=names.index("kmeans"), format_func=lambda a: CLUSTERERS.get(a).label,
                       key=f"{key}.name")
    table = {k: v for k, v in CLUSTERERS.get(alg).params.items() if k != "random_state"}
    params = param_widgets(table, key=f"{key}.{alg}", columns=1)
    seed = st.number_input("Seed", 0, 10_000, 0, key=f"{key}.seed")
    return alg, params, int(seed)


def representation(ds, spec: dict):
    from core.represent import build_representation

    return build_representation(ds, spec)  # cached in core.cache.CACHE (memory + disk)


def clustering(rep, alg: str, params: dict, seed: int):
    from core.cluster import cluster_rows
    from core.hashing import fingerprint

    k = ("cluster", rep.fingerprint, fingerprint(alg, params, seed))
    return data.memo(k, lambda: cluster_rows(rep.X, rep.valid, algorithm=alg, params=params, random_state=seed))


def metrics(ds, rep, result, seed: int):
    from core.metrics import evaluate
    from core.schema import label_columns

    cols = {c: ds.tracks[c].values for c in label_columns(ds.tracks)}
    Xv = np.nan_to_num(rep.X)
    return evaluate(Xv, result, label_columns=cols, uses_labels=rep.uses_labels, sample_size=3000,
                    random_state=seed, meta={"representation": rep.label, "algorithm": result.algorithm})


METRIC_LABELS = {"silhouette": "Silhouette", "calinski_harabasz": "Calinski–Harabasz", "davies_bouldin": "Davies–Bouldin",
                 "n_clusters": "Clusters", "noise_share": "Noise share"}


def metric_row(report) -> None:
    vals = report.values
    cols = st.columns(5)
    for col, (k, label) in zip(cols, METRIC_LABELS.items()):
        v = vals.get(k, np.nan)
        col.metric(label, "undefined" if v is None or (isinstance(v, float) and np.isnan(v))
                   else (f"{v:.0%}" if k == "noise_share" else (f"{int(v)}" if k == "n_clusters" else f"{v:.3f}")))
    ext = [c.split("_", 1)[1] for c in vals if c.startswith("ari_")]
    if ext:
        rows = []
        for c in ext:
            rows.append({"against": c + (" (leaked: built from this label)" if c in report.leaked else ""),
                         "ARI": vals.get(f"ari_{c}"), "NMI": vals.get(f"nmi_{c}"), "Purity": vals.get(f"purity_{c}"),
                         "Hungarian accuracy": vals.get(f"accuracy_{c}"), "majority share": vals.get(f"majority_share_{c}")})
        st.dataframe(pd.DataFrame(rows).round(4), hide_index=True, width="stretch")
        st.caption("Noise points count as their own cluster in the external metrics; tracks without this "
                   "representation are left out." + (f" Silhouette on a seeded sample of {int(vals['silhouette_sampled'])} tracks."
                                                     if vals.get("silhouette_sampled") else ""))
    show_warnings(report.warnings)


def projection_map(ds, rep, result, *, method: str, color_by: str, seed: int, model_id: str | None = None):
    """Draw the map; while UMAP/t-SNE computes for the first time, the PCA map is shown."""
    from core.project import cached_projection, project

    tracks = ds.tracks
    color = {"cluster": cluster_names(result.labels)}.get(color_by)
    continuous = color_by == "reconstruction error"
    if continuous:
        from core.reconstruct import dataset_recon_error

        color = data.memo(("recon_err", model_id, ds.fingerprint), lambda: dataset_recon_error(model_id, ds))
    elif color is None:
        color = tracks[color_by].replace("", "(none)").values if color_by in tracks else cluster_names(result.labels)
    hover = tracks[[c for c in ("title", "artist", "language", "genre") if c in tracks]]
    holder = st.empty()
    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None and method != "pca":
        Yp = project(rep.X, method="pca", random_state=seed, valid=rep.valid)
        holder.plotly_chart(viz.scatter_map(Yp, color=color, hover=hover, title=f"PCA map ({method.upper()} computing…)",
                                            color_title=color_by, continuous=continuous), width="stretch", key="map.pca.tmp")
        with st.spinner(f"Computing {method.upper()} (cached afterwards)…"):
            Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    elif Y is None:
        Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    ok = np.isfinite(Y).all(axis=1)
    fig = viz.scatter_map(np.where(ok[:, None], Y, 0.0)[ok], color=np.asarray(color)[ok], hover=hover[ok].reset_index(drop=True),
                          title=f"{method.upper()} of {rep.label}", color_title=color_by, continuous=continuous)
    event = holder.plotly_chart(fig, width="stretch", key="map.main", on_select="rerun", selection_mode=("box", "lasso"))
    rows = np.flatnonzero(ok)
    picked = []
    try:
        picked = [rows[int(p["customdata"][0])] for p in event.selection.points]
    except (AttributeError, KeyError, TypeError, IndexError):
        picked = []
    return picked


def spec_model_id(spec: dict) -> str | None:
    """The trained model behind a latent representation (or the audio part of a fusion), if any."""
    params = spec.get("params", {})
    audio = params.get("audio") or {}
    return params.get("model_id") or (audio.get("params", {}) if isinstance(audio, dict) else {}).get("model_id")


def color_options(ds, spec: dict) -> list[str]:
    opts = ["cluster"] + [c for c in ("language", "genre", "artist") if (ds.tracks[c] != "").any()]
    if spec_model_id(spec):
        opts.append("reconstruction error")
    return opts


def selected_tracks(ds, idx: list[int]) -> None:
    if not idx:
        st.caption("Tip: draw a box or lasso on the map to list those tracks here, with players.")
        return
    st.markdown(f"**{len(idx)} selected track(s)**")
    sub = ds.tracks.iloc[idx]
    st.dataframe(sub[[c for c in ("title", "artist", "language", "genre") if c in sub]], hide_index=True, width="stretch")
    for _, row in sub.head(5).iterrows():
        play_track(row.to_dict())


def confusion_tab(ds, result) -> None:
    from core.schema import label_columns

    cols = label_columns(ds.tracks)
    if not cols:
        st.info("No language or genre labels in this dataset, so there is nothing to compare clusters with.")
        return
    norm = st.toggle("Row-normalized", value=False, key="confusion.norm")
    for c in cols:
        t = contingency(result.labels, ds.tracks[c].values, normalize=norm)
        st.plotly_chart(viz.count_heatmap(t, title=f"Cluster × {c}", x_title=c, y_title="cluster", normalized=norm),
                        width="stretch", key=f"confusion.{c}")


def listen_tab(ds, rep, result, seed: int) -> None:
    X = np.nan_to_num(rep.X)
    lists = typical_tracks(X, result.labels, n_typical=3, n_random=2, random_state=seed)
    if not lists:
        st.info("No clusters to listen to (everything is noise or missing).")
        return
    c = st.selectbox("Cluster", list(lists), format_func=lambda k: f"cluster {k} ({int((result.labels == k).sum())} tracks)",
                     key="listen.cluster")
    left, right = st.columns(2)
    with left:
        st.markdown("**Most typical** (closest to the centre)")
        for i in lists[c]["typical"]:
            play_track(ds.tracks.iloc[i].to_dict())
    with right:
        st.markdown("**A few others, at random**")
        for i in lists[c]["random"]:
            play_track(ds.tracks.iloc[i].to_dict())


def similar_tab(ds, rep) -> None:
    valid_idx = np.flatnonzero(rep.valid)
    if not len(valid_idx):
        st.info("No track has this representation.")
        return
    t = ds.tracks
    i = st.selectbox("Track", valid_idx.tolist(), key="similar.track",
                     format_func=lambda j: f"{t['title'].iloc[j] or t['track_id'].iloc[j]} — {t['artist'].iloc[j]}")
    st.markdown("**Query**")
    play_track(t.iloc[i].to_dict())
    st.markdown("**Nearest neighbours** in this representation")
    for j, d in nearest_neighbors(rep.X, rep.valid, i, k=5):
        st.caption(f"distance {d:.3f}")
        play_track(t.iloc[j].to_dict())


def choose_k_tab(rep, alg: str, params: dict, seed: int) -> None:
    from core.cluster import CLUSTERERS
    from core.metrics import k_distance, k_selection, suggest_eps, suggest_k

    X = rep.X[rep.valid]
    spec = CLUSTERERS.get(alg)
    if spec.k_param:
        kmax = st.slider("Largest k to try", 3, 20, 12, key="choosek.kmax")
        if st.button("Compute k-selection curves", key="choosek.go"):
            df = data.memo(("ksel", rep.fingerprint, alg, kmax, seed),
                           lambda: k_selection(X, k_range=range(2, min(kmax, len(X) - 1) + 1), algorithm=alg,
                                               random_state=seed, sample_size=3000))
            best = suggest_k(df)
            st.plotly_chart(viz.metric_curves(df, x="k", metrics=["silhouette", "calinski_harabasz", "davies_bouldin"],
                                              marked=best, title=f"Choosing k — suggested k = {best} (highest Silhouette)"),
                            width="stretch")
    else:
        ms = int(params.get("min_samples") or params.get("min_cluster_size") or 10)
        dist = data.memo(("kdist", rep.fingerprint, ms), lambda: k_distance(X, k=min(ms, len(X))))
        st.plotly_chart(viz.k_distance(dist, eps=suggest_eps(dist), k=ms), width="stretch")


def figure_html_downloads(ds, rep, result, *, method: str, seed: int) -> None:
    """Interactive HTML of the current map, and PNG where a static renderer is available."""
    from core.project import cached_projection

    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None:
        return
    ok = np.isfinite(Y).all(axis=1)
    hover = ds.tracks[[c for c in ("title", "artist", "language", "genre") if c in ds.tracks]][ok].reset_index(drop=True)
    fig = viz.scatter_map(Y[ok], color=cluster_names(result.labels)[ok], hover=hover, title=f"{method.upper()} of {rep.label}")
    st.download_button("map.html", data=fig.to_html(include_plotlyjs=True, full_html=True), file_name="map.html",
                       mime="text/html", key="export.map.html")
