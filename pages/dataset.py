"""Dataset: the track table, label counts, and one track up close (listen, waveform, spectrogram, lyrics).

Search or click a row: the picked track is the one the player, waveform, spectrogram, lyrics and tags
show (core.ui.dataset keeps the search box, the table and the track picker in step).
"""

import pandas as pd
import streamlit as st

from core import viz
from core.features import default_features
from core.preview import track_preview
from core.schema import label_columns
from core.ui import data, keys
from core.ui import dataset as dsui
from core.ui.guards import require_dataset
from core.ui.widgets import plain, play_track, track_grid

ds = require_dataset()
tracks = ds.tracks
st.title(f":material/library_music: {plain(ds.name)}")

has_lyrics = (tracks["lyrics"] != "").sum()
c = st.columns(5)
c[0].metric("Tracks", len(tracks))
c[1].metric("Languages", tracks["language"].replace("", pd.NA).nunique())
c[2].metric("Genres", tracks["genre"].replace("", pd.NA).nunique())
c[3].metric("With lyrics", int(has_lyrics))
c[4].metric("Hours of audio", f"{tracks.loc[tracks['path'] != '', 'duration_s'].sum() / 3600:.2f}" if ds.has_audio else "—")

query = st.text_input("Search", key=keys.DATASET_SEARCH, placeholder="title, artist or a line of the lyrics",
                      help="Filters the table and the track picker below, and picks the first match.").strip()
shown = dsui.search(tracks, query)
if query:
    st.caption(f"{len(shown)} of {len(tracks)} tracks match." if len(shown) else
               "No track matches: try fewer letters, or another script (titles may be in Bangla or English).")

tab_tracks, tab_labels, tab_features = st.tabs(["Tracks", "Labels", "Features"])
shown_cols = [c for c in ("title", "artist", "language", "genre", "duration_s", "segment", "lyrics") if c in tracks]
shown_cols += [c for c in tracks.columns if c not in shown_cols and c not in
               ("track_id", "path", "offset_s", "parent_id", "source")][:12]
with tab_tracks:
    picked = track_grid(dsui.table_page(shown[shown_cols + ["track_id"]], key="dataset.page"), key=f"grid.{ds.name}")

with tab_labels:
    labels = label_columns(tracks)
    if not labels:
        st.info("This dataset has no language or genre labels, so there is nothing to count. "
                "Add a `language` or `genre` column to your metadata CSV to enable label views.")
    elif len(labels) == 2:
        st.plotly_chart(viz.label_counts(tracks, x="genre", color="language"), width="stretch")
        st.plotly_chart(viz.count_heatmap(pd.crosstab(tracks["language"], tracks["genre"]),
                                          title="Language × genre", x_title="genre", y_title="language"),
                        width="stretch")
    else:
        st.bar_chart(tracks[labels[0]].replace("", "(none)").value_counts())

with tab_features:
    names = data.available_features(ds)
    st.write("Features for this dataset: " + ", ".join(f"`{n}`" for n in names))
    if st.button("Extract all features", key="extract.all", icon=":material/memory:",
                 help="Every feature but the pretrained musicnn ones (slow on a CPU; computed when asked for)."):
        dsui.extract(ds, default_features(ds))
    rows = [{"feature": n, "shape": str(tuple(fs.X.shape[1:])), "valid": int(fs.valid.sum()), "failed": len(fs.errors)}
            for n in names if (fs := data.peek(("features", ds.fingerprint, n))) is not None]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Track")
options = shown["track_id"].tolist() or tracks["track_id"].tolist()
dsui.follow_selection(options, query=query, grid_pick=dsui.grid_selection(picked))
label_of = dict(zip(tracks["track_id"], tracks["title"].where(tracks["title"] != "", tracks["track_id"])
                    + " — " + tracks["artist"] + " (" + tracks["language"] + ", " + tracks["genre"] + ")"))
tid = st.selectbox("Choose a track", options, format_func=label_of.get, key=keys.DATASET_TRACK)
st.session_state[keys.SELECTED_TRACK] = tid
pos = tracks["track_id"].tolist().index(tid)
row = tracks.iloc[pos].to_dict()
left, right = st.columns([3, 2])
with left:
    start = play_track(row)
    if row["path"]:
        try:
            pv = track_preview(row, start=start)
        except Exception as exc:  # noqa: BLE001 - show, don't crash
            st.warning(f"Cannot read {plain(row['path'])}: {plain(exc)}")
        else:
            st.plotly_chart(viz.waveform(pv.audio, sr=pv.sr), width="stretch")
            st.plotly_chart(viz.spectrogram(pv.logmel_db, seconds=pv.seconds, title="Log-mel spectrogram (dB)"),
                            width="stretch")
with right:
    st.markdown("**Lyrics**")
    st.text(row["lyrics"] if row["lyrics"] else "(no lyrics: instrumental or unknown)")
    dsui.musicnn_tags(ds, pos)
