"""``python -m core demo``: write the demo corpus to a folder, or build the workspace dataset."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from core.datasets import DEMO_NAME
from core.datasets.demo.corpus import ensure_demo_dataset, generate_demo


def register_cli(sub) -> None:
    p = sub.add_parser("demo", help="generate the synthetic demo corpus (English/Bangla/Hybrid songs, 6 genres)",
                       description="Write the demo corpus to --out DIR, or build/refresh the workspace dataset "
                                   f"'{DEMO_NAME}' when --out is omitted.")
    p.add_argument("--out", type=Path, default=None, help="folder to write audio/ and metadata.csv into")
    p.add_argument("--tracks", type=int, default=240, help="number of tracks (default 240)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each track in seconds (default 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    from core.progress import console_progress

    t0 = time.perf_counter()
    bar = console_progress("demo")
    if args.out is not None:
        res = generate_demo(args.out, n_tracks=args.tracks, seconds=args.seconds, seed=args.seed, progress=bar,
                            jobs=args.jobs)
        tracks, where = res.tracks, Path(args.out) / "metadata.csv"
    else:
        ds = ensure_demo_dataset(progress=bar, n_tracks=args.tracks, seconds=args.seconds, seed=args.seed,
                                 jobs=args.jobs)
        tracks, where = ds.tracks, ds.root
    counts = pd.crosstab(tracks["genre"], tracks["language"])
    print(f"demo corpus: {len(tracks)} tracks of {args.seconds:g} s in {time.perf_counter() - t0:.1f} s -> {where}")
    print(counts.to_string())
    return 0
