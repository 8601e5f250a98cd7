"""`python -m core grid`: a report preset or your own grid (``--spec FILE``), exported with its warnings.

    python -m core grid --dataset NAME --preset report-002 --out DIR [--seeds 0,1,2] [--epochs E]
    python -m core grid --dataset NAME --spec grid.yaml --out DIR

A spec file (YAML or JSON) lists representations × algorithms × parameters × seeds::

    representations:
      - {label: "PCA-16", kind: pca, params: {feature: mfcc_stats, n_components: 16}}
      - {label: "MLP VAE", kind: latent,
         train: {model: mlp_vae, features: mfcc_stats, model_params: {latent_dim: 16}, config: {epochs: 30}}}
      - {label: "UMAP-8 of PCA", kind: umap, params: {base: {kind: pca, params: {feature: mfcc_stats}}}}
    algorithms: {kmeans: {n_clusters: [4, 6]}, hdbscan: {min_cluster_size: [auto]}}
    seeds: [0, 1, 2]
    labels: [language, genre]
    baselines: true
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.errors import ParameterError


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers like 0,1,2; got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one integer, e.g. 0,1,2")
    return seeds


def load_grid_spec(path: str | Path, *, seeds=None, labels=None, epochs=None, baselines=None):
    """A GridSpec from a YAML or JSON file (see the module docstring); flags given on the command line win."""
    from core.experiments.spec import GridSpec, RepEntry, TrainSpec

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError("--spec", value=str(path), expected="a readable YAML or JSON file", fix=str(exc)) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
        raise ParameterError("--spec", value=path.name, expected="valid YAML or JSON",
                             fix=f"{type(exc).__name__} at {getattr(exc, 'problem_mark', '') or getattr(exc, 'lineno', '')}"
                             ) from None
    if not isinstance(data, dict) or not data.get("representations") or not data.get("algorithms"):
        raise ParameterError("--spec", value=path.name, expected="a mapping with 'representations' and 'algorithms'")

    def entry(d, i) -> RepEntry:
        if not isinstance(d, dict) or "kind" not in d:
            raise ParameterError(f"representations[{i}]", value=d, expected="a mapping with 'kind' (and 'params')")
        train = d.get("train")
        if train is not None:
            feats = train.get("features")
            train = TrainSpec(model=train["model"], features=tuple(feats) if isinstance(feats, list) else feats,
                              model_params=dict(train.get("model_params", {})), config=dict(train.get("config", {})),
                              cond_column=train.get("cond_column"))
        parts = tuple(entry(p, f"{i}.{j}") for j, p in enumerate(d.get("parts", []) or []))
        label = str(d.get("label") or f"{d['kind']}{i}")
        algs = d.get("algorithms")
        return RepEntry(label=label, kind=str(d["kind"]), params=dict(d.get("params", {}) or {}), train=train,
                        parts=parts, weights=tuple(float(w) for w in d.get("weights", []) or []),
                        algorithms=tuple(algs) if algs else None)

    reps = [entry(d, i) for i, d in enumerate(data["representations"])]
    return GridSpec(representations=reps, algorithms=dict(data["algorithms"]),
                    seeds=tuple(seeds or data.get("seeds") or (0, 1, 2)),
                    label_columns=tuple(labels or data.get("labels") or ("language", "genre")),
                    baselines=bool(data.get("baselines", True) if baselines is None else baselines),
                    epochs=epochs if epochs is not None else data.get("epochs"))


def register_cli(sub) -> None:
    p = sub.add_parser("grid", help="run a report preset or your own grid and export its tables",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="dataset name in the workspace")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default=None, help="preset id: report-000 … report-004 or baselines")
    src.add_argument("--spec", default=None, help="your own grid: a YAML or JSON file (see above)")
    p.add_argument("--out", required=True, help="folder for CSV / Markdown / LaTeX / HTML / JSON")
    p.add_argument("--seeds", type=_seeds, default=None, help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--labels", default=None, help="comma-separated label columns to score (a grid spec's default: "
                                                   "language,genre)")
    p.add_argument("--epochs", type=int, default=None, help="override every model's epochs (quick runs)")
    p.add_argument("--no-baselines", action="store_true", help="leave out the baseline rows")
    p.add_argument("--formats", default="csv,md,tex,html,json", help="comma-separated subset of csv,md,tex,html,json")
    p.add_argument("--quiet", action="store_true", help="no progress lines; print only the written files")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the cells on this Dask cluster (one task per representation × seed; the workspace must "
                        "be shared), e.g. tcp://10.0.0.5:8786; default $SONGSCAPE_SCHEDULER, else this machine")
    p.set_defaults(func=_handler)


def _handler(args) -> int:
    from core.datasets import load_dataset
    from core.experiments.export import export_grid
    from core.experiments.grid import run_grid
    from core.presets import PRESETS, export_preset, run_preset
    from core.progress import console_progress, no_progress

    if args.epochs is not None and args.epochs < 1:
        raise ParameterError("--epochs", value=args.epochs, expected="an int ≥ 1")
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    labels = tuple(c.strip() for c in args.labels.split(",") if c.strip()) if args.labels else None
    dataset = load_dataset(args.dataset)
    progress = no_progress if args.quiet else console_progress("grid")
    if args.spec:
        spec = load_grid_spec(args.spec, seeds=args.seeds, labels=labels, epochs=args.epochs,
                              baselines=False if args.no_baselines else None)
        missing = [c for c in spec.label_columns if c not in dataset.tracks.columns]
        if missing:
            raise ParameterError("labels", value=missing, expected="columns of the track table")
        paths = export_grid(run_grid(dataset, spec, progress=progress, scheduler=args.scheduler), args.out,
                            formats=formats)
    else:
        preset = args.preset or "baselines"
        if preset not in PRESETS:
            raise ParameterError("--preset", value=preset, expected=f"one of {PRESETS.names()}")
        result = run_preset(dataset, preset, epochs=args.epochs, seeds=args.seeds or (0, 1, 2),
                            baselines=not args.no_baselines, progress=progress, scheduler=args.scheduler)
        paths = export_preset(result, args.out, formats=formats)
    for path in paths:
        print(path)
    return 0
