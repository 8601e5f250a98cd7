"""Unpack an uploaded .zip safely: no path escapes, no symlinks, no bombs, size, count and disk caps.

Checks happen before anything is written, on the central directory: member names (absolute, '..',
NUL, a component longer than 255 bytes), symbolic links, duplicate names, a file and a folder of the
same name, the number of files, declared sizes (per file and in total), compression ratios (per
member and in total: a 1 MB zip that claims 1 GiB is a zip bomb), and free disk space. They happen
again while writing (actual bytes against the declared size and the caps, for archives whose headers
lie). Archives inside the archive (``.zip``, ``.tar``, ``.gz``, ``.7z``, ``.rar`` …) are not unpacked
and not written: ``nested_archives(zip)`` lists them, and ``unpack_zip(..., notes=[])`` appends one note
per archive, so the app can say so. The archive is extracted into a temporary folder beside
``dest_dir`` and renamed into place only when complete, so a rejected archive leaves nothing behind.
Every rejection is a SchemaError with a one-line reason naming the member.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from core.errors import SchemaError

GiB = 1 << 30
MiB = 1 << 20
_CHUNK = 1 << 20
_IGNORED_TOP = ("__MACOSX",)
NAME_MAX_BYTES = 255        # longest file or folder name most file systems accept
PATH_MAX_CHARS = 1024       # longest relative member path accepted
RATIO_FLOOR_BYTES = 1 * MiB  # ratios are checked only above this size (tiny files compress a lot, harmlessly)
DISK_MARGIN_BYTES = 256 * MiB
NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")


def _short(name: str, limit: int = 80) -> str:
    """A member name for a one-line message: repr'd (control characters escaped) and shortened."""
    return repr(name if len(name) <= limit else name[:limit - 1] + "…")


def _member_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    """Validated path components of a member, or SchemaError naming it."""
    name = info.filename
    shown = _short(name)
    if "\x00" in name:
        raise SchemaError(f"Zip member {shown} has a NUL byte in its name; the archive was rejected.")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise SchemaError(f"Zip member {shown} has an absolute path; the archive was rejected. "
                          "Re-create the zip from inside the folder (relative paths only).")
    parts = tuple(p for p in PurePosixPath(norm).parts if p not in ("", "."))
    if ".." in parts:
        raise SchemaError(f"Zip member {shown} points outside the destination ('..' in its path); the archive "
                          "was rejected. Re-create the zip without '..' paths.")
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        raise SchemaError(f"Zip member {shown} is a symbolic link; links are not allowed. Re-create the zip "
                          "with the files themselves (zip without -y).")
    long = next((p for p in parts if len(p.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES), None)
    if long is not None:
        raise SchemaError(f"Zip member {shown} has a file or folder name of {len(long.encode('utf-8'))} bytes; "
                          f"at most {NAME_MAX_BYTES} are allowed. Shorten the name and re-create the zip.")
    if len(norm) > PATH_MAX_CHARS:
        raise SchemaError(f"Zip member {shown} has a path of {len(norm)} characters; at most {PATH_MAX_CHARS} are "
                          "allowed. Move it to a shallower folder and re-create the zip.")
    return parts


def is_nested_archive(name: str) -> bool:
    return name.lower().endswith(NESTED_ARCHIVE_SUFFIXES)


def nested_archives(zip_path_or_fileobj: str | Path | BinaryIO) -> list[str]:
    """Names of the archives inside a zip (not unpacked by ``unpack_zip``); [] if it cannot be read."""
    try:
        with zipfile.ZipFile(zip_path_or_fileobj) as zf:
            return [i.filename for i in zf.infolist() if not i.is_dir() and is_nested_archive(i.filename)
                    and not i.filename.replace("\\", "/").startswith(_IGNORED_TOP)]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def _check_layout(members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]], label: str) -> None:
    """Duplicate names, and a file and a folder of the same name, are rejected with the member named."""
    files: dict[tuple[str, ...], str] = {}
    dirs: dict[tuple[str, ...], str] = {}
    for info, parts in members:
        if info.is_dir():
            dirs.setdefault(parts, info.filename)
        else:
            if parts in files:
                raise SchemaError(f"{label}: member {_short(info.filename)} appears twice (as "
                                  f"{_short(files[parts])} too); the archive was rejected, since either copy could "
                                  "be the one you meant. Re-create the zip with each file once.")
            files[parts] = info.filename
        for i in range(1, len(parts)):
            dirs.setdefault(parts[:i], info.filename)
    clash = next((p for p in files if p in dirs), None)
    if clash is not None:
        raise SchemaError(f"{label}: {_short('/'.join(clash))} is both a file and a folder (member "
                          f"{_short(dirs[clash])}); the archive was rejected. Rename one of them and re-create "
                          "the zip.")


def _remove_if_empty(folder: Path, created: bool) -> None:
    if created:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone else uses it) or already gone
            pass


def unpack_zip(zip_path_or_fileobj: str | Path | BinaryIO, dest_dir: str | Path, *, max_total_bytes: int = 2 * GiB,
               max_file_bytes: int = 1 * GiB, max_files: int = 20000, max_ratio: float = 100.0,
               max_total_ratio: float = 50.0, label: str | None = None, notes: list[str] | None = None) -> Path:
    """Extract a zip archive into ``dest_dir`` (which must not exist or be empty).

    Returns the folder to import: ``dest_dir``, or its single top-level folder when the archive
    wraps everything in one (zipping a folder usually does). Raises SchemaError, with one line naming
    the offending member, for: absolute paths, '..', symlinks, NUL bytes, names over 255 bytes,
    duplicate names, a file and a folder of the same name, more than ``max_files`` files, a file over
    ``max_file_bytes`` or a total over ``max_total_bytes`` uncompressed (declared or actually
    written), a member expanding more than ``max_ratio`` times or the whole archive more than
    ``max_total_ratio`` times (above 1 MiB), not enough free disk, encrypted or corrupt data.
    label: how the archive is named in messages (default: its path or file name). notes: when given,
    one line is appended per nested archive that was not unpacked.
    """
    dest = Path(dest_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SchemaError(f"Destination {dest} already exists and is not an empty folder; choose a new folder.")
    src = zip_path_or_fileobj
    if label is None:
        label = str(src) if isinstance(src, (str, Path)) else getattr(src, "name", "uploaded zip")
    try:
        zf = zipfile.ZipFile(src if not isinstance(src, (str, Path)) else str(src))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SchemaError(f"{label} is not a readable .zip archive ({exc}). Upload a .zip file.") from exc
    created_parent = not dest.parent.exists()
    with zf:
        members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        nested: list[str] = []
        total = packed = 0
        for info in zf.infolist():
            parts = _member_parts(info)
            if not parts or parts[0] in _IGNORED_TOP:
                continue
            if not info.is_dir() and is_nested_archive(parts[-1]):
                nested.append(info.filename)
                continue
            members.append((info, parts))
            if info.is_dir():
                continue
            if info.file_size > max_file_bytes:
                raise SchemaError(f"{label}: member {_short(info.filename)} is {info.file_size} bytes uncompressed, "
                                  f"over the cap of {max_file_bytes} per file. Split or shorten that file, or raise "
                                  "max_file_bytes.")
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
                raise SchemaError(f"{label}: member {_short(info.filename)} expands {info.file_size} / "
                                  f"{info.compress_size} bytes, more than {max_ratio:g} times (a zip bomb?); the "
                                  "archive was rejected. Zip the audio files themselves.")
            total += info.file_size
            packed += info.compress_size
            if total > max_total_bytes:
                raise SchemaError(f"{label}: uncompressed size exceeds the cap of {max_total_bytes} bytes at member "
                                  f"{_short(info.filename)} ({info.file_size} bytes). Split the archive or raise "
                                  "max_total_bytes.")
        if total > RATIO_FLOOR_BYTES and total > max_total_ratio * max(packed, 1):
            raise SchemaError(f"{label}: the archive expands from {packed} to {total} bytes, more than "
                              f"{max_total_ratio:g} times (a zip bomb?); it was rejected. Zip the audio files "
                              "themselves.")
        n_files = sum(1 for info, _ in members if not info.is_dir())
        if n_files > max_files:
            raise SchemaError(f"{label}: {n_files} files exceed the cap of {max_files}. Split the archive or raise "
                              "max_files.")
        _check_layout(members, label)
        dest.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(dest.parent).free
        if total + DISK_MARGIN_BYTES > free:
            _remove_if_empty(dest.parent, created_parent)
            raise SchemaError(f"{label}: unpacking needs {total} bytes but only {free} are free on the disk of "
                              f"{dest.parent} (keeping {DISK_MARGIN_BYTES} spare). Free some space and retry.")
        tmp = Path(tempfile.mkdtemp(prefix=".unzip.", dir=dest.parent))
        try:
            written = 0
            tmp_resolved = tmp.resolve()
            for info, parts in members:
                target = tmp.joinpath(*parts)
                try:
                    if not target.resolve().is_relative_to(tmp_resolved):  # belt and braces
                        raise SchemaError(f"Zip member {_short(info.filename)} resolves outside the destination; "
                                          "rejected.")
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    member_bytes = 0
                    with zf.open(info) as fin, open(target, "xb") as fout:
                        while block := fin.read(_CHUNK):
                            member_bytes += len(block)
                            written += len(block)
                            if member_bytes > info.file_size or written > max_total_bytes:
                                raise SchemaError(
                                    f"{label}: member {_short(info.filename)} expands beyond its declared size or "
                                    f"the cap of {max_total_bytes} bytes (a zip bomb?); the archive was rejected.")
                            fout.write(block)
                except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError,
                        NotImplementedError, ValueError) as exc:
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    raise SchemaError(f"{label}: member {_short(info.filename)} cannot be extracted ({why}). "
                                      "Re-create the archive (without a password).") from exc
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_if_empty(dest.parent, created_parent)
            raise
    if notes is not None:
        notes += [f"{n}: an archive inside the archive; it was not unpacked. Unzip it and add its files to the "
                  "outer zip to import them." for n in nested]
    entries = [p for p in dest.iterdir() if p.name not in _IGNORED_TOP and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest
