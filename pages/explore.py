"""Explore: cluster any representation, tune live, play and search the map, name clusters, export."""

import streamlit as st

from core.errors import SongscapeError
from core.ui import explore as ex
from core.ui.guards import require_dataset
from core.ui.widgets import plain

ds = require_dataset()
st.title(":material/scatter_plot: Explore")

controls, main = st.columns([1, 3], gap="large")
with controls:
    st.subheader("Represent")
    try:
        spec = ex.representation_controls(ds)
        label_cols = ex.label_picker(ds, key="explore.labels")
        rep = ex.representation(ds, spec)
    except SongscapeError as exc:
        st.error(plain(exc))
        st.stop()
    st.subheader("Cluster")
    try:
        alg, params, seed = ex.clusterer_controls(rep)
    except SongscapeError as exc:
        st.error(plain(exc))
        st.stop()
    st.subheader("Map")
    method = ex.projection_picker(len(ds.tracks))
    color_by = st.selectbox("Colour by", ex.color_options(ds, spec, label_cols), key="explore.color")
    query, shown = ex.map_filters(ds, label_cols)

with main:
    try:
        result = ex.clustering(rep, alg, params, seed)
        report = ex.metrics(ds, rep, result, seed, label_cols)
    except SongscapeError as exc:
        st.error(plain(exc))
        st.stop()
    fp = ex.clustering_key(rep, alg, params, seed)
    names = ex.current_names(fp)
    ex.metric_row(report, ds=ds, spec=spec, models=ex.trained_models(ds))
    ex.class_flags(ds, result, label_cols)
    picked = ex.projection_map(ds, rep, result, method=method, color_by=color_by, seed=seed,
                               model_id=ex.spec_model_id(spec), names=names, label_cols=label_cols,
                               query=query, shown=shown)
    ex.clicked_track(ds, picked["clicked"], result, names, label_cols)
    ex.selected_tracks(ds, picked["selected"], result, names, label_cols)

tabs = st.tabs(["Confusion matrices", "Listen per cluster", "Similar songs", "Choose k / eps", "Name clusters",
                "Export"])
with tabs[0]:
    ex.confusion_tab(ds, result, label_cols, names)
with tabs[1]:
    ex.listen_tab(ds, rep, result, seed, names)
with tabs[2]:
    ex.similar_tab(ds, rep)
with tabs[3]:
    ex.choose_k_tab(rep, alg, params, seed)
with tabs[4]:
    st.caption("Names are kept with this clustering for the session and used in the legend, the tables and "
               "the exports.")
    if ex.cluster_naming(result, fp) != names:
        st.rerun()
with tabs[5]:
    ex.export_tab(ds, rep, report, result, method=method, seed=seed, names=names, label_cols=label_cols)
ex.cache_debug()
