"""The ``folder`` importer and the pieces every audio-tree importer shares.

``folder``: audio files found recursively under a root (``core.audio.AUDIO_EXTENSIONS``), plus an
optional metadata CSV at the root (``metadata.csv`` preferred when there are several ``*.csv``),
matched to files by relative path, file name or stem. Column names are matched case-insensitively
with aliases (``core.schema.match_columns``: ``lang``, ``Language``, ``track_name`` …); extra CSV
columns are kept. Lyrics may also come from ``lyrics/<stem>.txt``.

Every bad input is skipped with a reason (``SkippedItem``) and the rest imported: unreadable,
empty, truncated (WAV, Ogg, libsndfile formats) or non-audio files; folders that cannot be opened,
broken or looping symbolic links; clips shorter than ``min_seconds``; CSV rows that match no file;
a CSV that is not UTF-8 or UTF-16 (the audio is imported without it); duplicate rows (the first is
kept); a CSV row naming a file name that several subfolders hold (the files are imported without
that row's metadata, and the row is reported naming every candidate); repeated column names (the
first such column is used). File names are compared in Unicode NFC, so a CSV written on one system
matches files stored decomposed (NFD, macOS) and vice versa. CSV row numbers count the header as
row 1, as a spreadsheet does.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.audio import AUDIO_EXTENSIONS
from core.datasets import IMPORTERS, ImportResult, SkippedItem
from core.datasets.audiocheck import _strip_path, check_audio
from core.datasets.files import (
    QUIET_EXTENSIONS,
    SKIP_DIRS,
    CsvTable,
    Scan,
    _sniff_delimiter,
    csv_header,
    decode_utf8,
    pick_csv,
    read_csv_table,
    reserved_rename,
    root_csvs,
    scan_files,
    scan_tree,
    utf16_encoding,
)
from core.datasets.segment import segment_tracks
from core.errors import AudioDecodeError, ParameterError, SchemaError
from core.schema import COLUMN_ALIASES, coerce_numeric, match_columns, stable_id

__all__ = [  # the folder importer, and the pieces every audio-tree importer shares (from audiocheck and files)
    "QUIET_EXTENSIONS", "SKIP_DIRS", "CsvTable", "FileIndex", "Metadata", "Scan", "attach_metadata", "check_audio",
    "check_import_params", "csv_header", "decode_utf8", "import_folder", "import_tree", "nfc", "pick_csv",
    "read_csv_table", "read_lyrics", "reserved_rename", "resolve_root", "root_csvs", "scan_files", "scan_tree",
    "utf16_encoding", "_sniff_delimiter",
]

CANONICAL = tuple(COLUMN_ALIASES)  # path, title, artist, language, genre, lyrics
AUDIO_SUBDIRS = ("mp3", "audio", "wav", "flac", "ogg")  # where CSV file names may be relative to

# ----------------------------------------------------------------------------------------------
# Matching CSV rows to files
# ----------------------------------------------------------------------------------------------

def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _clean_ref(value: str, root: Path) -> str:
    v = nfc(str(value)).strip().replace("\\", "/")
    while v.startswith("./"):
        v = v[2:]
    p = Path(v)
    if p.is_absolute():
        try:
            return nfc(p.resolve().relative_to(root.resolve()).as_posix())
        except (ValueError, OSError):
            return nfc(p.name)
    return v


class FileIndex:
    """Find audio files from the names a CSV gives them (names compared in Unicode NFC)."""

    def __init__(self, root: Path, files: list[Path]):
        self.root = root
        self.rel = {f: f.relative_to(root).as_posix() for f in files}
        self.by_rel = {nfc(r): f for f, r in self.rel.items()}
        self.by_rel_lower: dict[str, list[Path]] = defaultdict(list)
        self.by_name: dict[str, list[Path]] = defaultdict(list)
        self.by_stem: dict[str, list[Path]] = defaultdict(list)
        for f, r in self.rel.items():
            self.by_rel_lower[nfc(r).lower()].append(f)
            self.by_name[nfc(f.name).lower()].append(f)
            self.by_stem[nfc(f.stem).lower()].append(f)

    def find(self, value: str) -> tuple[list[Path], bool]:
        """(candidate files, exact) for a CSV cell; exact means the relative path named one file."""
        v = _clean_ref(value, self.root)
        if not v:
            return [], False
        if v in self.by_rel:
            return [self.by_rel[v]], True
        for sub in AUDIO_SUBDIRS:
            if f"{sub}/{v}" in self.by_rel:
                return [self.by_rel[f"{sub}/{v}"]], True
        if len(self.by_rel_lower.get(v.lower(), [])) == 1:
            return list(self.by_rel_lower[v.lower()]), True
        name = v.rsplit("/", 1)[-1].lower()
        if name in self.by_name:
            return list(self.by_name[name]), False
        if Path(name).suffix.lower() not in AUDIO_EXTENSIONS and name in self.by_stem:
            return list(self.by_stem[name]), False
        return [], False


@dataclass
class Metadata:
    """CSV rows attached to files: ``by_file[f] = (row number, {column: value})``."""

    by_file: dict[Path, tuple[int, dict]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)     # columns to add to the track table, in order
    excluded: dict[Path, str] = field(default_factory=dict)  # files to skip, with the reason
    skipped: list[SkippedItem] = field(default_factory=list)
    csv_name: str = ""


def attach_metadata(table: CsvTable, index: FileIndex, *, column_map=None) -> Metadata:
    """Match each CSV row to one audio file; report rows without a file, duplicates, ambiguities.

    column_map: {role: CSV column} chosen by the user (see core.schema.match_columns).
    """
    meta = Metadata(csv_name=table.name)
    df = table.df
    cmap = match_columns(df.columns, column_map=column_map)
    path_col = cmap.get("path")
    if path_col is None:
        expected = ", ".join(COLUMN_ALIASES["path"][:6])
        meta.skipped.append(SkippedItem(table.name, (
            f"no file-name column (expected one of {expected} …; found {list(df.columns)}), so its rows cannot be "
            "matched to audio files. Add a 'file' column with each audio file's name or relative path. "
            "The audio was imported without this CSV's metadata.")))
        return meta
    rename = {user: canon for canon, user in cmap.items() if canon != "path"}
    extras = [c for c in df.columns if c not in rename and c != path_col]
    meta.columns = [c for c in CANONICAL if c in rename.values()] + [reserved_rename(c) for c in extras]
    refs = df[path_col].fillna("").astype(str).tolist()
    found = [index.find(r) for r in refs]
    exact_claimed = {c[0] for c, exact in found if exact}
    owner: dict[Path, int] = {}
    for i, (ref, (cands, exact)) in enumerate(zip(refs, found)):
        row = table.rows[i]
        item = table.item(row)
        if not ref.strip():
            meta.skipped.append(SkippedItem(item, f"empty '{path_col}' value: cannot tell which file this row "
                                                  "describes. Fill it in or delete the row."))
            continue
        if not cands:
            meta.skipped.append(SkippedItem(item, (
                f"file '{ref}' not found under {index.root}. Check the spelling and extension, or give the path "
                "relative to the imported folder.")))
            continue
        if exact:
            target = cands[0]
        else:
            free = [c for c in cands if c not in exact_claimed] or cands
            if len(free) > 1:
                names = ", ".join(f"'{index.rel[c]}'" for c in free[:6]) + (" …" if len(free) > 6 else "")
                meta.skipped.append(SkippedItem(item, (
                    f"ambiguous: '{ref}' matches {len(free)} files ({names}); all of them were imported without "
                    f"this row's metadata. Write the relative path (e.g. '{index.rel[free[0]]}') in the CSV's "
                    f"'{path_col}' column to attach it to one.")))
                continue
            target = free[0]
        if target in owner:
            first = owner[target]
            meta.skipped.append(SkippedItem(item, (
                f"duplicate: '{index.rel[target]}' is already described by row {first}; the first row was kept. "
                "Delete one of the two rows (or point this one at the right file).")))
            continue
        owner[target] = row
        rec = df.iloc[i]
        values = {rename[c]: str(rec[c]).strip() for c in rename}
        values.update({reserved_rename(c): rec[c] for c in extras})
        meta.by_file[target] = (row, values)
    return meta


# ----------------------------------------------------------------------------------------------
# The shared engine
# ----------------------------------------------------------------------------------------------

def check_import_params(*, min_seconds: float, segment_seconds: float | None) -> None:
    if not isinstance(min_seconds, (int, float)) or not math.isfinite(min_seconds) or min_seconds < 0:
        raise ParameterError("min_seconds", value=min_seconds, expected="a number of seconds ≥ 0",
                             fix="Use e.g. 1.0 to drop clips shorter than one second.")
    if segment_seconds is not None:
        if not isinstance(segment_seconds, (int, float)) or not math.isfinite(segment_seconds) or segment_seconds <= 0:
            raise ParameterError("segment_seconds", value=segment_seconds, expected="None (whole tracks) or seconds > 0",
                                 fix="Use e.g. 30 for 30-second clips, or None to keep whole tracks.")
        if segment_seconds < min_seconds:
            raise ParameterError("segment_seconds", value=segment_seconds,
                                 expected=f"at least min_seconds ({min_seconds})",
                                 fix="Every segment would be shorter than min_seconds; raise segment_seconds.")


def resolve_root(path: str | Path) -> tuple[Path, Path | None]:
    """A folder, or a CSV file inside the folder it describes → (root folder, explicit CSV or None)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SchemaError(f"Import path {path} does not exist. Give a folder of audio files (or its metadata CSV).")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise SchemaError(f"Import path {path} is a file; expected a folder of audio files or a CSV inside one.")
        return path.parent.resolve(), path.resolve()
    return path.resolve(), None


def read_lyrics(lyrics_dir: Path | None, stem: str, root: Path) -> tuple[str, SkippedItem | None]:
    if lyrics_dir is None:
        return "", None
    p = lyrics_dir / f"{stem}.txt"
    if not p.is_file():
        return "", None
    text, problem = decode_utf8(p.read_bytes(), item=p.relative_to(root).as_posix(),
                                consequence="The track was imported without these lyrics.")
    return (text or "").strip(), problem


def import_tree(path: str | Path, *, layout: str, min_seconds: float = 1.0, segment_seconds: float | None = None,
                progress=None, genre_from_folder: bool = False, csv_path: str | Path | None = None,
                prefer_csv=None, use_csv: bool = True, lyrics_dir: str | Path | None = "lyrics",
                column_map=None) -> ImportResult:
    """Import the audio files under ``path`` (see the module docstring). Returns an ImportResult.

    genre_from_folder: the first folder level under the root is each file's genre (GTZAN); a CSV
        genre that disagrees skips the file. csv_path: the metadata CSV (default: picked at the root).
    lyrics_dir: folder (relative to the root) holding ``<stem>.txt`` lyrics; used when the CSV has none.
    column_map: {role: CSV column}, e.g. {"genre": "genre_en"}; a named column missing from the CSV
        raises ParameterError.
    """
    check_import_params(min_seconds=min_seconds, segment_seconds=segment_seconds)
    root, given_csv = resolve_root(path)
    skipped: list[SkippedItem] = []
    scan = scan_tree(root)
    audio, others = scan.audio, scan.other
    skipped += scan.unreadable
    for p in others:
        if p.suffix.lower() not in QUIET_EXTENSIONS:
            skipped.append(SkippedItem(p.relative_to(root).as_posix(), (
                f"not a supported audio file (extension '{p.suffix or '(none)'}'; supported: "
                f"{', '.join(AUDIO_EXTENSIONS)}). Convert it to WAV/FLAC/OGG/MP3 to include it.")))
    csv_file = Path(csv_path) if csv_path else given_csv
    if csv_file is None and use_csv:
        csv_file, notes = pick_csv(root, prefer=prefer_csv)
        skipped += notes
    index = FileIndex(root, audio)
    meta = Metadata()
    if csv_file is not None:
        table, problems = read_csv_table(csv_file, name=(csv_file.relative_to(root).as_posix()
                                                         if csv_file.is_relative_to(root) else csv_file.name))
        skipped += problems
        if table is not None:
            meta = attach_metadata(table, index, column_map=column_map)
            skipped += meta.skipped
    lyr_dir = (root / lyrics_dir) if lyrics_dir and (root / lyrics_dir).is_dir() else None

    rows: list[dict] = []
    total = len(audio)
    for i, f in enumerate(audio):
        rel = index.rel[f]
        if progress is not None:
            progress(i, total, {"file": rel})
        if f in meta.excluded:
            skipped.append(SkippedItem(rel, meta.excluded[f]))
            continue
        row_no, values = meta.by_file.get(f, (None, {}))
        genre = values.get("genre", "")
        if genre_from_folder:
            parts = Path(rel).parts
            if len(parts) < 2:
                skipped.append(SkippedItem(rel, "not inside a genre folder (expected <root>/<genre>/<file>). "
                                                "Move it into the folder of its genre."))
                continue
            folder_genre = parts[0]
            if genre and genre.casefold() != folder_genre.casefold():
                skipped.append(SkippedItem(rel, (
                    f"mislabelled: the file sits in genre folder '{folder_genre}' but {meta.csv_name} row {row_no} "
                    f"says genre '{genre}'. Move the file to the right folder or fix the CSV.")))
                continue
            genre = folder_genre
        try:
            duration = check_audio(f)
        except AudioDecodeError as exc:
            skipped.append(SkippedItem(rel, _strip_path(str(exc), f)))
            continue
        if duration + 1e-9 < min_seconds:
            skipped.append(SkippedItem(rel, (
                f"too short: {duration:.2f} s < min_seconds {min_seconds:g} s. Lower min_seconds "
                "(--min-seconds) to keep it.")))
            continue
        rec = {"track_id": stable_id(layout, rel), "path": str(f), "title": f.stem, "artist": "",
               "language": "", "genre": "", "lyrics": "", "duration_s": round(duration, 6), "offset_s": 0.0,
               "parent_id": "", "segment": 0, "source": layout}
        for col, val in values.items():
            if col in CANONICAL:
                if val:
                    rec[col] = val
            else:
                rec[col] = val
        rec["genre"] = genre
        if not rec["lyrics"]:
            text, problem = read_lyrics(lyr_dir, f.stem, root)
            rec["lyrics"] = text
            if problem:
                skipped.append(problem)
        rows.append(rec)
    if progress is not None:
        progress(total, total, {"imported": len(rows), "skipped": len(skipped)})

    base_cols = ["track_id", "path", "title", "artist", "language", "genre", "lyrics", "duration_s", "offset_s",
                 "parent_id", "segment", "source"]
    extra_cols = [c for c in meta.columns if c not in base_cols]
    tracks = pd.DataFrame(rows, columns=base_cols + extra_cols)
    tracks = coerce_numeric(tracks, extra_cols)
    unrecognised = [c for c in extra_cols if not pd.api.types.is_numeric_dtype(tracks[c])]
    if segment_seconds:
        tracks = segment_tracks(tracks, segment_seconds=segment_seconds, min_seconds=min_seconds)
    if not audio:
        skipped.insert(0, SkippedItem(str(root), (
            f"no audio files found (looked for {', '.join(AUDIO_EXTENSIONS)} in all subfolders). "
            "Check the folder, or use --layout tabular for a CSV of audio features.")))
    return ImportResult(tracks=tracks, skipped=skipped, layout=layout, source=str(root), unrecognised=unrecognised)


@IMPORTERS.register("folder")
def import_folder(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None, progress=None,
                  csv_path: str | Path | None = None, column_map=None) -> ImportResult:
    """Audio files found recursively + an optional metadata CSV (see the module docstring)."""
    return import_tree(path, layout="folder", min_seconds=min_seconds, segment_seconds=segment_seconds,
                       progress=progress, csv_path=csv_path, column_map=column_map)
