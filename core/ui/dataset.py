"""Dataset page sections: search, one selected track that every view follows, feature extraction with
one progress bar per pass, musicnn tags of the selected track.

Selection: the track picker (``keys.DATASET_TRACK``) is the one source of truth. A new search moves
it to the first match; a click on a table row moves it to that row (the table's selection is applied
once, when it changes, so the picker can move on afterwards); the player, waveform, spectrogram,
lyrics and tags show the picked track. ``keys.SELECTED_TRACK`` mirrors it for other pages.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import SongscapeError
from core.progress import Cancelled
from core.ui import data, keys
from core.ui.widgets import ProgressReporter, plain

SEARCH_COLUMNS = ("title", "artist", "lyrics")
TAGGERS = {"musicnn_mtt_tags": "MTT_musicnn", "musicnn_msd_tags": "MSD_musicnn"}  # feature → tagger
TOP_TAGS = 5
SEARCH_LAST = keys.DATASET_SEARCH + ".applied"


def search(tracks: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows whose title, artist or lyrics contain ``query`` (case-insensitive, any script); all rows
    for an empty query."""
    q = " ".join(str(query or "").split()).casefold()
    if not q:
        return tracks
    hit = np.zeros(len(tracks), dtype=bool)
    for col in SEARCH_COLUMNS:
        if col in tracks:
            hit |= tracks[col].fillna("").astype(str).str.casefold().str.contains(q, regex=False).to_numpy()
    return tracks[hit]


TABLE_PAGE_ROWS = 5_000  # rows sent to the browser at once; a 100,000-track table is paged here, not there


def table_page(df: pd.DataFrame, *, key: str, rows: int = TABLE_PAGE_ROWS) -> pd.DataFrame:
    """The rows of ``df`` to send to the table: all of them up to ``rows``, else one page of ``rows``
    chosen with a page number under the table (search narrows what is paged)."""
    if len(df) <= rows:
        return df
    pages = -(-len(df) // rows)
    page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key=key,
                               help=f"The table shows {rows:,} tracks at a time; search to narrow it."))
    start = (page - 1) * rows
    st.caption(f"Tracks {start + 1:,}–{min(start + rows, len(df)):,} of {len(df):,}.")
    return df.iloc[start:start + rows]


def follow_selection(options: list[str], *, query: str, grid_pick: str | None) -> None:
    """Move the track picker before it is drawn: to the first match of a new search, to a newly
    clicked table row, or into the options when its track is not among them."""
    state = st.session_state
    if query != state.get(SEARCH_LAST, ""):
        state[SEARCH_LAST] = query
        if options and query:
            state[keys.DATASET_TRACK] = options[0]
    if grid_pick is not None and grid_pick != state.get(keys.GRID_PICK):
        state[keys.GRID_PICK] = grid_pick
        if grid_pick in options:
            state[keys.DATASET_TRACK] = grid_pick
    if options and state.get(keys.DATASET_TRACK) not in options:
        remembered = state.get(keys.SELECTED_TRACK)
        state[keys.DATASET_TRACK] = remembered if remembered in options else options[0]


def grid_selection(picked) -> str | None:
    """The track id a table selection (``track_grid``'s rows) names, or None."""
    if picked is None or "track_id" not in picked or not len(picked):
        return None
    return str(picked["track_id"].iloc[0])


def extract(ds, names: list[str], *, label: str = "Extracting features") -> None:
    """Compute (or load) the features ``names`` under ONE progress bar; keeps what finished if stopped."""
    from core.features import get_features

    rep = ProgressReporter(label)
    t0 = time.perf_counter()
    done = 0
    for i, name in enumerate(names):
        key = ("features", ds.fingerprint, name)
        if data.peek(key) is not None:
            done += 1
            continue

        def step(s, total, logs, _name=name, _i=i):
            rep(s, total, {**logs, "message": f"{_name} ({_i + 1}/{len(names)})", "file": None})

        try:
            data.memo(key, lambda _n=name: get_features(ds, _n, progress=step, cancel=rep.cancel))
        except Cancelled:
            rep.done(f"Stopped after {done} of {len(names)} features; the finished clips are kept.")
            rep.reraise()
            return
        except SongscapeError as exc:
            st.error(plain(exc))
        done += 1
    rep.done(f"{done} feature{'s' if done != 1 else ''} ready in {time.perf_counter() - t0:.1f} s")
    rep.reraise()


def extracted(ds, name: str):
    """The FeatureSet ``name`` if it is in memory or complete on disk (never computes), else None."""
    key = ("features", ds.fingerprint, name)
    if (held := data.peek(key)) is not None:
        return held
    try:
        from core import artifacts
        from core.features import FEATURES
        from core.features.base import FeatureConfig
        from core.features.extract import GROUPS, group_dir

        path = group_dir(ds, GROUPS.get(FEATURES.get(name).kind).fingerprint(ds, FeatureConfig()))
        if not artifacts.is_complete(path):
            return None
    except (SongscapeError, OSError):
        return None
    from core.features import get_features

    return data.memo(key, lambda: get_features(ds, name))


def musicnn_tags(ds, row: int) -> None:
    """Top tags of track ``row`` from the pretrained taggers already run; a button to run MTT's."""
    from core.features.musicnn import MODELS, top_tags

    avail = [f for f in TAGGERS if f in data.available_features(ds)]
    if not avail:
        return
    st.markdown("**Tags (pretrained musicnn)**")
    shown = False
    for feat in avail:
        fs = extracted(ds, feat)
        if fs is None:
            continue
        shown = True
        model = MODELS.get(TAGGERS[feat])
        if not fs.valid[row]:
            st.caption(f"{feat}: not available for this track ({plain(fs.errors.get(str(fs.track_ids[row]), ''))})")
            continue
        tags = top_tags(fs.X[row], model=model.name, n=TOP_TAGS)
        st.markdown(" · ".join(f"{plain(tag)} **{p:.2f}**" for tag, p in tags))
        st.caption(f"{model.name}, trained on {plain(model.trained_on)}. Tags describe what that collection "
                   "taught it, not labels of this dataset.")
    if not shown and st.button("Compute musicnn tags", key="dataset.tags", icon=":material/sell:",
                               help=f"Runs the MagnaTagATune tagger on every track of {ds.name} "
                                    f"(about 1 s per clip on a CPU; kept afterwards)."):
        extract(ds, [avail[0]], label="Tagging with musicnn")
        st.rerun()
