"""First start: make the embedded demo corpus while the main pane says what is being made and when
it will be ready.

``first_start()`` runs before any page draws (app.py, and ``guards.ensure_entrypoint`` for a page run
on its own). When the demo corpus for the configured size (``data.demo_size()``) exists it costs one
check; otherwise the main pane shows a welcome, what the corpus holds, a progress bar counted in
tracks with the time left, and the track being synthesized, then clears itself and the page opens
on the new corpus. A click during the build does not stop it (the corpus is needed either way): the
click's rerun happens once the corpus is complete.
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core.errors import SongscapeError
from core.ui import data
from core.ui.widgets import plain

MIN_INTERVAL_S = 0.5


class _MainPaneProgress:
    """``progress(step, total, logs)`` for the demo build: tracks done, time left, current track."""

    def __init__(self, n_tracks: int):
        self.n_tracks = n_tracks
        self.bar = st.progress(0.0, text=f"Starting the synthesizer for {n_tracks} tracks…")
        self.start = time.perf_counter()
        self._last = 0.0
        self.interrupt: BaseException | None = None

    def __call__(self, step: int, total: int, logs: dict) -> None:
        now = time.perf_counter()
        if step < total and now - self._last < MIN_INTERVAL_S:
            return
        self._last = now
        elapsed = now - self.start
        text = f"Synthesized {step} of {total} tracks"
        if 0 < step < total:
            text += f" · about {elapsed / step * (total - step):.0f} s left"
        track = logs.get("track")
        if track:
            text += f" · just made {plain(str(track).rsplit('/', 1)[-1])}"
        try:
            self.bar.progress(min(1.0, step / max(1, total)), text=text)
        except ScriptControlException as exc:  # a click: finish the corpus first, then rerun
            self.interrupt = exc


def first_start() -> None:
    """Generate the demo corpus if it is missing, showing progress in the main pane."""
    from core.datasets.demo import demo_is_current, ensure_demo_dataset

    size = data.demo_size()
    if demo_is_current(**size):
        return
    slot = st.empty()
    with slot.container():
        st.title("Welcome to Songscape")
        st.markdown(
            f"Songscape is making its **demo corpus** now: {size['n_tracks']} synthesized songs of "
            f"{size['seconds']:.0f} s in six genres, sung in English, Bangla and both, with lyrics and labels. "
            "This happens once; the Dataset page opens on it as soon as it is ready. "
            "To work on your own music instead, import a folder or a .zip in the sidebar afterwards.")
        rep = _MainPaneProgress(size["n_tracks"])
        try:
            ensure_demo_dataset(progress=rep, **size)
        except SongscapeError as exc:
            st.error(f"Could not generate the demo corpus: {plain(exc)}. Import your own music in the sidebar.")
            return
    slot.empty()
    if rep.interrupt is not None:
        raise rep.interrupt
