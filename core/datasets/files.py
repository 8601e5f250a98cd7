"""Scanning an import folder and reading its CSVs: every unreadable entry is skipped with a reason."""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.audio import AUDIO_EXTENSIONS
from core.datasets import SkippedItem
from core.schema import CORE_COLUMNS, match_columns

# Files that may sit beside the audio without being reported as "not audio".
QUIET_EXTENSIONS = frozenset({
    ".csv", ".tsv", ".txt", ".json", ".md", ".pdf", ".lrc", ".xml", ".yaml", ".yml", ".ini", ".log",
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".nfo", ".cue", ".m3u", ".m3u8", ".pls", ".db",
    ".npy", ".npz", ".pkl", ".zip",
})
SKIP_DIRS = frozenset({"__MACOSX", "__pycache__"})


@dataclass
class Scan:
    """What ``scan_tree`` found: audio files, other files, and entries it could not use (with why)."""

    audio: list[Path] = field(default_factory=list)
    other: list[Path] = field(default_factory=list)
    unreadable: list[SkippedItem] = field(default_factory=list)


def _os_reason(exc: OSError, *, folder: bool) -> str:
    what = "folder" if folder else "file"
    if isinstance(exc, PermissionError):
        return (f"cannot open this {what}: permission denied, so {'its files were' if folder else 'it was'} not "
                "imported. Give your user read access, or import a folder you own.")
    if exc.errno == errno.ELOOP:
        return "a symbolic link that loops back on itself; skipped. Remove or fix the link."
    return (f"cannot read this {what} ({exc.strerror or exc}); {'its files were' if folder else 'it was'} "
            "not imported.")


def scan_tree(root: Path) -> Scan:
    """Audio and other files under ``root`` (symbolic links followed, each real folder visited once),
    sorted by relative path; hidden files and folders ignored. Never raises for one bad entry: folders
    that cannot be opened, broken or looping links and unreadable files are listed in ``unreadable``."""
    root = Path(root)
    scan = Scan()
    seen_dirs: set[tuple[int, int]] = set()
    found: list[tuple[str, Path]] = []

    def rel_of(p: str) -> str:
        return Path(os.path.relpath(p, root)).as_posix()

    def on_error(exc: OSError) -> None:
        where = rel_of(exc.filename) if exc.filename else str(root)
        scan.unreadable.append(SkippedItem(where, _os_reason(exc, folder=True)))

    try:
        st = os.stat(root)
        seen_dirs.add((st.st_dev, st.st_ino))
    except OSError as exc:
        on_error(exc)
        return scan
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d.startswith(".") or d in SKIP_DIRS:
                continue
            try:
                st = os.stat(full)
            except OSError as exc:
                scan.unreadable.append(SkippedItem(rel_of(full), _os_reason(exc, folder=True)))
                continue
            if (st.st_dev, st.st_ino) in seen_dirs:
                if os.path.islink(full):
                    scan.unreadable.append(SkippedItem(rel_of(full), (
                        f"a symbolic link to a folder already scanned ({os.path.realpath(full)}); skipped so its "
                        "files are not imported twice (or forever, for a link that loops).")))
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except FileNotFoundError:
                target = os.readlink(full) if os.path.islink(full) else "?"
                scan.unreadable.append(SkippedItem(rel_of(full), (
                    f"a broken symbolic link: it points to '{target}', which does not exist. Fix or remove the link.")))
                continue
            except OSError as exc:
                scan.unreadable.append(SkippedItem(rel_of(full), _os_reason(exc, folder=False)))
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if not os.access(full, os.R_OK):
                scan.unreadable.append(SkippedItem(rel_of(full), _os_reason(PermissionError(errno.EACCES, "denied"),
                                                                            folder=False)))
                continue
            found.append((rel_of(full), Path(full)))
    for _, p in sorted(found, key=lambda t: t[0]):
        (scan.audio if p.suffix.lower() in AUDIO_EXTENSIONS else scan.other).append(p)
    scan.unreadable.sort(key=lambda s: s.item)
    return scan


def scan_files(root: Path) -> tuple[list[Path], list[Path]]:
    """(audio files, other files) under ``root``, sorted by relative path; hidden files ignored.
    Entries that cannot be read are left out (``scan_tree`` lists them)."""
    scan = scan_tree(root)
    return scan.audio, scan.other


def utf16_encoding(data: bytes) -> str | None:
    """'utf-16' (with a BOM), 'utf-16-le' or 'utf-16-be' (no BOM: NUL bytes in every other position of
    mostly-ASCII text, as Excel's "Unicode text" writes), or None for anything else."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and not data.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    head = data[:4096]
    head = head[:len(head) - len(head) % 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = max(len(head) // 2, 1)
    # UTF-8 text holds no NUL bytes; UTF-16 of Latin text holds one per character, on one side.
    if odd >= 0.2 * half and even <= 0.1 * odd:
        return "utf-16-le"
    if even >= 0.2 * half and odd <= 0.1 * even:
        return "utf-16-be"
    return None


def decode_utf8(data: bytes, *, item: str, consequence: str) -> tuple[str | None, SkippedItem | None]:
    """Decode bytes as UTF-8 (a BOM is allowed) or as UTF-16 when it is that (BOM or NUL pattern);
    on failure say where and how to fix it."""
    enc16 = utf16_encoding(data)
    if enc16:
        try:
            return data.decode(enc16).lstrip("\ufeff"), None
        except UnicodeDecodeError as exc:
            return None, SkippedItem(item, (
                f"looks like UTF-16 text but byte offset {exc.start} cannot be decoded as {enc16.upper()}. "
                f"Re-save it as UTF-8 (Excel: 'CSV UTF-8'). {consequence}"))
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:start].count(b"\n") + 1
        bad = data[start:start + 1].hex()
        return None, SkippedItem(item, (
            f"not UTF-8 text: byte 0x{bad} at byte offset {start} (line {line}) cannot be decoded "
            "(it looks like a Windows-1252/Latin-1 file). Re-save it as UTF-8 (Excel: 'CSV UTF-8'; LibreOffice: "
            f"character set 'Unicode (UTF-8)'). {consequence}"))


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


@dataclass
class CsvTable:
    """A CSV read as text: ``df`` (all str) and the spreadsheet row number of each of its rows."""

    name: str
    df: pd.DataFrame
    rows: list[int]

    def item(self, row: int) -> str:
        return f"{self.name} row {row}"


def read_csv_table(path: Path, *, consequence: str = "The audio was imported without its metadata.",
                   name: str | None = None) -> tuple[CsvTable | None, list[SkippedItem]]:
    """Read a CSV as strings; return (table or None if unusable, skipped items).

    Rows with more fields than the header are skipped with their row number; short rows are padded.
    """
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [SkippedItem(name, f"cannot read the file ({exc}). {consequence}")]
    text, problem = decode_utf8(data, item=name, consequence=consequence)
    if problem:
        return None, [problem]
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))
    try:
        records = list(reader)
    except csv.Error as exc:
        return None, [SkippedItem(name, f"not a readable CSV ({exc}, near line {reader.line_num}). "
                                        f"Check its quoting. {consequence}")]
    skipped: list[SkippedItem] = []
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
    if not records:
        return None, [SkippedItem(name, f"the CSV is empty (no header row). {consequence}")]
    header, positions = [], defaultdict(list)
    for i, col in enumerate(records[0]):
        col = col.strip() or f"column_{i + 1}"
        positions[col].append(i)
        header.append(col)
    for col, where in positions.items():
        if len(where) > 1:
            skipped.append(SkippedItem(f"{name} column '{col}'", (
                f"the header names {len(where)} columns '{col}' (columns {', '.join(str(w + 1) for w in where)}); "
                f"the first (column {where[0] + 1}) was used and the others ignored. Rename them to keep them all.")))
    first_of = [i for i, col in enumerate(header) if positions[col][0] == i]
    body, rows = [], []
    for idx, rec in enumerate(records[1:], start=2):
        if not any(c.strip() for c in rec):
            continue  # blank line
        if len(rec) > len(header):
            skipped.append(SkippedItem(f"{name} row {idx}", (
                f"has {len(rec)} fields but the header has {len(header)} (an unquoted comma or delimiter in a "
                "value?). Quote that value or fix the row.")))
            continue
        rec = rec + [""] * (len(header) - len(rec))
        body.append([rec[i] for i in first_of])
        rows.append(idx)
    df = pd.DataFrame(body, columns=[header[i] for i in first_of], dtype=object)
    return CsvTable(name=name, df=df, rows=rows), skipped


def csv_header(path: Path) -> list[str]:
    """Column names of a CSV (best effort, any encoding), for layout detection."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 16)
    except OSError:
        return []
    enc16 = utf16_encoding(data)
    text = data.decode(enc16 or "utf-8-sig", errors="replace").lstrip("\ufeff")
    first = text.split("\n", 1)[0].strip("\r")
    try:
        return [c.strip() for c in next(csv.reader([first], delimiter=_sniff_delimiter(first)))]
    except (csv.Error, StopIteration):
        return []


def root_csvs(root: Path) -> list[Path]:
    return sorted((p for p in root.glob("*.csv") if p.is_file() and not p.name.startswith(".")),
                  key=lambda p: p.name.lower())


def pick_csv(root: Path, *, prefer=None) -> tuple[Path | None, list[SkippedItem]]:
    """The metadata CSV at the root: ``metadata.csv`` if present, else the first ``prefer(header)``
    accepts, else the first with a file-name column, else the first. The others are listed."""
    found = root_csvs(root)
    if not found:
        return None, []
    chosen = next((p for p in found if p.name.lower() == "metadata.csv"), None)
    if chosen is None and prefer is not None:
        chosen = next((p for p in found if prefer(csv_header(p))), None)
    if chosen is None:
        chosen = next((p for p in found if "path" in match_columns(csv_header(p))), found[0])
    notes = [SkippedItem(p.name, f"ignored: several CSV files at the top level and '{chosen.name}' was used. "
                                 "Rename the one you want to metadata.csv.") for p in found if p != chosen]
    return chosen, notes


def reserved_rename(col: str) -> str:
    """Extra CSV columns may not shadow the track table's own columns: prefix them with ``csv_``."""
    return f"csv_{col}" if col in CORE_COLUMNS else col



