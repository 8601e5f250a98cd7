"""Dataset: the track table, label counts, and one track up close (listen, waveform, spectrogram, lyrics)."""

import pandas as pd
import streamlit as st

from core import viz
from core.features import default_features
from core.preview import track_preview
from core.schema import label_columns
from core.ui import data, keys
from core.ui.guards import require_dataset
from core.ui.widgets import play_track, track_grid

ds = require_dataset()
tracks = ds.tracks
st.title(f"🎵 {ds.name}")

has_lyrics = (tracks["lyrics"] != "").sum()
c = st.columns(5)
c[0].metric("Tracks", len(tracks))
c[1].metric("Languages", tracks["language"].replace("", pd.NA).nunique())
c[2].metric("Genres", tracks["genre"].replace("", pd.NA).nunique())
c[3].metric("With lyrics", int(has_lyrics))
c[4].metric("Hours of audio", f"{tracks.loc[tracks['path'] != '', 'duration_s'].sum() / 3600:.2f}" if ds.has_audio else "—")

tab_tracks, tab_labels, tab_features = st.tabs(["Tracks", "Labels", "Features"])
shown_cols = [c for c in ("title", "artist", "language", "genre", "duration_s", "segment", "lyrics") if c in tracks]
shown_cols += [c for c in tracks.columns if c not in shown_cols and c not in
               ("track_id", "path", "offset_s", "parent_id", "source")][:12]
with tab_tracks:
    picked = track_grid(tracks[shown_cols + ["track_id"]], key=f"grid.{ds.name}")
    if picked is not None and "track_id" in picked:
        st.session_state[keys.SELECTED_TRACK] = str(picked["track_id"].iloc[0])

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
        col = labels[0]
        st.bar_chart(tracks[col].replace("", "(none)").value_counts())

with tab_features:
    names = data.available_features(ds)
    st.write("Features for this dataset: " + ", ".join(f"`{n}`" for n in names))
    if st.button("Extract all features", key="extract.all",
                 help="Every feature but the pretrained musicnn ones (slow on a CPU; computed when asked for)."):
        for name in default_features(ds):
            data.features(ds, name)
    rows = []
    for name in names:
        fs = data._memo().get(("features", ds.fingerprint, name))
        if fs is not None:
            rows.append({"feature": name, "shape": str(tuple(fs.X.shape[1:])), "valid": int(fs.valid.sum()),
                         "failed": len(fs.errors)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Track")
options = tracks["track_id"].tolist()
default = st.session_state.get(keys.SELECTED_TRACK)
label_of = dict(zip(tracks["track_id"], tracks["title"].where(tracks["title"] != "", tracks["track_id"])
                    + " — " + tracks["artist"] + " (" + tracks["language"] + ", " + tracks["genre"] + ")"))
tid = st.selectbox("Choose a track", options, index=options.index(default) if default in options else 0,
                   format_func=label_of.get, key="dataset.track")
row = tracks.loc[tracks["track_id"] == tid].iloc[0].to_dict()
left, right = st.columns([3, 2])
with left:
    play_track(row)
    if row["path"]:
        try:
            pv = track_preview(row)
        except Exception as exc:  # noqa: BLE001 - show, don't crash
            st.warning(f"Cannot read {row['path']}: {exc}")
        else:
            st.plotly_chart(viz.waveform(pv.audio, sr=pv.sr), width="stretch")
            st.plotly_chart(viz.spectrogram(pv.logmel_db, seconds=pv.seconds, title="Log-mel spectrogram (dB)"),
                            width="stretch")
with right:
    st.markdown("**Lyrics**")
    st.text(row["lyrics"] if row["lyrics"] else "(no lyrics: instrumental or unknown)")
