"""Cost curves from 1,000 to 100,000 tracks, and extraction on Dask vs the local pool.

    nice -n 10 .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--stage-timeout 300]
                                               [--extract 60] [--seconds 30] [--rounds 2] [--out FILE.md] [--stages a,b]

Curves (``--sizes``): every step runs in its own child process, so its wall time and its peak RSS
(``resource.getrusage``, including the ~interpreter + numpy + scikit-learn baseline, which is reported
as "imports") are its own; "(+x)" is the peak's growth during the timed part, after the inputs were made.
A step that does not finish in ``--stage-timeout`` seconds is reported as such.

  write      an 80-D feature of n tracks (8 Gaussian blobs) written through the feature writer
             (core.features.extract: blocks of 4,096 rows streamed into a memory-mapped .npy), read back
             as a memmap FeatureSet; baseline: the whole (n, 80) array built in memory and np.save'd
  pca        build_representation(pca, 32 components) of that feature (read memory-mapped); baseline:
             the same StandardScaler + PCA on the array loaded into memory
  umap       core.project.project(n × 32 blobs, method="umap") to 2-D (numba compiled first, not timed)
  kmeans / dbscan (first eps: builds the reusable MST) / hdbscan / gmm   run_clustering on n × 32 blobs
  metrics    internal_metrics with Silhouette sampled at 2,000 points
  k change   kmeans with another k + sampled metrics (a slider move, after a first call)
  eps change dbscan with another eps + sampled metrics (a slider move, after the first eps)

Extraction (``--extract N``): N synthetic ``--seconds``-s WAV clips (bench/extract.py's generator), then
get_features(mfcc_stats) end to end with two workers on each executor, each in its own child process,
rounds interleaved, best of ``--rounds``:

  local      the default: this machine's process pool (jobs=2, forked from a warm forkserver; pool start
             included)
  dask       scheduler "local-dask": a Dask LocalCluster of 2 single-threaded worker processes (cluster
             start reported separately, not included; workers import librosa on their first task)

Prints Markdown tables (and writes them to --out); writes a log-log PNG beside --out when matplotlib is
installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "songscape-numba-cache"))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

D_FEATURE, D_EMBED, BLOBS, BLOCK = 80, 32, 8, 4096
STAGES = ("imports", "write", "write baseline", "pca", "pca baseline", "umap", "kmeans", "dbscan", "hdbscan",
          "gmm", "metrics", "k change")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------- synthetic data

def blob_rows(start: int, m: int, d: int, seed: int = 0) -> np.ndarray:
    """Rows start … start+m of n × d Gaussian blobs (row i in blob i % BLOBS), the same for any block split."""
    centres = np.random.default_rng(seed).normal(scale=4.0, size=(BLOBS, d)).astype(np.float32)
    rng = np.random.default_rng([seed, start])
    return centres[np.arange(start, start + m) % BLOBS] + rng.standard_normal((m, d), dtype=np.float32)


def blobs(n: int, d: int) -> np.ndarray:
    return np.concatenate([blob_rows(s, min(BLOCK, n - s), d) for s in range(0, n, BLOCK)])


class SyntheticGroup:
    """Feature-level data without audio: one 80-D feature streamed to the writer in blocks."""

    kind = "synthetic"

    def names(self):
        return ["synthetic80"]

    def unavailable(self, dataset):
        return ""

    def config(self, cfg):
        return {"d": D_FEATURE, "blobs": BLOBS}

    def fingerprint(self, dataset, cfg):
        from core.hashing import fingerprint

        return fingerprint("synthetic", dataset.fingerprint, D_FEATURE, BLOBS)

    def compute(self, dataset, cfg, *, group_fp, progress, cancel, jobs, scheduler=None):
        from core.features.extract import GroupResult

        n = len(dataset.tracks)

        def gen():
            for s in range(0, n, BLOCK):
                yield s, {"synthetic80": blob_rows(s, min(BLOCK, n - s), D_FEATURE)}

        return GroupResult(arrays={}, valid=np.ones(n, bool), shapes={"synthetic80": (D_FEATURE,)}, blocks=gen)


def register_synthetic() -> None:
    from core.features.base import FEATURES, FeatureSpec
    from core.features.extract import GROUPS

    if "synthetic" not in GROUPS:
        GROUPS.add("synthetic", SyntheticGroup())
        FEATURES.add("synthetic80", FeatureSpec("synthetic80", "synthetic 80-D", "synthetic", (D_FEATURE,)))


def make_dataset(n: int):
    import pandas as pd

    from core.datasets import ImportResult, load_dataset, save_dataset

    name = f"scale{n}"
    try:
        return load_dataset(name)
    except Exception:  # noqa: BLE001 - not there yet
        save_dataset(name, ImportResult(tracks=pd.DataFrame({"track_id": [f"t{i:07d}" for i in range(n)],
                                                             "title": [f"track {i}" for i in range(n)]})))
        return load_dataset(name)


# ---------------------------------------------------------------- one step (in a child process)

def step(stage: str, n: int) -> dict:
    """Run one stage; → {"seconds", "rss_mb", "note"}. Inputs are prepared before the clock starts."""
    import sklearn.cluster  # noqa: F401 - the imports every stage pays, before the clock
    import sklearn.decomposition  # noqa: F401

    from core.cluster import run_clustering
    from core.metrics import internal_metrics

    register_synthetic()
    note = ""
    if stage == "imports":
        return {"seconds": 0.0, "rss_mb": rss_mb(), "note": ""}
    if stage in ("write", "pca", "pca baseline"):
        ds = make_dataset(n)
    X = blobs(n, D_EMBED) if stage in ("umap", "kmeans", "dbscan", "hdbscan", "gmm", "metrics", "k change") else None
    before = rss_mb()  # after the inputs exist: the step's own memory is the peak above this
    t0 = time.perf_counter()
    if stage == "write":
        from core.features import get_features

        fs = get_features(ds, "synthetic80")
        assert isinstance(fs.X, np.memmap) and fs.X.shape == (n, D_FEATURE)
        note = f"{fs.X.nbytes / 1e6:.1f} MB on disk"
    elif stage == "write baseline":
        path = Path(tempfile.mkdtemp()) / "whole.npy"
        np.save(path, blobs(n, D_FEATURE))
    elif stage == "pca":
        from core.represent import build_representation

        rep = build_representation(ds, {"kind": "pca", "params": {"feature": "synthetic80", "n_components": 32}})
        note = f"explained variance {rep.meta['explained_variance']:.2f}"
    elif stage == "pca baseline":
        from core.features import FeatureConfig
        from core.features.extract import GROUPS, group_dir
        from core.represent import pca_reduce

        path = group_dir(ds, GROUPS.get("synthetic").fingerprint(ds, FeatureConfig())) / "synthetic80.npy"
        X80 = np.load(path)  # into memory
        pca_reduce(X80, np.ones(n, bool), 32)
    elif stage == "umap":
        from core.project import project, warmup

        warmup("umap", background=False)  # numba compiles (or loads its cache) before the clock
        note = f"compile/load {time.perf_counter() - t0:.0f} s, not included"
        t0 = time.perf_counter()
        project(X, method="umap")
    elif stage == "kmeans":
        res = run_clustering(X, algorithm="kmeans", params={"n_clusters": BLOBS})
        note = f"{res.n_clusters} clusters"
    elif stage == "dbscan":
        res = run_clustering(X, algorithm="dbscan", params={"eps": "auto", "min_samples": 10})
        first = time.perf_counter() - t0
        eps = float(res.params["eps"]) * 1.1
        t1 = time.perf_counter()
        res2 = run_clustering(X, algorithm="dbscan", params={"eps": eps, "min_samples": 10})
        internal_metrics(X, res2.labels, sample_size=2000)
        return {"seconds": first, "rss_mb": rss_mb(), "note": f"{res.n_clusters} clusters",
                "eps change": time.perf_counter() - t1}
    elif stage == "hdbscan":
        res = run_clustering(X, algorithm="hdbscan", params={"min_cluster_size": "auto"})
        note = f"{res.n_clusters} clusters"
    elif stage == "gmm":
        res = run_clustering(X, algorithm="gmm", params={"n_components": BLOBS})
        note = f"{res.n_clusters} clusters"
    elif stage == "metrics":
        labels = np.arange(n) % BLOBS
        t0 = time.perf_counter()
        internal_metrics(X, labels, sample_size=2000)
    elif stage == "k change":
        run_clustering(X, algorithm="kmeans", params={"n_clusters": BLOBS})
        t0 = time.perf_counter()
        res = run_clustering(X, algorithm="kmeans", params={"n_clusters": BLOBS + 1})
        internal_metrics(X, res.labels, sample_size=2000)
    return {"seconds": time.perf_counter() - t0, "rss_mb": rss_mb(), "rss_before_mb": before, "note": note}


def extract_round(variant: str, data: str, jobs: int) -> dict:
    from core.datasets import load_dataset
    from core.features import get_features
    from core.features.extract import features_root

    ds = load_dataset("clips")
    shutil.rmtree(features_root(ds), ignore_errors=True)
    out = {}
    scheduler = "local"
    if variant == "dask":
        from core.executors import local_dask_address

        t0 = time.perf_counter()
        scheduler = local_dask_address(jobs=jobs)
        out["cluster start"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fs = get_features(ds, "mfcc_stats", jobs=jobs, scheduler=scheduler)
    out["seconds"] = time.perf_counter() - t0
    assert fs.valid.all(), fs.errors
    out["checksum"] = float(np.asarray(fs.X, np.float64).sum())
    return out


# ---------------------------------------------------------------- driver

def child(argv: list[str], timeout: float, home: str) -> dict | None:
    env = {**os.environ, "SONGSCAPE_HOME": home}
    try:
        r = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0:
        raise RuntimeError(f"{argv} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def curves(sizes: list[int], timeout: float, stages=STAGES) -> tuple[list[dict], str]:
    rows = []
    for n in sizes:
        home = tempfile.mkdtemp(prefix=f"songscape-scale-{n}-")
        row = {"n": n}
        for stage in stages:
            got = child(["--child", stage, "--n", str(n)], timeout, home)
            row[stage] = got
            if got and "eps change" in got:
                row["eps change"] = {"seconds": got["eps change"], "rss_mb": got["rss_mb"], "note": ""}
            msg = "did not finish" if got is None else f"{got['seconds']:.2f}s {got['rss_mb']:.0f}MB {got['note']}"
            print(f"n={n:>7,} {stage:15s} {msg}  ({load()})", file=sys.stderr, flush=True)
        shutil.rmtree(home, ignore_errors=True)
        rows.append(row)
    return rows, load()


def curves_table(rows: list[dict], timeout: float) -> str:
    stages = [s for s in (*STAGES[1:], "eps change") if any(s in r for r in rows)
              and not (s == "eps change" and not any("dbscan" in r for r in rows))]
    head = ("Wall seconds / peak RSS MiB of each step in its own process (RSS includes the imports row: "
            f"Python + numpy + scikit-learn + core). '—': not finished within {timeout:.0f} s.")
    lines = [head, "", "| step | " + " | ".join(f"n = {r['n']:,}" for r in rows) + " |",
             "|---|" + "|".join("---:" for _ in rows) + "|"]
    imp = "| imports (RSS) | " + " | ".join(f"{r['imports']['rss_mb']:.0f} MiB" if r.get("imports") else "n/a"
                                            for r in rows) + " |"
    lines.append(imp)
    for s in stages:
        cells = []
        for r in rows:
            g = r.get(s)
            cells.append(("—" if s in r else "n/a") if not g else f"{g['seconds']:.2f} s / {g['rss_mb']:.0f} MiB"
                         + (f" (+{g['rss_mb'] - g['rss_before_mb']:.0f})" if "rss_before_mb" in g else "")
                         + (f" ({g['note']})" if g.get("note") else ""))
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], out: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, s in enumerate((*STAGES[1:], "eps change")):
        pts = [(r["n"], r[s]["seconds"]) for r in rows if r.get(s) and r[s]["seconds"] > 0]
        if pts:
            ax.plot(*zip(*pts), marker="osD^v<>"[i % 7], linestyle="-" if i < 10 else "--", label=s)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tracks")
    ax.set_ylabel("wall seconds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return str(out)


def extraction(n: int, seconds: float, rounds: int, timeout: float) -> str:
    import pandas as pd

    sys.path.insert(0, str(ROOT / "bench"))
    from extract import generate_some  # bench/extract.py's clip generator

    from core.datasets import ImportResult, save_dataset

    home = tempfile.mkdtemp(prefix="songscape-scale-extract-")
    os.environ["SONGSCAPE_HOME"] = home
    folder = Path(home) / "clips"
    folder.mkdir()
    paths = generate_some(list(range(n)), seconds, folder, "wav", 22050, 1, 2)
    save_dataset("clips", ImportResult(tracks=pd.DataFrame({"track_id": [f"c{i}" for i in range(n)],
                                                            "path": paths, "duration_s": seconds})))
    best: dict[str, dict] = {}
    loads = []
    for r in range(rounds):
        for variant in ("local", "dask"):
            got = child(["--extract-child", variant], timeout, home)
            loads.append(load())
            print(f"extract {variant} round {r + 1}: {got}  ({loads[-1]})", file=sys.stderr, flush=True)
            if got and (variant not in best or got["seconds"] < best[variant]["seconds"]):
                best[variant] = got
    shutil.rmtree(home, ignore_errors=True)
    loc, dk = best.get("local"), best.get("dask")
    if loc and dk and abs(loc["checksum"] - dk["checksum"]) > 1e-6 * max(1.0, abs(loc["checksum"])):
        raise AssertionError(f"dask and local features differ: {loc['checksum']} vs {dk['checksum']}")
    lines = [f"{n} × {seconds:g}-s WAV clips, mfcc_stats (the whole audio pass), 2 workers each, best of {rounds} "
             f"interleaved rounds; {loads[-1] if loads else ''}.", "",
             "| executor | seconds | clips/s | vs local |", "|---|---:|---:|---:|"]
    for name, g in (("local process pool (default)", loc), ("Dask LocalCluster, 2 workers", dk)):
        if g:
            rel = f"{g['seconds'] / loc['seconds'] - 1:+.0%}" if loc else ""
            lines.append(f"| {name} | {g['seconds']:.1f} | {n / g['seconds']:.1f} | {rel} |")
    if dk and "cluster start" in dk:
        lines.append(f"| Dask cluster start (not included above) | {dk['cluster start']:.1f} | | |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(step(argv[1], int(argv[3]))))
        return 0
    if argv and argv[0] == "--extract-child":
        print(json.dumps(extract_round(argv[1], "", 2)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--stage-timeout", type=float, default=300.0)
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    ap.add_argument("--extract", type=int, default=0, help="also time extraction of this many clips (0: skip)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    header = (f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; at start: {load()}.")
    parts = [header, ""]
    if args.sizes:
        stages = [s for s in args.stages.split(",") if s in STAGES]
        rows, end_load = curves([int(s) for s in args.sizes.split(",") if s], args.stage_timeout, stages)
        parts += [curves_table(rows, args.stage_timeout), f"At the end of the curves: {end_load}.", ""]
        if args.out:
            Path(args.out).with_suffix(".json").write_text(json.dumps(rows), encoding="utf-8")
            png = plot(rows, Path(args.out).with_suffix(".png"))
            parts.append(f"Plot: {png}" if png else "No plot: matplotlib is not installed.")
            parts.append("")
    if args.extract:
        parts.append(extraction(args.extract, args.seconds, args.rounds, args.stage_timeout))
    text = "\n".join(parts)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
