"""The ``tabular`` importer: a Spotify-style CSV of numeric audio features, no audio at all.

Report 000 clusters the Kaggle Spotify songs table: 12 audio features (danceability, energy, key,
loudness, mode, speechiness, acousticness, instrumentalness, liveness, valence, tempo, duration_ms)
plus lyrics and a language label. Every row becomes a track with ``path`` = ''. The known feature
columns present are converted to numbers and kept; a row whose feature is missing or not a number
is skipped with its row number and column. Other numeric-looking columns are kept as numbers, text
columns as text. Rows repeating an id of an earlier row (``track_id``/``id``/``uri`` column) are
skipped, the first kept. A user column named like one of the track table's own columns (e.g.
Spotify's ``track_id``) is kept as ``csv_<name>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets import IMPORTERS, ImportResult, SkippedItem
from core.datasets.folder import read_csv_table, reserved_rename, root_csvs, csv_header
from core.errors import SchemaError
from core.schema import CORE_COLUMNS, _norm, coerce_numeric, match_columns, stable_id

SPOTIFY_FEATURES = ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                    "instrumentalness", "liveness", "valence", "tempo", "duration_ms", "time_signature")
ID_COLUMNS = ("track_id", "id", "uri", "spotify_id", "track_uri", "song_id")


def feature_columns(columns) -> list[str]:
    """The user's column names that are known Spotify audio features (case/underscore-insensitive)."""
    known = {_norm(c) for c in SPOTIFY_FEATURES}
    return [c for c in columns if _norm(c) in known]


def _pick_table(path: Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise SchemaError(f"Import path {path} does not exist. Give a CSV of audio features.")
    if path.is_file():
        return path
    found = root_csvs(path)
    if not found:
        raise SchemaError(f"No CSV file in {path}. The tabular layout needs a CSV of audio features.")
    return max(found, key=lambda p: len(feature_columns(csv_header(p))))


@IMPORTERS.register("tabular")
def import_tabular(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None,  # noqa: ARG001
                   progress=None) -> ImportResult:
    """A CSV of numeric audio features (+ lyrics/language/genre); see the module docstring.

    ``min_seconds`` and ``segment_seconds`` do not apply (there is no audio) and are ignored.
    """
    csv_file = _pick_table(path)
    table, skipped = read_csv_table(csv_file, consequence="Nothing could be imported from it.")
    if table is None:
        raise SchemaError(f"Cannot import {csv_file}: {skipped[0].reason if skipped else 'unreadable'}")
    df = table.df
    rows = np.asarray(table.rows)
    feats = feature_columns(df.columns)
    cmap = match_columns(df.columns)
    if not feats and "lyrics" not in cmap:
        raise SchemaError(
            f"{csv_file.name} has no known audio-feature columns (expected some of {', '.join(SPOTIFY_FEATURES)}) "
            f"and no lyrics column; found {list(df.columns)}. Import audio with --layout folder instead.")
    n_total = len(df)
    if progress is not None:
        progress(0, max(n_total, 1), {"file": csv_file.name})

    keep = np.ones(len(df), dtype=bool)
    for col in feats:
        txt = df[col].fillna("").astype(str).str.strip()
        num = pd.to_numeric(txt.where(txt != ""), errors="coerce")
        bad = num.isna().to_numpy() & keep
        for i in np.flatnonzero(bad):
            val = txt.iloc[i]
            what = "is empty" if val == "" else f"is {val!r}, not a number"
            skipped.append(SkippedItem(table.item(int(rows[i])), (
                f"column '{col}' {what}. Fill in a number or delete the row.")))
        keep &= ~bad
        df[col] = num

    id_col = next((c for c in df.columns if _norm(c) in {_norm(x) for x in ID_COLUMNS}), None)
    if id_col is not None:
        ids = df[id_col].fillna("").astype(str).str.strip()
        first_row: dict[str, int] = {}
        for i in np.flatnonzero(keep):
            key = ids.iloc[i]
            if not key:
                continue
            if key in first_row:
                skipped.append(SkippedItem(table.item(int(rows[i])), (
                    f"duplicate: {id_col} '{key}' already appears at row {first_row[key]}; the first row was kept.")))
                keep[i] = False
            else:
                first_row[key] = int(rows[i])

    df, rows = df[keep].reset_index(drop=True), rows[keep]
    rename = {user: canon for canon, user in cmap.items() if canon != "path"}
    out = pd.DataFrame({canon: df[user].fillna("").astype(str).str.strip() for user, canon in rename.items()})
    extras = [c for c in df.columns if c not in rename]
    for col in extras:
        out[reserved_rename(col)] = df[col].to_numpy()
    if id_col is not None:
        ids = df[id_col].fillna("").astype(str).str.strip()
        out["track_id"] = [stable_id("tabular", k) if k else stable_id("tabular", "row", r) for k, r in zip(ids, rows)]
    else:
        out["track_id"] = [stable_id("tabular", "row", r) for r in rows]
    out["path"] = ""
    out["source"] = "tabular"
    dur_col = next((c for c in feats if _norm(c) == "durationms"), None)
    out["duration_s"] = (pd.to_numeric(df[dur_col]) / 1000.0).to_numpy() if dur_col else np.nan
    out = coerce_numeric(out, [reserved_rename(c) for c in extras if c not in feats])
    dup = out["track_id"].duplicated()
    if dup.any():  # ids from an id column could collide with row-number ids only by sha1 accident
        out = out[~dup].reset_index(drop=True)
    if progress is not None:
        progress(max(n_total, 1), max(n_total, 1), {"imported": len(out), "skipped": len(skipped)})
    ordered = [c for c in CORE_COLUMNS if c in out.columns] + [c for c in out.columns if c not in CORE_COLUMNS]
    return ImportResult(tracks=out[ordered], skipped=skipped, layout="tabular", source=str(csv_file.resolve()))
