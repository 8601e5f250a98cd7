"""The shared sidebar: pick a dataset, import a folder or a .zip, see what was skipped.

An import runs when Import is clicked, never on a plain rerun: an uploaded .zip is unpacked once per
content by the import itself (``core.ui.data.import_upload``). The dataset selectbox's own key cannot
be written once the widget exists in a run, so a finished import leaves the new dataset's name under
``PENDING_DATASET``; the next run applies it before the selectbox is drawn. What the first start
draws (the demo's progress) sits in one slot, so the widgets below keep their identity across reruns
(an open import form stays open). Everything the user or a
file supplied (names, paths, messages) is shown as plain text (``core.ui.widgets.plain``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import datasets
from core.datasets.importers import LAYOUTS, parse_column_map
from core.errors import SongscapeError
from core.ui import data, keys
from core.ui.widgets import plain

SOURCES = ("Folder on this machine", "Upload a .zip")
PENDING_DATASET = keys.DATASET + ".pending"  # the dataset an import selects on the next run


def _import_form() -> None:
    with st.expander("Import your music", expanded=False, icon=":material/library_add:"):
        src = st.radio("Source", SOURCES, horizontal=True, key="import.src")
        layout = st.selectbox("Layout", list(LAYOUTS), key="import.layout",
                              help="auto detects: folder + metadata CSV, GTZAN-style genre folders, "
                                   "JamendoLyrics CSV, or a Spotify-style tabular CSV")
        name = st.text_input("Dataset name", key="import.name", placeholder="from the folder name")
        replace = st.checkbox("Replace a dataset of the same name", key="import.replace")
        seg = st.number_input("Cut into segments of (s), 0 = whole tracks", 0.0, 600.0, 30.0, 5.0, key="import.seg")
        min_s = st.number_input("Skip clips shorter than (s)", 0.0, 60.0, 1.0, 0.5, key="import.min")
        roles = st.text_input("Column roles (optional)", key="import.map", placeholder="genre=genre_en, language=lang",
                              help="ROLE=COLUMN pairs, for CSV columns whose names Songscape does not recognise. "
                                   "Roles: path, title, artist, language, genre, lyrics.")
        extra = st.text_input("More labels to score (optional)", key="import.labels", placeholder="mood, era",
                              help="Other CSV columns to score clusters against, besides language and genre.")
        path, up = "", None
        if src == SOURCES[0]:
            path = st.text_input("Folder or CSV path", key="import.path", placeholder="~/music",
                                 help="A folder or CSV in your home folder (or below SONGSCAPE_IMPORT_ROOTS).")
            ready = bool(path.strip())
        else:
            up = st.file_uploader("Zip of audio files (+ metadata CSV)", type=["zip"], key="import.zip")
            ready = up is not None
        if not st.button("Import", type="primary", key="import.go", disabled=not ready):
            return
        notes: list[str] = []
        try:
            opts = dict(layout=layout, name=name.strip() or None, segment_seconds=seg or None, min_seconds=min_s,
                        replace=replace, column_map=parse_column_map(roles, name="Column roles"),
                        labels=[c.strip() for c in extra.split(",") if c.strip()])
            if up is not None:
                ds, notes = data.import_upload(up, file_name=up.name, **opts)
            else:
                ds = data.import_folder(path.strip(), **opts)
        except SongscapeError as exc:
            st.error(plain(exc))
            return
        st.session_state[PENDING_DATASET] = ds.name
        st.session_state[keys.IMPORT_MESSAGES] = (ds.name, len(ds.tracks), len(ds.skipped), notes)
        st.rerun()


def _select_dataset(names: list[str]) -> None:
    """Apply an import's pending selection, or fall back to the demo, before the selectbox exists."""
    pending = st.session_state.pop(PENDING_DATASET, None)
    if pending in names:
        st.session_state[keys.DATASET] = pending
    if st.session_state.get(keys.DATASET) not in names:
        st.session_state[keys.DATASET] = datasets.DEMO_NAME if datasets.DEMO_NAME in names else names[0]


def sidebar():
    data.warm_up_projections()
    with st.sidebar:
        slot = st.empty()  # one slot whatever the first start draws: the widgets below keep their places
        with slot.container():
            try:
                data.ensure_demo()
            except SongscapeError as exc:
                st.error(f"Could not generate the demo corpus: {plain(exc)}")
                slot = None
        if slot is not None:
            slot.empty()
        names = datasets.list_datasets()
        if names:
            _select_dataset(names)
            st.selectbox("Dataset", names, key=keys.DATASET)
        else:
            st.info("No dataset yet: import one below.")
        msg = st.session_state.pop(keys.IMPORT_MESSAGES, None)
        if msg:
            st.success(f"Imported **{plain(msg[0])}**: {msg[1]} tracks, {msg[2]} skipped.")
            for note in (msg[3] if len(msg) > 3 else ()):
                st.warning(plain(note))
        _import_form()
        ds = data.current_dataset()
        if ds is not None:
            st.caption(f"{len(ds.tracks)} tracks · {plain(ds.info.get('layout', ''))} · {plain(ds.root)}")
            if ds.skipped:
                with st.expander(f"{len(ds.skipped)} item(s) skipped at import", icon=":material/warning:"):
                    st.dataframe(pd.DataFrame([s.as_dict() for s in ds.skipped]), hide_index=True, width="stretch")
        return ds
