"""Tabular features: the numeric (Spotify-style) columns of the track table, z-scored."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import SchemaError
from core.schema import CORE_COLUMNS

SPOTIFY_COLUMNS = ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                   "instrumentalness", "liveness", "valence", "tempo", "duration_ms")
_ID_LIKE = re.compile(r"(^|[_\s])(id|index|idx)$|^unnamed", re.IGNORECASE)


@dataclass(frozen=True)
class TabularConfig:
    columns: tuple[str, ...] = ()   # empty: the Spotify columns that exist, else every numeric non-core column


def _numeric(series: pd.Series) -> pd.Series | None:
    """The column as floats, or None if some non-empty cell is not a number."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        num = series.astype(float)
        return num if num.notna().any() else None
    s = series.astype(object).where(series.notna(), None)
    s = s.map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else v)
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().sum() == 0 or (num.isna() & s.notna()).any():
        return None
    return num.astype(float)


def tabular_columns(tracks: pd.DataFrame, *, config: TabularConfig | None = None) -> list[str]:
    """The columns the ``tabular`` feature uses, in a stable order."""
    cfg = config or TabularConfig()
    if cfg.columns:
        missing = [c for c in cfg.columns if c not in tracks.columns]
        if missing:
            raise SchemaError(f"Tabular columns {missing} are not in the track table. Available: {list(tracks.columns)}.")
        bad = [c for c in cfg.columns if _numeric(tracks[c]) is None]
        if bad:
            raise SchemaError(f"Tabular columns {bad} are not numeric; pick numeric columns.")
        return list(cfg.columns)
    lower = {str(c).strip().lower(): c for c in tracks.columns if c not in CORE_COLUMNS}
    known = [lower[k] for k in SPOTIFY_COLUMNS if k in lower and _numeric(tracks[lower[k]]) is not None]
    if known:
        return known
    return [c for c in tracks.columns
            if c not in CORE_COLUMNS and not _ID_LIKE.search(str(c)) and _numeric(tracks[c]) is not None]


def tabular_group(tracks: pd.DataFrame, *, config: TabularConfig | None = None) -> dict:
    """Z-scored numeric columns → {"arrays": {"tabular": (n, n_cols)}, "valid": (n,), "info": {...}}.

    Missing cells are imputed with the column mean (0 after scaling); a row with no value at all is
    invalid (zeros). Constant columns become 0 and are reported in info["warnings"].
    """
    cols = tabular_columns(tracks, config=config)
    if not cols:
        raise SchemaError("The track table has no numeric columns besides the core ones, so there is no tabular "
                          "feature. Bring columns such as danceability, energy, tempo… in your CSV.")
    X = np.column_stack([_numeric(tracks[c]).to_numpy(dtype=float) for c in cols])
    finite = np.isfinite(X)
    valid = finite.any(axis=1)
    mean = np.array([X[finite[:, j], j].mean() if finite[:, j].any() else 0.0 for j in range(X.shape[1])])
    std = np.array([X[finite[:, j], j].std() if finite[:, j].any() else 0.0 for j in range(X.shape[1])])
    warnings = [f"tabular: column '{c}' is constant; it contributes zeros." for c, s in zip(cols, std) if s == 0]
    Z = (X - mean) / np.where(std > 0, std, 1.0)
    Z[~finite] = 0.0
    Z[~valid] = 0.0
    info = {"columns": cols, "mean": mean.tolist(), "std": std.tolist(), "n_missing_cells": int((~finite).sum()),
            "warnings": warnings, "scaling": "z-score (population std), missing cells imputed with the mean",
            "config": asdict(config or TabularConfig())}
    return {"arrays": {"tabular": Z.astype(np.float32)}, "valid": valid, "info": info}
