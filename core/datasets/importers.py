"""Importing a user's data: layouts, auto-detection, ``import_dataset`` and ``python -m core import``.

Layouts (``core.datasets.IMPORTERS``), each ``(path, *, min_seconds=1.0, segment_seconds=None,
progress=None, column_map=None) -> ImportResult``:

    folder   audio files found recursively + optional metadata CSV      (core.datasets.folder)
    gtzan    <root>/<genre>/<files>                                     (core.datasets.gtzan)
    jamendo  JamendoLyrics-style CSV + mp3/ + lyrics/<stem>.txt         (core.datasets.jamendo)
    tabular  Spotify-style CSV of numeric audio features, no audio      (core.datasets.tabular)
    auto     ``detect_layout(path)``, then one of the above

``import_dataset`` runs one and saves the result with ``core.datasets.save_dataset``; a failed
import (nothing usable) raises SchemaError and leaves an existing dataset of that name untouched.
A ``.zip`` path is unpacked safely first (``unpack_zip``) into the workspace's ``uploads/`` folder.
The name ``demo`` is reserved, and an existing dataset is overwritten only with ``replace=True``
(``--replace``).

Columns are given roles by name (``core.schema.COLUMN_ALIASES``) or by the user:
``column_map={"genre": "genre_en"}`` (``--map genre=genre_en``). Text columns no role claimed are
listed in the summary and in info.json["unrecognised_columns"]. Label columns scored by the metrics
are recorded in info.json["label_columns"]: language and genre when filled, plus ``labels``
(``--labels mood,era``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from core.audio import AUDIO_EXTENSIONS
from core.datasets import (
    DEMO_NAME,
    IMPORTERS,
    Dataset,
    ImportResult,
    check_name,
    check_new_name,
    default_label_columns,
    save_dataset,
)
from core.datasets import folder as _folder  # noqa: F401 - registers "folder"
from core.datasets import gtzan as _gtzan  # noqa: F401 - registers "gtzan"
from core.datasets import jamendo as _jamendo  # noqa: F401 - registers "jamendo"
from core.datasets import tabular as _tabular  # registers "tabular"
from core.datasets.folder import check_import_params, csv_header, root_csvs, scan_files
from core.datasets.zipsafe import GiB, unpack_zip
from core.errors import ParameterError, SchemaError
from core.schema import COLUMN_ALIASES, _norm, check_column_map, match_columns

__all__ = ["IMPORTERS", "detect_layout", "import_dataset", "unpack_zip", "default_name", "register_cli",
           "summarize", "LAYOUTS", "parse_column_map"]

LAYOUTS = ("auto", "folder", "gtzan", "jamendo", "tabular")
MIN_TABULAR_FEATURES = 3
MAX_REASONS_IN_ERROR = 8
MAX_SKIPPED_LISTED = 20


# ----------------------------------------------------------------------------------------------
# Layout detection
# ----------------------------------------------------------------------------------------------

def _csv_kind(header: list[str], folder: Path | None = None, column_map=None) -> str | None:
    """'jamendo', 'folder' or 'tabular' for a CSV header, None if it is none of these."""
    cmap = match_columns(header, column_map={r: c for r, c in (column_map or {}).items() if c in header})
    if "path" in cmap:
        if "language" in cmap and (_norm(cmap["path"]) == "filepath"
                                   or (folder is not None and (folder / "lyrics").is_dir())):
            return "jamendo"
        return "folder"
    if len(_tabular.feature_columns(header)) >= MIN_TABULAR_FEATURES:
        return "tabular"
    return None


def detect_layout(path: str | Path, *, column_map=None) -> str:
    """Guess the layout of ``path``: 'folder', 'gtzan', 'jamendo' or 'tabular'.

    - a CSV file: 'tabular' if it has ≥3 known Spotify feature columns or ≥3 numeric columns and no
      file column, or a file column but no audio beside it; otherwise with a file column it describes
      its folder: 'jamendo' (Filepath + Language) or 'folder'.
    - a folder with a root CSV having a file-path column + a language column, and either the column is
      called Filepath or there is a ``lyrics/`` folder: 'jamendo'.
    - a folder with no root CSV whose audio all sits exactly one level down, in ≥2 subfolders: 'gtzan'.
    - a folder without audio but with a Spotify-style CSV: 'tabular'.
    - any other folder with audio: 'folder'.
    column_map: {role: column} as for import_dataset (a file column with any name, for example).
    Raises SchemaError when nothing importable is found.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise SchemaError(f"Import path {path} does not exist.")
    if path.is_file():
        if path.suffix.lower() == ".zip":
            raise SchemaError(f"{path} is a zip archive: unpack it first (unpack_zip) or pass it to import_dataset.")
        if path.suffix.lower() != ".csv":
            raise SchemaError(f"Cannot import the single file {path}: give a folder of audio files or a CSV.")
        kind = _csv_kind(csv_header(path), path.parent, column_map)
        numeric = _tabular.numeric_columns_in(path)
        if kind == "folder" and len(numeric) >= MIN_TABULAR_FEATURES and not scan_files(path.parent)[0]:
            return "tabular"  # a feature table with a file-name column (GTZAN's features_30_sec.csv)
        if kind is None and len(numeric) >= MIN_TABULAR_FEATURES:
            return "tabular"
        if kind is None:
            raise SchemaError(
                f"Cannot tell what {path.name} holds: it has no file column (file, filename, filepath …) and fewer "
                f"than {MIN_TABULAR_FEATURES} audio-feature columns ({', '.join(_tabular.SPOTIFY_FEATURES[:6])} …). "
                "Pass --layout tabular or --layout folder explicitly.")
        return kind
    csvs = root_csvs(path)
    headers = [csv_header(p) for p in csvs]
    if any(_csv_kind(h, path, column_map) == "jamendo" for h in headers):
        return "jamendo"
    audio, _ = scan_files(path)
    if not audio:
        if any(_csv_kind(h, None, column_map) == "tabular" for h in headers):
            return "tabular"
        raise SchemaError(f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) and no audio-feature CSV found in {path}. "
                          "Check the folder you chose.")
    if not csvs:
        rels = [a.relative_to(path).parts for a in audio]
        if all(len(r) == 2 for r in rels) and len({r[0] for r in rels}) >= 2:
            return "gtzan"
    return "folder"


@IMPORTERS.register("auto")
def import_auto(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None,
                progress=None, column_map=None, **options) -> ImportResult:
    """Detect the layout (``detect_layout``) and run that importer."""
    layout = detect_layout(path, column_map=column_map)
    return IMPORTERS.get(layout)(Path(path), min_seconds=min_seconds, segment_seconds=segment_seconds,
                                 progress=progress, column_map=column_map, **options)


# ----------------------------------------------------------------------------------------------
# import_dataset
# ----------------------------------------------------------------------------------------------

def default_name(path: str | Path) -> str:
    """A dataset name from a folder/file name, made to pass ``check_name`` (and not to hit the demo)."""
    p = Path(path)
    stem = p.stem if p.is_file() or p.suffix.lower() in (".csv", ".zip") else p.name
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_).strip("_.-")[:64].rstrip("_.-")
    if not name:
        name = "dataset"
    if name.casefold() == DEMO_NAME:
        name = f"{DEMO_NAME}_import"
    return check_name(name)


def _unpack_upload(zip_path: Path) -> Path:
    from core.artifacts import is_complete
    from core.config import workspace
    from core.hashing import file_fingerprint

    dest = workspace() / "uploads" / file_fingerprint(zip_path)[:16]
    if is_complete(dest):
        entries = [p for p in (dest / "files").iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
        return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest / "files"
    if dest.exists():  # an earlier unpack was interrupted: nothing imported points into it
        import shutil

        shutil.rmtree(dest)
    root = unpack_zip(zip_path, dest / "files", max_total_bytes=2 * GiB)
    (dest / ".complete").write_text("ok")
    return root


def parse_column_map(items, *, name: str = "--map") -> dict[str, str]:
    """["genre=genre_en", "language = lang"] (or one comma-separated string) → {"genre": "genre_en", …}."""
    if isinstance(items, str):
        items = items.split(",")
    column_map = {}
    for item in items:
        if not str(item).strip():
            continue
        role, sep, col = str(item).partition("=")
        if not sep or not role.strip() or not col.strip():
            raise ParameterError(name, value=item, expected="ROLE=COLUMN, e.g. genre=genre_en")
        column_map[role.strip()] = col.strip()
    return column_map


def import_dataset(path: str | Path, *, layout: str = "auto", name: str | None = None,
                   segment_seconds: float | None = None, min_seconds: float = 1.0, progress=None,
                   replace: bool = False, column_map: dict[str, str] | None = None, labels=(),
                   **options) -> Dataset:
    """Import ``path`` as dataset ``name`` (default: from the folder/file name) and save it.

    layout: one of ``IMPORTERS.names()`` ('auto' detects it). segment_seconds: cut tracks into
    segments of that length (None = whole tracks). min_seconds: shorter clips (and trailing segment
    pieces) are dropped. progress: ``progress(step, total, logs)``. replace: overwrite an existing
    dataset of that name (otherwise ParameterError; the name ``demo`` is always refused).
    column_map: {role: the CSV's column} for roles path, title, artist, language, genre, lyrics, e.g.
    ``{"genre": "genre_en"}``. labels: further track-table columns to score as labels (e.g.
    ``("mood", "era")``), recorded with language/genre in info.json["label_columns"]. Extra keyword
    ``options`` go to the importer (e.g. ``csv_path`` for folder/gtzan/jamendo).
    Raises SchemaError (nothing usable; the reasons listed; any dataset of that name untouched),
    ParameterError (bad option, reserved or taken name, unknown label column).
    """
    if layout not in IMPORTERS:
        raise ParameterError("layout", value=layout, expected=f"one of {IMPORTERS.names()}")
    check_import_params(min_seconds=min_seconds, segment_seconds=segment_seconds)
    column_map = check_column_map(column_map)
    labels = [labels] if isinstance(labels, str) else [str(c) for c in (labels or ())]
    src = Path(path).expanduser()
    if not src.exists():
        raise SchemaError(f"Import path {src} does not exist. Give a folder of audio files, a CSV or a .zip.")
    target = src
    if src.is_file() and src.suffix.lower() == ".zip":
        target = _unpack_upload(src)
    used_layout = detect_layout(target, column_map=column_map) if layout == "auto" else layout
    if not name:  # a metadata CSV stands for its folder; a feature table or a zip for itself
        describes_folder = target.is_file() and used_layout in ("folder", "gtzan", "jamendo")
        name = default_name(src.parent if describes_folder else src)
    check_new_name(name, replace=replace)
    result = IMPORTERS.get(used_layout)(target, min_seconds=min_seconds, segment_seconds=segment_seconds,
                                        progress=progress, column_map=column_map, **options)
    if result.tracks is None or len(result.tracks) == 0:
        reasons = "; ".join(f"{s.item}: {s.reason}" for s in result.skipped[:MAX_REASONS_IN_ERROR])
        more = len(result.skipped) - MAX_REASONS_IN_ERROR
        raise SchemaError(
            f"Nothing to import from {src} (layout '{used_layout}'): every item was skipped"
            + (f". Reasons: {reasons}" if reasons else " (no items found)")
            + (f" … and {more} more" if more > 0 else "")
            + f". Dataset '{name}' was not changed.")
    missing = [c for c in labels if c not in result.tracks.columns]
    if missing:
        raise ParameterError("labels", value=",".join(missing), expected="columns of the imported track table",
                             fix=f"Available: {', '.join(map(str, result.tracks.columns))}. Dataset '{name}' was "
                                 "not changed.")
    label_cols = list(dict.fromkeys(default_label_columns(result.tracks) + labels))
    extra = {"layout": result.layout or used_layout, "requested_layout": layout, "source_path": str(src.resolve()),
             "options": {"segment_seconds": segment_seconds, "min_seconds": min_seconds,
                         **{k: str(v) for k, v in options.items()}},
             "column_map": column_map, "label_columns": label_cols,
             "unrecognised_columns": list(result.unrecognised),
             "n_skipped": len(result.skipped), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return save_dataset(name, result, extra_info=extra, replace=replace)


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------

def summarize(ds: Dataset) -> str:
    """A plain-text summary: counts, labels, skipped items with reasons."""
    t = ds.tracks
    n_files = t.loc[t["path"] != "", "path"].nunique()
    lines = [f"Imported dataset '{ds.name}' (layout {ds.info.get('layout', '?')}): {len(t)} rows"
             + (f" from {n_files} audio files" if n_files else " (no audio)")]
    if "parent_id" in t and (t["parent_id"] != "").any():
        lines[0] += f", cut into segments of {ds.info.get('options', {}).get('segment_seconds')} s"
    if "duration_s" in t and n_files:
        lines.append(f"  audio: {t['duration_s'].sum() / 60:.1f} min in total")
    label_cols = list(dict.fromkeys(["language", "genre", *ds.info.get("label_columns", [])]))
    for col in label_cols:
        if col in t:
            counts = Counter(str(v) if str(v) else "(none)" for v in t[col])
            shown = ", ".join(f"{k} {v}" for k, v in counts.most_common(12))
            lines.append(f"  {col}: {shown}" + (f", … ({len(counts) - 12} more values)" if len(counts) > 12 else ""))
    unrec = ds.info.get("unrecognised_columns") or []
    if unrec:
        roles = "|".join(r for r in COLUMN_ALIASES if r != "path")
        lines.append(f"  unrecognised columns (kept as they are): {', '.join(unrec)}. Give one a role with "
                     f"--map ROLE=COLUMN (ROLE: {roles}) or score it as a label with --labels COLUMN.")
    if "lyrics" in t:
        lines.append(f"  lyrics: {(t['lyrics'] != '').sum()} of {len(t)} rows")
    lines.append(f"  saved to {ds.root}")
    if ds.skipped:
        lines.append(f"Skipped {len(ds.skipped)}:")
        lines += [f"  - {s.item}: {s.reason}" for s in ds.skipped[:MAX_SKIPPED_LISTED]]
        if len(ds.skipped) > MAX_SKIPPED_LISTED:
            lines.append(f"  … and {len(ds.skipped) - MAX_SKIPPED_LISTED} more. By reason:")
            kinds = Counter(reason_kind(s.reason) for s in ds.skipped)
            lines += [f"    {n} × {k}" for k, n in kinds.most_common(10)]
            if len(kinds) > 10:
                lines.append(f"    … {len(kinds) - 10} other reasons")
            lines.append(f"  The full list: {ds.root / 'skipped.csv'}")
    else:
        lines.append("Skipped 0.")
    return "\n".join(lines)


def reason_kind(reason: str) -> str:
    """A skip reason without its particulars (quoted values, numbers), to count reasons of one kind."""
    kind = re.sub(r"'[^']*'", "'…'", reason.split(". ", 1)[0])
    kind = re.sub(r"\b\d+(?:\.\d+)?\b", "N", kind)
    return kind[:100]


def _cli_import(args) -> int:
    from core.progress import console_progress

    if args.segment_seconds is not None and (not math.isfinite(args.segment_seconds) or args.segment_seconds < 0):
        raise ParameterError("--segment-seconds", value=args.segment_seconds,
                             expected="seconds > 0, or 0 for whole tracks",
                             fix="Use e.g. --segment-seconds 30, or 0 to keep whole tracks.")
    seg = args.segment_seconds if args.segment_seconds else None
    column_map = parse_column_map(args.map or [])
    labels = [c.strip() for c in (args.labels or "").split(",") if c.strip()]
    ds = import_dataset(args.path, layout=args.layout, name=args.name, segment_seconds=seg,
                        min_seconds=args.min_seconds, progress=None if args.quiet else console_progress("import"),
                        replace=args.replace, column_map=column_map, labels=labels)
    print(summarize(ds))
    return 0 if len(ds.tracks) else 1


def register_cli(sub) -> None:
    """``python -m core import PATH [--layout …] [--name …] [--replace] [--map ROLE=COLUMN …] [--labels a,b]
    [--segment-seconds S] [--min-seconds S]``."""
    p = sub.add_parser("import", help="import a folder of audio, a metadata CSV, a feature CSV or a .zip",
                       description="Import a folder of audio files (with an optional metadata CSV), GTZAN-style "
                                   "genre folders, a JamendoLyrics-style folder, a Spotify-style feature CSV or a "
                                   ".zip of any of these. Prints what was imported and what was skipped, and why.")
    p.add_argument("path", help="folder, CSV file or .zip")
    p.add_argument("--layout", default="auto", choices=IMPORTERS.names(), help="data layout (default: auto-detect)")
    p.add_argument("--name", default=None, help="dataset name (default: from the folder/file name)")
    p.add_argument("--replace", action="store_true", help="overwrite an existing dataset of that name")
    p.add_argument("--map", action="append", metavar="ROLE=COLUMN",
                   help=f"give a CSV column a role ({', '.join(COLUMN_ALIASES)}), e.g. --map genre=genre_en; "
                        "repeatable")
    p.add_argument("--labels", default="", metavar="A,B",
                   help="further columns to score as labels besides language and genre, e.g. --labels mood,era")
    p.add_argument("--segment-seconds", type=float, default=30.0,
                   help="cut tracks into segments of this many seconds (default 30, as in the reports; 0 = whole "
                        "tracks)")
    p.add_argument("--min-seconds", type=float, default=1.0,
                   help="skip clips, and drop trailing segment pieces, shorter than this (default 1.0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cli_import)
