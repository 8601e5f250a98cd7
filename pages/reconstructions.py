"""Reconstructions: original vs decoded spectrograms, listen to both, latent traversals, training curves."""

import numpy as np
import streamlit as st

from core import viz
from core.audio import SAMPLE_RATE, to_wav_bytes
from core.errors import SongscapeError
from core.ui import data
from core.ui.guards import require, require_dataset
from core.ui.train import history_chart
from core.ui.widgets import play_track

ds = require_dataset()
st.title("🔁 Reconstructions")

from core.reconstruct import reconstructions, to_audio, traversal  # noqa: E402
from core.ui.explore import trained_models  # noqa: E402

models = trained_models(ds)
require(len(models) > 0, "No trained model for this dataset yet: train one first (a Conv2D VAE on log-mel "
        "shows spectrogram reconstructions).", page="pages/train.py", label="Train a model")
ids = models["model_id"].tolist()
mid = st.selectbox("Model", ids, key="recon.model",
                   format_func=lambda m: f"{m} · β={models.set_index('model_id').loc[m, 'beta']} · {models.set_index('model_id').loc[m, 'features']}")
t = ds.tracks
labels = (t["title"].where(t["title"] != "", t["track_id"]) + " — " + t["language"] + ", " + t["genre"]).tolist()
rows = st.multiselect("Tracks", list(range(len(t))), default=list(range(min(2, len(t)))), max_selections=4,
                      format_func=labels.__getitem__, key="recon.rows")

tab_rec, tab_trav, tab_curves = st.tabs(["Original vs reconstruction", "Latent traversal", "Training curves"])
with tab_rec:
    try:
        views = data.memo(("recon", mid, tuple(rows)), lambda: reconstructions(mid, ds, rows))
    except SongscapeError as exc:
        st.error(str(exc))
        views = []
    if rows and not views:
        st.info("The model could not encode these tracks (their features are missing).")
    for v in views:
        st.markdown(f"**{labels[v.row]}** · `{v.modality}` ({v.feature}) · reconstruction MSE **{v.error:.4f}**")
        if v.original.ndim == 2:
            st.plotly_chart(viz.recon_triptych(v.original, v.recon), width="stretch", key=f"rec.{v.row}.{v.modality}")
        else:
            import pandas as pd

            st.line_chart(pd.DataFrame({"original": v.original, "reconstruction": v.recon}), height=200)
        a = to_audio(v.feature, v.recon)
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Original")
            play_track(t.iloc[v.row].to_dict(), caption=False)
        with c2:
            st.caption("Reconstruction (mel inversion)" if a is not None else "Reconstruction: not audible "
                       "(only log-mel reconstructions can be turned back into sound)")
            if a is not None:
                st.audio(to_wav_bytes(a, sr=SAMPLE_RATE), format="audio/wav")

with tab_trav:
    if rows:
        row = st.selectbox("Track", rows, format_func=labels.__getitem__, key="trav.row")
        latent_dim = int(models.set_index("model_id").loc[mid, "latent_dim"] or 1)
        dim = st.slider("Latent dimension", 0, latent_dim - 1, 0, key="trav.dim")
        span = st.slider("Range (± σ)", 0.5, 5.0, 3.0, 0.5, key="trav.span")
        offsets = np.linspace(-span, span, 5)
        try:
            main, decoded = traversal(mid, ds, row, dim=dim, offsets=offsets)
        except SongscapeError as exc:
            st.error(str(exc))
        else:
            cols = st.columns(len(decoded))
            for col, off, img in zip(cols, offsets, decoded):
                with col:
                    if img.ndim == 2:
                        st.plotly_chart(viz.spectrogram(img, title=f"{off:+.1f}", height=220), width="stretch",
                                        key=f"trav.{off}")
                    else:
                        st.line_chart(img, height=160)
            feature = models.set_index("model_id").loc[mid, "features"]
            if "logmel" in str(feature) and decoded[0].ndim == 2:
                pick = st.select_slider("Listen at offset", options=list(offsets), value=offsets[-1],
                                        format_func=lambda o: f"{o:+.1f}", key="trav.listen")
                a = to_audio("logmel", decoded[list(offsets).index(pick)])
                st.audio(to_wav_bytes(a, sr=SAMPLE_RATE), format="audio/wav")
    else:
        st.info("Pick at least one track above.")

with tab_curves:
    history_chart(mid)
