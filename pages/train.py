"""Train: pick a model and its inputs, set hyperparameters (or a report preset), train with live curves."""

import streamlit as st

from core.errors import SongscapeError
from core.ui import train as tr
from core.ui.guards import require_dataset
from core.ui.widgets import plain

ds = require_dataset()
st.title(":material/model_training: Train")
tr.outcome_message()

left, right = st.columns([2, 3], gap="large")
with left:
    model, pre = tr.preset_and_model(ds)
    features, cond = tr.feature_pickers(ds, model, pre)
    name, notes = tr.name_and_notes(pre)
with right:
    try:
        model_params, config = tr.hyperparameters(model, pre, st.session_state.get("train.preset", ""),
                                                  n_rows=len(ds.tracks))
    except SongscapeError as exc:
        st.error(plain(exc))
        st.stop()

if st.button("Train", type="primary", key="train.go", icon=":material/play_arrow:"):
    tr.run_training(ds, model, features, cond, model_params, config, name=name, notes=notes)

st.subheader("Trained models")
tr.model_table(ds)
