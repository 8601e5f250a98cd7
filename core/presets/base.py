"""Report presets, the shared part: tables, citations, running a preset and exporting its tables.

Each of the five reports Songscape is built from is one module beside this one (report_000 … report_004)
holding its citation, its grid (models with their hyperparameters, representations, algorithms, k),
its tables and the numbers it published (transcribed as printed).

A preset knows the report's features, models, hyperparameters, algorithms and k, adapts them to what a
dataset has (no lyrics → lyrics models skipped; no audio → tabular features), lays the grid's numbers
out as the report's tables, and carries the report's published numbers (transcribed as printed) to
show side by side. ``run_preset(dataset, "report-002")`` runs it.
The same modules are the one source of the reports' hyperparameters: the Train page's presets are
the models of these grids (``model_recipes()``).

Where a report leaves a setting open, the choice made here is written in the table's ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import ParameterError
from core.experiments.aggregate import lookup
from core.experiments.grid import GridResult, run_grid
from core.experiments.spec import (  # noqa: F401  (re-exported for the report modules)
    DEFAULT_SEEDS,
    DatasetCaps,
    GridSpec,
    RepEntry,
    TrainSpec,
    dataset_caps,
    latent,
)
from core.registry import Registry

K = "kmeans"
AG = "agglomerative"
DB = "dbscan"

SIL, CH, DBI, NOISE = "silhouette", "calinski_harabasz", "davies_bouldin", "noise_share"


def ari(c): return f"ari_{c}"
def nmi(c): return f"nmi_{c}"
def pur(c): return f"purity_{c}"


# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One row of a report table: its printed text cells and the grid cell it reads."""

    cells: tuple[str, ...]
    rep: str
    algorithm: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class TableLayout:
    """A report table: caption, text header(s), rows, (printed header, metric key) columns and the
    published numbers as printed ('NaN' / '—' for undefined), one tuple per row; None = no published table."""

    caption: str
    row_header: tuple[str, ...]
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, str], ...]
    published: tuple[tuple[str, ...], ...] | None = None
    notes: tuple[str, ...] = ()

    def published_frame(self) -> pd.DataFrame | None:
        if self.published is None:
            return None
        data = {h: [r.cells[i] for r in self.rows] for i, h in enumerate(self.row_header)}
        for j, (h, _) in enumerate(self.columns):
            data[h] = [_num(p[j]) for p in self.published]
        return pd.DataFrame(data)


def _num(s: str) -> float:
    s = str(s).strip().replace("−", "-")
    if s in ("", "NaN", "nan", "—", "-", "--"):
        return float("nan")
    return float(s)


@dataclass
class Plan:
    """What a preset builds for one dataset."""

    representations: list[RepEntry]
    algorithms: dict
    label_columns: tuple[str, ...]
    tables: list[TableLayout]
    skipped: dict[str, str] = field(default_factory=dict)  # representation label -> why it was skipped


@dataclass(frozen=True)
class PublishedTable:
    caption: str
    frame: pd.DataFrame
    text: tuple[tuple[str, ...], ...]  # the numbers exactly as printed


@dataclass(frozen=True)
class Citation:
    """Who wrote a report and where: shown beside every preset table and in every export."""

    title: str
    authors: tuple[str, ...]
    year: str = ""
    venue: str = ""
    key: str = ""  # how pickers name it, e.g. "Qaiyum"

    @property
    def name(self) -> str:
        return self.key or self.authors[0].split()[-1]

    def text(self) -> str:
        who = ", ".join(self.authors)
        tail = ", ".join(x for x in (self.venue, self.year) if x)
        return f"{who}. \u201c{self.title}\u201d" + (f". {tail}." if tail else ".")

    def short(self) -> str:
        return f"\u201c{self.title}\u201d ({', '.join(self.authors)}{', ' + self.year if self.year else ''})"


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    description: str
    citation: Citation | None = None
    plan: Callable[[DatasetCaps], Plan] | None = None

    def grid(self, dataset, *, epochs: int | None = None, seeds: Sequence[int] = DEFAULT_SEEDS,
             baselines: bool = True) -> GridSpec:
        p = self.plan(dataset_caps(dataset))
        return GridSpec(representations=p.representations, algorithms=p.algorithms, seeds=tuple(int(s) for s in seeds),
                        label_columns=p.label_columns, baselines=baselines, epochs=epochs)

    def table_layout(self, dataset=None) -> list[TableLayout]:
        return self.plan(dataset_caps(dataset) if dataset is not None else REPORT_CAPS).tables

    @property
    def published(self) -> list[PublishedTable]:
        return [PublishedTable(t.caption, t.published_frame(), t.published)
                for t in self.plan(REPORT_CAPS).tables if t.published is not None]


PRESETS: Registry[Preset] = Registry("preset")

# What the reports' own datasets had: audio, lyrics, language and genre labels.
REPORT_CAPS = DatasetCaps(has_audio=True, has_lyrics=True, has_tabular=False, labels=("language", "genre"),
                          n_classes={"language": 2, "genre": 6}, n_tracks=1000)


def _k(caps: DatasetCaps, col: str, default: int) -> int:
    """k = number of classes of ``col`` in the dataset, else the report's value; at most n_tracks - 1."""
    k = caps.n_classes.get(col, default) or default
    return int(max(2, min(k, max(2, caps.n_tracks - 1))))


def _cap(k: int, caps: DatasetCaps) -> int:
    return int(max(2, min(k, max(2, caps.n_tracks - 1))))


# ----------------------------------------------------------------------------------------------
# report 000


def _plan_baselines(caps: DatasetCaps) -> Plan:
    ks = [k for k in (2, 4, 6, 10) if k < max(3, caps.n_tracks)]
    return Plan([], {K: {"n_clusters": ks}}, tuple(caps.labels) or ("language", "genre"), [], {})


PRESETS.add("baselines", Preset(
    "baselines", "Baselines only", "PCA + KMeans, KMeans on spectral (or tabular) features, autoencoder + KMeans.",
    plan=_plan_baselines))


def model_recipes() -> dict[str, tuple[str, TrainSpec]]:
    """Every model a report trains, as the Train page offers it: {"<short title> · <label>": (preset id, TrainSpec)}.

    Read from the report modules (the one source of their hyperparameters), on the reports' own kind of
    data (audio, lyrics, language and genre labels)."""
    out: dict[str, tuple[str, TrainSpec]] = {}
    for pid, preset in PRESETS.items():
        if preset.citation is None:
            continue
        plan = preset.plan(REPORT_CAPS)
        entries = list(plan.representations)
        while entries:
            e = entries.pop(0)
            entries.extend(e.parts)
            if e.train is not None:
                out.setdefault(f"{preset.citation.name}: {e.label}", (pid, e.train))
    return out


def get_preset(preset_id: str) -> Preset:
    return PRESETS.get(preset_id)


# ----------------------------------------------------------------------------------------------
@dataclass
class PresetTable:
    """A report table filled from the grid: ``measured`` (mean over seeds), ``std``, ``published``.

    All three have the report's rows and columns (text columns first). ``warnings`` holds, per row,
    what the metrics said (degenerate clusters, undefined scores, label leaks, skipped representations).
    """

    caption: str
    row_header: tuple[str, ...]
    measured: pd.DataFrame
    std: pd.DataFrame
    published: pd.DataFrame | None
    warnings: list[str]
    notes: tuple[str, ...] = ()
    n_seeds: list[int] = field(default_factory=list)
    flagged: list[set] = field(default_factory=list)  # per row: the metric headers a warning concerns

    @property
    def metric_headers(self) -> list[str]:
        return [c for c in self.measured.columns if c not in self.row_header]

    def side_by_side(self) -> pd.DataFrame:
        """Text columns, then for each metric '<header>' (measured mean), '<header> ±', '<header> (published)'."""
        out = self.measured[list(self.row_header)].copy()
        for h in self.metric_headers:
            out[h] = self.measured[h]
            out[f"{h} ±"] = self.std[h]
            if self.published is not None:
                out[f"{h} (published)"] = self.published[h].to_numpy()
        out["warnings"] = self.warnings
        return out

    def display(self) -> pd.DataFrame:
        """Text cells: 'mean ± std' (± only with ≥ 2 seeds), '—' when undefined, '†' on flagged cells, then
        the published value of each metric (as printed)."""
        from core.experiments.export import fmt_cell

        out = self.measured[list(self.row_header)].astype(str).copy()
        n_rows = len(self.measured)
        seeds = self.n_seeds or [1] * n_rows
        flags = self.flagged or [set()] * n_rows
        for h in self.metric_headers:
            out[h] = [fmt_cell(m, sd, n_seeds=n, flagged=h in f)
                      for m, sd, n, f in zip(self.measured[h], self.std[h], seeds, flags)]
            if self.published is not None:
                out[f"{h} (published)"] = [fmt_cell(v, decimals=4) for v in self.published[h]]
        return out


@dataclass
class PresetResult:
    preset: Preset
    grid: GridResult
    tables: list[PresetTable]
    skipped: dict[str, str]

    @property
    def cancelled(self) -> bool:
        return self.grid.cancelled


def fill_tables(layouts: Sequence[TableLayout], grid: GridResult, skipped: Mapping[str, str]) -> list[PresetTable]:
    """Read each layout's cells from the grid summary."""
    out = []
    for t in layouts:
        text = {h: [r.cells[i] for r in t.rows] for i, h in enumerate(t.row_header)}
        mean, std = pd.DataFrame(text), pd.DataFrame(text)
        warns, seeds, flags = [], [], []
        for h, _ in t.columns:
            mean[h], std[h] = np.nan, np.nan
        for i, r in enumerate(t.rows):
            hit = lookup(grid.summary, r.rep, r.algorithm, r.params) if len(grid.summary) else None
            if hit is None:
                warns.append(skipped.get(r.rep) or ("not computed: the run was cancelled" if grid.cancelled
                                                    else "not computed"))
                seeds.append(0)
                flags.append(set())
                continue
            for h, key in t.columns:
                mean.loc[i, h] = hit.get(f"{key}_mean", np.nan)
                std.loc[i, h] = hit.get(f"{key}_std", np.nan)
            warns.append(str(hit.get("warnings", "") or ""))
            seeds.append(int(hit.get("n_seeds", 1)))
            keys = {x for x in str(hit.get("flagged", "") or "").split(",") if x}
            flags.append({h for h, key in t.columns if key in keys})
        for h, key in t.columns:  # a label column the dataset lacks: say so
            if key.split("_", 1)[0] in ("ari", "nmi", "purity") and key.split("_", 1)[1] not in grid.label_columns:
                warns = [w or f"no '{key.split('_', 1)[1]}' labels" for w in warns]
        out.append(PresetTable(t.caption, t.row_header, mean, std, t.published_frame(), warns, t.notes, seeds, flags))
    return out


def run_preset(dataset, preset_id: str, *, epochs: int | None = None, seeds: Sequence[int] = DEFAULT_SEEDS,
               baselines: bool = True, progress=None, cancel=None, scheduler: str | None = None) -> PresetResult:
    """Run a report preset on ``dataset``: its grid (plus baselines), then its tables side by side with the
    report's numbers. ``epochs`` overrides every model's epoch count (quick runs)."""
    preset = get_preset(preset_id)
    if epochs is not None and int(epochs) < 1:
        raise ParameterError("epochs", value=epochs, expected="an int ≥ 1 (or None for the report's value)")
    caps = dataset_caps(dataset)
    plan = preset.plan(caps)
    spec = GridSpec(representations=plan.representations, algorithms=plan.algorithms,
                    seeds=tuple(int(s) for s in seeds), label_columns=plan.label_columns, baselines=baselines,
                    epochs=epochs)
    grid = run_grid(dataset, spec, progress=progress, cancel=cancel, scheduler=scheduler)
    grid.configs["preset"] = preset.id
    grid.configs["skipped"] = dict(plan.skipped)
    return PresetResult(preset, grid, fill_tables(plan.tables, grid, plan.skipped), dict(plan.skipped))


def table_caption(result: "PresetResult", table: PresetTable, dataset_name: str = "") -> str:
    """What the user's table shows (their data, N, labels, seeds), with the paper's own caption quoted."""
    c = result.grid.configs
    name = dataset_name or c.get("dataset", "")
    n = (c.get("caps") or {}).get("n_tracks", "?")
    labels = ", ".join(c.get("label_columns", [])) or "no labels"
    seeds = c.get("seeds", [])
    return (f"Measured on dataset '{name}' (N={n}; labels: {labels}; {len(seeds)} seed(s)) with the settings of "
            f"{result.preset.citation.short()}. Published on the authors' data: \u201c{table.caption}\u201d")


def export_preset(result: PresetResult, out_dir, *, formats: Sequence[str] = ("csv", "md", "tex", "html", "json")) -> list:
    """The grid's files (grid.csv, …) plus one file per report table: <preset>_table<i>.{csv,md,tex,html,json}.

    Each table says what it was measured on and quotes the paper's caption as "published on …"; its
    warnings are listed under it, tied to their rows, and flagged cells carry †."""
    from pathlib import Path

    from core.experiments.export import Footnote, export_grid, write_formats

    out = Path(out_dir)
    paths = export_grid(result.grid, out, formats=formats)
    for i, t in enumerate(result.tables, start=1):
        notes = [Footnote("†", f"{' · '.join(str(t.measured.loc[j, h]) for h in t.row_header)}: {w}")
                 for j, w in enumerate(t.warnings) if w]
        notes += [Footnote("note", n) for n in t.notes]
        paths += write_formats(out, f"{result.preset.id}_table{i}", t.display(), notes, formats,
                               caption=table_caption(result, t), data=t.side_by_side(),
                               extra_json={"citation": result.preset.citation.text()})
    return paths
