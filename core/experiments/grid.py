"""Experiment grids: representations × algorithms × parameters × seeds → one tidy metric table.

Every representation of a grid is built by ``core.represent.REPRESENTATIONS`` (the one representation
layer); a grid only adds what a grid needs on top: models trained per seed (``RepEntry.train``), nested
parts (``concat``), which algorithms apply, and labels. Each finished cell (its metric row and its
labelling, labels as an int array) is kept in ``core.cache.CACHE`` (namespace "grid-cell", on disk), so
a rerun of the same grid skips it and a cancelled run keeps what it finished. Seeds drive clustering,
and model training too when a representation trains a model (the seed goes into the TrainConfig).

The specifications are in ``core.experiments.spec``; the summary over seeds in
``core.experiments.aggregate``. This module trains, builds and scores the cells.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.cache import CACHE, Entry
from core.errors import ParameterError, SongscapeError
from core.experiments.aggregate import EXTERNAL_METRICS, metric_columns, summarize
from core.experiments.spec import GridSpec, RepEntry, TrainSpec, baseline_entries, dataset_caps
from core.hashing import canonical_json, fingerprint
from core.metrics import params_str
from core.progress import CancelFn, Cancelled, ProgressFn, never_cancel, no_progress

EXPERIMENTS_VERSION = "2"


# ----------------------------------------------------------------------------------------------
# building representations (through core.represent) and training their models
def train_for_grid(dataset, spec: TrainSpec, *, seed: int, cancel: CancelFn | None = None,
                   progress: ProgressFn | None = None) -> tuple[str, list[str]]:
    """Train (or reuse the cached artifact of) ``spec`` with ``seed`` → (model_id, warnings).

    ``config`` keys TrainConfig does not know go to the model's parameters. A batch size larger than
    the training rows of a small dataset is lowered to fit (said in the warnings).
    """
    from core import training
    from core.models import MODELS

    names = {f.name for f in dataclasses.fields(training.TrainConfig)}
    cfg = {k: v for k, v in dict(spec.config).items() if k in names}
    params = {**{k: v for k, v in dict(spec.config).items() if k not in names}, **dict(spec.model_params)}
    cfg["seed"] = int(seed)
    if cfg.get("logvar_clamp") is not None:
        cfg["logvar_clamp"] = tuple(cfg["logvar_clamp"])
    modalities = list(MODELS.get(spec.model).inputs)
    names_ = [spec.features] if isinstance(spec.features, str) else list(spec.features)
    features = dict(zip(modalities, names_))
    warnings: list[str] = []
    n = len(dataset.tracks)
    n_train = n - int(round(n * float(cfg.get("val_fraction", 0.1))))
    if int(cfg.get("batch_size", 64)) > n_train >= 2:
        warnings.append(f"batch_size {cfg.get('batch_size', 64)} lowered to {n_train} (training rows)")
        cfg["batch_size"] = n_train
    kwargs = dict(dataset=dataset.name, model=spec.model, features=features, model_params=params,
                  cond_column=spec.cond_column, progress=progress, cancel=cancel)
    for attempt in range(2):
        try:
            res = training.train_on_dataset(config=training.TrainConfig(**cfg), **kwargs)
            break
        except ParameterError as exc:
            import re

            m = re.search(r"\[1, (\d+)\]", str(exc.expected)) if exc.name == "batch_size" else None
            if m is None or attempt:
                raise
            warnings.append(f"batch_size {cfg.get('batch_size', 64)} lowered to {m.group(1)} (training rows)")
            cfg["batch_size"] = int(m.group(1))
    if getattr(res, "cancelled", False):
        raise Cancelled()
    return str(res.model_id), warnings


class _Builder:
    """Builds each representation once per run (once per seed when it trains a model)."""

    def __init__(self, dataset, *, progress: ProgressFn, cancel: CancelFn):
        self.dataset, self.progress, self.cancel = dataset, progress, cancel
        self.trained: dict[str, tuple[str, list[str]]] = {}

    def model_for(self, spec: TrainSpec, seed: int) -> str:
        key = canonical_json([spec.as_dict(), seed])
        if key not in self.trained:
            if self.cancel():
                raise Cancelled()
            self.trained[key] = train_for_grid(self.dataset, spec, seed=seed, cancel=self.cancel)
        return self.trained[key][0]

    def get(self, entry: RepEntry, seed: int):
        """(Representation, {"model_id", "train_warnings"}) of ``entry`` for ``seed``."""
        from core.represent import build_representation

        used: list[str] = []

        def model_for(spec: TrainSpec) -> str:
            mid = self.model_for(spec, seed)
            used.append(mid)
            return mid

        rep = build_representation(self.dataset, entry.to_spec(model_for))
        warns = [w for key, (mid, ws) in self.trained.items() if mid in used for w in ws]
        return rep, {"model_id": used[0] if len(used) == 1 else ",".join(used), "train_warnings": warns}


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



def cells_dir():
    """Where grid cells are kept on disk (inside the shared cache)."""
    return CACHE.path("grid-cell", "00").parent.parent


def cell_key(dataset_fp: str, entry: RepEntry, algorithm: str, params: Mapping[str, Any], seed: int,
             label_columns: Sequence[str], sample_size: int | None) -> str:
    return fingerprint("grid-cell", dataset_fp, entry.key(), algorithm, dict(params), int(seed),
                       list(label_columns), sample_size, version=EXPERIMENTS_VERSION)


def _labels_of(dataset, col: str) -> np.ndarray:
    t = dataset.tracks
    return t[col].fillna("").astype(str).to_numpy() if col in t.columns else np.array([""] * len(t))


def run_cell(rep, dataset, *, algorithm: str, params: dict, seed: int, label_columns: Sequence[str],
             sample_size: int | None, extra_warnings: Sequence[str] = ()) -> tuple[dict, np.ndarray]:
    """Cluster one representation and score it → (metric row, labels (n,) with -1 noise, -2 not clustered)."""
    from core import cluster, metrics

    t0 = time.perf_counter()
    res = cluster.cluster_rows(rep.X, rep.valid, algorithm=algorithm, params=dict(params), random_state=int(seed))
    labels = {c: _labels_of(dataset, c) for c in label_columns}
    report = metrics.evaluate(rep.X, res, label_columns=labels, uses_labels=rep.uses_labels,
                              sample_size=int(sample_size or 5000), random_state=int(seed),
                              meta={"representation": rep.label})
    values = dict(report.values)
    row = {m: float(values.get(m, np.nan)) for m in metric_columns(label_columns) if m != "seconds"}
    for c in label_columns:
        if not (labels[c] != "").any():
            for m in EXTERNAL_METRICS:
                row[f"{m}_{c}"] = float("nan")
    warnings = list(extra_warnings) + [f"representation: {w}" for w in rep.warnings] + \
        [f"{w.code}: {w.message}" for w in report.warnings]
    row["seconds"] = time.perf_counter() - t0
    row["warnings"] = "; ".join(dict.fromkeys(warnings))
    flagged = {k for w in report.warnings for k in w.keys} | set(report.leaked)
    if rep.warnings:  # the representation itself is in doubt: every number of the row is
        flagged |= set(row) - {"seconds", "warnings"}
    row["flagged"] = ",".join(sorted(k for k in flagged if k in row))
    row["uses_labels"] = bool(rep.uses_labels)
    return row, np.asarray(res.labels).astype(int)


def _store_cell(rep, info, dataset, e, alg, params, seed, label_cols, sample_size, key, base):
    """Run one cell on a built representation and keep it in the one cache (on disk): → (row, labels)."""
    row, lab = run_cell(rep, dataset, algorithm=alg, params=params, seed=seed, label_columns=label_cols,
                        sample_size=sample_size, extra_warnings=info["train_warnings"])
    row["model_id"] = info["model_id"]
    CACHE.put("grid-cell", key, Entry({"labels": lab}, {
        "row": row, "cell": {**base, "params": dict(params)}, "representation": e.as_dict(),
        "dataset": dataset.fingerprint}))
    return row, lab


def remote_cells(task: tuple) -> int:
    """A Dask task: every cell of one representation × seed, built (and trained) on a worker and stored in
    the shared workspace's cache, where run_grid then reads it. → cells stored. A cell that fails is left
    out: run_grid computes it again here and reports its error."""
    home, models, dataset_name, entry, seed, cells, label_cols, sample_size = task
    os.environ["SONGSCAPE_HOME"], os.environ["SONGSCAPE_MODELS"] = home, models
    from core.datasets import load_dataset

    dataset = load_dataset(dataset_name)
    try:
        rep, info = _Builder(dataset, progress=no_progress, cancel=never_cancel).get(entry, seed)
    except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError):
        return 0
    done = 0
    for alg, params, key, base in cells:
        try:
            _store_cell(rep, info, dataset, entry, alg, params, seed, label_cols, sample_size, key, base)
            done += 1
        except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError):
            continue
    return done


def _run_on_cluster(dataset, plan, label_cols, sample_size, scheduler: str, progress) -> None:
    """Send the uncached cells, one task per representation × seed, to the Dask cluster ``scheduler``."""
    from core.config import models_dir, workspace
    from core.executors import map_tasks

    groups: dict = {}
    for e, seed, alg, params in plan:
        key = cell_key(dataset.fingerprint, e, alg, params, seed, label_cols, sample_size)
        if CACHE.get("grid-cell", key) is not None:
            continue
        base = {"representation": e.label, "algorithm": alg, "params": params_str(params), "seed": int(seed)}
        g = groups.setdefault(canonical_json([e.key(), e.label, int(seed)]), (e, int(seed), []))
        g[2].append((alg, dict(params), key, base))
    if not groups:
        return
    tasks = [(str(workspace()), str(models_dir()), dataset.name, e, seed, cells, tuple(label_cols), sample_size)
             for e, seed, cells in groups.values()]
    map_tasks(remote_cells, tasks, scheduler=scheduler,
              progress=lambda i, n, logs: progress(i, n, {"message": f"on the cluster: {i}/{n} representation × seed"}))


def run_grid(dataset, spec: GridSpec, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
             scheduler: str | None = None) -> GridResult:
    """Run every cell of ``spec`` on ``dataset`` (cached cells are read back, not recomputed).

    progress(step, total, logs) is called after each cell; cancel() is checked before each cell and
    inside model training: a cancelled run returns the rows finished so far with ``cancelled=True``.
    ``scheduler`` (see core.executors; default ``$SONGSCAPE_SCHEDULER``): with a Dask cluster, the
    uncached cells run there first, one task per representation × seed, into the shared workspace.
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
    from core.executors import resolve

    if resolve(scheduler).name == "dask":
        _run_on_cluster(dataset, plan, label_cols, spec.sample_size, scheduler, progress)
    builder = _Builder(dataset, progress=progress, cancel=cancel)
    ds_fp = dataset.fingerprint
    rows, all_labels, cells, failed = [], {}, {}, {}
    cancelled, n_cached = False, 0
    for i, (e, seed, alg, params) in enumerate(plan):
        if cancel():
            cancelled = True
            break
        key = cell_key(ds_fp, e, alg, params, seed, label_cols, spec.sample_size)
        base = {"representation": e.label, "algorithm": alg, "params": params_str(params), "seed": int(seed)}
        cells[key[:16]] = {**base, "params": dict(params), "representation_config": e.as_dict()}
        cached = CACHE.get("grid-cell", key)
        lab = None
        if cached is not None:
            row, lab = dict(cached.meta["row"]), cached.arrays["labels"].astype(int)
            n_cached += 1
        else:
            fail_key = canonical_json([e.key(), seed if e.trains else None])
            try:
                if fail_key in failed:
                    raise failed[fail_key]
                try:
                    rep, info = builder.get(e, seed)
                except Cancelled:
                    raise
                except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError) as exc:
                    failed[fail_key] = exc
                    raise
                row, lab = _store_cell(rep, info, dataset, e, alg, params, seed, label_cols, spec.sample_size, key, base)
            except Cancelled:
                cancelled = True
                break
            except (SongscapeError, ValueError, KeyError, ImportError, RuntimeError) as exc:
                row = {m: float("nan") for m in metric_columns(label_cols)}
                row["warnings"] = f"failed: {type(exc).__name__}: {exc}"
                row["uses_labels"] = False
        row = {**base, **{k: v for k, v in row.items() if k not in base}, "cell": key[:16]}
        rows.append(row)
        if lab is not None:
            all_labels[(e.label, alg, base["params"], int(seed))] = lab
        progress(i + 1, len(plan), {"representation": e.label, "algorithm": alg, "seed": int(seed),
                                    "cached": n_cached})
    columns = ["representation", "algorithm", "params", "seed"] + metric_columns(label_cols) + \
        ["warnings", "flagged", "uses_labels", "model_id", "cell"]
    table = pd.DataFrame(rows)
    for c in columns:
        if c not in table.columns:
            table[c] = "" if c in ("warnings", "flagged", "model_id", "cell") else \
                (False if c == "uses_labels" else np.nan)
    table = table[columns]
    for c in ("model_id", "warnings", "flagged"):
        table[c] = table[c].fillna("").astype(str)
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


ProgressCallable = Callable[[int, int, dict], None]
