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

import contextlib
import csv
import errno
import io
import math
import os
import stat
import struct
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.audio import AUDIO_EXTENSIONS, probe_duration
from core.datasets import IMPORTERS, ImportResult, SkippedItem
from core.datasets.segment import segment_tracks
from core.errors import AudioDecodeError, ParameterError, SchemaError
from core.schema import COLUMN_ALIASES, CORE_COLUMNS, coerce_numeric, match_columns, stable_id

# Files that may sit beside the audio without being reported as "not audio".
QUIET_EXTENSIONS = frozenset({
    ".csv", ".tsv", ".txt", ".json", ".md", ".pdf", ".lrc", ".xml", ".yaml", ".yml", ".ini", ".log",
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".nfo", ".cue", ".m3u", ".m3u8", ".pls", ".db",
    ".npy", ".npz", ".pkl", ".zip",
})
SKIP_DIRS = frozenset({"__MACOSX", "__pycache__"})
CANONICAL = tuple(COLUMN_ALIASES)  # path, title, artist, language, genre, lyrics
AUDIO_SUBDIRS = ("mp3", "audio", "wav", "flac", "ogg")  # where CSV file names may be relative to
_STDERR_LOCK = threading.Lock()


# ----------------------------------------------------------------------------------------------
# Audio validation
# ----------------------------------------------------------------------------------------------

def _strip_path(msg: str, path: Path) -> str:
    for prefix in (f"{path}: ", f"{path.resolve()}: "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def _wav_truncation(path: Path) -> str | None:
    """For RIFF/WAVE files, compare the data chunk's declared size with the bytes present."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        endian = "<" if head[:4] == b"RIFF" else ">"
        byte_rate = block_align = 0
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            hdr = fh.read(8)
            if len(hdr) < 8:
                break
            cid, csize = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
            if cid == b"fmt ":
                fmt = fh.read(min(csize, 16))
                if len(fmt) >= 14:
                    byte_rate, block_align = struct.unpack(endian + "IH", fmt[8:14])
            elif cid == b"data":
                if csize in (0, 0xFFFFFFFF):  # size unknown (streamed writer): nothing to check
                    return None
                have = size - (pos + 8)
                if have + max(block_align, 1) <= csize:
                    if byte_rate:
                        return (f"truncated: the WAV header promises {csize / byte_rate:.2f} s of audio but the file "
                                f"holds only {max(have, 0) / byte_rate:.2f} s ({size} bytes). "
                                "Re-export or re-download the file, or remove it.")
                    return (f"truncated: the WAV header promises {csize} bytes of audio but the file holds only "
                            f"{max(have, 0)}. Re-export or re-download the file, or remove it.")
                return None
            pos += 8 + csize + (csize & 1)
    return None


OGG_SUFFIXES = (".ogg", ".oga", ".opus")
_OGG_TAIL = 70_000  # > the largest Ogg page (27 + 255 + 255 * 255 bytes)


def _ogg_truncation(path: Path) -> str | None:
    """For Ogg files: the last page must end exactly at the end of the file and carry the end-of-stream
    flag. libsndfile reports a cut file's duration as what remains, so nothing else notices."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(4) != b"OggS":
            return None
        start = max(0, size - _OGG_TAIL)
        fh.seek(start)
        tail = fh.read()
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        hdr = tail[pos:pos + 27]
        if len(hdr) == 27 and hdr[4] == 0:  # stream structure version 0
            nseg = hdr[26]
            table = tail[pos + 27:pos + 27 + nseg]
            end = start + pos + 27 + nseg + sum(table)
            if len(table) < nseg or end > size:
                return ("truncated: the file ends in the middle of its last Ogg page (it was cut short). "
                        "Re-export or re-download the file, or remove it.")
            if end < size:
                return (f"truncated or damaged: {size - end} bytes after the last complete Ogg page are not a "
                        "page. Re-export or re-download the file, or remove it.")
            if not hdr[5] & 0x04:
                return ("truncated: the Ogg stream stops without its end-of-stream marker (the file was cut "
                        "short). Re-export or re-download the file, or remove it.")
            return None
        pos = tail.rfind(b"OggS", 0, pos)
    return None


@contextlib.contextmanager
def _quiet_c_stderr(enabled: bool):
    """Silence C-level stderr (libmpg123 prints a harmless warning on every MP3 seek)."""
    if not enabled:
        yield
        return
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _tail_truncation(path: Path) -> str | None:
    """Read the last block: catches files whose header promises more frames than are decodable."""
    import soundfile as sf

    try:
        fh = sf.SoundFile(str(path))
    except Exception:  # noqa: BLE001 - not a libsndfile format; probe_duration decoded it fully
        return None
    try:
        with fh:
            frames, sr = fh.frames, fh.samplerate
            if frames <= 0 or not fh.seekable():
                return None
            n = int(min(frames, max(1024, sr // 10)))
            fh.seek(frames - n)
            got = len(fh.read(n, dtype="float32", always_2d=True))
    except Exception as exc:  # noqa: BLE001
        return (f"truncated or damaged: the end of the file cannot be read ({type(exc).__name__}: {exc}). "
                "Re-export or re-download the file, or remove it.")
    if got < n // 2:
        return (f"truncated: the header promises {frames / sr:.2f} s but the last {n / sr:.2f} s cannot be read "
                f"(got {got} of {n} frames). Re-export or re-download the file, or remove it.")
    return None


def _sf_error(path: Path) -> str:
    import soundfile as sf

    try:
        sf.info(str(path))
    except Exception as exc:  # noqa: BLE001
        return str(exc).replace(f"'{path}'", "file").replace(str(path), "file")
    return "no decoder could read it"


def check_audio(path: str | Path) -> float:
    """Validate an audio file cheaply and return its duration in seconds.

    Uses ``core.audio.probe_duration`` (header only for libsndfile formats), then catches truncated
    files: WAV data-chunk size vs file size, the last Ogg page (complete, end-of-stream flag), and a
    read of the last block for other formats.
    Raises AudioDecodeError with a message that says what is wrong and how to fix it.
    """
    path = Path(path)
    with _quiet_c_stderr(path.suffix.lower() == ".mp3"):
        try:
            duration = probe_duration(path)
        except AudioDecodeError as exc:
            if "cannot decode" not in str(exc):
                raise
            raise AudioDecodeError(f"{path}: not readable as audio ({_sf_error(path)}). If it is audio, convert it "
                                   "to WAV/FLAC/OGG/MP3; otherwise remove it.") from exc
        if not math.isfinite(duration) or duration <= 0:
            raise AudioDecodeError(f"{path}: no audio frames.")
        problem = _wav_truncation(path) if path.suffix.lower() in (".wav", ".wave") else None
        problem = problem or (_ogg_truncation(path) if path.suffix.lower() in OGG_SUFFIXES else None)
        problem = problem or _tail_truncation(path)
    if problem:
        raise AudioDecodeError(f"{path}: {problem}")
    return float(duration)


# ----------------------------------------------------------------------------------------------
# Scanning and CSV reading
# ----------------------------------------------------------------------------------------------

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
