"""Real-music benchmark: cluster redistributable game soundtracks from Debian and score against the package.

    nice -n 15 .venv/bin/python bench/realdata.py [--packages a,b,c] [--max-clips 40] [--out DIR]
                                                  [--skip-musicnn] [--skip-conv] [--epochs 30] [--seed 0]

Downloads each package with ``apt-get download`` (running ``apt-get update`` once if the archive index
does not know it) into ``OUT/debs``, unpacks it with ``dpkg-deb -x`` and keeps its audio files (Ogg
Vorbis, Opus, MP3, FLAC, WAV). A file the importer refuses as truncated is reported, decoded completely
and re-written as FLAC, so its package still takes part. Frets on Fire song folders hold separate stems (``song.ogg`` = the band
without the lead guitar, ``guitar.ogg``, sometimes ``rhythm.ogg``): they are mixed down to one mono FLAC
per song, so a clip is the whole song and not a solo stem. Every other file is used as it is.

The tracks are imported with the folder importer (``segment_seconds=30``, trailing pieces under 30 s
dropped) and a ``metadata.csv`` whose ``genre`` column is the package name. At most ``--max-clips``
segments per package are kept (round-robin over the package's tracks, seeded), so the classes stay
roughly balanced and one long soundtrack does not dominate. Nothing is written into the repository:
the workspace (``SONGSCAPE_HOME``) and trained models (``SONGSCAPE_MODELS``) live under ``OUT``
(default: a new temporary folder, printed; pass it again to reuse downloads, features and models).

Scores every representation × clusterer with NMI / ARI against the package label
(``core.metrics.evaluate``; HDBSCAN/DBSCAN noise points count as their own clusters):

  representations  raw and PCA(16) of mfcc_stats, spectral_stats, chroma_stats, contrast_stats;
                   time_mean and PCA(16) of logmel; the μ of an MLP VAE on mfcc_stats and of a Conv2D
                   VAE on logmel (``--epochs``); raw and PCA(16) of musicnn_mtt / musicnn_msd; UMAP-8
                   of the three best of those (by K-Means NMI)
  clusterers       kmeans, agglomerative (ward), gmm with k = number of packages; hdbscan
                   (min_cluster_size "auto"), dbscan (eps "auto")

and, in the same run, a naive scikit-learn pipeline that shares no code with Songscape: librosa
``load`` (22,050 Hz mono, the same 30-s spans) → MFCC(20) mean + std → StandardScaler → PCA(16) →
KMeans(k, n_init=10). Prints Markdown tables, the wall and CPU time of every step and the load
average; writes ``OUT/results.json`` and ``OUT/table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PACKAGES = ("fretsonfire-songs-muldjord", "singularity-music", "warzone2100-music", "asc-music")
AUDIO_EXT = (".ogg", ".opus", ".mp3", ".flac", ".wav")
STEMS = ("song", "guitar", "rhythm", "drums", "bass", "keys", "vocals")  # Frets on Fire song folders
SEGMENT = 30.0
PCA_DIMS = 16
CLUSTERERS = ("kmeans", "agglomerative", "gmm", "hdbscan", "dbscan")
K_BASED = ("kmeans", "agglomerative", "gmm")


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Clock:
    """Wall and CPU time of named steps."""

    def __init__(self):
        self.steps: list[dict] = []

    def step(self, name: str):
        clock = self

        class _Step:
            def __enter__(self):
                self.w, self.c = time.perf_counter(), cpu_seconds()
                return self

            def __exit__(self, *exc):
                rec = {"step": name, "wall_s": round(time.perf_counter() - self.w, 2),
                       "cpu_s": round(cpu_seconds() - self.c, 2), "load1": round(os.getloadavg()[0], 2)}
                clock.steps.append(rec)
                print(f"  [{name}] {rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} CPU-s, load {rec['load1']}",
                      flush=True)
                return False

        return _Step()


# ----------------------------------------------------------------------------------------------- data

def apt_download(pkg: str, debs: Path, state: dict) -> Path:
    """The package's .deb in ``debs`` (downloaded unless already there). Raises RuntimeError."""
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    if found:
        return found[-1]
    for attempt in range(2):
        run = subprocess.run(["apt-get", "download", pkg], cwd=debs, capture_output=True, text=True)
        found = sorted(debs.glob(f"{pkg}_*.deb"))
        if run.returncode == 0 and found:
            return found[-1]
        if attempt == 0 and not state.get("updated"):
            print("  apt-get download failed; running apt-get update once", flush=True)
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            state["updated"] = True
            continue
        break
    raise RuntimeError((run.stderr or run.stdout).strip().splitlines()[-1] if (run.stderr or run.stdout)
                       else f"apt-get download {pkg} exited {run.returncode}")


def mix_stems(files: list[Path], dest: Path) -> None:
    """Sum the stems (downmixed to mono, same sample rate) into one 16-bit FLAC, peak-normalised if it clips."""
    import numpy as np
    import soundfile as sf

    total, sr = None, None
    for f in files:
        y, rate = sf.read(str(f), dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        if sr is None:
            sr, total = rate, y
        elif rate != sr:
            raise RuntimeError(f"stems at different sample rates in {f.parent}")
        else:
            n = max(len(total), len(y))
            total = np.pad(total, (0, n - len(total))) + np.pad(y, (0, n - len(y)))
    peak = float(np.max(np.abs(total))) if total is not None and len(total) else 0.0
    if peak > 0.999:
        total = total * (0.999 / peak)
    sf.write(str(dest), total, sr, subtype="PCM_16", format="FLAC")


def stage_package(pkg: str, deb: Path, work: Path, music: Path) -> list[dict]:
    """Unpack ``deb`` and put its tracks into ``music/pkg/``. Returns metadata rows (path, title, genre, format)."""
    unpacked = work / "unpacked" / pkg
    if not unpacked.exists():
        tmp = work / "unpacked" / f".{pkg}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        tmp.rename(unpacked)
    files = sorted(p for p in unpacked.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXT)
    dest_dir = music / pkg
    dest_dir.mkdir(parents=True, exist_ok=True)
    rows, seen = [], set()
    by_dir: dict[Path, list[Path]] = {}
    for f in files:
        by_dir.setdefault(f.parent, []).append(f)
    for folder, group in sorted(by_dir.items()):
        stems = [f for f in group if f.stem.lower() in STEMS]
        if any(f.stem.lower() == "song" for f in stems) and len(stems) > 1:  # a Frets on Fire song folder
            title = folder.name
            dest = dest_dir / f"{_safe(title)}.flac"
            if not dest.exists():
                mix_stems(stems, dest)
            rows.append({"path": str(dest.relative_to(music)), "title": title, "genre": pkg,
                         "format": f"{stems[0].suffix.lstrip('.')} stems mixed to flac"})
            seen.update(stems)
        for f in group:
            if f in seen:
                continue
            rel = f.relative_to(unpacked)
            dest = dest_dir / f"{_safe('_'.join(rel.parts[-3:-1] + (rel.stem,)))}{f.suffix.lower()}"
            if not dest.exists():
                try:
                    os.link(f, dest)
                except OSError:
                    shutil.copy2(f, dest)
            rows.append({"path": str(dest.relative_to(music)), "title": f.stem, "genre": pkg,
                         "format": f.suffix.lower().lstrip(".")})
    return rows


def _seconds(path: Path) -> float:
    import soundfile as sf

    return sf.info(str(path)).duration


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "track"


def cap_clips(tracks, max_clips: int, seed: int):
    """At most ``max_clips`` segment rows per genre: round-robin over the genre's tracks (in a seeded order),
    each track's segments in a seeded order, so the kept clips spread over every track."""
    import numpy as np

    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for genre, rows in tracks.groupby("genre", sort=True):
        per_track = [list(rng.permutation(idx.to_numpy())) for _, idx in
                     rows.groupby("parent_id", sort=True).groups.items()]
        per_track = [per_track[i] for i in rng.permutation(len(per_track))]
        taken = 0
        while taken < max_clips and any(per_track):
            for lst in per_track:
                if lst and taken < max_clips:
                    keep.append(int(lst.pop()))
                    taken += 1
    positions = sorted(tracks.index.get_indexer(keep))
    return tracks.iloc[positions].reset_index(drop=True)


# ------------------------------------------------------------------------------------ naive baseline

def naive_baseline(tracks, music: Path, k: int, seed: int) -> dict:
    """librosa MFCC(20) mean+std → StandardScaler → PCA(16) → KMeans(k); no Songscape code."""
    import librosa
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.preprocessing import StandardScaler

    feats = []
    for rec in tracks.to_dict(orient="records"):
        path = Path(rec["path"])
        path = path if path.is_absolute() else music / path
        y, sr = librosa.load(str(path), sr=22050, mono=True, offset=float(rec.get("offset_s") or 0.0),
                             duration=float(rec["duration_s"]))
        m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
        feats.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
    X = StandardScaler().fit_transform(np.asarray(feats))
    Z = PCA(n_components=min(PCA_DIMS, X.shape[0] - 1, X.shape[1]), random_state=seed).fit_transform(X)
    pred = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(Z)
    truth = tracks["genre"].to_numpy()
    return {"nmi": float(normalized_mutual_info_score(truth, pred)), "ari": float(adjusted_rand_score(truth, pred)),
            "n": int(len(truth))}


# ------------------------------------------------------------------------------------------- scoring

def score(X, valid, labels, k: int, seed: int, uses_labels=()) -> dict:
    from core.cluster import cluster_rows
    from core.metrics import evaluate

    params = {"kmeans": {"n_clusters": k}, "agglomerative": {"n_clusters": k, "linkage": "ward"},
              "gmm": {"n_components": k}, "hdbscan": {"min_cluster_size": "auto"}, "dbscan": {"eps": "auto"}}
    out = {}
    for algo in CLUSTERERS:
        try:
            res = cluster_rows(X, valid, algorithm=algo, params=params[algo], random_state=seed)
            rep = evaluate(X, res, label_columns={"package": labels}, uses_labels=uses_labels)
            v = rep.values
            out[algo] = {"nmi": float(v["nmi_package"]), "ari": float(v["ari_package"]),
                         "n_clusters": int(v["n_clusters"]), "noise_share": float(v["noise_share"]),
                         "params": {kk: (vv if isinstance(vv, (int, float, str)) else str(vv))
                                    for kk, vv in dict(res.params).items()}}
        except Exception as exc:  # reported in the table, never silently dropped
            out[algo] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def cell(r: dict, algo: str) -> str:
    if "error" in r:
        return "failed"
    if r["n_clusters"] == 0:
        return "all noise"
    text = f"{r['nmi']:.2f} / {r['ari']:.2f}"
    if algo in ("hdbscan", "dbscan"):
        text += f" ({r['n_clusters']} cl, {100 * r['noise_share']:.0f} % noise)"
    return text


def k_mean_nmi(scores: dict) -> float:
    vals = [scores[a]["nmi"] for a in K_BASED if "nmi" in scores.get(a, {})]
    return sum(vals) / len(vals) if vals else float("nan")


# ---------------------------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packages", default=",".join(DEFAULT_PACKAGES), help="Comma-separated Debian packages.")
    ap.add_argument("--max-clips", type=int, default=40, help="At most this many 30-s clips per package.")
    ap.add_argument("--out", default=None, help="Work folder (downloads, workspace, models, results).")
    ap.add_argument("--skip-musicnn", action="store_true", help="Leave out the musicnn embeddings (~2 CPU-s/clip).")
    ap.add_argument("--skip-conv", action="store_true", help="Leave out the Conv2D VAE on log-mel.")
    ap.add_argument("--epochs", type=int, default=30, help="Training epochs of each VAE.")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)  # umap, seeded on purpose

    out = Path(args.out).expanduser().resolve() if args.out else Path(tempfile.mkdtemp(prefix="songscape-realdata-"))
    out.mkdir(parents=True, exist_ok=True)
    os.environ["SONGSCAPE_HOME"] = str(out / "home")
    os.environ["SONGSCAPE_MODELS"] = str(out / "models")
    print(f"work folder: {out}", flush=True)
    load_start = os.getloadavg()
    t0, c0 = time.perf_counter(), cpu_seconds()
    clock = Clock()
    results: dict = {"packages": {}, "load_start": [round(x, 2) for x in load_start], "cpu_count": os.cpu_count()}

    # ---- download, unpack, stage
    debs, music = out / "debs", out / "music"
    debs.mkdir(exist_ok=True)
    shutil.rmtree(music, ignore_errors=True)
    music.mkdir()
    meta_rows, apt_state = [], {}
    with clock.step("download + unpack + stage"):
        for pkg in [p.strip() for p in args.packages.split(",") if p.strip()]:
            try:
                deb = apt_download(pkg, debs, apt_state)
                rows = stage_package(pkg, deb, out, music)
                if not rows:
                    raise RuntimeError("no audio files in the package")
                meta_rows += rows
                results["packages"][pkg] = {"deb": deb.name, "deb_mb": round(deb.stat().st_size / 1e6, 1),
                                            "files": len(rows),
                                            "formats": sorted({r["format"] for r in rows})}
                print(f"  {pkg}: {deb.name} ({deb.stat().st_size / 1e6:.1f} MB), {len(rows)} tracks, "
                      f"{', '.join(sorted({r['format'] for r in rows}))}", flush=True)
            except Exception as exc:
                results["packages"][pkg] = {"error": str(exc)}
                print(f"  {pkg}: SKIPPED ({exc})", flush=True)
    import pandas as pd

    pd.DataFrame(meta_rows, columns=["path", "title", "genre"]).to_csv(music / "metadata.csv", index=False)
    if len({r["genre"] for r in meta_rows}) < 2:
        print("fewer than 2 packages available; nothing to compare", file=sys.stderr)
        return 1

    # ---- import (segmented), cap, save
    from core.datasets import ImportResult, save_dataset
    from core.datasets.importers import import_dataset

    with clock.step("import (30-s segments) + cap"):
        full = import_dataset(music, layout="folder", name="realdata_all", segment_seconds=SEGMENT,
                              min_seconds=SEGMENT, replace=True)
        rejected = [{"item": s.item, "reason": s.reason} for s in full.skipped]
        for s in rejected:
            print(f"  importer skipped {s['item']}: {s['reason']}", flush=True)
        redo = [s for s in rejected if s["reason"].startswith("truncated") and (music / s["item"]).is_file()]
        if redo:  # decode what the importer refused and write it as FLAC, so the package still takes part
            meta = pd.read_csv(music / "metadata.csv")
            for s in redo:
                src = music / s["item"]
                dest = src.with_suffix(".flac")
                mix_stems([src], dest)
                src.unlink()
                meta.loc[meta["path"] == s["item"], "path"] = str(dest.relative_to(music))
                s["workaround"] = f"decoded completely ({_seconds(dest):.2f} s) and re-written as FLAC"
                print(f"  {s['item']}: {s['workaround']}", flush=True)
            meta.to_csv(music / "metadata.csv", index=False)
            full = import_dataset(music, layout="folder", name="realdata_all", segment_seconds=SEGMENT,
                                  min_seconds=SEGMENT, replace=True)
        results["importer_skipped"] = rejected
        tracks = cap_clips(full.tracks, args.max_clips, args.seed)
        ds = save_dataset("realdata", ImportResult(tracks=tracks, layout="folder", source=str(music)),
                          extra_info={"label_columns": ["genre"], "options": {"segment_seconds": SEGMENT}},
                          replace=True)
    labels = ds.tracks["genre"].astype(str).to_numpy()
    counts = ds.tracks["genre"].value_counts().sort_index()
    seg_all = full.tracks["genre"].value_counts().sort_index()
    for pkg in counts.index:
        results["packages"][pkg].update(segments=int(seg_all[pkg]), clips=int(counts[pkg]),
                                        tracks_used=int(ds.tracks.loc[ds.tracks.genre == pkg, "parent_id"].nunique()))
    k = int(len(counts))
    if k < 2:
        print("fewer than 2 packages have clips; nothing to compare", file=sys.stderr)
        return 1
    results.update(n_clips=int(len(ds.tracks)), k=k, skipped_files=len(full.skipped))
    print(f"  {len(ds.tracks)} clips of {SEGMENT:.0f} s, k = {k}: "
          + ", ".join(f"{p} {n}" for p, n in counts.items())
          + (f"; {len(full.skipped)} files still skipped by the importer" if full.skipped else ""), flush=True)

    # ---- naive baseline (independent code path)
    with clock.step("naive baseline (librosa + sklearn)"):
        try:
            results["naive"] = naive_baseline(ds.tracks, music, k, args.seed)
        except Exception as exc:
            results["naive"] = {"error": f"{type(exc).__name__}: {exc}"}
    print(f"  naive: {results['naive']}", flush=True)

    # ---- features
    from core.features import get_features

    feature_names = ["mfcc_stats", "spectral_stats", "chroma_stats", "contrast_stats", "logmel"]
    if not args.skip_musicnn:
        feature_names += ["musicnn_mtt", "musicnn_msd"]
    have, failures = set(), {}
    for name in feature_names:
        with clock.step(f"features {name}"):
            try:
                fs = get_features(ds, name, jobs=1)
                n_valid = int(getattr(fs, "valid", None).sum()) if getattr(fs, "valid", None) is not None else None
                have.add(name)
                if n_valid is not None and n_valid < len(ds.tracks):
                    why = "; ".join(sorted(set(dict(getattr(fs, "errors", {}) or {}).values()))[:3])
                    failures[f"features {name}"] = f"only {n_valid}/{len(ds.tracks)} clips valid: {why}"
                    print(f"  {name}: only {n_valid}/{len(ds.tracks)} clips valid ({why})", flush=True)
            except Exception as exc:
                failures[f"features {name}"] = f"{type(exc).__name__}: {exc}"
                print(f"  {name}: FAILED {exc}", flush=True)

    # ---- trained models
    from core.training import TrainConfig, train_on_dataset

    models = {}
    todo = [("mlp_vae", "mfcc_stats")] + ([] if args.skip_conv else [("conv2d_vae", "logmel")])
    for model, feat in todo:
        if feat not in have:
            continue
        with clock.step(f"train {model} on {feat} ({args.epochs} epochs)"):
            try:
                tr = train_on_dataset(dataset=ds, model=model, features={"x": feat},
                                      config=TrainConfig(epochs=args.epochs, seed=args.seed, device="cpu"))
                models[model] = {"model_id": tr.model_id, "best_epoch": tr.best_epoch, "status": tr.status,
                                 "seconds": round(tr.seconds, 1),
                                 "last": {kk: round(float(vv), 4) for kk, vv in (tr.history[-1] if tr.history else {}).items()
                                          if isinstance(vv, (int, float))}}
            except Exception as exc:
                failures[f"train {model}"] = f"{type(exc).__name__}: {exc}"
                print(f"  {model}: FAILED {exc}", flush=True)
    results["models"] = models

    # ---- representations × clusterers
    from core.represent import build_representation

    reps: list[tuple[str, str, dict]] = []  # (row name, learned-vs comparator group, spec)
    for f in ("mfcc_stats", "spectral_stats", "chroma_stats", "contrast_stats", "musicnn_mtt", "musicnn_msd"):
        if f in have:
            reps.append((f"raw {f}", f, {"kind": "raw", "params": {"feature": f}}))
            reps.append((f"PCA-{PCA_DIMS} {f}", f, {"kind": "pca", "params": {"feature": f, "n_components": PCA_DIMS}}))
    if "logmel" in have:
        reps.append(("time_mean logmel", "logmel", {"kind": "time_mean", "params": {"feature": "logmel"}}))
        reps.append((f"PCA-{PCA_DIMS} logmel (flattened)", "logmel",
                     {"kind": "pca", "params": {"feature": "logmel", "n_components": PCA_DIMS}}))
    if "mlp_vae" in models:
        reps.append(("MLP VAE μ (mfcc_stats)", "mfcc_stats",
                     {"kind": "latent", "params": {"model_id": models["mlp_vae"]["model_id"]}}))
    if "conv2d_vae" in models:
        reps.append(("Conv2D VAE μ (logmel)", "logmel",
                     {"kind": "latent", "params": {"model_id": models["conv2d_vae"]["model_id"]}}))

    table: list[dict] = []

    def run_rep(name, group, spec):
        with clock.step(f"represent + cluster: {name}"):
            try:
                rep = build_representation(ds, spec)
                scores = score(rep.X, rep.valid, labels, k, args.seed, rep.uses_labels)
                row = {"name": name, "group": group, "spec": spec, "dims": int(rep.X.shape[1]),
                       "valid": int(rep.valid.sum()), "warnings": list(rep.meta.get("warnings") or []),
                       "scores": scores}
            except Exception as exc:
                row = {"name": name, "group": group, "spec": spec, "error": f"{type(exc).__name__}: {exc}"}
                traceback.print_exc()
        table.append(row)
        return row

    for name, group, spec in reps:
        run_rep(name, group, spec)
    ranked = sorted((r for r in table if "scores" in r and "kmeans" in r["scores"] and "nmi" in r["scores"]["kmeans"]),
                    key=lambda r: -r["scores"]["kmeans"]["nmi"])
    for r in ranked[:3]:
        run_rep(f"UMAP-8 of {r['name']}", "umap",
                {"kind": "umap", "params": {"base": r["spec"], "n_components": 8, "random_state": args.seed}})

    # ---- report
    results["representations"] = table
    results["failures"] = failures
    results["wall_s"] = round(time.perf_counter() - t0, 1)
    results["cpu_s"] = round(cpu_seconds() - c0, 1)
    results["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["steps"] = clock.steps
    lines = ["| representation | dims | " + " | ".join(CLUSTERERS) + " |",
             "|---|---:|" + "---|" * len(CLUSTERERS)]
    for r in table:
        if "error" in r:
            lines.append(f"| {r['name']} | — | " + " | ".join(["failed"] * len(CLUSTERERS)) + " |")
            continue
        lines.append(f"| {r['name']} | {r['dims']} | "
                     + " | ".join(cell(r["scores"][a], a) for a in CLUSTERERS) + " |")
    nv = results["naive"]
    if "nmi" in nv:
        lines.append(f"| naive sklearn: librosa MFCC(20) mean+std → scaler → PCA-{PCA_DIMS} | {PCA_DIMS} | "
                     f"{nv['nmi']:.2f} / {nv['ari']:.2f} | — | — | — | — |")
    md = "\n".join(lines)

    comp = ["", "Learned representations vs PCA on the same feature (mean NMI over kmeans, agglomerative, gmm):"]
    by_name = {r["name"]: r for r in table if "scores" in r}
    for learned, base in (("MLP VAE μ (mfcc_stats)", f"PCA-{PCA_DIMS} mfcc_stats"),
                          ("Conv2D VAE μ (logmel)", f"PCA-{PCA_DIMS} logmel (flattened)"),
                          ("Conv2D VAE μ (logmel)", "time_mean logmel")):
        if learned in by_name and base in by_name:
            a, b = k_mean_nmi(by_name[learned]["scores"]), k_mean_nmi(by_name[base]["scores"])
            verdict = "ties or beats" if a >= b - 0.02 else "does NOT tie"
            comp.append(f"- {learned}: {a:.3f} vs {base}: {b:.3f} → {verdict}")
            results.setdefault("learned_vs_pca", []).append({"learned": learned, "base": base, "learned_nmi": a,
                                                             "base_nmi": b, "verdict": verdict})
    best = max(by_name.values(), key=lambda r: k_mean_nmi(r["scores"]), default=None)
    if best:
        comp.append(f"- best representation (mean NMI of the k-based clusterers): {best['name']} "
                    f"({k_mean_nmi(best['scores']):.3f})")
        results["best"] = best["name"]
    warn = [f"- {r['name']}: {w}" for r in table for w in r.get("warnings", [])]
    errs = [f"- {r['name']}: {r['error']}" for r in table if "error" in r] + \
           [f"- {k_}: {v}" for k_, v in failures.items()] + \
           [f"- {r['name']} × {a}: {s['error']}" for r in table if "scores" in r for a, s in r["scores"].items()
            if "error" in s]
    tail = comp + (["", "Warnings:"] + warn if warn else []) + (["", "FAILED:"] + errs if errs else [])
    summary = (f"\n{len(ds.tracks)} clips × {SEGMENT:.0f} s, {k} packages; wall {results['wall_s']:.0f} s, "
               f"CPU {results['cpu_s']:.0f} s; load average {load_start[0]:.2f} at start, "
               f"{results['load_end'][0]:.2f} at end ({os.cpu_count()} cores)")
    print("\n" + md + "\n" + "\n".join(tail) + summary)
    (out / "table.md").write_text(md + "\n" + "\n".join(tail) + summary + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {out / 'table.md'} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
