"""The track table: one row per track (or per segment of a track).

Columns (all optional except ``track_id``):
    track_id        stable hash of source + relative path (+ segment index)
    path            audio file, absolute ('' for tabular-only data)
    title, artist   text
    language        label, e.g. English, Bangla, Hybrid ('' if unknown)
    genre           label ('' if unknown)
    lyrics          text ('' if none: instrumental or unknown)
    duration_s      seconds of audio this row covers
    offset_s        where this row starts inside ``path`` (segments), default 0
    parent_id       track_id of the whole track a segment comes from ('' for whole tracks)
    segment         segment index (0 for whole tracks)
    source          importer layout that produced the row
Any extra columns the user brings are kept (tabular audio features, for example).

Label columns (scored by the external metrics) are ``language`` and ``genre`` plus any categorical
column the dataset names as a label: ``label_columns(df, extra=("mood",))``, or recorded at import
in info.json["label_columns"] (``load_dataset`` puts that list in ``tracks.attrs["label_columns"]``,
so ``label_columns(ds.tracks)`` finds them without the caller knowing).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from core.errors import SchemaError

TEXT_COLUMNS = ("path", "title", "artist", "language", "genre", "lyrics", "parent_id", "source")
NUMERIC_COLUMNS = {"duration_s": np.nan, "offset_s": 0.0, "segment": 0}
CORE_COLUMNS = ("track_id",) + TEXT_COLUMNS + tuple(NUMERIC_COLUMNS)
LABEL_COLUMNS = ("language", "genre")

# Aliases, matched case-insensitively after stripping spaces/underscores/dashes.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("path", "file", "filename", "filepath", "file_path", "file_name", "audio", "audio_path", "audiofile", "relpath"),
    "title": ("title", "track_name", "track", "song", "song_name", "name", "track_title", "songtitle"),
    "artist": ("artist", "artists", "artist_name", "singer", "performer", "track_artist"),
    "language": ("language", "lang", "language_label", "lang_label", "languages"),
    "genre": ("genre", "genres", "playlist_genre", "style", "category", "label", "track_genre"),
    "lyrics": ("lyrics", "lyric", "text", "lyrics_text", "words"),
}


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def check_column_map(column_map, columns=None) -> dict[str, str]:
    """Validate a {role: user column} map (roles: COLUMN_ALIASES' keys) against ``columns`` if given.

    Raises ParameterError naming the bad role or the missing column and listing what is available.
    """
    from core.errors import ParameterError

    cmap = dict(column_map or {})
    for role, col in cmap.items():
        if role not in COLUMN_ALIASES:
            raise ParameterError("column_map", value=f"{role}={col}", expected=f"ROLE=COLUMN with ROLE one of "
                                 f"{list(COLUMN_ALIASES)}", fix="Other columns are kept as they are; name extra "
                                 "label columns with --labels instead.")
        if columns is not None and col not in list(columns):
            raise ParameterError("column_map", value=f"{role}={col}", expected="a column of the CSV",
                                 fix=f"The CSV has {list(columns)}; check the spelling (case matters).")
    users = [c for c in cmap.values()]
    if len(set(users)) != len(users):
        raise ParameterError("column_map", value=cmap, expected="each column mapped to one role at most")
    return cmap


def match_columns(columns, *, column_map=None) -> dict[str, str]:
    """Map canonical column names to the user's column names (first alias that matches).

    column_map: {role: user column} chosen by the user; wins over the aliases (validated with
    ``check_column_map``). A column mapped to one role is not matched to another by alias.
    """
    columns = list(columns)
    out: dict[str, str] = dict(check_column_map(column_map, columns))
    taken = set(out.values())
    by_norm = {}
    for col in columns:
        if col not in taken:
            by_norm.setdefault(_norm(col), col)
    for canon, aliases in COLUMN_ALIASES.items():
        if canon in out:
            continue
        for alias in aliases:
            if _norm(alias) in by_norm:
                out[canon] = by_norm[_norm(alias)]
                break
    return out


def stable_id(*parts: object) -> str:
    h = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:16]


def normalize_tracks(df: pd.DataFrame) -> pd.DataFrame:
    """Add missing core columns with neutral values and fix their dtypes."""
    df = df.copy()
    for col in TEXT_COLUMNS:
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].fillna("").astype(str)
    for col, fill in NUMERIC_COLUMNS.items():
        if col not in df.columns:
            df[col] = fill
        df[col] = pd.to_numeric(df[col], errors="coerce")
        if not (isinstance(fill, float) and np.isnan(fill)):
            df[col] = df[col].fillna(fill)
    df["segment"] = df["segment"].astype(int)
    if "track_id" not in df.columns:
        df["track_id"] = [stable_id(s, p, o, seg)
                          for s, p, o, seg in zip(df["source"], df["path"], df["offset_s"], df["segment"])]
    df["track_id"] = df["track_id"].astype(str)
    ordered = [c for c in CORE_COLUMNS if c in df.columns] + [c for c in df.columns if c not in CORE_COLUMNS]
    return df[ordered].reset_index(drop=True)


def validate_tracks(df: pd.DataFrame) -> pd.DataFrame:
    """Raise SchemaError if the table cannot be used; return the normalized table."""
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"Track table must be a pandas DataFrame; got {type(df).__name__}.")
    if len(df) == 0:
        raise SchemaError("Track table is empty: no track could be imported. See the skipped list for reasons.")
    df = normalize_tracks(df)
    dup = df["track_id"][df["track_id"].duplicated()]
    if len(dup):
        raise SchemaError(f"track_id must be unique; {len(dup)} duplicates, e.g. {dup.iloc[0]!r}.")
    return df


def has_audio(df: pd.DataFrame) -> bool:
    return "path" in df.columns and bool((df["path"].astype(str) != "").any())


def is_categorical(series: pd.Series) -> bool:
    """Text, bool or whole-number values: something a label can be (not a continuous measurement)."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return True
    vals = series.dropna().to_numpy(dtype=float)
    return bool(np.all(np.isfinite(vals)) and np.all(vals == np.round(vals)))


def label_columns(df: pd.DataFrame, *, extra=()) -> list[str]:
    """Label columns with at least two distinct non-empty values, in order: language, genre, then
    the columns named in ``extra`` and in ``df.attrs["label_columns"]`` (set by load_dataset from
    info.json) that exist and are categorical (``is_categorical``)."""
    recorded = tuple(df.attrs.get("label_columns", ()) or ()) if hasattr(df, "attrs") else ()
    out = []
    for col in dict.fromkeys((*LABEL_COLUMNS, *recorded, *tuple(extra or ()))):
        if col not in df.columns:
            continue
        s = df[col]
        if s.dtype == object:
            s = s.replace("", np.nan)
        s = s.dropna()
        if s.nunique() >= 2 and (col in LABEL_COLUMNS or is_categorical(s)):
            out.append(col)
    return out


def coerce_numeric(df: pd.DataFrame, cols) -> pd.DataFrame:
    """Turn text columns whose non-empty values are all numbers into float/int columns."""
    for col in cols:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        txt = s.fillna("").astype(str).str.strip()
        nonempty = txt != ""
        if not nonempty.any():
            continue
        num = pd.to_numeric(txt.where(nonempty), errors="coerce")
        if num[nonempty].notna().all():
            df[col] = num
    return df
