"""Widgets built from core data: parameter tables, progress with ETA and cancel, tables, players.

Text that comes from the user or a file (titles, artists, labels, file names, messages quoting them)
goes through ``plain`` before any Markdown-rendering call (st.caption, st.markdown, st.success …).
Players send a bounded window as OGG (``core.preview``), and keep only a few clips in memory."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core.params import Param


def param_widgets(table: Mapping[str, Param], *, key: str, values: Mapping[str, Any] | None = None,
                  columns: int = 2, container=None) -> dict:
    """One widget per Param (slider / number input / selectbox / checkbox); returns the chosen values."""
    values = dict(values or {})
    out: dict[str, Any] = {}
    holder = container or st
    cols = holder.columns(columns) if columns > 1 else [holder]
    for i, (name, p) in enumerate(table.items()):
        col = cols[i % len(cols)]
        wkey = f"{key}.{name}"
        default = values.get(name, p.default)
        label = name.replace("_", " ")
        if p.kind == "choice":
            choices = list(p.choices)
            out[name] = col.selectbox(label, choices, index=choices.index(default) if default in choices else 0,
                                      key=wkey, help=p.help or None)
        elif p.kind == "bool":
            out[name] = col.checkbox(label, value=bool(default), key=wkey, help=p.help or None)
        elif p.kind == "int" and p.low is not None and p.high is not None and p.high - p.low <= 200:
            out[name] = col.slider(label, int(p.low), int(p.high), int(default), key=wkey, help=p.help or None)
        elif p.kind in ("int", "float"):
            is_int = p.kind == "int"
            kw = {}
            if p.low is not None:
                kw["min_value"] = int(p.low) if is_int else float(p.low)
            if p.high is not None:
                kw["max_value"] = int(p.high) if is_int else float(p.high)
            out[name] = col.number_input(label, value=int(default) if is_int else float(default), key=wkey,
                                         help=p.help or None, step=1 if is_int else None,
                                         format=None if is_int else "%.4g", **kw)
        elif p.kind == "str" and default is None or isinstance(default, (tuple, list)):
            txt = col.text_input(label, value=",".join(str(v) for v in (default or ())), key=wkey, help=p.help or None)
            out[name] = tuple(int(v) for v in txt.split(",") if v.strip())
        else:
            out[name] = col.text_input(label, value=str(default), key=wkey, help=p.help or None)
    return out


class ProgressReporter:
    """A ``progress(step, total, logs)`` callable drawing st.progress with ETA and, optionally, live curves.

    A click elsewhere in the page interrupts the running script; we catch that interruption, report
    it through ``cancel()`` so the core loop stops cleanly (keeping what it finished), and re-raise
    it afterwards with ``reraise()`` so Streamlit's rerun proceeds.
    """

    def __init__(self, label: str, *, curves: tuple[str, ...] = (), min_interval: float = 0.25):
        self.label = label
        self.bar = st.progress(0.0, text=f"{label}…")
        self.chart = st.empty() if curves else None
        self.curves = curves
        self.rows: dict = {}
        self.start = time.perf_counter()
        self.min_interval = min_interval
        self._last = 0.0
        self._interrupt: BaseException | None = None

    def __call__(self, step: int, total: int, logs: dict) -> None:
        if self.curves and logs.get("epoch") is not None and any(k in logs for k in self.curves):
            self.rows[logs["epoch"]] = {k: logs[k] for k in self.curves if k in logs}  # latest running mean wins
        now = time.perf_counter()
        if step < total and now - self._last < self.min_interval:
            return
        self._last = now
        frac = min(1.0, step / max(1, total))
        elapsed = now - self.start
        eta = elapsed / step * (total - step) if step else None
        text = f"{self.label}: {step}/{total}"
        if eta is not None and step < total:
            text += f" · about {eta:.0f} s left"
        extra = logs.get("message") or logs.get("file")
        if extra:
            text += f" · {plain(extra)}"  # a file name from the user's folder
        try:
            self.bar.progress(frac, text=text)
            if self.chart is not None and self.rows:
                self.chart.line_chart(pd.DataFrame.from_dict(self.rows, orient="index").rename_axis("epoch"), height=220)
        except ScriptControlException as exc:  # the user clicked something: stop cleanly
            self._interrupt = exc

    def cancel(self) -> bool:
        return self._interrupt is not None or bool(st.session_state.get("_cancel_" + self.label))

    def done(self, text: str | None = None) -> None:
        self.bar.progress(1.0, text=text or f"{self.label}: done in {time.perf_counter() - self.start:.1f} s")

    def reraise(self) -> None:
        if self._interrupt is not None:
            raise self._interrupt


def track_grid(df: pd.DataFrame, *, key: str, height: int = 380, selectable: bool = True):
    """AgGrid with sort, filter and quick search; returns the selected rows (DataFrame) or None."""
    from st_aggrid import AgGrid, GridOptionsBuilder

    gb = GridOptionsBuilder.from_dataframe(df)
    gb.configure_default_column(filter=True, sortable=True, resizable=True, floatingFilter=True)
    if selectable:
        gb.configure_selection("single", use_checkbox=False)
    gb.configure_pagination(paginationAutoPageSize=False, paginationPageSize=50)
    from core.ui.guards import grid_css

    resp = AgGrid(df, gridOptions=gb.build(), height=height, key=key, theme="streamlit", custom_css=grid_css(),
                  update_on=["selectionChanged"], show_search=True, show_download_button=True)
    sel = getattr(resp, "selected_rows", None)
    if sel is None or (hasattr(sel, "__len__") and len(sel) == 0):
        return None
    return pd.DataFrame(sel)


_MD_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|$~:=^\"'&")


def plain(text: Any) -> str:
    """User text (titles, artists, lyrics, labels, file names) made safe for st.markdown / st.caption /
    st.success …: every Markdown special character, ``$`` (math) and ``:`` (emoji and colour codes)
    is backslash-escaped, so ``![x](http://…)`` shows as those characters and fetches nothing, and
    ``$x$`` is not typeset. Newlines become spaces (one line of text)."""
    out = []
    for ch in " ".join(str(text if text is not None else "").split()):
        out.append("\\" + ch if ch in _MD_SPECIALS else ch)
    return "".join(out)


@st.cache_data(show_spinner=False, max_entries=8)
def _clip_audio(path: str, offset: float, duration: float) -> bytes:
    """A bounded window of a file as OGG Vorbis (≤ PREVIEW_SECONDS); the few most recent are kept."""
    from core.preview import clip_audio

    return clip_audio(path, offset=offset, duration=duration)


def play_track(row: Mapping[str, Any], *, caption: bool = True, key: str | None = None) -> float:
    """Audio player for one track row (segment-aware), or a note why there is none.

    Plays at most ``core.preview.PREVIEW_SECONDS`` (60 s); for a longer track a "start at" slider
    picks the window. Returns where the window starts (s into the track), 0.0 without audio, so a
    preview of the same window can follow (``track_preview(row, start=...)``).
    """
    from core.preview import PREVIEW_MIME, PREVIEW_SECONDS, max_start, preview_window

    path = str(row.get("path", "") or "")
    if caption:
        bits = [plain(row.get(c, "")) for c in ("title", "artist") if row.get(c)]
        labels = " · ".join(plain(row.get(c)) for c in ("language", "genre") if row.get(c))
        st.caption(" — ".join(bits) + (f"  \\({labels}\\)" if labels else ""))
    if not path:
        st.caption("No audio for this track (tabular data).")
        return 0.0
    start = 0.0
    try:
        last = max_start(row)
        if last > 0:
            wkey = key or f"play.start.{row.get('track_id') or path}.{row.get('offset_s', 0)}"
            start = float(st.slider(f"Start at (s) · plays {PREVIEW_SECONDS:.0f} s", 0.0, float(round(last, 1)),
                                    0.0, 1.0, key=wkey))
        offset, dur = preview_window(row, start=start)
        st.audio(_clip_audio(path, round(offset, 3), round(dur, 3)), format=PREVIEW_MIME)
    except Exception as exc:  # noqa: BLE001 - a broken file must not break the page
        st.warning(f"Cannot play {plain(path)}: {plain(exc)}")
    return start


def download_buttons(files: Mapping[str, tuple[bytes | str | Callable[[], bytes | str], str]], *, key: str) -> None:
    """A row of download buttons: {label: (data or a callable made on click, mime)}, file names from the label."""
    cols = st.columns(max(1, len(files)))
    for col, (name, (data, mime)) in zip(cols, files.items()):
        col.download_button(name, data=data, file_name=name, mime=mime, key=f"{key}.{name}")


def show_warnings(warnings) -> None:
    """Degenerate-result messages, said out loud (as plain text: they may name the user's columns)."""
    for w in warnings or ():
        msg = getattr(w, "message", str(w))
        st.warning(plain(msg), icon=":material/warning:")
