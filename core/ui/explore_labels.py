"""Explore page: the label pickers (which track columns can be scored, and the trained models of a dataset)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.explore import model_table, preset_model_ids
from core.ui import data

NOT_COLUMNS = ("track_id", "path", "lyrics", "parent_id", "source", "title")  # never a label or one-hot column

def trained_models(ds) -> pd.DataFrame:
    """Trained models of this dataset, with ``label`` / ``finished`` / ``preset`` (core.explore.model_table)."""
    try:
        from core.training import list_trained
    except ImportError:
        return model_table(pd.DataFrame())
    df = list_trained(dataset=ds)  # by the loaded dataset's fingerprint: no second read of its track table
    return model_table(df if df is not None else pd.DataFrame(), preset_model_ids())


def label_options(ds) -> tuple[list[str], list[str]]:
    """(every column that can be scored as a label, the default ones: language, genre, recorded extras)."""
    from core.schema import label_columns

    def compute():
        t = ds.tracks
        return label_columns(t, extra=[c for c in t.columns if c not in NOT_COLUMNS]), label_columns(t)

    return data.memo(("label-options", ds.fingerprint), compute)  # scans every column: once per dataset


def label_picker(ds, *, key: str) -> list[str]:
    """Multiselect of the label columns to score (metrics, confusion matrices and colours follow it)."""
    options, default = label_options(ds)
    if not options:
        return []
    return st.multiselect("Labels to score", options, default=[c for c in default if c in options], key=key,
                          help="External metrics (ARI, NMI, purity, accuracy), confusion matrices and colours "
                               "use these columns. Defaults: language, genre and the labels recorded at import.")
