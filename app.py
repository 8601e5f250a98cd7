"""Songscape: see how a music collection clusters once a VAE has learned it."""

import streamlit as st

from core.ui.guards import PAGE_CONFIG, app_chrome, run_navigation

st.set_page_config(**PAGE_CONFIG)

from core.ui.first_start import first_start  # noqa: E402  (after set_page_config)
from core.ui.sidebar import sidebar  # noqa: E402

PAGES = [
    st.Page("pages/dataset.py", title="Dataset", icon=":material/library_music:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/leaderboard:"),
    st.Page("pages/reconstructions.py", title="Reconstructions", icon=":material/graphic_eq:"),
]

navigation = st.navigation(PAGES)
app_chrome()
first_start()  # the demo corpus on a first start, with its progress in the main pane
sidebar()
run_navigation(navigation)
