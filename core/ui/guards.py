"""Page guards: explain what is missing, link to where to fix it, stop the page."""

from __future__ import annotations

import streamlit as st

from core.ui.data import current_dataset


def ensure_entrypoint() -> None:
    """Route a deep link (e.g. /explore on a fresh server) through app.py's navigation and sidebar.

    With a ``pages/`` folder beside the entrypoint, Streamlit runs a requested page file on its own
    until the first ``st.navigation`` call in the process (its legacy multipage mode). We switch that
    mode off and rerun: the same URL then resolves through app.py (page hashes match: both use the
    file's url path).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_dataset():
    ensure_entrypoint()
    ds = current_dataset()
    if ds is None:
        st.info("No dataset selected. Pick the demo corpus or import your own music in the sidebar.")
        st.stop()
    return ds


def require_audio(ds, what: str) -> None:
    if not ds.has_audio:
        st.info(f"{what} needs audio, and **{ds.name}** is tabular data (no audio files). "
                "Import a folder of audio files, or use the tabular features on the Explore page.")
        st.stop()


def require(condition: bool, message: str, *, page: str | None = None, label: str = "Go there") -> None:
    if not condition:
        st.info(message)
        if page:
            st.page_link(page, label=label, icon="➡️")
        st.stop()
