"""Page guards: explain what is missing, link to where to fix it, stop the page."""

from __future__ import annotations

import threading

import streamlit as st

from core.ui.data import current_dataset


_ENTRY = threading.local()
SEEN = "_songscape_session_started"


def run_navigation(navigation) -> None:
    """app.py runs the chosen page through this, so pages can tell they were reached via app.py."""
    _ENTRY.active = True
    st.session_state[SEEN] = True
    try:
        navigation.run()
    finally:
        _ENTRY.active = False


PAGE_CONFIG = {"page_title": "Songscape", "page_icon": "🎧", "layout": "wide"}


def ensure_entrypoint() -> None:
    """Give a page its page config and sidebar when Streamlit ran it without app.py.

    With a ``pages/`` folder beside the entrypoint, Streamlit runs a requested page file on its own
    (its legacy multipage mode) until the first ``st.navigation`` call in the process: a deep link
    such as /explore on a fresh server, and AppTest's switch_page, do this. We switch that mode off;
    a fresh session reruns once (the URL then resolves through app.py's navigation), a running one
    gets the page config and sidebar app.py would have drawn, so the page works in this run too.
    """
    if getattr(_ENTRY, "active", False):
        return
    from streamlit.runtime.pages_manager import PagesManager

    from core.ui.sidebar import sidebar

    PagesManager.uses_pages_directory = False
    if SEEN not in st.session_state:  # a fresh session's first run: rerun once through app.py
        st.session_state[SEEN] = True
        st.rerun()
    st.set_page_config(**PAGE_CONFIG)  # later runs (AppTest's switch_page): a rerun would eat the click
    sidebar()


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
