"""Metric tables out: CSV, Markdown, LaTeX (plain ``tabular``, no booktabs) and JSON.

No extra dependency: pandas' ``to_markdown`` needs ``tabulate`` (not installed) and ``to_latex``
needs jinja2 plus ``booktabs`` rules, so both writers are here. Numbers: CSV and JSON keep full
precision (they are for machines and round-trips); Markdown and LaTeX show 4 decimals (2 for values
of 1000 or more, integers as integers) and NaN as an em dash / ``--``.

CSV is opened by spreadsheets, which run a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula: a
track titled ``=HYPERLINK(...)`` must stay text. ``csv_text(df)`` (used by ``to_csv`` and every CSV
download) writes such text cells, and column names, with a leading ``'`` (``neutralize_formulas``);
numbers, and text that is just a number such as ``-6.1``, stay as they are.

``write_table(df, path, warnings=...)`` picks the format from the suffix (EXPORTERS registry).
Warnings (objects with ``code`` and ``message``) are written with the table: a ``warnings`` column is
left as it is in CSV, listed under the table in Markdown and LaTeX, and a ``warnings`` list in JSON.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from core import artifacts
from core.errors import ParameterError
from core.registry import Registry

EXPORTERS: Registry[Callable[[pd.DataFrame, list], str]] = Registry("format")


def format_number(v, *, nan: str = "—") -> str:
    if v is None:
        return nan
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return nan
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f"{f:.2f}" if abs(f) >= 1000 else f"{f:.4f}"
    return str(v)


def _warning_lines(warnings: Iterable) -> list[str]:
    return [f"{getattr(w, 'code', '')}: {getattr(w, 'message', str(w))}" for w in (warnings or [])]


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as spreadsheet formulas.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
    (spreadsheets then show it as text); numeric columns, and text that is just a number
    (``-6.1``, ``+3``), are unchanged. (n_rows, n_cols) → (n_rows, n_cols).
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(_neutral)
    out.columns = [_neutral(c) for c in out.columns]
    return out


def csv_text(df: pd.DataFrame) -> str:
    """``df`` as CSV text (no index) with formulas neutralized: use it for every CSV export."""
    return neutralize_formulas(df).to_csv(index=False)


def to_csv(df: pd.DataFrame, warnings: Iterable = ()) -> str:
    return csv_text(df)


def to_markdown(df: pd.DataFrame, warnings: Iterable = ()) -> str:
    def cell(v) -> str:
        return format_number(v).replace("|", "\\|").replace("\n", " ")

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |",
             "|" + "|".join("---" if df[c].dtype.kind not in "fiu" else "---:" for c in df.columns) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    out = "\n".join(lines) + "\n"
    w = _warning_lines(warnings)
    if w:
        out += "\n**Warnings**\n\n" + "\n".join(f"- {x}" for x in w) + "\n"
    return out


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    out = "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(text))
    return (out.replace("—", "--").replace("α", r"$\alpha$").replace("μ", r"$\mu$").replace("β", r"$\beta$")
            .replace("±", r"$\pm$").replace("†", r"\dag{}").replace("·", r"$\cdot$"))


def to_latex(df: pd.DataFrame, warnings: Iterable = ()) -> str:
    """A plain ``tabular`` (\\hline rules only) that compiles with any LaTeX; then the warnings as text."""
    align = "".join("r" if df[c].dtype.kind in "fiu" else "l" for c in df.columns)
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\hline",
             " & ".join(latex_escape(c) for c in df.columns) + r" \\", "\\hline"]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(latex_escape(format_number(v, nan="--")) for v in row) + r" \\")
    lines += ["\\hline", "\\end{tabular}"]
    w = _warning_lines(warnings)
    if w:
        lines.append("")
        lines += [f"\\noindent Warning -- {latex_escape(x)}\\par" for x in w]
    return "\n".join(lines) + "\n"


def to_json(df: pd.DataFrame, warnings: Iterable = ()) -> str:
    rows = json.loads(df.to_json(orient="records", double_precision=15))
    return json.dumps({"rows": rows, "warnings": [{"code": getattr(w, "code", ""), "message": getattr(w, "message", str(w))}
                                                  for w in (warnings or [])]}, indent=2, ensure_ascii=False)


EXPORTERS.add("csv", to_csv)
EXPORTERS.add("md", to_markdown)
EXPORTERS.add("tex", to_latex)
EXPORTERS.add("json", to_json)


def write_table(df: pd.DataFrame, path: str | Path, *, warnings: Iterable = ()) -> Path:
    """Write ``df`` (+ warnings) atomically in the format given by the suffix (.csv, .md, .tex, .json)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in EXPORTERS:
        raise ParameterError("out", value=str(path), expected=f"a file ending in one of {['.' + n for n in EXPORTERS.names()]}")
    return artifacts.write_text(path, EXPORTERS.get(fmt)(df, list(warnings or [])))
