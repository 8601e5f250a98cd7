"""Grid exports: CSV, Markdown, a ready LaTeX ``tabular`` fragment, JSON with every config and seed.

Numbers in Markdown/LaTeX are the CSV's rounded to ``DECIMALS`` places; mean ± std is written
``$0.123 \\pm 0.004$`` in LaTeX and ``0.123 ± 0.004`` in Markdown; NaN is ``--`` / ``—``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core import artifacts
from core.errors import ParameterError
from core.export import latex_escape, to_markdown  # noqa: F401  (shared with the Explore exports)

DECIMALS = 3
FORMATS = ("csv", "md", "tex", "json")
def _isnan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x, decimals: int = DECIMALS) -> str:
    return "" if _isnan(x) else f"{float(x):.{decimals}f}"


def fmt_pm(mean, std, *, latex: bool, decimals: int = DECIMALS) -> str:
    if _isnan(mean):
        return "--" if latex else "—"
    if _isnan(std):
        return f"${float(mean):.{decimals}f}$" if latex else f"{float(mean):.{decimals}f}"
    if latex:
        return f"${float(mean):.{decimals}f} \\pm {float(std):.{decimals}f}$"
    return f"{float(mean):.{decimals}f} ± {float(std):.{decimals}f}"


def pm_frame(mean: pd.DataFrame, std: pd.DataFrame | None, *, latex: bool, text_columns: Sequence[str] = (),
             decimals: int = DECIMALS) -> pd.DataFrame:
    """Cells 'mean ± std' (text columns kept as they are, escaped for LaTeX)."""
    out = pd.DataFrame(index=mean.index)
    for c in mean.columns:
        if c in text_columns:
            out[c] = [latex_escape(v) if latex else str(v) for v in mean[c]]
        else:
            sd = std[c] if std is not None and c in std.columns else [float("nan")] * len(mean)
            out[c] = [fmt_pm(m, s, latex=latex, decimals=decimals) for m, s in zip(mean[c], sd)]
    return out


def to_latex_tabular(df: pd.DataFrame, *, n_text: int = 1) -> str:
    """A ``tabular`` fragment of already-formatted cells: first ``n_text`` columns left, the rest centred."""
    spec = "l" * n_text + "c" * (len(df.columns) - n_text)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\hline",
             " & ".join(latex_escape(c) for c in df.columns) + r" \\", "\\hline"]
    for _, row in df.iterrows():
        lines.append(" & ".join(str(v) for v in row.tolist()) + r" \\")
    lines += ["\\hline", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def summary_display(result, *, latex: bool, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """The summary as 'mean ± std' cells: representation, algorithm, params, then one column per metric."""
    s = result.summary
    metrics = list(metrics or [m for m in result.metric_columns if m != "seconds"]) + ["agreement_ari"]
    text = ["representation", "algorithm", "params"]
    mean = s[text].copy()
    std = pd.DataFrame(index=s.index)
    for m in metrics:
        if m == "agreement_ari":
            mean[m], std[m] = s["agreement_ari"], float("nan")
        else:
            mean[m], std[m] = s[f"{m}_mean"], s[f"{m}_std"]
    return pm_frame(mean, std, latex=latex, text_columns=text)


def export_grid(result, out_dir, *, formats: Sequence[str] = FORMATS, stem: str = "grid") -> list[Path]:
    """Write the grid: ``<stem>.csv`` (tidy rows), ``<stem>_summary.csv``, ``.md``, ``.tex``, ``.json``.

    Returns the written paths. Every write is atomic.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParameterError("formats", value=list(formats), expected=f"a subset of {list(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if "csv" in formats:
        paths.append(artifacts.write_csv(out / f"{stem}.csv", result.table))
        paths.append(artifacts.write_csv(out / f"{stem}_summary.csv", result.summary))
    if "md" in formats:
        paths.append(artifacts.write_text(out / f"{stem}_summary.md", to_markdown(summary_display(result, latex=False))))
    if "tex" in formats:
        paths.append(artifacts.write_text(out / f"{stem}_summary.tex",
                                          to_latex_tabular(summary_display(result, latex=True), n_text=3)))
    if "json" in formats:
        payload = {"configs": result.configs, "rows": _records(result.table), "summary": _records(result.summary),
                   "cancelled": bool(result.cancelled)}
        paths.append(artifacts.write_json(out / f"{stem}.json", payload))
    return paths


def _records(df: pd.DataFrame) -> list[dict]:
    recs = df.replace({np.nan: None}).to_dict(orient="records")
    return [{k: (None if _isnan(v) else v) if isinstance(v, float) else v for k, v in r.items()} for r in recs]
