"""Datasets in the workspace: ``$SONGSCAPE_HOME/datasets/<name>/``.

Each dataset folder holds ``tracks.csv`` (the track table, see core.schema), ``import_report.json``
(what was skipped and why) and ``info.json`` (layout, source path, created, random_state). The demo
corpus keeps its audio in ``audio/`` inside its folder; imported datasets point at the user's files.

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
from core.errors import DatasetNotFoundError, ParameterError
from core.hashing import fingerprint
from core.registry import Registry
from core.schema import CORE_COLUMNS, coerce_numeric, normalize_tracks, validate_tracks

DEMO_NAME = "demo"
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
        return bool((self.tracks["path"] != "").any())


IMPORTERS: Registry = Registry("layout")


def tracks_fingerprint(tracks: pd.DataFrame) -> str:
    cols = [c for c in ("track_id", "path", "offset_s", "duration_s") if c in tracks.columns]
    return fingerprint(tracks[cols].astype(str).values.tolist(), sorted(tracks.columns))


def check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise ParameterError("name", value=name, expected="1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
    return name


def datasets_dir() -> Path:
    d = workspace() / "datasets"
    d.mkdir(parents=True, exist_ok=True)
    return d


def dataset_dir(name: str) -> Path:
    return datasets_dir() / check_name(name)


def list_datasets() -> list[str]:
    return sorted(p.name for p in datasets_dir().iterdir() if p.is_dir() and (p / "tracks.csv").exists()
                  and not p.name.startswith("."))


def save_dataset(name: str, result: ImportResult, *, extra_info: dict | None = None, root: Path | None = None) -> Dataset:
    """Write the track table and report atomically. An existing dataset is replaced only on success."""
    tracks = validate_tracks(result.tracks)
    root = Path(root) if root is not None else dataset_dir(name)
    root.mkdir(parents=True, exist_ok=True)
    info = {"name": name, "layout": result.layout, "source": result.source, "n_tracks": int(len(tracks)),
            "fingerprint": tracks_fingerprint(tracks), **(extra_info or {})}
    artifacts.write_json(root / "import_report.json", [s.as_dict() for s in result.skipped])
    artifacts.write_json(root / "info.json", info)
    artifacts.write_csv(root / "tracks.csv", tracks)  # written last: its presence marks the dataset usable
    return Dataset(name=name, root=root, tracks=tracks, info=info, skipped=list(result.skipped))


def load_dataset(name: str) -> Dataset:
    root = dataset_dir(name)
    csv = root / "tracks.csv"
    if not csv.exists():
        raise DatasetNotFoundError(f"No dataset named '{name}' in {datasets_dir()}. Available: {list_datasets()}. "
                                   "Import one with `python -m core import PATH --name NAME`.")
    tracks = pd.read_csv(csv, dtype={"track_id": str, "parent_id": str}, keep_default_na=False, encoding="utf-8")
    tracks = normalize_tracks(tracks)
    # keep_default_na=False keeps '' labels, so extra numeric columns with blanks come back as text
    tracks = coerce_numeric(tracks, [c for c in tracks.columns if c not in CORE_COLUMNS])
    # Relative paths are relative to the dataset folder (the demo corpus ships its audio there).
    tracks["path"] = [str((root / p).resolve()) if p and not Path(p).is_absolute() else p for p in tracks["path"]]
    info = artifacts.read_json(root / "info.json") if (root / "info.json").exists() else {"name": name}
    report = artifacts.read_json(root / "import_report.json") if (root / "import_report.json").exists() else []
    skipped = [SkippedItem(**r) for r in report]
    return Dataset(name=name, root=root, tracks=tracks, info=info, skipped=skipped)


def delete_dataset(name: str) -> None:
    shutil.rmtree(dataset_dir(name), ignore_errors=True)
