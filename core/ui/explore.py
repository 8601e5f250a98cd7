"""Explore page sections: the tabs under the map (confusion matrices, listening per cluster, similar
songs, choosing k / eps, exports) and the cache panel.

The other sections live beside it: label pickers in ``core.ui.explore_labels``, the representation
picker and β control in ``core.ui.explore_represent``, the clusterer, metrics and cluster names in
``core.ui.explore_cluster``, the map and selections in ``core.ui.explore_map``; the names the pages use
are importable from here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import viz
from core.explore import assignments_frame, cluster_names, contingency, nearest_neighbors, search_mask, typical_tracks
from core.ui import data
from core.ui.explore_cluster import (  # noqa: F401  (re-exported for the pages)
    class_flags,
    cluster_naming,
    clusterer_controls,
    clustering,
    clustering_key,
    current_names,
    metric_row,
    metrics,
    representation,
)
from core.ui.explore_labels import label_picker, trained_models  # noqa: F401  (re-exported for the pages)
from core.ui.explore_map import (  # noqa: F401  (re-exported for the pages)
    clicked_track,
    color_options,
    map_filters,
    projection_map,
    projection_picker,
    selected_tracks,
    spec_model_id,
)
from core.ui.explore_represent import (  # noqa: F401  (re-exported for the pages)
    HIDDEN_PARAMS,
    kind_offered,
    make_offer,
    representation_controls,
    representation_picker,
)
from core.ui.widgets import play_track

SIMILAR_PICKER_MAX = 2_000  # query-track picker entries; above this the tab searches first


def confusion_tab(ds, result, label_cols, names=None) -> None:
    cols = [c for c in label_cols if c in ds.tracks]
    if not cols:
        st.info("No label chosen to score, so there is nothing to compare clusters with.")
        return
    norm = st.toggle("Row-normalized", value=False, key="confusion.norm")
    for c in cols:
        t = contingency(result.labels, ds.tracks[c].fillna("").astype(str).values, normalize=norm, names=names)
        st.plotly_chart(viz.count_heatmap(t, title=f"Cluster × {c}", x_title=c, y_title="cluster", normalized=norm),
                        width="stretch", key=f"confusion.{c}")


def listen_tab(ds, rep, result, seed: int, names=None) -> None:
    X = np.nan_to_num(rep.X)
    lists = typical_tracks(X, result.labels, n_typical=3, n_random=2, random_state=seed)
    if not lists:
        st.info("No clusters to listen to (everything is noise or missing).")
        return
    label = dict(zip(lists, cluster_names(np.array(list(lists)), names)))
    c = st.selectbox("Cluster", list(lists), format_func=lambda k: f"{label[k]} ({int((result.labels == k).sum())} tracks)",
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
    options = valid_idx
    if len(valid_idx) > SIMILAR_PICKER_MAX:  # a picker of 100,000 labels would cost seconds on every rerun
        query = st.text_input("Find the query track", key="similar.find", placeholder="title or artist",
                              help=f"{len(valid_idx):,} tracks: the picker lists the first "
                                   f"{SIMILAR_PICKER_MAX:,} matches.")
        hits = valid_idx[search_mask(t.iloc[valid_idx], query)] if query.strip() else valid_idx
        options = hits[:SIMILAR_PICKER_MAX]
        if not len(options):
            st.info("No track matches.")
            return
    i = st.selectbox("Track", options.tolist(), key="similar.track",
                     format_func=lambda j: f"{t['title'].iloc[j] or t['track_id'].iloc[j]} — {t['artist'].iloc[j]}")
    st.markdown("**Query**")
    play_track(t.iloc[i].to_dict())
    st.markdown("**Nearest neighbours** in this representation")
    for j, d in nearest_neighbors(rep.X, rep.valid, i, k=5):
        st.caption(f"distance {d:.3f}")
        play_track(t.iloc[j].to_dict())


def _apply(alg: str, values: dict, *, key: str = "explore.alg") -> None:
    st.session_state[f"{key}.pending"] = {"algorithm": alg, "values": values}
    st.rerun()


def choose_k_tab(rep, alg: str, params: dict, seed: int) -> None:
    """k-selection curves (k-methods) or the k-distance plot (DBSCAN / HDBSCAN), each with an Apply button."""
    from core.cluster import CLUSTERERS
    from core.metrics import k_distance, k_selection, suggest_eps, suggest_k

    X = np.nan_to_num(rep.X[rep.valid])
    spec = CLUSTERERS.get(alg)
    if len(X) < 4:
        st.info("Too few tracks to draw selection curves.")
        return
    if spec.k_param:
        kmax = st.slider("Largest k to try", 3, max(4, min(20, len(X) - 1)), min(12, max(3, len(X) - 1)),
                         key="choosek.kmax")
        if st.button("Compute k-selection curves", key="choosek.go"):
            st.session_state["choosek.on"] = True
        if st.session_state.get("choosek.on"):
            df = data.memo(("ksel", rep.fingerprint, alg, kmax, seed),
                           lambda: k_selection(X, k_range=range(2, min(kmax, len(X) - 1) + 1), algorithm=alg,
                                               random_state=seed, sample_size=3000))
            if not len(df):
                st.info("No k to try for this many tracks.")
                return
            best = suggest_k(df)
            st.plotly_chart(viz.metric_curves(df, x="k", metrics=["silhouette", "calinski_harabasz", "davies_bouldin"],
                                              marked=best, title=f"Choosing k — suggested k = {best} (highest Silhouette)"),
                            width="stretch")
            if st.button(f"Apply suggested k = {best}", key="choosek.apply"):
                _apply(alg, {spec.k_param: int(best)})
    else:
        ms = params.get("min_samples") or params.get("min_cluster_size") or 10
        ms = int(min(max(2, int(ms)), len(X)))
        dist = data.memo(("kdist", rep.fingerprint, ms), lambda: k_distance(X, k=ms))
        eps = suggest_eps(dist)
        st.plotly_chart(viz.k_distance(dist, eps=eps, k=ms), width="stretch")
        if "eps" in spec.params and st.button(f"Apply suggested eps ≈ {eps:.4g}", key="choosek.apply_eps"):
            _apply(alg, {"eps": float(eps)})


def cache_debug() -> None:
    """core.cache.CACHE.stats(): hits and misses per namespace, bytes held against the bound."""
    from core.cache import CACHE

    s = CACHE.stats()
    with st.expander("Cache (debug)", icon=":material/build:"):
        st.caption(f"{s['entries']} entries in memory · {s['bytes'] / 2**20:.1f} MiB held of "
                   f"{s['max_bytes'] / 2**20:.0f} MiB bound")
        ns = pd.DataFrame.from_dict(s["namespaces"], orient="index").rename_axis("namespace").reset_index()
        st.dataframe(ns, hide_index=True, width="stretch")


def export_tab(ds, rep, report, result, *, method: str, seed: int, names, label_cols) -> None:
    from core import export
    from core.explore import long_metric_table
    from core.ui.widgets import download_buttons

    table = report.to_frame()
    st.dataframe(table, hide_index=True)
    long = long_metric_table(report.values)
    meta = "".join(f"% {k}: {v}\n" for k, v in report.meta.items())
    assign = assignments_frame(ds.tracks, result.labels, names=names, label_cols=label_cols)
    download_buttons({"metrics.csv": (export.to_csv(table, report.warnings), "text/csv"),
                      "metrics.md": (export.to_markdown(table, report.warnings), "text/markdown"),
                      "metrics.tex": (meta + export.to_latex(long, report.warnings), "text/x-tex"),
                      "assignments.csv": (lambda: export.csv_text(assign), "text/csv")},  # built on click
                     key="export.tables")
    with st.expander("LaTeX (metric × value)"):
        st.code(meta + export.to_latex(long, report.warnings), language="latex")
    st.caption("Figures: use the camera icon on any chart for a PNG; interactive HTML below.")
    figure_html_downloads(ds, rep, result, method=method, seed=seed, names=names)


def figure_html_downloads(ds, rep, result, *, method: str, seed: int, names=None) -> None:
    """Interactive HTML of the current map."""
    from core.project import cached_projection

    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None:
        return
    def page() -> str:  # built when the button is clicked, not on every rerun
        ok = np.isfinite(Y).all(axis=1)
        hover = ds.tracks[[c for c in ("title", "artist", "language", "genre") if c in ds.tracks]][ok]
        fig = viz.scatter_map(Y[ok], color=cluster_names(result.labels, names)[ok], hover=hover.reset_index(drop=True),
                              title=f"{method.upper()} of {rep.label}")
        return fig.to_html(include_plotlyjs=True, full_html=True)

    st.download_button("map.html", data=page, file_name="map.html",
                       mime="text/html", key="export.map.html")
