"""Compare: reproduce each report's tables in one click, run grids over seeds, sweep β."""

import streamlit as st

from core.ui import compare as cmp
from core.ui.explore import label_picker
from core.ui.guards import require_dataset

ds = require_dataset()
st.title(":material/leaderboard: Compare")
st.caption("Every cell runs over several seeds (mean ± std) and is cached: a rerun, or a run after a cancel, "
           "resumes where it stopped.")
label_cols = label_picker(ds, key="cmp.labels")

tab_presets, tab_grid, tab_sweep = st.tabs(["Report presets", "Custom grid", "β sweep"])
with tab_presets:
    cmp.presets_tab(ds)
with tab_grid:
    cmp.grid_tab(ds, label_cols)
with tab_sweep:
    cmp.sweep_tab(ds)
