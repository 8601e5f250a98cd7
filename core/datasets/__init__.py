"""Datasets in the workspace: ``$SONGSCAPE_HOME/datasets/<name>/``.

Each dataset folder holds ``tracks.csv`` (the track table, see core.schema), ``import_report.json``
(what was skipped and why; also as ``skipped.csv`` when anything was skipped) and ``info.json``
(layout, source path, created, random_state, ``fingerprint`` of the rows, ``content_fingerprint`` of
the whole table, ``label_columns``). The demo corpus keeps its audio in ``audio/`` inside its folder;
imported datasets point at the user's files.

Names: ``demo`` is reserved for the generated demo corpus (``RESERVED_NAMES``); an existing dataset
is overwritten only when the caller says so (``replace=True``). Writers hold
``core.locks.workspace_lock("dataset", name)``, so two imports of one name never interleave.

Importers live in ``IMPORTERS`` (one module each); each returns an ImportResult.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import artifacts
from core.config import workspace
from core.errors import DatasetNotFoundError, ParameterError, SchemaError
from core.hashing import fingerprint
from core.locks import workspace_lock
from core.registry import Registry
from core.schema import CORE_COLUMNS, LABEL_COLUMNS, coerce_numeric, normalize_tracks, validate_tracks

DEMO_NAME = "demo"
RESERVED_NAMES = (DEMO_NAME,)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SkippedItem:
    """One input that was not imported: which file/row, and why."""

    item: str
    reason: str

    def as_dict(self) -> dict:
        return {"item": self.item, "reason": self.reason}


@dataclass
class ImportResult:
    tracks: pd.DataFrame
    skipped: list[SkippedItem] = field(default_factory=list)
    layout: str = ""
    source: str = ""
    unrecognised: list[str] = field(default_factory=list)  # input columns no role or feature claimed


@dataclass
class Dataset:
    name: str
    root: Path
    tracks: pd.DataFrame
    info: dict
    skipped: list[SkippedItem]

    @property
    def fingerprint(self) -> str:
        """Changes whenever the track table changes."""
        return self.info.get("fingerprint") or tracks_fingerprint(self.tracks)

    @property
    def has_audio(self) -> bool:
        from core.schema import has_audio

        return has_audio(self.tracks)


IMPORTERS: Registry = Registry("layout")


def tracks_fingerprint(tracks: pd.DataFrame) -> str:
    cols = [c for c in ("track_id", "path", "offset_s", "duration_s") if c in tracks.columns]
    return fingerprint(tracks[cols].astype(str).values.tolist(), sorted(tracks.columns))


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name or ""):
        raise ParameterError("name", value=name, expected=(
            "1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"))
    return name


def is_reserved(name: str) -> bool:
    return str(name).casefold() in {n.casefold() for n in RESERVED_NAMES}


def check_new_name(name: str, *, replace: bool = False) -> str:
    """``check_name`` + not reserved + (unless ``replace``) not an existing dataset. Raises ParameterError."""
    check_name(name)
    if is_reserved(name):
        raise ParameterError("name", value=name, expected=f"a name other than {list(RESERVED_NAMES)}",
                             fix=f"'{DEMO_NAME}' is the generated demo corpus, rebuilt automatically; choose another "
                                 "name with --name.")
    if not replace and (dataset_dir(name) / "tracks.csv").exists():
        raise _exists_error(name)
    return name


def _exists_error(name: str) -> ParameterError:
    return ParameterError("name", value=name, expected="a name no existing dataset uses",
                          fix=f"Dataset '{name}' already exists; pass --replace (Python: replace=True) to "
                              "overwrite it, or choose another name with --name.")


def content_fingerprint(tracks: pd.DataFrame) -> str:
    """Changes whenever any cell of the track table changes (labels and extra columns included)."""
    return fingerprint(tracks.to_csv(index=False))


def datasets_dir() -> Path:
    d = workspace() / "datasets"
    d.mkdir(parents=True, exist_ok=True)
    return d


def dataset_dir(name: str) -> Path:
    return datasets_dir() / check_name(name)


def list_datasets() -> list[str]:
    return sorted(p.name for p in datasets_dir().iterdir() if p.is_dir() and (p / "tracks.csv").exists()
                  and not p.name.startswith("."))


def default_label_columns(tracks: pd.DataFrame) -> list[str]:
    """language and genre when the table has any value in them."""
    return [c for c in LABEL_COLUMNS if c in tracks.columns and (tracks[c].astype(str) != "").any()]


def save_dataset(name: str, result: ImportResult, *, extra_info: dict | None = None, root: Path | None = None,
                 replace: bool = True, allow_reserved: bool = False, lock_timeout: float | None = None) -> Dataset:
    """Write the track table and report atomically. An existing dataset is replaced only on success.

    replace: False raises ParameterError if dataset ``name`` exists (checked under the lock).
    allow_reserved: only the demo generator passes True to write ``demo`` into the workspace; with an
        explicit ``root`` (a build folder the caller moves into place) the name is not checked.
    lock_timeout: seconds to wait for another writer of this dataset (None = wait).
    info.json gets ``label_columns`` (language/genre when filled) unless ``extra_info`` gives them.
    """
    check_name(name)
    if root is None and not allow_reserved and is_reserved(name):
        check_new_name(name, replace=True)  # raises the reserved-name error
    tracks = validate_tracks(result.tracks)
    with workspace_lock("dataset", name, timeout=lock_timeout):
        if root is None and not replace and (dataset_dir(name) / "tracks.csv").exists():
            raise _exists_error(name)
        root = Path(root) if root is not None else dataset_dir(name)
        root.mkdir(parents=True, exist_ok=True)
        info = {"name": name, "layout": result.layout, "source": result.source, "n_tracks": int(len(tracks)),
                "fingerprint": tracks_fingerprint(tracks), "content_fingerprint": content_fingerprint(tracks),
                "label_columns": default_label_columns(tracks), **(extra_info or {})}
        artifacts.write_json(root / "import_report.json", [s.as_dict() for s in result.skipped])
        skipped_csv = root / "skipped.csv"
        if result.skipped:
            artifacts.write_csv(skipped_csv, pd.DataFrame([s.as_dict() for s in result.skipped],
                                                          columns=["item", "reason"]))
        else:
            skipped_csv.unlink(missing_ok=True)
        artifacts.write_json(root / "info.json", info)
        artifacts.write_csv(root / "tracks.csv", tracks)  # written last: its presence marks the dataset usable
    tracks.attrs["label_columns"] = list(info.get("label_columns") or [])
    return Dataset(name=name, root=root, tracks=tracks, info=info, skipped=list(result.skipped))


def load_dataset(name: str) -> Dataset:
    root = dataset_dir(name)
    csv = root / "tracks.csv"
    if not csv.exists():
        raise DatasetNotFoundError(f"No dataset named '{name}' in {datasets_dir()}. Available: {list_datasets()}. "
                                   "Import one with `python -m core import PATH --name NAME`.")
    try:
        tracks = pd.read_csv(csv, dtype={"track_id": str, "parent_id": str}, keep_default_na=False, encoding="utf-8")
        if "track_id" not in tracks.columns or len(tracks) == 0:
            raise ValueError("no track_id column" if len(tracks.columns) else "no columns")
        tracks = normalize_tracks(tracks)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise SchemaError(f"Dataset '{name}' is damaged: {csv} cannot be read ({why}). Re-import it with "
                          f"`python -m core import SOURCE --name {name} --replace`, or delete the folder "
                          f"{root}.") from None
    # keep_default_na=False keeps '' labels, so extra numeric columns with blanks come back as text
    tracks = coerce_numeric(tracks, [c for c in tracks.columns if c not in CORE_COLUMNS])
    # Relative paths are relative to the dataset folder (the demo corpus ships its audio there).
    tracks["path"] = [str((root / p).resolve()) if p and not Path(p).is_absolute() else p for p in tracks["path"]]
    info = artifacts.read_json(root / "info.json") if (root / "info.json").exists() else {"name": name}
    tracks.attrs["label_columns"] = list(info.get("label_columns") or []) if isinstance(info, dict) else []
    report = artifacts.read_json(root / "import_report.json") if (root / "import_report.json").exists() else []
    skipped = [SkippedItem(**r) for r in report]
    return Dataset(name=name, root=root, tracks=tracks, info=info, skipped=skipped)


def delete_dataset(name: str, *, lock_timeout: float | None = None) -> None:
    with workspace_lock("dataset", name, timeout=lock_timeout):
        shutil.rmtree(dataset_dir(name), ignore_errors=True)
