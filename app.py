"""Songscape: see how a music collection clusters once a VAE has learned it."""

import streamlit as st

from core.ui.guards import PAGE_CONFIG, run_navigation

st.set_page_config(**PAGE_CONFIG)

from core.ui.sidebar import sidebar  # noqa: E402  (after set_page_config)

PAGES = [
    st.Page("pages/dataset.py", title="Dataset", icon="🎵", default=True),
    st.Page("pages/train.py", title="Train", icon="🧠"),
    st.Page("pages/explore.py", title="Explore", icon="🗺️"),
    st.Page("pages/compare.py", title="Compare", icon="📊"),
    st.Page("pages/reconstructions.py", title="Reconstructions", icon="🔁"),
]

navigation = st.navigation(PAGES)
sidebar()
run_navigation(navigation)
