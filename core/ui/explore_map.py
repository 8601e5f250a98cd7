"""Explore page: the playable, searchable map (colour sources, filters, projection) and the click and
box / lasso selection views (player, table, CSV and M3U downloads)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import streamlit as st

from core import viz
from core.explore import cluster_names, feature_extracted, search_mask, top_tag_labels
from core.ui import data
from core.ui.widgets import plain, play_track

PAGE_SIZE = 10  # players per page of a selection

def spec_model_id(spec: dict) -> str | None:
    """The trained model behind a latent representation (or a nested part), if any."""
    from core.represent import NESTED

    params = spec.get("params", {})
    if params.get("model_id"):
        return params["model_id"]
    for name in NESTED:
        sub = params.get(name)
        if isinstance(sub, dict):
            got = spec_model_id(sub)
            if got:
                return got
    return None


TAGS_FEATURE, TAGS_MODEL = "musicnn_mtt_tags", "MTT_musicnn"


def _top_tag(ds, result, names, model_id):
    from core.features.musicnn import MODELS

    fs = data.features(ds, TAGS_FEATURE)
    return top_tag_labels(fs.X, fs.valid, MODELS.get(TAGS_MODEL).labels), False


def _recon_error(ds, result, names, model_id):
    from core.reconstruct import dataset_recon_error

    return data.memo(("recon_err", model_id, ds.fingerprint), lambda: dataset_recon_error(model_id, ds)), True


COLOR_SOURCES: dict[str, Callable] = {  # name -> (ds, result, names, model_id) -> (values (n,), continuous)
    "cluster": lambda ds, result, names, model_id: (cluster_names(result.labels, names), False),
    "top tag": _top_tag,
    "reconstruction error": _recon_error,
}


PROJECTIONS = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}
SLOW_PROJECTION_ABOVE = 20_000  # UMAP / t-SNE of more tracks take minutes on a laptop: the map opens on PCA


def projection_picker(n: int) -> str:
    """The map's projection; UMAP by default, PCA above SLOW_PROJECTION_ABOVE tracks (UMAP stays one click away)."""
    big = n > SLOW_PROJECTION_ABOVE
    method = st.radio("Projection", list(PROJECTIONS), horizontal=True, key="explore.proj", format_func=PROJECTIONS.get,
                      index=list(PROJECTIONS).index("pca" if big else "umap"))
    if big and method != "pca":
        st.caption(f"{PROJECTIONS[method]} of {n:,} tracks takes minutes the first time (then it is cached).")
    return method


def color_options(ds, spec: dict, label_cols=None) -> list[str]:
    from core.schema import label_columns

    cols = label_columns(ds.tracks) if label_cols is None else list(label_cols)
    opts = ["cluster"] + [c for c in cols if c in ds.tracks] + \
        [c for c in ("artist",) if c in ds.tracks and c not in cols and (ds.tracks[c] != "").any()]
    if feature_extracted(ds, TAGS_FEATURE):
        opts.append("top tag")
    if spec_model_id(spec):
        opts.append("reconstruction error")
    return opts


def color_values(ds, result, color_by: str, *, names=None, model_id=None) -> tuple[np.ndarray, bool]:
    if color_by in COLOR_SOURCES:
        return COLOR_SOURCES[color_by](ds, result, names, model_id)
    return ds.tracks[color_by].fillna("").astype(str).replace("", "(none)").values, False


def map_filters(ds, label_cols, *, key: str = "explore.map") -> tuple[str, np.ndarray]:
    """Search box (title / artist) and a label-value filter → (query, (n,) bool mask of tracks shown)."""
    query = st.text_input("Search title / artist", key=f"{key}.search", placeholder="highlights matching tracks")
    shown = np.ones(len(ds.tracks), dtype=bool)
    cols = [c for c in label_cols if c in ds.tracks]
    if cols:
        col = st.selectbox("Filter by", ["(no filter)"] + cols, key=f"{key}.filter")
        if col != "(no filter)":
            values = sorted(ds.tracks[col].fillna("").astype(str).replace("", "(none)").unique())
            keep = st.multiselect(f"Show {col}", values, default=values, key=f"{key}.filter.{col}")
            shown &= ds.tracks[col].fillna("").astype(str).replace("", "(none)").isin(keep).to_numpy()
    return query, shown


def _hover(ds, result, names, label_cols) -> pd.DataFrame:
    t = ds.tracks
    cols = [c for c in ("title", "artist") if c in t] + [c for c in label_cols if c in t and c not in ("title", "artist")]
    return t[cols].fillna("").astype(str).assign(cluster=cluster_names(result.labels, names))


def projection_map(ds, rep, result, *, method: str, color_by: str, seed: int, model_id: str | None = None,
                   names=None, label_cols=(), query: str = "", shown=None) -> dict:
    """Draw the map (while UMAP / t-SNE computes for the first time, the PCA map is shown).

    Returns {"clicked": track row or None, "selected": [track rows]} from a click or a box / lasso.
    """
    from core.project import cached_projection, project

    color, continuous = color_values(ds, result, color_by, names=names, model_id=model_id)
    hover = _hover(ds, result, names, label_cols)
    shown = np.ones(len(ds.tracks), bool) if shown is None else np.asarray(shown, bool)
    hits = search_mask(ds.tracks, query)
    holder = st.empty()
    Y = cached_projection(rep.X, method, random_state=seed, valid=rep.valid)
    if Y is None and method != "pca":
        Yp = project(rep.X, method="pca", random_state=seed, valid=rep.valid)
        ok = np.isfinite(Yp).all(axis=1) & shown
        holder.plotly_chart(viz.scatter_map(Yp[ok], color=np.asarray(color)[ok], hover=hover[ok].reset_index(drop=True),
                                            title=f"PCA map ({method.upper()} computing…)", color_title=color_by,
                                            continuous=continuous), width="stretch", key="map.pca.tmp")
        with st.spinner(f"Computing {method.upper()} (cached afterwards)…"):
            Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    elif Y is None:
        Y = project(rep.X, method=method, random_state=seed, valid=rep.valid)
    ok = np.isfinite(Y).all(axis=1) & shown
    rows = np.flatnonzero(ok)
    title = f"{method.upper()} of {rep.label}" + (f" · {int(hits[ok].sum())} match(es) for “{query}”" if query else "")
    fig = viz.scatter_map(Y[ok], color=np.asarray(color)[ok], hover=hover[ok].reset_index(drop=True), title=title,
                          color_title=color_by, continuous=continuous, highlight=hits[ok] if query else None)
    event = holder.plotly_chart(fig, width="stretch", key="map.main", on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
    return picked_rows(event, rows)


def picked_rows(event, rows: np.ndarray) -> dict:
    """A click (one point, no box or lasso) → "clicked"; a box / lasso (or shift-clicks) → "selected"."""
    try:
        sel = event.selection
        points = list(sel.get("points", []) or [])
        area = bool(sel.get("box") or sel.get("lasso"))
    except (AttributeError, KeyError, TypeError):
        return {"clicked": None, "selected": []}
    idx = []
    for p in points:
        try:
            cd = p["customdata"]
            idx.append(int(rows[int(float(cd[0] if isinstance(cd, (list, tuple)) else cd))]))
        except (KeyError, TypeError, IndexError, ValueError):
            continue
    idx = list(dict.fromkeys(idx))
    if len(idx) == 1 and not area:
        return {"clicked": idx[0], "selected": []}
    return {"clicked": None, "selected": idx}


def clicked_track(ds, i: int | None, result, names, label_cols) -> None:
    """Player for the clicked point, with its labels and cluster."""
    if i is None:
        st.caption("Click a point to play it; pick Box or Lasso select in the map's toolbar and draw, to list and "
                   "export those tracks.")
        return
    row = ds.tracks.iloc[int(i)].to_dict()
    cname = cluster_names(result.labels[[int(i)]], names)[0]
    st.markdown(f"**▶ {plain(row.get('title') or row.get('track_id'))}** — {plain(row.get('artist', ''))}")
    bits = [f"cluster: {plain(cname)}"] + [f"{plain(c)}: {plain(row.get(c) or '—')}" for c in label_cols if c in row]
    st.caption(" · ".join(bits))
    play_track(row, caption=False, key=f"map.play.{row.get('track_id')}")


def selected_tracks(ds, idx: list[int], result, names, label_cols) -> None:
    """The box / lasso selection: table, CSV and M3U downloads, paged players."""
    from core.explore import m3u_playlist
    from core.export import csv_text

    if not idx:
        return
    sub = ds.tracks.iloc[idx].assign(cluster=result.labels[idx], cluster_name=cluster_names(result.labels[idx], names))
    st.markdown(f"**{len(idx)} selected track(s)**")
    show = [c for c in ("title", "artist", *label_cols, "cluster_name") if c in sub]
    st.dataframe(sub[list(dict.fromkeys(show))], hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    out = [c for c in ("track_id", "title", "artist", *label_cols, "path", "offset_s", "duration_s", "cluster",
                       "cluster_name") if c in sub]
    c1.download_button("Selection as CSV", csv_text(sub[list(dict.fromkeys(out))]), file_name="selection.csv",
                       icon=":material/download:", mime="text/csv", key="sel.csv")
    c2.download_button("Selection as M3U playlist", m3u_playlist(sub), file_name="selection.m3u", icon=":material/download:",
                       mime="audio/x-mpegurl", key="sel.m3u", disabled=not sub["path"].astype(str).str.len().any()
                       if "path" in sub else True)
    pages = max(1, -(-len(idx) // PAGE_SIZE))
    page = int(st.number_input(f"Players, page (of {pages})", 1, pages, 1, key="sel.page")) if pages > 1 else 1
    for _, row in sub.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].iterrows():
        play_track(row.to_dict(), key=f"sel.play.{row.get('track_id')}")
