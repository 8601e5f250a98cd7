"""Report presets: each of the five reports Songscape is built from, as a grid plus its own tables.

    run_preset(dataset, "report-002", epochs=..., seeds=...) -> PresetResult (grid + the report's tables)
    export_preset(result, out_dir) -> paths (CSV, Markdown, LaTeX, HTML, JSON; warnings under every table)
    PRESETS: report-000 … report-004 (one module each, with its citation) and "baselines"
    model_recipes(): every model the reports train, with their hyperparameters (the Train page's presets)
"""

from core.presets import report_000, report_001, report_002, report_003, report_004  # noqa: F401  (register)
from core.presets.base import (
    PRESETS,
    REPORT_CAPS,
    Citation,
    Plan,
    Preset,
    PresetResult,
    PresetTable,
    PublishedTable,
    Row,
    TableLayout,
    export_preset,
    fill_tables,
    get_preset,
    model_recipes,
    run_preset,
    table_caption,
)

__all__ = ["PRESETS", "REPORT_CAPS", "Citation", "Plan", "Preset", "PresetResult", "PresetTable", "PublishedTable",
           "Row", "TableLayout", "export_preset", "fill_tables", "get_preset", "model_recipes", "run_preset",
           "table_caption"]
