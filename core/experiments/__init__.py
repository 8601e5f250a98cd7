"""Grids and report presets → tidy metric tables; exports (CSV, Markdown, LaTeX, JSON); β sweeps.

    run_grid(dataset, GridSpec(...)) -> GridResult(table, summary, configs)
    export_grid(result, out_dir) -> [paths]
    beta_sweep(dataset, model="mlp_vae", betas=(0.1, 1, 2, 4)) -> DataFrame
    core.presets.run_preset(dataset, "report-002", epochs=...) -> PresetResult
    `python -m core grid --dataset NAME --preset ID --out DIR [--seeds 0,1,2] [--epochs E]`
"""

from core.experiments.aggregate import metric_columns, seed_agreement, summarize
from core.experiments.cli import register_cli
from core.experiments.export import export_grid, footnotes, summary_display
from core.experiments.grid import GridResult, cells_dir, run_cell, run_grid, train_for_grid
from core.experiments.spec import (
    DEFAULT_SEEDS,
    DatasetCaps,
    GridSpec,
    RepEntry,
    TrainSpec,
    as_entry,
    baseline_entries,
    dataset_caps,
    latent,
)
from core.experiments.sweep import beta_sweep
from core.metrics import active_units, params_str


def run_preset(dataset, preset_id, **kwargs):
    """See core.presets.run_preset."""
    from core.presets import run_preset as _run

    return _run(dataset, preset_id, **kwargs)


__all__ = [
    "DEFAULT_SEEDS", "DatasetCaps", "GridResult", "GridSpec", "RepEntry", "TrainSpec", "active_units", "as_entry",
    "baseline_entries", "beta_sweep", "cells_dir", "dataset_caps", "export_grid", "footnotes", "latent",
    "metric_columns", "params_str", "register_cli", "run_cell", "run_grid", "run_preset", "seed_agreement",
    "summarize", "summary_display", "train_for_grid",
]
