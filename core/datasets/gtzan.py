"""The ``gtzan`` importer: ``<root>/<genre>/<files>``, the genre taken from the folder name.

An optional metadata CSV at the root (e.g. GTZAN's ``features_30_sec.csv`` with ``filename`` and
``label``) adds its columns; a file whose CSV genre disagrees with its folder is skipped as
mislabelled. Files directly at the root (no genre folder) are skipped.
"""

from __future__ import annotations

from pathlib import Path

from core.datasets import IMPORTERS, ImportResult
from core.datasets.folder import import_tree


@IMPORTERS.register("gtzan")
def import_gtzan(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None, progress=None,
                 csv_path: str | Path | None = None, column_map=None) -> ImportResult:
    """Genre folders of audio files (GTZAN style); see the module docstring."""
    return import_tree(path, layout="gtzan", min_seconds=min_seconds, segment_seconds=segment_seconds,
                       progress=progress, genre_from_folder=True, csv_path=csv_path, column_map=column_map)
