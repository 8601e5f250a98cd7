"""Plotly figure builders: data in, figure out. No streamlit, no computation beyond layout."""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import pandas as pd

PALETTE = ("#1DB954", "#E8115B", "#509BF5", "#F59B23", "#AF2896", "#2D46B9", "#FF6437", "#B49BC8",
           "#1E3264", "#8D67AB", "#27856A", "#F037A5", "#7D4B32", "#A0C3D2", "#E1118C", "#148A08")
NOISE_COLOR = "#7f7f7f"
TEMPLATE = "plotly_dark"


def _go():
    import plotly.graph_objects as go

    return go


def _base(fig, *, title: str = "", height: int | None = None):
    fig.update_layout(template=TEMPLATE, title=title or None, margin=dict(l=40, r=20, t=50 if title else 20, b=40),
                      legend=dict(itemsizing="constant"))
    if height:
        fig.update_layout(height=height)
    return fig


def label_counts(tracks: pd.DataFrame, *, x: str = "genre", color: str = "language", title: str = ""):
    """Grouped bar chart of track counts per ``x`` split by ``color``."""
    go = _go()
    df = tracks.assign(**{x: tracks[x].replace("", "(none)"), color: tracks[color].replace("", "(none)")})
    ct = pd.crosstab(df[x], df[color])
    fig = go.Figure()
    for i, col in enumerate(ct.columns):
        fig.add_bar(name=str(col), x=ct.index.astype(str), y=ct[col].values, marker_color=PALETTE[i % len(PALETTE)])
    fig.update_layout(barmode="group", xaxis_title=x, yaxis_title="tracks")
    return _base(fig, title=title or f"Tracks per {x} and {color}", height=360)


def count_heatmap(table: pd.DataFrame, *, title: str = "", x_title: str = "", y_title: str = "",
                  normalized: bool = False, colorscale: str = "Viridis"):
    """Heatmap of a contingency table (rows × columns) with the numbers written in the cells."""
    go = _go()
    z = table.values.astype(float)
    text = [[f"{v:.2f}" if normalized else f"{int(v)}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=[str(c) for c in table.columns], y=[str(i) for i in table.index],
                               text=text, texttemplate="%{text}", colorscale=colorscale, hoverongaps=False,
                               zmin=0, zmax=1 if normalized else None))
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, yaxis_autorange="reversed")
    return _base(fig, title=title, height=max(300, 40 * len(table.index) + 120))


def waveform(y: np.ndarray, *, sr: int, title: str = "Waveform", max_points: int = 4000):
    """Min/max envelope of a mono signal (n,) so long clips draw fast."""
    go = _go()
    n = len(y)
    if n == 0:
        return _base(go.Figure(), title=title)
    hop = max(1, int(np.ceil(n / max_points)))
    pad = (-n) % hop
    frames = np.pad(y, (0, pad)).reshape(-1, hop)
    t = np.arange(frames.shape[0]) * hop / sr
    fig = go.Figure()
    fig.add_scatter(x=np.concatenate([t, t[::-1]]), y=np.concatenate([frames.max(1), frames.min(1)[::-1]]),
                    fill="toself", mode="lines", line=dict(width=0.5, color=PALETTE[0]), hoverinfo="skip")
    fig.update_layout(xaxis_title="time (s)", yaxis_title="amplitude", showlegend=False)
    return _base(fig, title=title, height=220)


def spectrogram(img: np.ndarray, *, title: str = "Log-mel spectrogram", seconds: float | None = None,
                zmin: float | None = None, zmax: float | None = None, colorscale: str = "Magma", height: int = 300):
    """Heatmap of a (n_mels, n_frames) array, low frequencies at the bottom."""
    go = _go()
    n_mels, n_frames = img.shape
    x = np.linspace(0, seconds, n_frames) if seconds else np.arange(n_frames)
    fig = go.Figure(go.Heatmap(z=img, x=x, y=np.arange(n_mels), colorscale=colorscale, zmin=zmin, zmax=zmax,
                               colorbar=dict(thickness=10)))
    fig.update_layout(xaxis_title="time (s)" if seconds else "frame", yaxis_title="mel band")
    return _base(fig, title=title, height=height)


def _category_colors(values: Sequence) -> dict:
    cats = sorted({str(v) for v in values}, key=lambda s: (s in ("noise", "-1", "(none)"), s))
    out, i = {}, 0
    for c in cats:
        if c in ("noise", "-1"):
            out[c] = NOISE_COLOR
        else:
            out[c] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def plotly_text(value) -> str:
    """User text (titles, artists, labels) shown literally: Plotly reads <b>, <a href=…>, <br> in hover and
    legend text as markup, and decodes entities, so angle brackets and ampersands are escaped."""
    return html.escape(str(value), quote=False)


def _escaped(column: pd.Series) -> np.ndarray:
    """plotly_text of a whole column, vectorized (100,000 hover rows per map)."""
    return (column.astype(str).str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False).to_numpy())


NAMED_HOVER = ("title", "artist")  # the first hover line: "title — artist"


def hover_text(hover: pd.DataFrame) -> np.ndarray:
    """(n,) one hover string per row, escaped: "title - artist" then the other columns' values joined by
    ", " on a second line (ASCII and one <br> a point: Plotly's JSON writes "<", ">" and non-ASCII as \\uXXXX)."""
    def col(c):
        return pd.Series(_escaped(hover[c]), dtype=object).to_numpy()

    first = [col(c) for c in NAMED_HOVER if c in hover.columns]
    rest = [col(c) for c in hover.columns if c not in NAMED_HOVER]
    head = first[0] + " - " + first[1] if len(first) == 2 else (first[0] if first else None)
    tail = None
    for part in rest:
        tail = part if tail is None else tail + ", " + part
    if head is None:
        return tail
    return head if tail is None else head + "<br>" + tail


def scatter_map(coords: np.ndarray, *, color: Sequence, hover: pd.DataFrame, title: str = "",
                color_title: str = "", continuous: bool = False, height: int = 560,
                highlight: np.ndarray | None = None, highlight_name: str = "search matches"):
    """WebGL scatter of (n, 2) coordinates coloured by a categorical or continuous vector.

    Each point's customdata is its row index, so a click or a selection can be mapped back to tracks; its
    hover text is one pre-joined string ("title: …<br>genre: …"), which keeps a 100,000-point figure about
    half the size and serialization time of one string per hover column. ``highlight`` (n,) bool draws those points again on
    top, larger and ringed (search matches), in a trace of their own.
    """
    go = _go()
    coords = np.asarray(coords)
    custom = np.arange(len(coords), dtype=np.int32)  # one number per point (a compact typed array in the JSON)
    text = hover_text(hover) if len(hover.columns) else None
    hovertemplate = "%{text}<extra></extra>" if text is not None else "<extra></extra>"
    fig = go.Figure()
    if continuous:
        vals = np.asarray(color, dtype=float)
        fig.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", customdata=custom, text=text,
                                   hovertemplate=hovertemplate, name=color_title or "value", showlegend=False,
                                   marker=dict(size=6, color=vals, colorscale="Plasma", showscale=True,
                                               colorbar=dict(title=color_title))))
    else:
        labels = np.array([str(v) for v in color])
        colors = _category_colors(labels)
        for cat, col in colors.items():
            m = labels == cat
            fig.add_trace(go.Scattergl(x=coords[m, 0], y=coords[m, 1], mode="markers", name=plotly_text(cat),
                                       customdata=custom[m], text=None if text is None else text[m], hovertemplate=hovertemplate,
                                       marker=dict(size=6 if cat not in ("noise", "-1") else 4, color=col,
                                                   opacity=0.9 if cat not in ("noise", "-1") else 0.5)))
        fig.update_layout(legend_title_text=color_title)
    if highlight is not None and np.asarray(highlight, bool).any():
        h = np.asarray(highlight, bool)
        fig.add_trace(go.Scattergl(x=coords[h, 0], y=coords[h, 1], mode="markers", name=highlight_name,
                                   customdata=custom[h], text=None if text is None else text[h], hovertemplate=hovertemplate,
                                   marker=dict(size=13, color="rgba(255,255,255,0.15)",
                                               line=dict(width=2, color="#FFFFFF"))))
    fig.update_layout(xaxis=dict(showticklabels=False, title=None), yaxis=dict(showticklabels=False, title=None),
                      dragmode="pan", clickmode="event+select")  # in lasso/box drag mode a click selects nothing
    return _base(fig, title=title, height=height)


def training_curves(history: pd.DataFrame, *, title: str = "Training curves"):
    """Lines of total / reconstruction / KL loss (and validation) per epoch; β on a second axis."""
    go = _go()
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for i, col in enumerate(c for c in ("loss", "recon", "recon_loss", "kl", "val_loss") if c in history.columns):
        fig.add_trace(go.Scatter(x=history["epoch"], y=history[col], name=col, mode="lines+markers",
                                 line=dict(color=PALETTE[i], dash="dot" if col.startswith("val") else None)),
                      secondary_y=False)
    if "beta" in history.columns:
        fig.add_trace(go.Scatter(x=history["epoch"], y=history["beta"], name="β in force", mode="lines",
                                 line=dict(color="#aaaaaa", dash="dash")), secondary_y=True)
        fig.update_yaxes(title_text="β", secondary_y=True)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="loss", secondary_y=False)
    return _base(fig, title=title, height=340)


def metric_curves(df: pd.DataFrame, *, x: str, metrics: Sequence[str], marked: float | None = None,
                  title: str = "", x_title: str | None = None):
    """One small line chart per metric against ``x`` (k-selection, β sweep), with a marked x value."""
    go = _go()
    from plotly.subplots import make_subplots

    metrics = [m for m in metrics if m in df.columns]
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics)
    for i, m in enumerate(metrics, start=1):
        fig.add_trace(go.Scatter(x=df[x], y=df[m], mode="lines+markers", name=m, showlegend=False,
                                 line=dict(color=PALETTE[i - 1])), row=1, col=i)
        if marked is not None:
            fig.add_vline(x=marked, line_dash="dash", line_color="#ffffff", row=1, col=i)
        fig.update_xaxes(title_text=x_title or x, row=1, col=i)
    return _base(fig, title=title, height=320)


def k_distance(dist: np.ndarray, *, eps: float | None = None, k: int):
    """Sorted k-th nearest-neighbour distances, with a suggested eps line."""
    go = _go()
    fig = go.Figure(go.Scatter(y=dist, mode="lines", line=dict(color=PALETTE[2])))
    if eps is not None:
        fig.add_hline(y=eps, line_dash="dash", annotation_text=f"suggested eps ≈ {eps:.3g}")
    fig.update_layout(xaxis_title="points sorted by distance", yaxis_title=f"distance to {k}-th neighbour")
    return _base(fig, title="k-distance plot (choose eps at the knee)", height=300)


def metric_bars(df: pd.DataFrame, *, metric: str, label_col: str = "label", err_col: str | None = None,
                title: str = "", group_col: str | None = None, top_n: int | None = None,
                lower_is_better: bool = False):
    """Horizontal bars of ``metric`` per ``label_col`` (best at the top), the ``top_n`` best rows only,
    one colour per ``group_col`` value (bars of the same label side by side), ± ``err_col`` whiskers.

    Labels are written in full on the y axis (no tilted, clipped tick text); NaN rows are left out.
    """
    go = _go()
    d = df[pd.to_numeric(df[metric], errors="coerce").notna()].copy()
    d = d.sort_values(metric, ascending=lower_is_better, kind="stable")
    if top_n:
        d = d.head(int(top_n))
    order = list(dict.fromkeys(d[label_col].astype(str)))
    groups = list(dict.fromkeys(d[group_col].astype(str))) if group_col and group_col in d else [None]
    fig = go.Figure()
    for i, g in enumerate(groups):
        part = d if g is None else d[d[group_col].astype(str) == g]
        err = dict(type="data", array=part[err_col].fillna(0.0)) if err_col and err_col in part else None
        fig.add_trace(go.Bar(y=part[label_col].astype(str), x=part[metric], orientation="h", name=g or metric,
                             error_x=err, marker_color=PALETTE[i % len(PALETTE)], showlegend=g is not None))
    fig.update_layout(barmode="group", xaxis_title=metric, yaxis=dict(categoryorder="array",
                                                                       categoryarray=order[::-1], automargin=True))
    return _base(fig, title=title or metric, height=max(300, 80 + 28 * len(order) * max(1, len(groups) // 2 + 1)))


def recon_triptych(original: np.ndarray, recon: np.ndarray, *, title: str = ""):
    """Original, reconstruction and |difference| of a (n_mels, frames) pair, side by side."""
    go = _go()
    from plotly.subplots import make_subplots

    diff = np.abs(original - recon)
    fig = make_subplots(rows=1, cols=3, subplot_titles=("original", "reconstruction", "|difference|"),
                        horizontal_spacing=0.04)
    lo, hi = float(min(original.min(), recon.min())), float(max(original.max(), recon.max()))
    for i, (img, cs) in enumerate(((original, "Magma"), (recon, "Magma"), (diff, "Viridis")), start=1):
        fig.add_trace(go.Heatmap(z=img, colorscale=cs, showscale=i == 3, zmin=lo if i < 3 else None,
                                 zmax=hi if i < 3 else None), row=1, col=i)
    return _base(fig, title=title, height=320)
