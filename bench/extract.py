"""Feature-extraction throughput: full audio pass vs. the floor (decode + one STFT per clip).

    .venv/bin/python bench/extract.py [--n 120] [--seconds 30] [--format ogg|flac|wav] [--jobs N] [--rounds 3]

Generates ``n`` synthetic clips (harmonic tones with vibrato, clicks and noise; a different seed per
clip) in a temporary folder, then measures, with the same number of worker processes:

  floor  decode (core.audio.load_audio) + pad/trim + one float32 STFT per clip, nothing else
  full   get_features(dataset, "mfcc_stats"): decode + STFT + every audio feature + chunk saves +
         the cached group written to disk (end to end, as the app runs it)

Both include creating their process pool (forked from an already-warm forkserver). The best of
``rounds`` is reported for each, plus a per-clip single-process breakdown. The last line is a
Markdown row for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SR = 22050


def make_clip(i: int, seconds: float):
    import numpy as np

    rng = np.random.default_rng(i)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    y = np.zeros_like(t)
    for h in range(1, 5):
        y += (0.3 / h) * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 3) * np.sin(2 * np.pi * rng.uniform(0.2, 6) * t))
    beat = 60.0 / rng.uniform(70, 170)
    clicks = (np.arange(t.size) % int(beat * SR)) < 200
    y += 0.3 * clicks * rng.standard_normal(t.size) + rng.uniform(0.005, 0.05) * rng.standard_normal(t.size)
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


def write_clip(args) -> str:
    i, seconds, folder, fmt = args
    from core.audio import write_audio

    return str(write_audio(Path(folder) / f"clip_{i:04d}.{fmt}", make_clip(i, seconds)))


def run_floor(paths, jobs: int, scfg) -> float:
    from core.features import _worker
    from core.features.extract import make_pool

    t0 = time.perf_counter()
    with make_pool(jobs) as pool:
        futs = [pool.submit(_worker.floor_row, p, 0.0, None, scfg) for p in paths]
        for f in futs:
            f.result()
    return time.perf_counter() - t0


def run_full(ds, jobs: int) -> float:
    from core.features import get_features
    from core.features.extract import features_root

    shutil.rmtree(features_root(ds), ignore_errors=True)
    t0 = time.perf_counter()
    fs = get_features(ds, "mfcc_stats", jobs=jobs)
    dt = time.perf_counter() - t0
    assert fs.valid.all(), fs.errors
    return dt


def breakdown(path: str, scfg, repeats: int = 15) -> dict:
    """Median CPU milliseconds (process_time: robust to other load on the machine) per stage for one
    clip in this process, one thread."""
    from threadpoolctl import threadpool_limits

    from core.audio import fix_length
    from core.features import spectral

    out = {"decode": [], "stft": [], "features": []}
    with threadpool_limits(1):
        for _ in range(repeats):
            t0 = time.process_time()
            y = spectral.load_clip(path, config=scfg)
            t1 = time.process_time()
            spectral.stft_magnitude(fix_length(y, n_samples=scfg.n_samples))
            t2 = time.process_time()
            spectral.extract_clip(y, config=scfg)
            t3 = time.process_time()
            out["decode"].append(t1 - t0)
            out["stft"].append(t2 - t1)
            out["features"].append(t3 - t2)
    return {k: 1000 * statistics.median(v) for k, v in out.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120, help="number of clips (default 120)")
    ap.add_argument("--seconds", type=float, default=30.0, help="clip length (default 30)")
    ap.add_argument("--format", default="ogg", choices=["ogg", "flac", "wav"])
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="songscape-bench-extract-"))
    os.environ["SONGSCAPE_HOME"] = str(tmp / "home")
    import pandas as pd

    from core.config import default_jobs
    from core.datasets import ImportResult, load_dataset, save_dataset
    from core.features import SpectralConfig
    from core.features.extract import make_pool

    jobs = args.jobs or default_jobs()
    scfg = SpectralConfig()
    try:
        t0 = time.perf_counter()
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(jobs) as tp:  # libsndfile encodes without the GIL
            paths = list(tp.map(write_clip, [(i, args.seconds, tmp, args.format) for i in range(args.n)]))
        with make_pool(jobs):  # starts + warms the forkserver (librosa imported once; not timed below)
            pass
        print(f"generated {args.n} × {args.seconds:g}-s {args.format} clips in {time.perf_counter() - t0:.1f}s "
              f"({sum(os.path.getsize(p) for p in paths) / 1e6:.1f} MB)", file=sys.stderr)
        save_dataset("bench", ImportResult(tracks=pd.DataFrame(
            {"track_id": [f"b{i}" for i in range(args.n)], "path": paths, "duration_s": args.seconds})))
        ds = load_dataset("bench")

        floors, fulls = [], []
        for r in range(args.rounds):
            floors.append(run_floor(paths, jobs, scfg))
            fulls.append(run_full(ds, jobs))
            print(f"round {r + 1}: floor {args.n / floors[-1]:.1f} clips/s, full {args.n / fulls[-1]:.1f} clips/s",
                  file=sys.stderr)
        floor_rate, full_rate = args.n / min(floors), args.n / min(fulls)
        bd = breakdown(paths[0], scfg)
        ratio = full_rate / floor_rate
        cores = min(jobs, os.cpu_count() or 1)
        floor_cpu, full_cpu = bd["decode"] + bd["stft"], bd["decode"] + bd["features"]
        print(f"CPU per clip, one thread: decode {bd['decode']:.1f} ms, STFT {bd['stft']:.1f} ms, all features from "
              f"the decoded clip {bd['features']:.1f} ms → CPU-bound capacity on {cores} cores: floor "
              f"{1000 * cores / floor_cpu:.0f} clips/s, full {1000 * cores / full_cpu:.0f} clips/s "
              f"({floor_cpu / full_cpu:.0%})")
        print(f"floor (decode + 1 STFT): {floor_rate:.1f} clips/s; full extraction: {full_rate:.1f} clips/s; "
              f"ratio {ratio:.0%}  [jobs={jobs}, best of {args.rounds}]")
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
        print(f"| {time.strftime('%Y-%m-%d')} | `bench/extract.py --n {args.n} --format {args.format}` | "
              f"{args.n} × {args.seconds:g} s {args.format} | {os.cpu_count()} cores, jobs={jobs}, "
              f"load {load:.1f} | {floor_rate:.1f} | **{full_rate:.1f}** | {ratio:.0%} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
