"""The app shell and page guards: page config, logo and fonts, first start; explain what is missing,
link to where to fix it, stop the page.

``app_chrome()`` draws what every run needs before the page: the logo (``assets/logo.svg``) and the
stylesheet (``assets/style.css`` plus the bundled Noto Sans Bengali: Bangla must render on machines
without a Bengali font, and the app has no static folder, so the font is served from Streamlit's media
store, or inlined as a data URL where no server runs). The font is added
to Streamlit's own families ("Source Sans", "Source Code Pro", "Source Serif") and to Plotly's
("Open Sans") for the Bengali block only (``unicode-range``), so Latin text keeps its font and no
widget's font (the Material icons among them) is overridden.
"""

from __future__ import annotations

import base64
import functools
import threading
from pathlib import Path

import streamlit as st

from core.ui.data import current_dataset

ASSETS = Path(__file__).resolve().parents[2] / "assets"
LOGO = ASSETS / "logo.svg"
ICON = ASSETS / "icon.svg"
BENGALI_FONT = ASSETS / "fonts" / "NotoSansBengali-Regular.ttf"
# Bengali block, the joiners that shape conjuncts, the dotted circle shown for a lone vowel sign
BENGALI_RANGE = "U+0980-09FF, U+200C-200D, U+25CC"
FONT_FAMILIES = ("Source Sans", "Source Code Pro", "Source Serif", "Open Sans")


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


PAGE_CONFIG = {"page_title": "Songscape", "page_icon": str(ICON), "layout": "wide"}


@functools.lru_cache(maxsize=1)
def _font_data_url() -> str:
    return "data:font/ttf;base64," + base64.b64encode(BENGALI_FONT.read_bytes()).decode("ascii")


def font_url() -> str:
    """Where the browser fetches the Bengali font: one content-addressed URL served by Streamlit's media
    store (fetched once, then cached, however many families name it), or inlined when no server runs."""
    from streamlit import runtime

    if runtime.exists():
        try:
            return runtime.get_instance().media_file_mgr.add(str(BENGALI_FONT), "font/ttf", "songscape.font.bengali")
        except Exception:  # noqa: BLE001 - the inlined font works everywhere, only heavier
            pass
    return _font_data_url()


@functools.lru_cache(maxsize=4)
def style_html(font_url: str) -> str:
    """``<style>``: the Bengali @font-face rules for ``FONT_FAMILIES`` and assets/style.css."""
    faces = "".join(
        f'@font-face{{font-family:"{fam}";src:url("{font_url}") format("truetype");font-weight:100 900;'
        f"font-style:normal;font-display:swap;unicode-range:{BENGALI_RANGE};}}" for fam in FONT_FAMILIES)
    return f"<style>{faces}\n{(ASSETS / 'style.css').read_text(encoding='utf-8')}</style>"


def grid_css() -> dict:
    """CSS for components drawn in their own iframe (the AgGrid track table), where the page's @font-face
    rules do not reach: the bundled Bengali font for Bengali text, the grid's own font for the rest."""
    return {"@font-face": {"font-family": '"Songscape Bengali"', "src": f'url("{font_url()}") format("truetype")',
                           "font-display": "swap", "unicode-range": BENGALI_RANGE},
            ".ag-cell, .ag-header-cell-text, .ag-cell-value, .ag-input-field-input":
                {"font-family": '"Songscape Bengali", sans-serif'}}


def app_chrome() -> None:
    """Logo and stylesheet; every run draws them (an element not drawn in a run is removed)."""
    st.logo(str(LOGO), icon_image=str(ICON), size="large")
    st.html(style_html(font_url()))


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

    from core.ui.first_start import first_start
    from core.ui.sidebar import sidebar

    PagesManager.uses_pages_directory = False
    if SEEN not in st.session_state:  # a fresh session's first run: rerun once through app.py
        st.session_state[SEEN] = True
        st.rerun()
    st.set_page_config(**PAGE_CONFIG)  # later runs (AppTest's switch_page): a rerun would eat the click
    app_chrome()
    first_start()
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
            st.page_link(page, label=label, icon=":material/arrow_forward:")
        st.stop()
