"""Interactive clustering latency: what one slider move costs on the server (no projection, it is cached).

Synthetic blobs (d=32, 8 centres) at 1,000 / 10,000 / 100,000 points. For each size, the median of
``--repeats`` runs of:

* kmeans k change  run_clustering(kmeans, k) + evaluate(sample_size=2000): the interactive path;
  baseline: sklearn KMeans() with its defaults + unsampled Silhouette (skipped above 20,000 points:
  O(n^2));
* dbscan eps change run_clustering(dbscan, eps) + evaluate(sampled), after a first (cold) call that
  builds the reusable neighbour/MST structure (ReusableDBSCAN on the hdbscan package's exact MST, any n);
* fusion alpha change core.represent.concat_blocks (block-scale both parts + concat, 32 + 64 dims) + kmeans
  + evaluate(sampled);
* cached map read  cached_projection() of the (n, 2) map (array fingerprint + npz read).

Usage: python bench/interactive.py [--sizes 1000,10000,100000] [--repeats 3] [--out FILE.md]
Prints a Markdown table (and writes it to --out).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def timed(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample-size", type=int, default=2000)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    os.environ.setdefault("SONGSCAPE_HOME", tempfile.mkdtemp(prefix="songscape-bench-"))

    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs
    from sklearn.metrics import silhouette_score

    from core.cluster import run_clustering
    from core.metrics import evaluate, k_distance, suggest_eps
    from core.project import cached_projection, project
    from core.represent import concat_blocks

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        reps = args.repeats if n <= 20_000 else 1
        X, y = make_blobs(n_samples=n, centers=8, n_features=32, cluster_std=2.0, random_state=0)
        X = X.astype(np.float32)
        lyr = np.random.default_rng(1).normal(size=(n, 64)).astype(np.float32)
        lvalid = np.random.default_rng(2).random(n) > 0.2
        truth = {"language": np.where(y % 2 == 0, "English", "Bangla")}
        ss = args.sample_size
        k_iter = iter(range(10_000))

        def kmeans_step():
            k = 6 + next(k_iter) % 4
            res = run_clustering(X, algorithm="kmeans", params={"n_clusters": k})
            evaluate(X, res, label_columns=truth, sample_size=ss)

        def kmeans_baseline():
            lab = KMeans(n_clusters=8, random_state=0).fit_predict(X)
            silhouette_score(X, lab)

        sub = X[np.random.default_rng(0).choice(n, size=min(n, 5000), replace=False)]
        eps = suggest_eps(k_distance(sub, k=10))

        def dbscan_step():
            res = run_clustering(X, algorithm="dbscan", params={"eps": eps, "min_samples": 10})
            evaluate(X, res, label_columns=truth, sample_size=ss)

        a_iter = iter(np.linspace(0.1, 3.0, 50))

        def fusion_step():
            alpha = float(next(a_iter))
            valid = np.ones(n, bool)
            Z = concat_blocks([(X, valid, 1.0), (lyr, lvalid, alpha)], required=valid)
            res = run_clustering(Z, algorithm="kmeans", params={"n_clusters": 8})
            evaluate(Z, res, label_columns=truth, sample_size=ss)

        project(X, method="pca")

        def map_read():
            assert cached_projection(X, "pca") is not None

        row = {"n": n, "kmeans k change": timed(kmeans_step, reps)}
        row["baseline: KMeans() + full silhouette"] = timed(kmeans_baseline, 1) if n <= 20_000 else float("nan")
        t = time.perf_counter()
        res = run_clustering(X, algorithm="dbscan", params={"eps": eps, "min_samples": 10})
        first = (time.perf_counter() - t) * 1000
        row["dbscan first eps (cold)"] = first
        row["dbscan eps change"] = timed(dbscan_step, reps)
        row["dbscan clusters / noise"] = f"{res.n_clusters} / {res.noise_share:.0%}"
        row["fusion α change"] = timed(fusion_step, reps)
        row["cached map read"] = timed(map_read, reps)
        rows.append(row)
        print(f"n={n}: " + ", ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                                     if k != "n"), file=sys.stderr, flush=True)

    cols = list(rows[0])
    lines = [f"Server time per slider move, ms (median of {args.repeats}; 1 run at 100k); d=32, 8 blobs; "
             f"Silhouette sampled at {args.sample_size}. {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}.", "",
             "| " + " | ".join(cols) + " |", "|" + "|".join("---:" for _ in cols) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(
            (f"{r[c]:,}" if c == "n" else ("—" if isinstance(r[c], float) and r[c] != r[c] else
                                          (f"{r[c]:.0f}" if isinstance(r[c], float) else str(r[c])))) for c in cols) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
