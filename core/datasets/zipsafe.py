"""Unpack an uploaded .zip safely: no path escapes, no symlinks, size and file-count caps.

Checks happen before anything is written (member names, declared sizes, counts), and again while
writing (actual bytes, against zip bombs whose headers lie). The archive is extracted into a
temporary folder beside ``dest_dir`` and renamed into place only when complete, so a rejected
archive leaves nothing behind.
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
_CHUNK = 1 << 20
_IGNORED_TOP = ("__MACOSX",)


def _member_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    """Validated path components of a member, or SchemaError naming it."""
    name = info.filename
    if "\x00" in name:
        raise SchemaError(f"Zip member {name!r} has a NUL byte in its name; the archive was rejected.")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise SchemaError(f"Zip member {name!r} has an absolute path; the archive was rejected. "
                          "Re-create the zip from inside the folder (relative paths only).")
    parts = tuple(p for p in PurePosixPath(norm).parts if p not in ("", "."))
    if ".." in parts:
        raise SchemaError(f"Zip member {name!r} points outside the destination ('..' in its path); the archive "
                          "was rejected. Re-create the zip without '..' paths.")
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        raise SchemaError(f"Zip member {name!r} is a symbolic link; links are not allowed. Re-create the zip "
                          "with the files themselves (zip without -y).")
    return parts


def unpack_zip(zip_path_or_fileobj: str | Path | BinaryIO, dest_dir: str | Path, *, max_total_bytes: int = 2 * GiB,
               max_files: int = 20000) -> Path:
    """Extract a zip archive into ``dest_dir`` (which must not exist or be empty).

    Returns the folder to import: ``dest_dir``, or its single top-level folder when the archive
    wraps everything in one (zipping a folder usually does). Raises SchemaError naming the offending
    member for: absolute paths, '..', symlinks, more than ``max_files`` files, more than
    ``max_total_bytes`` uncompressed (declared or actually written), corrupt data.
    """
    dest = Path(dest_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SchemaError(f"Destination {dest} already exists and is not an empty folder; choose a new folder.")
    src = zip_path_or_fileobj
    label = str(src) if isinstance(src, (str, Path)) else getattr(src, "name", "uploaded zip")
    try:
        zf = zipfile.ZipFile(src if not isinstance(src, (str, Path)) else str(src))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SchemaError(f"{label} is not a readable .zip archive ({exc}). Upload a .zip file.") from exc
    with zf:
        members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        total = 0
        for info in zf.infolist():
            parts = _member_parts(info)
            if not parts or parts[0] in _IGNORED_TOP:
                continue
            members.append((info, parts))
            if info.is_dir():
                continue
            total += info.file_size
            if total > max_total_bytes:
                raise SchemaError(f"{label}: uncompressed size exceeds the cap of {max_total_bytes} bytes at member "
                                  f"{info.filename!r} ({info.file_size} bytes). Split the archive or raise "
                                  "max_total_bytes.")
        n_files = sum(1 for info, _ in members if not info.is_dir())
        if n_files > max_files:
            raise SchemaError(f"{label}: {n_files} files exceed the cap of {max_files}. Split the archive or raise "
                              "max_files.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unzip.", dir=dest.parent))
        try:
            written = 0
            tmp_resolved = tmp.resolve()
            for info, parts in members:
                target = tmp.joinpath(*parts)
                if not target.resolve().is_relative_to(tmp_resolved):  # belt and braces
                    raise SchemaError(f"Zip member {info.filename!r} resolves outside the destination; rejected.")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                member_bytes = 0
                try:
                    with zf.open(info) as fin, open(target, "wb") as fout:
                        while block := fin.read(_CHUNK):
                            member_bytes += len(block)
                            written += len(block)
                            if member_bytes > info.file_size or written > max_total_bytes:
                                raise SchemaError(
                                    f"{label}: member {info.filename!r} expands beyond its declared size or the cap "
                                    f"of {max_total_bytes} bytes (a zip bomb?); the archive was rejected.")
                            fout.write(block)
                except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as exc:
                    raise SchemaError(f"{label}: member {info.filename!r} cannot be extracted ({exc}). "
                                      "Re-create the archive.") from exc
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    entries = [p for p in dest.iterdir() if p.name not in _IGNORED_TOP and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest
