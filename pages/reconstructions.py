"""Reconstructions: original vs decoded spectrograms, listen to both, latent traversals, training curves.

Only the chosen view is computed; a model's inputs, a track's μ and its reconstruction are kept
(core.reconstruct), so moving a traversal slider costs one decoder pass. Sound from a decoded
log-mel (Griffin-Lim) is made only when asked.
"""

import numpy as np
import streamlit as st

from core import viz
from core.audio import SAMPLE_RATE, to_wav_bytes
from core.errors import SongscapeError
from core.reconstruct import GRIFFIN_LIM_ITERS, reconstruction_audio, reconstructions, traversal, traversal_figure
from core.ui import keys
from core.ui.explore_labels import trained_models
from core.ui.guards import require, require_dataset
from core.ui.train import history_chart, model_labels
from core.ui.widgets import plain, play_track

ds = require_dataset()
st.title(":material/graphic_eq: Reconstructions")

models = trained_models(ds)
require(len(models) > 0, "No trained model for this dataset yet: train one first (a Conv2D VAE on log-mel "
        "shows spectrogram reconstructions).", page="pages/train.py", label="Train a model")
by_id = models.set_index("model_id")
labels_of = model_labels(models)
mid = st.selectbox("Model", by_id.index.tolist(), key=keys.RECON_MODEL, format_func=labels_of.get)
audible = "logmel" in str(by_id.loc[mid, "features"])
t = ds.tracks
labels = (t["title"].where(t["title"] != "", t["track_id"]) + " — " + t["language"] + ", " + t["genre"]).tolist()
VIEWS = ("Original vs reconstruction", "Latent traversal", "Training curves")
view = st.radio("Show", VIEWS, horizontal=True, key="recon.view", label_visibility="collapsed")


def listen(button_label: str, key: str, **where) -> None:
    """A button that makes the sound of a decoded log-mel (seconds), then a player for it."""
    if not audible:
        st.caption("Not audible: only log-mel reconstructions can be turned back into sound.")
        return
    made = st.session_state.setdefault("recon.audible", set())
    wkey = (mid, key)
    if wkey not in made and not st.button(button_label, key=f"listen.{key}", icon=":material/graphic_eq:",
                                          help=f"Mel inversion (Griffin-Lim, {GRIFFIN_LIM_ITERS} iterations): "
                                               "a few seconds per 30-s clip."):
        return
    made.add(wkey)
    with st.spinner("Turning the spectrogram back into sound…"):
        audio = reconstruction_audio(mid, ds, **where)
    st.audio(to_wav_bytes(audio, sr=SAMPLE_RATE), format="audio/wav")


if view == VIEWS[0]:
    rows = st.multiselect("Tracks", list(range(len(t))), default=list(range(min(2, len(t)))), max_selections=4,
                          format_func=labels.__getitem__, key="recon.rows")
    try:
        views = reconstructions(mid, ds, rows)
    except SongscapeError as exc:
        st.error(plain(exc))
        views = []
    if rows and not views:
        st.info("The model could not encode these tracks (their features are missing).")
    for v in views:
        st.markdown(f"**{plain(labels[v.row])}** · `{v.modality}` ({v.feature}) · reconstruction MSE **{v.error:.4f}**")
        if v.original.ndim == 2:
            st.plotly_chart(viz.recon_triptych(v.original, v.recon), width="stretch", key=f"rec.{v.row}.{v.modality}")
        else:
            st.line_chart({"original": v.original, "reconstruction": v.recon}, height=200)
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Original")
            play_track(t.iloc[v.row].to_dict(), caption=False, key=f"rec.play.{v.row}")
        with c2:
            st.caption("Reconstruction")
            if v.feature == "logmel":
                listen("Listen to the reconstruction", f"rec.{v.row}.{v.modality}", row=v.row)
            else:
                st.caption(f"Not audible: {v.feature} cannot be turned back into sound.")
elif view == VIEWS[1]:
    row = st.selectbox("Track", list(range(len(t))), format_func=labels.__getitem__, key="trav.row")
    latent_dim = int(by_id.loc[mid, "latent_dim"] or 1)
    c1, c2 = st.columns(2)
    dim = c1.slider("Latent dimension", 0, max(latent_dim - 1, 1), 0, key="trav.dim", disabled=latent_dim < 2)
    span = c2.slider("Range (± σ)", 0.5, 5.0, 3.0, 0.5, key="trav.span")
    offsets = [float(o) for o in np.linspace(-span, span, 5)]
    try:
        main, decoded = traversal(mid, ds, row, dim=min(dim, latent_dim - 1), offsets=offsets)
    except SongscapeError as exc:
        st.error(plain(exc))
    else:
        st.plotly_chart(traversal_figure(decoded, offsets, dim=dim), width="stretch", key="trav.strip")
        pick = st.select_slider("Listen at offset", options=offsets, value=offsets[-1],
                                format_func=lambda o: f"{o:+.1f} σ", key="trav.listen")
        listen(f"Listen at z{dim} {pick:+.1f} σ", f"trav.{row}.{dim}.{pick:.3f}", row=row, dim=dim, offset=pick)
else:
    history_chart(mid)
