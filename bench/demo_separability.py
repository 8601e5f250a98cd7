"""How separable are the demo corpus's genres? KMeans ARI and nearest-centroid accuracy on mfcc_stats.

    .venv/bin/python bench/demo_separability.py [--tracks 240] [--seconds 10] [--seed 0] [--jobs 2]

Generates the corpus in a throwaway workspace, extracts ``mfcc_stats``, standardizes it, then
reports KMeans(k=6, n_init=10, random_state=0) ARI/NMI against genre, the silhouette of the genre
labels, and 5-fold nearest-centroid genre accuracy. The target for a realistic corpus: ARI about
0.25-0.6 (overlapping genres) and nearest-centroid accuracy >= 0.6 (still distinguishable).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=240)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="songscape_sep_")
    os.environ["SONGSCAPE_HOME"] = home
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
    from sklearn.model_selection import StratifiedKFold

    from core.datasets.demo import ensure_demo_dataset
    from core.features import get_features

    t0 = time.perf_counter()
    ds = ensure_demo_dataset(n_tracks=args.tracks, seconds=args.seconds, seed=args.seed, jobs=args.jobs)
    t_gen = time.perf_counter() - t0
    fs = get_features(ds, "mfcc_stats", jobs=args.jobs)
    X = np.asarray(fs.X, dtype=float)
    X = (X - X.mean(0)) / (X.std(0) + 1e-9)
    y = ds.tracks.set_index("track_id").loc[list(fs.track_ids), "genre"].to_numpy()
    pred = KMeans(n_clusters=6, n_init=10, random_state=0).fit_predict(X)
    hits = 0
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        genres = np.unique(y[tr])
        cents = np.stack([X[tr][y[tr] == g].mean(0) for g in genres])
        d = ((X[te][:, None, :] - cents[None]) ** 2).sum(-1)
        hits += int((genres[d.argmin(1)] == y[te]).sum())
    print(f"corpus {args.tracks} x {args.seconds:g} s (seed {args.seed}) generated in {t_gen:.1f} s")
    print(f"KMeans k=6 ARI={adjusted_rand_score(y, pred):.3f} NMI={normalized_mutual_info_score(y, pred):.3f} "
          f"| genre silhouette={silhouette_score(X, y):.3f} | nearest-centroid 5-fold acc={hits / len(y):.3f}")


if __name__ == "__main__":
    main()
