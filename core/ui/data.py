"""Cached wrappers around core calls. Core caches on disk by fingerprint; this adds a process memo
so reruns (every slider move) cost nothing, and draws progress bars for first-time work."""

from __future__ import annotations

import ast
import csv
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core import datasets
from core.config import workspace
from core.errors import SongscapeError
from core.ui import keys
from core.ui.widgets import ProgressReporter

UI_NAMESPACE = "ui"


def _key(key: tuple) -> str:
    return "\x1f".join(map(str, key))


def memo(key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``key`` (a tuple whose first item names what it is), kept in the one bounded
    in-memory cache (core.cache.CACHE, namespace "ui"), so a rerun costs nothing until memory is needed."""
    from core.cache import CACHE

    return CACHE.get_or_compute_object(UI_NAMESPACE, _key(key), compute)


def peek(key: tuple) -> Any:
    """What ``memo`` holds under ``key``, or None; never computes."""
    from core.cache import CACHE

    return CACHE.peek(UI_NAMESPACE, _key(key))


def forget(prefix: str) -> None:
    """Drop every memo whose key starts with ``prefix`` (e.g. "models" after a training run)."""
    from core.cache import CACHE

    CACHE.forget(UI_NAMESPACE, key_prefix=_key((prefix,)) + "\x1f")


@st.cache_resource(show_spinner=False)
def warm_up_projections() -> bool:
    """Once per server process: compile UMAP's numba code in the background before anyone asks."""
    from core.project import warmup

    warmup("umap", background=True)
    return True


def demo_size() -> dict:
    """Demo corpus size; tests shrink it through the environment."""
    return {"n_tracks": int(os.environ.get("SONGSCAPE_DEMO_TRACKS", 240)),
            "seconds": float(os.environ.get("SONGSCAPE_DEMO_SECONDS", 30.0)),
            "seed": int(os.environ.get("SONGSCAPE_DEMO_SEED", 0))}


def ensure_demo() -> None:
    """Generate the embedded demo corpus on first start (with a progress bar); reuse it afterwards."""
    from core.datasets.demo import demo_is_current, ensure_demo_dataset

    size = demo_size()
    if demo_is_current(**size):
        return
    st.info("First start: generating the embedded demo corpus (synthesized songs in six genres, "
            "English and Bangla vocals). This happens once.")
    rep = ProgressReporter("Generating demo corpus")
    ensure_demo_dataset(progress=rep, **size)
    rep.done()


def load_dataset(name: str):
    path = datasets.dataset_dir(name) / "tracks.csv"
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return memo(("dataset", str(path), mtime), lambda: datasets.load_dataset(name))


def current_dataset():
    name = st.session_state.get(keys.DATASET)
    if not name or name not in datasets.list_datasets():
        return None
    return load_dataset(name)


def features(ds, name: str):
    """FeatureSet for ``name``: from memory, disk, or extracted now with a progress bar."""
    from core.features import get_features

    def compute():
        rep = ProgressReporter(f"Extracting features ({name})")
        fs = get_features(ds, name, progress=rep, cancel=rep.cancel)
        rep.done()
        rep.reraise()
        return fs

    return memo(("features", ds.fingerprint, name), compute)


def available_features(ds) -> list[str]:
    from core.features import available_features as avail

    return avail(ds)


# ----------------------------------------------------------------------------------------------
# Imports from the app: only below the allowed roots, uploads unpacked once, errors safe to show
# ----------------------------------------------------------------------------------------------

UPLOADS_GRACE_S = 3600.0     # an unreferenced upload younger than this may still be importing elsewhere
MAX_SHOWN_COLUMNS = 10
MAX_SHOWN_CHARS = 40
MAX_MESSAGE_CHARS = 900
# a Python-style quoted string; an apostrophe inside a word ("the CSV's") neither opens nor closes one
_STR = r"(?<!\w)'(?:[^'\\\n]|\\.)*'(?!\w)|(?<!\w)\"(?:[^\"\\\n]|\\.)*\"(?!\w)"
_LIST_REPR = re.compile(r"\[(?:(?:%s)(?:, (?:%s))*)?\]" % (_STR, _STR))
_QUOTED = re.compile(_STR)


class ImportFailed(SongscapeError):
    """An import from the app failed; the message is safe to show (no file content)."""


def readable_table(path: Path) -> bool:
    """True if ``path`` looks like a CSV Songscape can read: UTF-8 text without NUL bytes whose first
    line (≤ 4096 characters) splits into at least two column names. Reads at most 64 kB."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
            more = bool(fh.read(1))
    except OSError:
        return False
    if not head.strip() or b"\x00" in head:
        return False
    if more and b"\n" in head:
        head = head[:head.rindex(b"\n")]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    first = text.splitlines()[0] if text.splitlines() else ""
    if len(first) > 4096:
        return False
    delim = max((",", ";", "\t", "|"), key=first.count)
    try:
        header = next(csv.reader([first], delimiter=delim))
    except (csv.Error, StopIteration):
        return False
    return sum(1 for c in header if c.strip()) >= 2


def _short_list(match: re.Match) -> str:
    try:
        names = [str(n) for n in ast.literal_eval(match.group(0))]
    except (ValueError, SyntaxError):
        return "[…]"
    shown = [n if len(n) <= MAX_SHOWN_CHARS else n[:MAX_SHOWN_CHARS - 1] + "…" for n in names[:MAX_SHOWN_COLUMNS]]
    more = len(names) - len(shown)
    return "[" + ", ".join(repr(n) for n in shown) + (f", … {more} more" if more > 0 else "") + "]"


def _short_quote(match: re.Match) -> str:
    q = match.group(0)
    return q if len(q) <= MAX_SHOWN_CHARS + 2 else q[:MAX_SHOWN_CHARS] + "…" + q[0]


def _tables_of(path: Path | None) -> list[Path]:
    """The CSV files an import of ``path`` may read and quote from."""
    if path is None or not path.exists():
        return []
    if path.is_file():
        return [path] if path.suffix.lower() != ".zip" else []
    from core.datasets.folder import root_csvs

    try:
        return root_csvs(path)
    except OSError:
        return []


def safe_message(exc: BaseException, *, path: Path | None = None, replace: dict[str, str] | None = None) -> str:
    """One line to show for a failed import, quoting no file content.

    path: what was imported (its CSVs decide what may be quoted). replace: {text: shown instead},
    e.g. a temporary file's path → the uploaded file's name. When a CSV involved is not a readable
    table (``readable_table``: /proc files, binaries, a file without a header row) and the message
    quotes anything, the message becomes "… is not a table Songscape can read"; otherwise quoted
    names are shortened (at most 10 column names of 40 characters).
    """
    msg = str(exc)
    for old, new in (replace or {}).items():
        msg = msg.replace(old, new)
    msg = " ".join("".join(ch if ch.isprintable() else " " for ch in msg).split())
    known = [str(path), str(path.resolve())] if path is not None else []
    bare = msg
    for k in sorted(known + list((replace or {}).values()), key=len, reverse=True):
        bare = bare.replace(k, "")
    bad = next((t for t in _tables_of(path) if not readable_table(t)), None)
    if bad is not None and any(ch in bare for ch in "'\"[]"):
        if path is not None and path.is_file():
            return (f"{bad.name} is not a table Songscape can read (a CSV needs UTF-8 text with a header row "
                    "of column names). Give a CSV saved as UTF-8, or a folder of audio files.")
        # a folder holding such a file: keep what the message says, drop everything it quotes
        msg = _LIST_REPR.sub("[…]", msg)
        msg = _QUOTED.sub(lambda m: m.group(0)[0] + "…" + m.group(0)[0], msg)
        msg += f" ({bad.name} is not a table Songscape can read, so nothing from it is quoted.)"
    msg = _LIST_REPR.sub(_short_list, msg)
    msg = _QUOTED.sub(_short_quote, msg)
    return msg if len(msg) <= MAX_MESSAGE_CHARS else msg[:MAX_MESSAGE_CHARS - 1] + "…"


def _run_import(path: Path, *, shown: Path | None, replace_text: dict[str, str] | None = None, **kwargs) -> Any:
    from core.datasets.importers import import_dataset

    rep = ProgressReporter("Importing")
    try:
        ds = import_dataset(path, progress=rep, **kwargs)
    except ScriptControlException:
        raise
    except SongscapeError as exc:
        raise ImportFailed(safe_message(exc, path=shown, replace=replace_text)) from exc
    except Exception as exc:  # noqa: BLE001 - whatever broke, its message may quote a file: show its kind only
        logging.getLogger(__name__).exception("Import of %s failed", path)
        raise ImportFailed(f"Import failed ({type(exc).__name__}); nothing was changed. The server's log has "
                           "the details.") from exc
    rep.done()
    return ds


def import_folder(path: str, *, layout: str, name: str | None, segment_seconds: float | None,
                  min_seconds: float, replace: bool = False, column_map=None, labels=()) -> Any:
    """Import a folder or CSV typed into the app. Only below the allowed roots (``core.datasets.roots``):
    anything else raises ImportPathNotAllowed (one line) before the path is looked at. Failures raise
    ImportFailed with a message quoting no file content (``safe_message``). Returns the Dataset."""
    from core.datasets.roots import check_import_path

    target = check_import_path(path)
    return _run_import(target, shown=target, layout=layout, name=name or None, segment_seconds=segment_seconds,
                       min_seconds=min_seconds, replace=replace, column_map=column_map, labels=labels)


def uploads_dir() -> Path:
    return workspace() / "uploads"


def _upload_sources() -> list[Path]:
    """Resolved source paths of every dataset (an unpacked upload they point into must stay)."""
    from core import artifacts

    out = []
    for name in datasets.list_datasets():
        info_path = datasets.dataset_dir(name) / "info.json"
        try:
            info = artifacts.read_json(info_path) if info_path.exists() else {}
        except SongscapeError:
            continue
        for key in ("source", "source_path"):
            if info.get(key):
                out.append(Path(str(info[key])).resolve())
    return out


def prune_uploads(*, keep: tuple[Path, ...] = (), grace_s: float = UPLOADS_GRACE_S, now: float | None = None) -> list[Path]:
    """Delete what no dataset uses under ``uploads/``: unpacked uploads and incoming zips older than
    ``grace_s`` (younger ones may be another import in progress), except the paths in ``keep``.
    Returns the deleted paths."""
    root = uploads_dir()
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    used = _upload_sources()
    removed = []
    for entry in [*root.iterdir(), *((root / ".incoming").iterdir() if (root / ".incoming").is_dir() else [])]:
        if entry.name == ".incoming" or entry in keep:
            continue
        try:
            age = now - entry.lstat().st_mtime
        except OSError:
            continue
        resolved = entry.resolve()
        if age < grace_s or any(u == resolved or u.is_relative_to(resolved) for u in used):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _unpacked_dir(zip_path: Path) -> Path:
    """Where ``import_dataset`` unpacks this zip: ``uploads/<content hash>`` (so once per content)."""
    from core.hashing import file_fingerprint

    return uploads_dir() / file_fingerprint(zip_path)[:16]


def _drop_unused_upload(zip_path: Path) -> None:
    """After a failed import: remove this upload's unpacked copy unless a dataset uses it."""
    try:
        unpacked = _unpacked_dir(zip_path)
    except OSError:
        return
    if unpacked.exists() and not any(u == unpacked.resolve() or u.is_relative_to(unpacked.resolve())
                                     for u in _upload_sources()):
        shutil.rmtree(unpacked, ignore_errors=True)


def import_upload(upload: BinaryIO, *, file_name: str, layout: str, name: str | None,
                  segment_seconds: float | None, min_seconds: float, replace: bool = False,
                  column_map=None, labels=()) -> tuple[Any, list[str]]:
    """Import an uploaded .zip: saved under ``uploads/.incoming``, unpacked once per content (an
    upload imported again reuses its files), imported; the saved zip is deleted afterwards, and on
    failure the unpacked files too. Old unused uploads are pruned (``prune_uploads``).

    upload: a binary file object (Streamlit's UploadedFile). file_name: its name, for the default
    dataset name and messages. Returns (Dataset, notes: archives inside the zip that were not unpacked).
    Raises ImportFailed (message quoting no file content).
    """
    from core.datasets.importers import default_name
    from core.datasets.zipsafe import nested_archives

    incoming = uploads_dir() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    shown_name = Path(str(file_name)).name or "upload.zip"
    fd, tmp_name = tempfile.mkstemp(prefix="upload.", suffix=".zip", dir=incoming)
    tmp = Path(tmp_name)
    ok = False
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(upload, "seek"):
                upload.seek(0)
            shutil.copyfileobj(upload, fh, 1 << 20)
        notes = [f"{n}: an archive inside the archive; it was not unpacked. Unzip it and put its files in the "
                 "outer zip to import them." for n in nested_archives(tmp)]
        try:
            dataset_name = name or default_name(shown_name)
        except SongscapeError:
            dataset_name = "upload"
        unpacked = _unpacked_dir(tmp)
        shown_as = {str(p): shown_name for p in (tmp, tmp.resolve(), unpacked / "files",
                                                 unpacked.resolve() / "files")}
        ds = _run_import(tmp, shown=None, replace_text=shown_as,
                         layout=layout, name=dataset_name, segment_seconds=segment_seconds, min_seconds=min_seconds,
                         replace=replace, column_map=column_map, labels=labels)
        ok = True
        return ds, notes
    finally:
        if not ok:
            _drop_unused_upload(tmp)
        tmp.unlink(missing_ok=True)
        prune_uploads()
