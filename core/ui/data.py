"""Cached wrappers around core calls. Core caches on disk by fingerprint; this adds a process memo
so reruns (every slider move) cost nothing, and draws progress bars for first-time work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from core import datasets
from core.ui import keys
from core.ui.widgets import ProgressReporter


@st.cache_resource(show_spinner=False)
def _memo() -> dict:
    return {}


def memo(key: tuple, compute: Callable[[], Any]) -> Any:
    store = _memo()
    if key not in store:
        store[key] = compute()
    return store[key]


def forget(prefix: str) -> None:
    store = _memo()
    for k in [k for k in store if k and k[0] == prefix]:
        del store[k]


@st.cache_resource(show_spinner=False)
def warm_up_projections() -> bool:
    """Once per server process: compile UMAP's numba code in the background before anyone asks."""
    from core.project import warmup

    warmup("umap", background=True)
    return True


def demo_size() -> dict:
    """Demo corpus size; tests shrink it through the environment."""
    return {"n_tracks": int(os.environ.get("SONGSCAPE_DEMO_TRACKS", 240)),
            "seconds": float(os.environ.get("SONGSCAPE_DEMO_SECONDS", 30.0)),
            "seed": int(os.environ.get("SONGSCAPE_DEMO_SEED", 0))}


def ensure_demo() -> None:
    """Generate the embedded demo corpus on first start (with a progress bar); reuse it afterwards."""
    from core.datasets.demo import demo_is_current, ensure_demo_dataset

    size = demo_size()
    if demo_is_current(**size):
        return
    st.info("First start: generating the embedded demo corpus (synthesized songs in six genres, "
            "English and Bangla vocals). This happens once.")
    rep = ProgressReporter("Generating demo corpus")
    ensure_demo_dataset(progress=rep, **size)
    rep.done()


def load_dataset(name: str):
    path = datasets.dataset_dir(name) / "tracks.csv"
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return memo(("dataset", str(path), mtime), lambda: datasets.load_dataset(name))


def current_dataset():
    name = st.session_state.get(keys.DATASET)
    if not name or name not in datasets.list_datasets():
        return None
    return load_dataset(name)


def features(ds, name: str):
    """FeatureSet for ``name``: from memory, disk, or extracted now with a progress bar."""
    from core.features import get_features

    def compute():
        rep = ProgressReporter(f"Extracting features ({name})")
        fs = get_features(ds, name, progress=rep, cancel=rep.cancel)
        rep.done()
        rep.reraise()
        return fs

    return memo(("features", ds.fingerprint, name), compute)


def available_features(ds) -> list[str]:
    from core.features import available_features as avail

    return avail(ds)


def import_folder(path: str, *, layout: str, name: str | None, segment_seconds: float | None,
                  min_seconds: float) -> Any:
    from core.datasets.importers import import_dataset

    rep = ProgressReporter("Importing")
    ds = import_dataset(Path(path).expanduser(), layout=layout, name=name or None,
                        segment_seconds=segment_seconds, min_seconds=min_seconds, progress=rep)
    rep.done()
    return ds
