"""`python -m core grid --dataset NAME --preset ID --out DIR [--seeds 0,1,2] [--epochs E]`."""

from __future__ import annotations

import argparse

from core.errors import ParameterError


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers like 0,1,2; got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one integer, e.g. 0,1,2")
    return seeds


def register_cli(sub) -> None:
    p = sub.add_parser("grid", help="run a report preset's experiment grid and export its tables",
                       description="Run a preset grid (report-000 … report-004, baselines) on a dataset; "
                                   "finished cells are cached, so a rerun resumes.")
    p.add_argument("--dataset", required=True, help="dataset name in the workspace")
    p.add_argument("--preset", default="baselines", help="preset id: report-000 … report-004 or baselines")
    p.add_argument("--out", required=True, help="folder for CSV / Markdown / LaTeX / JSON")
    p.add_argument("--seeds", type=_seeds, default=(0, 1, 2), help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="override every model's epochs (quick runs)")
    p.add_argument("--no-baselines", action="store_true", help="leave out the baseline rows")
    p.add_argument("--formats", default="csv,md,tex,json", help="comma-separated subset of csv,md,tex,json")
    p.set_defaults(func=_handler)


def _handler(args) -> int:
    from core.datasets import load_dataset
    from core.presets import PRESETS, export_preset, run_preset
    from core.progress import console_progress

    if args.preset not in PRESETS:
        raise ParameterError("--preset", value=args.preset, expected=f"one of {PRESETS.names()}")
    if args.epochs is not None and args.epochs < 1:
        raise ParameterError("--epochs", value=args.epochs, expected="an int ≥ 1")
    dataset = load_dataset(args.dataset)
    result = run_preset(dataset, args.preset, epochs=args.epochs, seeds=args.seeds,
                        baselines=not args.no_baselines, progress=console_progress(f"grid {args.preset}"))
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    paths = export_preset(result, args.out, formats=formats)
    for path in paths:
        print(path)
    return 0
