"""Experiment grids: representations × algorithms × parameters × seeds → one tidy metric table.

A grid cell is (representation, algorithm, params, seed). Each finished cell is written to
``workspace()/experiments/<fingerprint>.json`` (its metric row and its labelling), so a rerun of the
same grid skips it, and a cancelled run keeps what it finished. Seeds drive clustering, and model
training too when a representation trains a model (the seed goes into the TrainConfig).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core import artifacts
from core.config import workspace
from core.errors import ArtifactError, ParameterError, SongscapeError
from core.experiments import backend
from core.hashing import canonical_json, fingerprint
from core.progress import Cancelled, CancelFn, ProgressFn, never_cancel, no_progress

EXPERIMENTS_VERSION = "1"
INTERNAL_METRICS = ("silhouette", "calinski_harabasz", "davies_bouldin")
EXTERNAL_METRICS = ("ari", "nmi", "purity")
TAIL_METRICS = ("noise_share", "n_clusters", "seconds")
DEFAULT_SEEDS = (0, 1, 2)


# ----------------------------------------------------------------------------------------------
# specs
@dataclass(frozen=True)
class TrainSpec:
    """A model to train as part of a representation (one model per seed).

    features: a feature name, or a tuple of names for multimodal models (e.g. ("audio_stack", "lyrics")).
    config: TrainConfig overrides (epochs, batch_size, lr, beta, kl_anneal_epochs, grad_clip, …); keys that
    TrainConfig does not have are handed to the model as parameters.
    """

    model: str
    features: str | tuple[str, ...]
    model_params: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    cond_column: str | None = None

    def with_epochs(self, epochs: int | None) -> "TrainSpec":
        if epochs is None:
            return self
        return dataclasses.replace(self, config={**dict(self.config), "epochs": int(epochs)})

    def as_dict(self) -> dict:
        return {"model": self.model, "features": list(self.features) if isinstance(self.features, tuple) else self.features,
                "model_params": dict(self.model_params), "config": dict(self.config), "cond_column": self.cond_column}


@dataclass(frozen=True)
class RepEntry:
    """One representation of the grid.

    kind: a local kind ("features", "pca", "latent", "time_mean", "metadata_text", "onehot", "concat") or any
    kind of ``core.represent`` (handed over with ``params``).
    train: the model whose latent means μ form the representation (kind "latent").
    parts/weights: for kind "concat": [w_1·z(part_1), …], each part standardized.
    algorithms: restrict this representation to these algorithms (None = all of the grid's).
    """

    label: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    train: TrainSpec | None = None
    parts: tuple["RepEntry", ...] = ()
    weights: tuple[float, ...] = ()
    algorithms: tuple[str, ...] | None = None

    @property
    def trains(self) -> bool:
        return self.train is not None or any(p.trains for p in self.parts)

    def with_epochs(self, epochs: int | None) -> "RepEntry":
        return dataclasses.replace(
            self, train=self.train.with_epochs(epochs) if self.train else None,
            parts=tuple(p.with_epochs(epochs) for p in self.parts))

    def as_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "params": dict(self.params),
                "train": self.train.as_dict() if self.train else None,
                "parts": [p.as_dict() for p in self.parts], "weights": list(self.weights),
                "algorithms": list(self.algorithms) if self.algorithms is not None else None}

    def key(self) -> dict:
        """What the representation's content depends on (the label is only a name)."""
        d = self.as_dict()
        d.pop("label")
        d.pop("algorithms")
        d["parts"] = [p.key() for p in self.parts]
        return d


def latent(label: str, train: TrainSpec, **kw) -> RepEntry:
    return RepEntry(label=label, kind="latent", train=train, **kw)


def as_entry(obj) -> RepEntry:
    """RepEntry, TrainSpec (→ its latent) or a core.represent RepresentationSpec (→ passthrough)."""
    if isinstance(obj, RepEntry):
        return obj
    if isinstance(obj, TrainSpec):
        beta = dict(obj.config).get("beta", dict(obj.model_params).get("beta"))
        return latent(f"{obj.model}" + (f" β={beta}" if beta is not None else ""), obj)
    kind, params = getattr(obj, "kind", None), getattr(obj, "params", None)
    if kind is not None:
        params = dict(params or {})
        label = kind + ("(" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + ")" if params else "")
        return RepEntry(label=label, kind=str(kind), params=params)
    raise ParameterError("representations", value=obj, expected="RepEntry, TrainSpec or RepresentationSpec items")


@dataclass(frozen=True)
class GridSpec:
    """representations × algorithms (each with lists of parameter values) × seeds.

    algorithms: e.g. {"kmeans": {"n_clusters": [4, 6, 10]}, "dbscan": {"eps": [1.5], "min_samples": [10]}}.
    label_columns: track-table columns scored by the external metrics (ARI/NMI/Purity).
    baselines: add PCA + KMeans, KMeans on spectral (or tabular) features and autoencoder + KMeans.
    epochs: overrides every model's epoch count (quick runs).
    """

    representations: Sequence[Any]
    algorithms: Mapping[str, Mapping[str, Sequence[Any]]]
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    label_columns: tuple[str, ...] = ("language", "genre")
    baselines: bool = True
    baseline_k: int | None = None
    epochs: int | None = None
    sample_size: int | None = 5000

    def entries(self) -> list[RepEntry]:
        return [as_entry(r).with_epochs(self.epochs) for r in self.representations]

    def algorithm_cells(self) -> list[tuple[str, dict]]:
        """Every (algorithm, params) of the product of each algorithm's parameter lists."""
        out = []
        for alg, table in self.algorithms.items():
            names = list(table)
            values = [list(v) if isinstance(v, (list, tuple)) else [v] for v in table.values()]
            for combo in itertools.product(*values):
                out.append((alg, dict(zip(names, combo))))
        return out

    def as_dict(self) -> dict:
        return {"representations": [e.as_dict() for e in self.entries()],
                "algorithms": {a: {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in t.items()}
                               for a, t in self.algorithms.items()},
                "seeds": list(self.seeds), "label_columns": list(self.label_columns), "baselines": self.baselines,
                "baseline_k": self.baseline_k, "epochs": self.epochs, "sample_size": self.sample_size}


def params_str(params: Mapping[str, Any]) -> str:
    """Canonical display of a parameter dict: 'eps=1.5, min_samples=10'."""
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


# ----------------------------------------------------------------------------------------------
# what the dataset has
@dataclass(frozen=True)
class DatasetCaps:
    has_audio: bool
    has_lyrics: bool
    has_tabular: bool
    labels: tuple[str, ...]
    n_classes: Mapping[str, int]
    n_tracks: int

    @property
    def spectral(self) -> str:
        """The 1-D audio summary features the reports use (or tabular features without audio)."""
        return "mfcc_stats" if self.has_audio else "tabular"


def dataset_caps(dataset) -> DatasetCaps:
    tracks = dataset.tracks
    has_audio = bool("path" in tracks.columns and (tracks["path"].astype(str) != "").any())
    lyr = tracks["lyrics"].fillna("").astype(str).str.strip() if "lyrics" in tracks.columns else pd.Series([], dtype=str)
    has_lyrics = int((lyr != "").sum()) >= 2
    try:
        avail = backend.available_features(dataset)
    except (ImportError, SongscapeError):
        avail = []
    if avail:
        has_tabular = "tabular" in avail
    else:
        from core.schema import CORE_COLUMNS

        extra = [c for c in tracks.columns if c not in CORE_COLUMNS]
        has_tabular = any(pd.api.types.is_numeric_dtype(tracks[c]) for c in extra)
    from core.schema import label_columns

    labels = tuple(label_columns(tracks))
    n_classes = {c: int(tracks[c].replace("", np.nan).dropna().nunique()) for c in labels}
    return DatasetCaps(has_audio=has_audio, has_lyrics=has_lyrics, has_tabular=has_tabular or not has_audio,
                       labels=labels, n_classes=n_classes, n_tracks=int(len(tracks)))


def baseline_entries(caps: DatasetCaps, k: int) -> list[RepEntry]:
    """PCA + KMeans, KMeans directly on spectral (or tabular) features, autoencoder + KMeans."""
    feats = ["spectral_stats", "mfcc_stats"] if caps.has_audio else ["tabular"]
    only = ("kmeans",)
    out = [RepEntry(label=f"baseline: PCA({feats[-1]}) + KMeans", kind="pca",
                    params={"features": feats[-1], "n_components": 16}, algorithms=only)]
    out += [RepEntry(label=f"baseline: {f} + KMeans", kind="features", params={"features": f}, algorithms=only)
            for f in feats]
    ae = TrainSpec(model="mlp_ae", features=feats[-1], model_params={"latent_dim": 16},
                   config={"epochs": 20, "batch_size": 64, "lr": 1e-3})
    out.append(latent("baseline: autoencoder + KMeans", ae, algorithms=only))
    return out


# ----------------------------------------------------------------------------------------------
# building representations
class _Builder:
    """Builds each representation once per run (once per seed when it trains a model)."""

    def __init__(self, dataset, *, progress: ProgressFn, cancel: CancelFn):
        self.dataset, self.progress, self.cancel = dataset, progress, cancel
        self.cache: dict[str, backend.RepData] = {}
        self.trained: dict[str, backend.TrainOut] = {}

    def get(self, entry: RepEntry, seed: int) -> backend.RepData:
        key = canonical_json([entry.key(), seed if entry.trains else None])
        if key not in self.cache:
            self.cache[key] = self._build(entry, seed)
        return self.cache[key]

    def train(self, spec: TrainSpec, seed: int) -> backend.TrainOut:
        key = canonical_json([spec.as_dict(), seed])
        if key not in self.trained:
            if self.cancel():
                raise Cancelled()
            self.trained[key] = backend.train_model(
                self.dataset, model=spec.model, features=spec.features, model_params=spec.model_params,
                config=spec.config, seed=seed, cond_column=spec.cond_column, cancel=self.cancel)
        return self.trained[key]

    def _build(self, e: RepEntry, seed: int) -> backend.RepData:
        p = dict(e.params)
        if e.kind == "latent":
            if e.train is None:
                raise ParameterError("train", value=None, expected=f"a TrainSpec for latent representation '{e.label}'")
            out = self.train(e.train, seed)
            rep = backend.model_latents(out.model_id, self.dataset)
            rep.meta.update(model_id=out.model_id, model=e.train.model,
                            train_warnings=list(out.history.get("warnings", [])))
            if e.train.cond_column:  # a conditional model saw the label it is scored against
                rep.uses_labels, rep.label = True, e.train.cond_column
            return rep
        if e.kind == "features":
            rep = backend.load_features(self.dataset, p["features"])
            if p.get("standardize", True):
                rep.X = backend.standardize(rep.X, rep.valid)
            return rep
        if e.kind == "pca":
            return _pca(backend.load_features(self.dataset, p["features"]), int(p.get("n_components", 16)))
        if e.kind == "time_mean":
            return backend.feature_time_mean(self.dataset, features=p["features"])
        if e.kind == "metadata_text":
            return backend.metadata_text(self.dataset, columns=tuple(p.get("columns", ("title", "artist"))),
                                         n_components=int(p.get("n_components", 32)))
        if e.kind == "onehot":
            return backend.onehot_top(self.dataset, column=p["column"], top=int(p.get("top", 20)))
        if e.kind == "concat":
            weights = list(e.weights) or [1.0] * len(e.parts)
            return backend.concat_parts([self.get(part, seed) for part in e.parts], weights)
        return backend.build_representation(self.dataset, e.kind, p)


def _pca(rep: backend.RepData, n_components: int) -> backend.RepData:
    """Standardize then PCA to ``n_components`` (capped by the number of valid rows and columns)."""
    from sklearn.decomposition import PCA

    Z = backend.standardize(rep.X, rep.valid)
    nv = int(rep.valid.sum())
    k = max(1, min(n_components, Z.shape[1], max(1, nv - 1)))
    X = np.zeros((len(Z), k))
    if nv >= 2:
        X[rep.valid] = PCA(n_components=k, svd_solver="full").fit_transform(Z[rep.valid])
    meta = {**rep.meta, "n_components": k, "requested_components": n_components}
    return backend.RepData(X=X, valid=rep.valid, fingerprint=fingerprint("pca", rep.fingerprint, k), meta=meta)


# ----------------------------------------------------------------------------------------------
# results
@dataclass
class GridResult:
    """table: one row per (representation, algorithm, params, seed); summary: mean ± std over seeds.

    labels: (representation, algorithm, params, seed) -> (n_tracks,) labels (-1 noise, -2 not clustered).
    cancelled: True when cancel() stopped the run; the rows finished so far are in the table.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    configs: dict
    label_columns: tuple[str, ...]
    labels: dict = field(default_factory=dict)
    cancelled: bool = False

    @property
    def metric_columns(self) -> list[str]:
        return metric_columns(self.label_columns)


def metric_columns(label_columns: Sequence[str]) -> list[str]:
    cols = list(INTERNAL_METRICS)
    for c in label_columns:
        cols += [f"{m}_{c}" for m in EXTERNAL_METRICS]
    return cols + list(TAIL_METRICS)


def cells_dir() -> Path:
    d = workspace() / "experiments"
    d.mkdir(parents=True, exist_ok=True)
    return d


def cell_fingerprint(dataset_fp: str, entry: RepEntry, algorithm: str, params: Mapping[str, Any], seed: int,
                     label_columns: Sequence[str], sample_size: int | None) -> str:
    return fingerprint("grid-cell", dataset_fp, entry.key(), algorithm, dict(params), int(seed),
                       list(label_columns), sample_size, version=EXPERIMENTS_VERSION)


def _labels_of(dataset, col: str) -> np.ndarray:
    t = dataset.tracks
    return t[col].fillna("").astype(str).to_numpy() if col in t.columns else np.array([""] * len(t))


def _run_cell(rep: backend.RepData, dataset, *, algorithm: str, params: dict, seed: int,
              label_columns: Sequence[str], sample_size: int | None) -> tuple[dict, np.ndarray]:
    t0 = time.perf_counter()
    res = backend.cluster(rep.X, rep.valid, algorithm=algorithm, params=params, seed=seed)
    labels = {c: _labels_of(dataset, c) for c in label_columns}
    uses = [rep.label] if (rep.uses_labels and rep.label) else []
    met = backend.evaluate(rep.X, res, labels=labels, uses_labels=uses, seed=seed, sample_size=sample_size)
    values = dict(met.values)
    lab = np.asarray(res.labels).astype(int)
    lab = np.where(rep.valid, lab, -2) if len(lab) == len(rep.valid) else lab
    n_valid = max(1, int(rep.valid.sum()))
    values.setdefault("noise_share", float(np.asarray(res.noise_mask)[rep.valid].sum() / n_valid)
                      if len(res.noise_mask) == len(rep.valid) else float(np.mean(res.noise_mask)))
    values["n_clusters"] = float(res.n_clusters)
    row = {m: float(values.get(m, np.nan)) for m in metric_columns(label_columns) if m != "seconds"}
    for c in label_columns:
        if not (labels[c] != "").any():
            for m in EXTERNAL_METRICS:
                row[f"{m}_{c}"] = float("nan")
    warnings = list(dict.fromkeys(list(rep.meta.get("train_warnings", [])) + res.warnings + met.warnings))
    if rep.uses_labels and not any(w.startswith("leak") for w in warnings):
        warnings.append(f"representation is built from the label '{rep.label}': external metrics on it are leaked")
    row["seconds"] = time.perf_counter() - t0
    row["warnings"] = "; ".join(warnings)
    row["uses_labels"] = bool(rep.uses_labels)
    return row, lab


def _read_cell(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        data = artifacts.read_json(path)
    except ArtifactError:
        return None
    return data if isinstance(data, dict) and "row" in data else None


def run_grid(dataset, spec: GridSpec, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
             ) -> GridResult:
    """Run every cell of ``spec`` on ``dataset`` (cached cells are read back, not recomputed).

    progress(step, total, logs) is called after each cell; cancel() is checked before each cell and
    inside model training: a cancelled run returns the rows finished so far with ``cancelled=True``.
    """
    progress = progress or no_progress
    cancel = cancel or never_cancel
    if not spec.seeds:
        raise ParameterError("seeds", value=spec.seeds, expected="at least one seed, e.g. (0, 1, 2)")
    caps = dataset_caps(dataset)
    label_cols = tuple(c for c in spec.label_columns)
    entries = spec.entries()
    alg_cells = spec.algorithm_cells()
    if spec.baselines:
        k = spec.baseline_k or next((int(v[0]) for a, t in spec.algorithms.items() if a == "kmeans"
                                     for n, v in t.items() if n == "n_clusters"), 4)
        seen = {canonical_json(e.key()) for e in entries}
        for b in baseline_entries(caps, k):
            b = b.with_epochs(spec.epochs)
            if canonical_json(b.key()) not in seen:
                entries.append(b)
        if not any(a == "kmeans" and p.get("n_clusters") == k for a, p in alg_cells):
            alg_cells.append(("kmeans", {"n_clusters": k}))
    labels_seen = [e.label for e in entries]
    dup = {x for x in labels_seen if labels_seen.count(x) > 1}
    if dup:
        raise ParameterError("representations", value=sorted(dup), expected="unique representation labels")

    plan = [(e, seed, alg, params) for e in entries for seed in spec.seeds for alg, params in alg_cells
            if e.algorithms is None or alg in e.algorithms]
    builder = _Builder(dataset, progress=progress, cancel=cancel)
    ds_fp = dataset.fingerprint
    rows, all_labels, cells, failed = [], {}, {}, {}
    cancelled, n_cached = False, 0
    for i, (e, seed, alg, params) in enumerate(plan):
        if cancel():
            cancelled = True
            break
        fp = cell_fingerprint(ds_fp, e, alg, params, seed, label_cols, spec.sample_size)
        path = cells_dir() / f"{fp}.json"
        base = {"representation": e.label, "algorithm": alg, "params": params_str(params), "seed": int(seed)}
        cells[fp[:16]] = {**base, "params": dict(params), "representation_config": e.as_dict()}
        cached = _read_cell(path)
        if cached is not None:
            row, lab = cached["row"], np.array(cached["labels"], dtype=int)
            n_cached += 1
        else:
            fail_key = canonical_json([e.key(), seed if e.trains else None])
            try:
                if fail_key in failed:
                    raise failed[fail_key]
                try:
                    rep = builder.get(e, seed)
                except Cancelled:
                    raise
                except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError) as exc:
                    failed[fail_key] = exc
                    raise
                row, lab = _run_cell(rep, dataset, algorithm=alg, params=params, seed=seed,
                                     label_columns=label_cols, sample_size=spec.sample_size)
                row["model_id"] = rep.meta.get("model_id", "")
                artifacts.write_json(path, {"row": row, "labels": lab.tolist(), "cell": {**base, "params": params},
                                            "representation": e.as_dict(), "dataset": ds_fp})
            except Cancelled:
                cancelled = True
                break
            except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError) as exc:
                row = {m: float("nan") for m in metric_columns(label_cols)}
                row["warnings"] = f"failed: {type(exc).__name__}: {exc}"
                row["uses_labels"] = False
                lab = None
        row = {**base, **{k: v for k, v in row.items() if k not in base}, "cell": fp[:16]}
        rows.append(row)
        if lab is not None:
            all_labels[(e.label, alg, base["params"], int(seed))] = lab
        progress(i + 1, len(plan), {"representation": e.label, "algorithm": alg, "seed": int(seed),
                                    "cached": n_cached})
    columns = ["representation", "algorithm", "params", "seed"] + metric_columns(label_cols) + \
        ["warnings", "uses_labels", "model_id", "cell"]
    table = pd.DataFrame(rows)
    for c in columns:
        if c not in table.columns:
            table[c] = "" if c in ("warnings", "model_id", "cell") else (False if c == "uses_labels" else np.nan)
    table = table[columns]
    table["model_id"] = table["model_id"].fillna("").astype(str)
    table["warnings"] = table["warnings"].fillna("").astype(str)
    summary = summarize(table, label_cols, all_labels)
    configs = {"dataset": getattr(dataset, "name", ""), "dataset_fingerprint": ds_fp, "spec": spec.as_dict(),
               "representations": [e.as_dict() for e in entries],
               "algorithms": [{"algorithm": a, "params": p} for a, p in alg_cells],
               "seeds": list(spec.seeds), "label_columns": list(label_cols), "cells": cells,
               "caps": dataclasses.asdict(caps), "cancelled": cancelled, "cached_cells": n_cached,
               "experiments_version": EXPERIMENTS_VERSION}
    configs = json.loads(canonical_json(configs))
    return GridResult(table=table, summary=summary, configs=configs, label_columns=label_cols,
                      labels=all_labels, cancelled=cancelled)


# ----------------------------------------------------------------------------------------------
# summary over seeds
def seed_agreement(labelings: Sequence[np.ndarray]) -> float:
    """Mean pairwise ARI between the seeds' labelings (rows clustered in both; NaN with < 2 seeds)."""
    from sklearn.metrics import adjusted_rand_score

    scores = []
    for a, b in itertools.combinations(labelings, 2):
        if len(a) != len(b):
            continue
        m = (a >= -1) & (b >= -1)
        if m.sum() >= 2:
            scores.append(adjusted_rand_score(a[m], b[m]))
    return float(np.mean(scores)) if scores else float("nan")


def summarize(table: pd.DataFrame, label_columns: Sequence[str], labels: Mapping | None = None) -> pd.DataFrame:
    """Mean and (population, ddof=0) std over seeds per (representation, algorithm, params) cell.

    Columns: representation, algorithm, params, n_seeds, <metric>_mean, <metric>_std…, agreement_ari, warnings.
    """
    labels = labels or {}
    metrics = metric_columns(label_columns)
    keys = ["representation", "algorithm", "params"]
    out = []
    for key, g in table.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["n_seeds"] = int(g["seed"].nunique())
        for m in metrics:
            vals = pd.to_numeric(g[m], errors="coerce").to_numpy(dtype=float)
            ok = vals[~np.isnan(vals)]
            row[f"{m}_mean"] = float(ok.mean()) if len(ok) else float("nan")
            row[f"{m}_std"] = float(ok.std(ddof=0)) if len(ok) else float("nan")
        labs = [labels[(key[0], key[1], key[2], int(s))] for s in g["seed"] if (key[0], key[1], key[2], int(s)) in labels]
        row["agreement_ari"] = seed_agreement(labs)
        warns = []
        for w in g["warnings"].fillna(""):
            warns += [x.strip() for x in str(w).split(";") if x.strip()]
        row["warnings"] = "; ".join(dict.fromkeys(warns))
        row["uses_labels"] = bool(g["uses_labels"].astype(bool).any())
        out.append(row)
    cols = keys + ["n_seeds"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")] + \
        ["agreement_ari", "warnings", "uses_labels"]
    return pd.DataFrame(out, columns=cols)


def lookup(summary: pd.DataFrame, representation: str, algorithm: str, params: Mapping[str, Any]) -> pd.Series | None:
    """The summary row of one cell, or None."""
    m = (summary["representation"] == representation) & (summary["algorithm"] == algorithm) & \
        (summary["params"] == params_str(params))
    hit = summary[m]
    return hit.iloc[0] if len(hit) else None


ProgressCallable = Callable[[int, int, dict], None]
