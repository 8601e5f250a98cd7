"""The shared sidebar: pick a dataset, import a folder or a .zip, see what was skipped."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core import datasets
from core.config import workspace
from core.errors import SongscapeError
from core.ui import data, keys

LAYOUTS = ["auto", "folder", "gtzan", "jamendo", "tabular"]


def _import_form() -> None:
    with st.expander("➕ Import your music", expanded=False):
        src = st.radio("Source", ["Folder on this machine", "Upload a .zip"], horizontal=True, key="import.src")
        layout = st.selectbox("Layout", LAYOUTS, key="import.layout",
                              help="auto detects: folder + metadata CSV, GTZAN-style genre folders, "
                                   "JamendoLyrics CSV, or a Spotify-style tabular CSV")
        name = st.text_input("Dataset name", key="import.name", placeholder="from the folder name")
        seg = st.number_input("Cut into segments of (s), 0 = whole tracks", 0.0, 600.0, 30.0, 5.0, key="import.seg")
        min_s = st.number_input("Skip clips shorter than (s)", 0.0, 60.0, 1.0, 0.5, key="import.min")
        path = None
        if src == "Folder on this machine":
            path = st.text_input("Folder or CSV path", key="import.path", placeholder="/home/me/music")
        else:
            up = st.file_uploader("Zip of audio files (+ metadata CSV)", type=["zip"], key="import.zip")
            if up is not None:
                from core.datasets.importers import unpack_zip

                dest = workspace() / "uploads" / Path(up.name).stem
                try:
                    path = str(unpack_zip(up, dest))
                except SongscapeError as exc:
                    st.error(str(exc))
        if st.button("Import", type="primary", key="import.go", disabled=not path):
            try:
                ds = data.import_folder(path, layout=layout, name=name, segment_seconds=seg or None, min_seconds=min_s)
            except SongscapeError as exc:
                st.error(str(exc))
            else:
                st.session_state[keys.DATASET] = ds.name
                st.session_state[keys.IMPORT_MESSAGES] = (ds.name, len(ds.tracks), len(ds.skipped))
                st.rerun()


def sidebar():
    data.warm_up_projections()
    with st.sidebar:
        try:
            data.ensure_demo()
        except SongscapeError as exc:
            st.error(f"Could not generate the demo corpus: {exc}")
        names = datasets.list_datasets()
        if names:
            if st.session_state.get(keys.DATASET) not in names:
                st.session_state[keys.DATASET] = datasets.DEMO_NAME if datasets.DEMO_NAME in names else names[0]
            st.selectbox("Dataset", names, key=keys.DATASET)
        else:
            st.info("No dataset yet: import one below.")
        msg = st.session_state.pop(keys.IMPORT_MESSAGES, None)
        if msg:
            st.success(f"Imported **{msg[0]}**: {msg[1]} tracks, {msg[2]} skipped.")
        _import_form()
        ds = data.current_dataset()
        if ds is not None:
            st.caption(f"{len(ds.tracks)} tracks · {ds.info.get('layout', '')} · {ds.root}")
            if ds.skipped:
                with st.expander(f"⚠️ {len(ds.skipped)} item(s) skipped at import"):
                    st.dataframe(pd.DataFrame([s.as_dict() for s in ds.skipped]), hide_index=True, width="stretch")
        return ds
