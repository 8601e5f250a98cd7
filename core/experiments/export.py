"""Grid exports: CSV, Markdown, LaTeX, HTML and JSON — every one carries the run's warnings.

Cells read ``mean ± std`` over seeds (``±`` only with two seeds or more); an undefined metric is ``—``
(never 0.000); a cell that a warning concerns (all noise, one cluster, chance level, a label leak, a
representation in doubt…) is marked ``†`` and the warnings are listed under the table, tied to their
row. Tables are written with ``core.export`` (one Markdown, one LaTeX writer; CSV cells that look like
spreadsheet formulas are neutralized).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core import artifacts
from core.errors import ParameterError
from core.export import csv_text, to_latex, to_markdown

DECIMALS = 3
FORMATS = ("csv", "md", "tex", "html", "json")
MARK = "†"


@dataclass(frozen=True)
class Footnote:
    """A warning under a table (``core.export`` writers print ``code: message``)."""

    code: str
    message: str


def _isnan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def fmt_cell(mean, std=float("nan"), *, n_seeds: int = 1, flagged: bool = False, decimals: int = DECIMALS) -> str:
    """'0.657 ± 0.005' (± only with ≥ 2 seeds), '—' when undefined, with ' †' when a warning concerns it."""
    if _isnan(mean):
        return "—"
    text = f"{float(mean):.{decimals}f}"
    if n_seeds >= 2 and not _isnan(std):
        text += f" ± {float(std):.{decimals}f}"
    return text + (f" {MARK}" if flagged else "")


def _flags(value) -> set[str]:
    return {x for x in str(value or "").split(",") if x}


def summary_display(result, *, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """The summary as text cells: representation, algorithm, params, seeds, then one column per metric."""
    s = result.summary
    metrics = list(metrics or [m for m in result.metric_columns if m != "seconds"])
    out = s[["representation", "algorithm", "params"]].copy()
    out["seeds"] = s["n_seeds"].astype(int)
    for m in metrics:
        out[m] = [fmt_cell(mu, sd, n_seeds=int(n), flagged=m in _flags(f))
                  for mu, sd, n, f in zip(s[f"{m}_mean"], s[f"{m}_std"], s["n_seeds"], s.get("flagged", [""] * len(s)))]
    out["seed agreement (ARI)"] = [fmt_cell(v, n_seeds=1) for v in s["agreement_ari"]]
    return out


def footnotes(summary: pd.DataFrame) -> list[Footnote]:
    """One footnote per summary row that has warnings, naming the row."""
    notes = []
    for _, r in summary.iterrows():
        if str(r.get("warnings", "") or "").strip():
            notes.append(Footnote(MARK, f"{r['representation']} · {r['algorithm']} {r['params']}: {r['warnings']}"))
    return notes


def to_html(df: pd.DataFrame, notes: Sequence[Footnote] = (), *, caption: str = "") -> str:
    """A standalone HTML table (every cell escaped) with the footnotes under it."""
    body = df.to_html(index=False, escape=True, na_rep="—", border=0)
    cap = f"<p><strong>{html.escape(caption)}</strong></p>\n" if caption else ""
    foot = "".join(f"<p>{html.escape(n.code)} {html.escape(n.message)}</p>\n" for n in notes)
    return f"<!doctype html>\n<meta charset=\"utf-8\">\n{cap}{body}\n{foot}"


def _json_records(df: pd.DataFrame) -> list[dict]:
    recs = df.replace({np.nan: None}).to_dict(orient="records")
    return [{k: (None if _isnan(v) else v) if isinstance(v, float) else v for k, v in r.items()} for r in recs]


def write_formats(out: Path, stem: str, shown: pd.DataFrame, notes: Sequence[Footnote], formats: Sequence[str], *,
                  caption: str = "", data: pd.DataFrame | None = None, extra_json: dict | None = None) -> list[Path]:
    """Write one table in every requested format; ``data`` (raw numbers) goes to CSV/JSON beside ``shown``."""
    paths: list[Path] = []
    head_md = f"**{caption}**\n\n" if caption else ""
    if "csv" in formats:
        paths.append(artifacts.write_text(out / f"{stem}.csv", csv_text(data if data is not None else shown)))
    if "md" in formats:
        paths.append(artifacts.write_text(out / f"{stem}.md", head_md + to_markdown(shown, notes)))
    if "tex" in formats:
        from core.export import latex_escape

        head_tex = f"% {latex_escape(caption)}\n" if caption else ""
        paths.append(artifacts.write_text(out / f"{stem}.tex", head_tex + to_latex(shown, notes)))
    if "html" in formats:
        paths.append(artifacts.write_text(out / f"{stem}.html", to_html(shown, notes, caption=caption)))
    if "json" in formats:
        payload = {"caption": caption, "rows": _json_records(data if data is not None else shown),
                   "warnings": [{"mark": n.code, "message": n.message} for n in notes], **(extra_json or {})}
        paths.append(artifacts.write_json(out / f"{stem}.json", payload))
    return paths


def export_grid(result, out_dir, *, formats: Sequence[str] = FORMATS, stem: str = "grid", caption: str = "") -> list[Path]:
    """Write the grid: ``<stem>.csv`` (tidy rows) and ``<stem>_summary.{csv,md,tex,html,json}``.

    Returns the written paths. Every write is atomic; every format carries the warnings.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ParameterError("formats", value=list(formats), expected=f"a subset of {list(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if "csv" in formats:
        paths.append(artifacts.write_text(out / f"{stem}.csv", csv_text(result.table)))
    notes = footnotes(result.summary)
    caption = caption or _grid_caption(result)
    extra = {"configs": result.configs, "tidy_rows": _json_records(result.table), "cancelled": bool(result.cancelled)}
    paths += write_formats(out, f"{stem}_summary", summary_display(result), notes, formats, caption=caption,
                           data=result.summary, extra_json=extra)
    return paths


def _grid_caption(result) -> str:
    c = result.configs
    seeds = c.get("seeds", [])
    spread = f"mean ± std over {len(seeds)} seeds {seeds}" if len(seeds) > 1 else f"one seed ({seeds[0] if seeds else 0})"
    return (f"Dataset {c.get('dataset', '')}: {spread}; scored against "
            f"{', '.join(c.get('label_columns', [])) or 'no labels'}. {MARK} = a warning concerns the value "
            "(listed under the table).")
