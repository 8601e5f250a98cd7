"""Cut whole-track rows into fixed-length segments (the reports use 30 s clips).

A segment row keeps the track's labels, lyrics and extra columns and points back to it:
``parent_id`` = the whole track's ``track_id``, ``offset_s``/``duration_s`` say which part of
``path`` it covers (play it with ``core.audio.load_audio(path, offset=offset_s, duration=duration_s)``),
``segment`` is its index within the track. A trailing piece shorter than ``min_seconds`` is dropped.
"""

from __future__ import annotations

import math

import pandas as pd

from core.errors import ParameterError
from core.schema import stable_id

_EPS = 1e-6


def segment_spans(duration_s: float, *, segment_seconds: float, min_seconds: float) -> list[tuple[float, float]]:
    """(offset_s, duration_s) of each segment of a ``duration_s``-long track.

    Full segments of ``segment_seconds`` first, then the remainder if it is at least ``min_seconds``.
    A track shorter than ``segment_seconds`` (but ≥ ``min_seconds``) gives one segment: itself.
    """
    if not segment_seconds or segment_seconds <= 0:
        raise ParameterError("segment_seconds", value=segment_seconds, expected="a number of seconds > 0")
    if not math.isfinite(duration_s) or duration_s <= 0:
        return []
    n_full = int(math.floor(duration_s / segment_seconds + _EPS))
    spans = [(round(i * segment_seconds, 6), float(segment_seconds)) for i in range(n_full)]
    tail = duration_s - n_full * segment_seconds
    if tail > _EPS and tail + _EPS >= min_seconds:
        spans.append((round(n_full * segment_seconds, 6), round(tail, 6)))
    return spans


def segment_tracks(tracks: pd.DataFrame, *, segment_seconds: float, min_seconds: float) -> pd.DataFrame:
    """Replace each whole-track row (with a ``duration_s``) by its segment rows.

    tracks: one row per whole track, columns at least ``track_id``, ``duration_s``.
    Returns a new table, one row per segment, in track order; every other column is copied.
    Rows without audio (``path`` == '') or without a duration are kept as they are.
    """
    if len(tracks) == 0:
        return tracks.copy()
    out: list[dict] = []
    for rec in tracks.to_dict(orient="records"):
        dur = rec.get("duration_s")
        if not rec.get("path") or dur is None or not math.isfinite(float(dur)):
            out.append(rec)
            continue
        parent = str(rec["track_id"])
        for i, (off, length) in enumerate(segment_spans(float(dur), segment_seconds=segment_seconds,
                                                         min_seconds=min_seconds)):
            seg = dict(rec)
            seg.update(track_id=stable_id(parent, "segment", i, segment_seconds), parent_id=parent,
                       offset_s=off, duration_s=length, segment=i)
            out.append(seg)
    cols = list(tracks.columns) + [c for c in ("parent_id", "offset_s", "segment") if c not in tracks.columns]
    return pd.DataFrame(out, columns=cols)
