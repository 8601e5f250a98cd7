"""The ``tabular`` importer: a Spotify-style CSV of numeric audio features, no audio at all.

Report 000 clusters the Kaggle Spotify songs table: 12 audio features (danceability, energy, key,
loudness, mode, speechiness, acousticness, instrumentalness, liveness, valence, tempo, duration_ms)
plus lyrics and a language label. Every row becomes a track with ``path`` = ''. Any other table of
numbers works too (GTZAN's ``features_30_sec.csv``: ``filename``, ``length``, 57 statistics,
``label`` = genre): every numeric column is kept as numbers and becomes a feature (see
core.features.tabular), text columns are kept as text.

Bad input is reported, never silently turned into something else:
- a column whose every cell is empty is dropped with a reason (the rows are kept);
- a known Spotify feature column that is mostly text is kept as text (not a feature), with a reason;
  otherwise a row whose known feature is empty or not a number is skipped with its row and column;
- ``inf``/``-inf`` cells and numbers too large for float64 (``1e400``) become missing, said once per
  column with the count; so do a few stray words in a column of numbers (at most 5% of its cells);
  cells reading ``NA``, ``n/a``, ``null``, ``-`` … are missing values;
- rows repeating an id of an earlier row (``track_id``/``id``/``uri`` column) are skipped, the first kept.
A user column named like one of the track table's own columns (e.g. Spotify's ``track_id``) is kept
as ``csv_<name>``. Text columns no role claims are listed in ``ImportResult.unrecognised``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets import IMPORTERS, ImportResult, SkippedItem
from core.datasets.folder import _sniff_delimiter, csv_header, read_csv_table, reserved_rename, root_csvs, utf16_encoding
from core.errors import SchemaError
from core.schema import CORE_COLUMNS, _norm, coerce_numeric, match_columns, stable_id

SPOTIFY_FEATURES = ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                    "instrumentalness", "liveness", "valence", "tempo", "duration_ms", "time_signature")
ID_COLUMNS = ("track_id", "id", "uri", "spotify_id", "track_uri", "song_id")
_INF_TEXT = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
NA_TEXT = ("na", "n/a", "#n/a", "nan", "-nan", "null", "none", "missing", "?", "-")
MAX_TEXT_IN_NUMBERS = 0.05  # a numeric column may hold this share of stray text cells (typos), made missing


def feature_columns(columns) -> list[str]:
    """The user's column names that are known Spotify audio features (case/underscore-insensitive)."""
    known = {_norm(c) for c in SPOTIFY_FEATURES}
    return [c for c in columns if _norm(c) in known]


def numeric_columns_in(path: Path, *, n_rows: int = 50) -> list[str]:
    """Columns whose first ``n_rows`` non-empty cells are all numbers (for layout detection)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 18)
    except OSError:
        return []
    enc16 = utf16_encoding(data)
    text = data.decode(enc16 or "utf-8-sig", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[: n_rows + 1]
    if len(lines) < 2:
        return []
    try:
        recs = list(csv.reader(lines, delimiter=_sniff_delimiter(lines[0])))
    except csv.Error:
        return []
    header, body = [c.strip() for c in recs[0]], recs[1:]
    out = []
    for j, col in enumerate(header):
        cells = [r[j].strip() for r in body if j < len(r) and r[j].strip()]
        if cells and all(_number_like(c) for c in cells):
            out.append(col)
    return out


def _number_like(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _pick_table(path: Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise SchemaError(f"Import path {path} does not exist. Give a CSV of audio features.")
    if path.is_file():
        return path
    found = root_csvs(path)
    if not found:
        raise SchemaError(f"No CSV file in {path}. The tabular layout needs a CSV of audio features.")
    return max(found, key=lambda p: (len(feature_columns(csv_header(p))), len(numeric_columns_in(p))))


def _is_number_text(txt: pd.Series) -> pd.Series:
    return pd.to_numeric(txt.where(txt != ""), errors="coerce").notna() | txt.str.lower().isin(_INF_TEXT)


@IMPORTERS.register("tabular")
def import_tabular(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None,  # noqa: ARG001
                   progress=None, column_map=None) -> ImportResult:
    """A CSV of numeric audio features (+ lyrics/language/genre); see the module docstring.

    ``min_seconds`` and ``segment_seconds`` do not apply (there is no audio) and are ignored.
    column_map: {role: CSV column}, e.g. {"genre": "genre_en"} (core.schema.match_columns).
    """
    csv_file = _pick_table(path)
    table, skipped = read_csv_table(csv_file, consequence="Nothing could be imported from it.")
    if table is None:
        raise SchemaError(f"Cannot import {csv_file}: {skipped[0].reason if skipped else 'unreadable'}")
    df = table.df
    rows = np.asarray(table.rows)
    cmap = match_columns(df.columns, column_map=column_map)
    role_cols = set(cmap.values())
    n_total = len(df)
    if progress is not None:
        progress(0, max(n_total, 1), {"file": csv_file.name})
    column_item = lambda col: f"{table.name} column '{col}'"  # noqa: E731

    # Classify every column that is not a role: all-empty (dropped), numeric (kept as numbers), text.
    numeric_cols: list[str] = []
    for col in [c for c in df.columns if c not in role_cols]:
        txt = df[col].fillna("").astype(str).str.strip()
        txt = txt.mask(txt.str.lower().isin(NA_TEXT), "")  # 'NA', 'n/a', 'null' … mean missing in numbers
        nonempty = txt != ""
        if not nonempty.any():
            skipped.append(SkippedItem(column_item(col), (
                "every cell is empty; the column was dropped (the rows were kept). Fill it in to use it.")))
            df = df.drop(columns=[col])
            continue
        is_num = _is_number_text(txt) & nonempty
        n_bad = int((nonempty & ~is_num).sum())
        known = col in feature_columns([col])
        if n_bad == 0 or (known and n_bad <= nonempty.sum() // 2):
            df[col] = txt
            numeric_cols.append(col)
        elif not known and n_bad <= MAX_TEXT_IN_NUMBERS * nonempty.sum():
            bad_rows = [int(rows[i]) for i in np.flatnonzero((nonempty & ~is_num).to_numpy())[:3]]
            example = txt[nonempty & ~is_num].iloc[0]
            skipped.append(SkippedItem(column_item(col), (
                f"{n_bad} cell(s) are not numbers (e.g. {example[:40]!r}; rows {', '.join(map(str, bad_rows))}"
                f"{' …' if n_bad > 3 else ''}); they were treated as missing. Fix those cells to use them.")))
            df[col] = txt.where(is_num | ~nonempty, "")
            numeric_cols.append(col)
        elif known:
            example = txt[nonempty & ~is_num].iloc[0]
            skipped.append(SkippedItem(column_item(col), (
                f"not numeric ({n_bad} of {int(nonempty.sum())} cells are text, e.g. {example[:40]!r}); kept as "
                "text and not used as an audio feature. Convert it to numbers to use it.")))
    feats = [c for c in feature_columns(df.columns) if c in numeric_cols]
    if not numeric_cols and "lyrics" not in cmap:
        raise SchemaError(
            f"{csv_file.name} has no numeric columns (audio features such as {', '.join(SPOTIFY_FEATURES[:5])} …) "
            f"and no lyrics column; found {list(df.columns)}. Import audio with --layout folder instead.")

    keep = np.ones(len(df), dtype=bool)
    for col in numeric_cols:
        txt = df[col].fillna("").astype(str).str.strip()
        num = pd.to_numeric(txt.where((txt != "") & ~txt.str.lower().isin(_INF_TEXT)), errors="coerce")
        num = num.mask(txt.str.lower().isin(_INF_TEXT), np.where(txt.str.startswith("-"), -np.inf, np.inf))
        if col in feats:  # a known audio feature must be a number in every row
            bad = num.isna().to_numpy() & keep
            for i in np.flatnonzero(bad):
                val = txt.iloc[i]
                what = "is empty" if val == "" else f"is {val!r}, not a number"
                skipped.append(SkippedItem(table.item(int(rows[i])), (
                    f"column '{col}' {what}. Fill in a number or delete the row.")))
            keep &= ~bad
        inf = np.isinf(num.to_numpy(dtype=float))
        if inf.any():
            first = [int(rows[i]) for i in np.flatnonzero(inf)[:3]]
            skipped.append(SkippedItem(column_item(col), (
                f"{int(inf.sum())} cell(s) are infinite or too large for a number (rows "
                f"{', '.join(map(str, first))}{' …' if inf.sum() > 3 else ''}); they were treated as missing. "
                "Fix those cells to use them.")))
            num = num.mask(inf)
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
    text_extras = [c for c in extras if c not in numeric_cols]
    out = coerce_numeric(out, [reserved_rename(c) for c in text_extras])
    unrecognised = [c for c in text_extras if c != id_col and c != cmap.get("path")
                    and not pd.api.types.is_numeric_dtype(out[reserved_rename(c)])]
    dup = out["track_id"].duplicated()
    if dup.any():  # ids from an id column could collide with row-number ids only by sha1 accident
        out = out[~dup].reset_index(drop=True)
    if progress is not None:
        progress(max(n_total, 1), max(n_total, 1), {"imported": len(out), "skipped": len(skipped)})
    ordered = [c for c in CORE_COLUMNS if c in out.columns] + [c for c in out.columns if c not in CORE_COLUMNS]
    return ImportResult(tracks=out[ordered], skipped=skipped, layout="tabular", source=str(csv_file.resolve()),
                        unrecognised=unrecognised)
