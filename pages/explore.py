"""Explore: cluster any representation, tune live, see the map and scores, listen per cluster, export."""

import pandas as pd
import streamlit as st

from core import export
from core.errors import SongscapeError
from core.explore import cluster_names
from core.ui import explore as ex
from core.ui.guards import require_dataset
from core.ui.widgets import download_buttons

ds = require_dataset()
st.title("🗺️ Explore")

controls, main = st.columns([1, 3], gap="large")
with controls:
    st.subheader("Represent")
    try:
        spec = ex.representation_controls(ds)
    except SongscapeError as exc:
        st.error(str(exc))
        st.stop()
    st.subheader("Cluster")
    alg, params, seed = ex.clusterer_controls(n=len(ds.tracks))
    st.subheader("Map")
    method = st.radio("Projection", ["umap", "tsne", "pca"], horizontal=True, key="explore.proj",
                      format_func={"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}.get)
    color_by = st.selectbox("Colour by", ex.color_options(ds, spec), key="explore.color")

with main:
    try:
        rep = ex.representation(ds, spec)
        result = ex.clustering(rep, alg, params, seed)
        report = ex.metrics(ds, rep, result, seed)
    except SongscapeError as exc:
        st.error(str(exc))
        st.stop()
    ex.metric_row(report)
    picked = ex.projection_map(ds, rep, result, method=method, color_by=color_by, seed=seed,
                               model_id=ex.spec_model_id(spec))
    ex.selected_tracks(ds, picked)

tabs = st.tabs(["Confusion matrices", "Listen per cluster", "Similar songs", "Choose k / eps", "Export"])
with tabs[0]:
    ex.confusion_tab(ds, result)
with tabs[1]:
    ex.listen_tab(ds, rep, result, seed)
with tabs[2]:
    ex.similar_tab(ds, rep)
with tabs[3]:
    ex.choose_k_tab(rep, alg, params, seed)
with tabs[4]:
    table = report.to_frame()
    st.dataframe(table, hide_index=True)
    assign = ds.tracks[["track_id", "title", "artist", "language", "genre"]].assign(
        cluster=result.labels, cluster_name=cluster_names(result.labels))
    download_buttons({"metrics.csv": (export.to_csv(table, report.warnings), "text/csv"),
                      "metrics.md": (export.to_markdown(table, report.warnings), "text/markdown"),
                      "metrics.tex": (export.to_latex(table, report.warnings), "text/x-tex"),
                      "assignments.csv": (export.csv_text(assign), "text/csv")}, key="export.tables")
    st.caption("Figures: use the camera icon on any chart for a PNG; interactive HTML below.")
    from core.ui.explore import figure_html_downloads  # noqa: E402

    figure_html_downloads(ds, rep, result, method=method, seed=seed)
