"""The ``jamendo`` importer: a JamendoLyrics-style folder.

    <root>/JamendoLyrics.csv     Filepath, Artist, Title, Genre, Language, … (any extra columns kept)
    <root>/mp3/<name>.mp3        audio; Filepath is resolved relative to the root or to root/mp3
    <root>/lyrics/<name>.txt     lyrics of the track whose audio file stem is <name>

Lyrics from a ``lyrics`` column in the CSV win over the text files. The CSV is chosen among the
root's ``*.csv`` as ``metadata.csv`` if present, else the first with a file column and a language
column.
"""

from __future__ import annotations

from pathlib import Path

from core.datasets import IMPORTERS, ImportResult
from core.datasets.folder import import_tree
from core.schema import match_columns


def is_jamendo_header(columns) -> bool:
    """A file-path column and a language column (JamendoLyrics: ``Filepath`` + ``Language``)."""
    cmap = match_columns(columns)
    return "path" in cmap and "language" in cmap


@IMPORTERS.register("jamendo")
def import_jamendo(path: Path, *, min_seconds: float = 1.0, segment_seconds: float | None = None, progress=None,
                   csv_path: str | Path | None = None, column_map=None) -> ImportResult:
    """JamendoLyrics-style CSV + audio + ``lyrics/<stem>.txt``; see the module docstring."""
    return import_tree(path, layout="jamendo", min_seconds=min_seconds, segment_seconds=segment_seconds,
                       progress=progress, csv_path=csv_path, prefer_csv=is_jamendo_header, lyrics_dir="lyrics",
                       column_map=column_map)
