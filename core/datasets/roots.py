"""Where the app may import from: the user's home and ``SONGSCAPE_IMPORT_ROOTS``, nothing else.

The app's "folder on this machine" import reads whatever path is typed into it, with the rights of
the server. Anyone who can open the page could otherwise point it at ``/etc`` or ``/proc`` and read
what the error messages say about those files. So the app imports only below allowed roots:

    - the home folder of the user running Songscape (``Path.home()``);
    - every folder in ``SONGSCAPE_IMPORT_ROOTS`` (separated by ``os.pathsep``: ':' on Linux/macOS).

Paths are compared after ``Path.resolve()`` (``~`` expanded, ``..`` and symbolic links followed), so
``~/link-to-etc`` or ``~/../../etc`` are refused too. The refusal is the same whether the path exists
or not, so it cannot be used to probe the server's folders. The command line (``python -m core
import``) is not restricted: whoever runs it already owns the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import SongscapeError

ENV_VAR = "SONGSCAPE_IMPORT_ROOTS"


class ImportPathNotAllowed(SongscapeError, PermissionError):
    """An import path (from the app) lies outside the allowed import roots."""


def _resolve(path: str | Path) -> Path | None:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):  # symlink loop, NUL byte, unknown ~user
        return None


def allowed_import_roots() -> tuple[Path, ...]:
    """The resolved folders the app may import from: home first, then ``SONGSCAPE_IMPORT_ROOTS`` in order.

    Empty entries of the variable are ignored; relative ones are taken from the server's working
    folder (write absolute paths).
    """
    roots: list[Path] = []
    for raw in [str(Path.home()), *os.environ.get(ENV_VAR, "").split(os.pathsep)]:
        raw = raw.strip()
        if not raw:
            continue
        r = _resolve(raw)
        if r is not None and r not in roots:
            roots.append(r)
    return tuple(roots)


def check_import_path(path: str | Path) -> Path:
    """``path`` resolved, if it lies below an allowed root; else ImportPathNotAllowed (one line).

    path: what the user typed (``~`` allowed). Returns the resolved Path (it may not exist: the
    importer says so, inside the allowed roots only).
    """
    text = str(path).strip()
    resolved = _resolve(text) if text and "\x00" not in text else None
    if resolved is not None and any(resolved == r or resolved.is_relative_to(r) for r in allowed_import_roots()):
        return resolved
    shown = text if len(text) <= 120 else text[:117] + "…"
    raise ImportPathNotAllowed(
        f"Import path {shown!r} is outside the folders this app may read (your home folder and "
        f"{ENV_VAR}); to allow it, start Songscape with {ENV_VAR}=/path/to/music (several separated by "
        f"'{os.pathsep}'), or import it with `python -m core import PATH`.")
