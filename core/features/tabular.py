"""Tabular features: the numeric columns of the track table, z-scored.

By default EVERY numeric column is a feature except the track table's own columns (core.schema),
label columns (``core.schema.label_columns``) and id-like columns (``id``, ``index``, ``Unnamed: 0``,
or whole numbers counting 0, 1, 2 … / 1, 2, 3 … row by row). For GTZAN's ``features_30_sec.csv``
that is ``length`` plus every statistic (``label`` is the genre, ``filename`` is text). The user may
instead name the columns (``TabularConfig(columns=(...))``).

Columns left out are listed with the reason in info["dropped"] ({column: reason}) and in
info["warnings"]: constant, all-empty, not numeric, id-like. info["n_columns_used"] and
info["n_columns_available"] (non-core, non-label columns) say how much of the table was used.

Cells that are empty, NaN or ±inf are missing: imputed with the column mean (0 after scaling) and
counted per column (info["n_missing_cells"], info["n_nonfinite_cells"], one warning per column with
±inf). Each column is divided by its largest magnitude before the mean and standard deviation are
taken (float64), so values near ±1e308 are scaled like any others instead of overflowing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import SchemaError
from core.langid import DERIVED_COLUMNS
from core.schema import CORE_COLUMNS, label_columns

SPOTIFY_COLUMNS = ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                   "instrumentalness", "liveness", "valence", "tempo", "duration_ms")
_ID_LIKE = re.compile(r"(^|[_\s])(id|index|idx)$|^unnamed", re.IGNORECASE)


@dataclass(frozen=True)
class TabularConfig:
    columns: tuple[str, ...] = ()   # empty: every numeric column that is not core, a label or id-like


def _as_float(series: pd.Series) -> tuple[pd.Series | None, int]:
    """(the column as float64 with ±inf as NaN, number of ±inf cells), or (None, 0) if some non-empty
    cell is not a number or no cell is."""
    if pd.api.types.is_bool_dtype(series):
        return None, 0
    if pd.api.types.is_numeric_dtype(series):
        num = series.astype("float64")
    else:
        s = series.astype(object).where(series.notna(), None)
        s = s.map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else v)
        num = pd.to_numeric(s, errors="coerce")
        if (num.isna() & s.notna()).any():
            return None, 0
        num = num.astype("float64")
    inf = np.isinf(num.to_numpy())
    if inf.any():
        num = num.mask(inf)
    if num.notna().sum() == 0 and not inf.any():
        return None, 0
    return num, int(inf.sum())


def _numeric(series: pd.Series) -> pd.Series | None:
    """The column as floats (±inf as NaN), or None if some non-empty cell is not a number."""
    num, _ = _as_float(series)
    return num


def _counts_rows(num: pd.Series) -> bool:
    """Whole numbers 0, 1, 2 … or 1, 2, 3 … in row order: a row number, not a measurement."""
    v = num.to_numpy()
    if len(v) < 10 or np.isnan(v).any():
        return False
    return bool(np.array_equal(v, np.arange(len(v))) or np.array_equal(v, np.arange(1, len(v) + 1)))


def _why_not(tracks: pd.DataFrame, col: str) -> str:
    """'' if ``col`` is a usable feature column, else the reason it is left out."""
    s = tracks[col]
    if _ID_LIKE.search(str(col)):
        return "id-like (its name says it identifies rows)"
    nonempty = s.notna() & (s.astype(str).str.strip() != "")
    if not nonempty.any():
        return "every cell is empty"
    num, n_inf = _as_float(s)
    if num is None:
        example = next(v for v, ok in zip(s.astype(str), nonempty) if ok and _numeric(pd.Series([v])) is None)
        return f"not numeric (e.g. {example[:40]!r})"
    if num.notna().sum() == 0:
        return f"no finite value ({n_inf} cells are ±inf)"
    if _counts_rows(num):
        return "id-like (it counts the rows 0, 1, 2 …)"
    finite = num.dropna()
    if finite.nunique() <= 1:
        return f"constant (every value is {finite.iloc[0]:g})"
    return ""


def tabular_selection(tracks: pd.DataFrame, *, config: TabularConfig | None = None
                      ) -> tuple[list[str], dict[str, str], int]:
    """(columns used, {column left out: reason}, number of candidate columns) for ``tracks``.

    Candidates are the columns that are neither core nor labels. With ``config.columns`` those
    columns are used as given (SchemaError if one is missing or not numeric).
    """
    cfg = config or TabularConfig()
    labels = set(label_columns(tracks))
    derived = set(DERIVED_COLUMNS)  # read from the lyrics (core.langid), not measured on the audio
    candidates = [c for c in tracks.columns if c not in CORE_COLUMNS and c not in labels and c not in derived]
    if cfg.columns:
        missing = [c for c in cfg.columns if c not in tracks.columns]
        if missing:
            raise SchemaError(f"Tabular columns {missing} are not in the track table. Available: "
                              f"{candidates}. Fix the column names (--columns a,b).")
        bad = [c for c in cfg.columns if _numeric(tracks[c]) is None]
        if bad:
            raise SchemaError(f"Tabular columns {bad} are not numeric; pick numeric columns from {candidates}.")
        chosen = list(cfg.columns)
        dropped = {c: "not chosen (TabularConfig.columns)" for c in candidates if c not in chosen}
        return chosen, dropped, len(candidates)
    cols, dropped = [], {}
    for c in candidates:
        why = _why_not(tracks, c)
        if why:
            dropped[c] = why
        else:
            cols.append(c)
    return cols, dropped, len(candidates)


def tabular_columns(tracks: pd.DataFrame, *, config: TabularConfig | None = None) -> list[str]:
    """The columns the ``tabular`` feature uses, in table order (see ``tabular_selection``)."""
    return tabular_selection(tracks, config=config)[0]


def scaled_zscore(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score the columns of ``X`` (n, d) float, NaN = missing → (Z with NaN kept, mean, std).

    Each column is first divided by its largest finite magnitude, so the sums never overflow;
    mean/std are returned in the original units (they may be ±inf only when that is their true value).
    """
    X = np.asarray(X, dtype=np.float64)
    finite = np.isfinite(X)
    scale = np.where(finite, np.abs(X), 0.0).max(axis=0, initial=0.0)
    scale = np.where(scale > 0, scale, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        Xs = np.where(finite, X / scale, np.nan)
        cnt = finite.sum(axis=0)
        mean_s = np.where(cnt > 0, np.nansum(Xs, axis=0) / np.maximum(cnt, 1), 0.0)
        var_s = np.where(cnt > 0, np.nansum((Xs - mean_s) ** 2, axis=0) / np.maximum(cnt, 1), 0.0)
        std_s = np.sqrt(var_s)
        Z = (Xs - mean_s) / np.where(std_s > 0, std_s, 1.0)
        mean, std = mean_s * scale, std_s * scale
    return Z, mean, std


def tabular_group(tracks: pd.DataFrame, *, config: TabularConfig | None = None) -> dict:
    """Z-scored numeric columns → {"arrays": {"tabular": (n, n_cols)}, "valid": (n,), "info": {...}}.

    Missing cells (empty, NaN, ±inf) are imputed with the column mean (0 after scaling); a row with
    no value at all is invalid (zeros). See the module docstring for what info holds.
    """
    cols, dropped, n_available = tabular_selection(tracks, config=config)
    if not cols:
        detail = "; ".join(f"'{c}': {why}" for c, why in list(dropped.items())[:8])
        raise SchemaError("The track table has no usable numeric columns besides the core ones and the labels, so "
                          "there is no tabular feature" + (f" ({detail})" if detail else "") +
                          ". Bring numeric columns (danceability, energy, tempo …) in your CSV.")
    nums = [_as_float(tracks[c]) for c in cols]
    X = np.column_stack([n.to_numpy(dtype=np.float64) for n, _ in nums])
    n_inf = {c: k for c, (_, k) in zip(cols, nums) if k}
    finite = np.isfinite(X)
    valid = finite.any(axis=1)
    Z, mean, std = scaled_zscore(X)
    warnings = [f"tabular: column '{c}' left out: {why}." for c, why in dropped.items()
                if not why.startswith("not chosen")]
    warnings += [f"tabular: column '{c}' has {k} cell(s) that are ±inf; treated as missing (imputed with the mean)."
                 for c, k in n_inf.items()]
    warnings += [f"tabular: column '{c}' is constant; it contributes zeros." for c, s in zip(cols, std) if s == 0]
    Z = np.where(finite, Z, 0.0)
    Z[~valid] = 0.0
    info = {"columns": cols, "mean": mean.tolist(), "std": std.tolist(), "n_missing_cells": int((~finite).sum()),
            "n_nonfinite_cells": n_inf, "dropped": dropped, "n_columns_used": len(cols),
            "n_columns_available": int(n_available), "warnings": warnings,
            "scaling": "z-score (population std, each column pre-divided by its largest magnitude), missing and "
                       "±inf cells imputed with the mean",
            "config": asdict(config or TabularConfig())}
    return {"arrays": {"tabular": Z.astype(np.float32)}, "valid": valid, "info": info}
