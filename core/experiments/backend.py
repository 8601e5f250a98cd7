"""The one place where experiments touch the rest of core (features, training, represent, cluster, metrics).

Every function returns Songscape's own small records (``RepData``, ``ClusterOut``, ``MetricOut``) so
the grid code never depends on another module's field names; tests monkeypatch these functions with
synthetic stand-ins. Heavy modules are imported lazily inside each function.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from core.errors import ParameterError
from core.hashing import array_fingerprint, fingerprint


@dataclass
class RepData:
    """A representation ready to cluster.

    X: (n_tracks, d) float, row i ↔ dataset.tracks.iloc[i]; valid: (n_tracks,) bool.
    """

    X: np.ndarray
    valid: np.ndarray
    fingerprint: str
    uses_labels: bool = False
    label: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class ClusterOut:
    """labels: (n_tracks,) int, -1 = noise, -2 = row not clustered (invalid)."""

    labels: np.ndarray
    noise_mask: np.ndarray
    n_clusters: int
    warnings: list[str] = field(default_factory=list)
    raw: Any = None  # the clustering module's own result, handed back to the metrics module


@dataclass
class MetricOut:
    values: dict[str, float]
    warnings: list[str] = field(default_factory=list)


@dataclass
class TrainOut:
    model_id: str
    history: dict = field(default_factory=dict)
    recon: float = float("nan")
    kl: float = float("nan")


# ----------------------------------------------------------------------------------------------
# features
def available_features(dataset) -> list[str]:
    from core import features

    fn = getattr(features, "available_features", None)
    return list(fn(dataset)) if fn else []


def load_features(dataset, name: str, *, progress=None, cancel=None) -> RepData:
    """A feature set flattened to (n_tracks, prod(shape))."""
    from core.features import get_features

    fs = get_features(dataset, name, progress=progress, cancel=cancel)
    X = np.asarray(fs.X, dtype=np.float64)
    X = X.reshape(len(X), -1)
    return RepData(X=X, valid=np.asarray(fs.valid, dtype=bool), fingerprint=str(fs.fingerprint),
                   meta={"features": name, "errors": len(getattr(fs, "errors", {}) or {})})


# ----------------------------------------------------------------------------------------------
# training
def _split_config(overrides: Mapping[str, Any], cfg_cls) -> tuple[dict, dict]:
    names = {f.name for f in dataclasses.fields(cfg_cls)}
    inside = {k: v for k, v in overrides.items() if k in names}
    outside = {k: v for k, v in overrides.items() if k not in names}
    return inside, outside


def _feature_map(model: str, features) -> dict[str, str] | None:
    """A feature name (single-input models), a tuple (in the model's input order) or a {modality: name} map."""
    if features is None or isinstance(features, Mapping):
        return dict(features) if features else None
    from core.models import MODELS

    modalities = list(MODELS.get(model).inputs)
    names = [features] if isinstance(features, str) else list(features)
    if len(names) > len(modalities):
        raise ParameterError("features", value=names, expected=f"at most {len(modalities)} names for '{model}' "
                             f"(inputs {modalities})")
    return dict(zip(modalities, names))


def _batch_cap(exc: ParameterError) -> int | None:
    import re

    m = re.search(r"\[1, (\d+)\]", str(exc.expected))
    return int(m.group(1)) if m else None


def train_model(dataset, *, model: str, features, model_params: Mapping[str, Any], config: Mapping[str, Any],
                seed: int, cond_column: str | None = None, progress=None, cancel=None) -> TrainOut:
    """Train (or reuse the cached artifact of) ``model`` on ``features`` with ``seed``.

    ``config`` holds TrainConfig overrides (epochs, batch_size, lr, beta, kl_anneal, warmup_epochs, …); keys
    TrainConfig does not know go to the model's parameters. A batch size larger than the training rows of
    a small dataset is lowered to fit (said in ``TrainOut.history['warnings']``).
    """
    from core import training
    from core.progress import Cancelled

    cfg_cls = training.TrainConfig
    cfg_over, extra = _split_config(dict(config), cfg_cls)
    cfg_over["seed"] = int(seed)
    if cfg_over.get("logvar_clamp") is not None:
        cfg_over["logvar_clamp"] = tuple(cfg_over["logvar_clamp"])
    params = {**extra, **dict(model_params)}
    warnings: list[str] = []
    kwargs = dict(dataset=dataset.name, model=model, features=_feature_map(model, features), model_params=params,
                  progress=progress, cancel=cancel)
    if cond_column:
        kwargs["cond_column"] = cond_column
    for attempt in range(2):
        try:
            res = training.train_on_dataset(config=cfg_cls(**cfg_over), **kwargs)
            break
        except ParameterError as exc:
            cap = _batch_cap(exc) if exc.name == "batch_size" else None
            if cap is None or attempt:
                raise
            warnings.append(f"batch_size {cfg_over.get('batch_size')} lowered to {cap} (training rows)")
            cfg_over["batch_size"] = cap
    if getattr(res, "cancelled", False):
        raise Cancelled()
    hist = list(getattr(res, "history", []) or [])
    last = hist[-1] if hist and isinstance(hist[-1], dict) else {}
    out = TrainOut(model_id=str(res.model_id), history={"epochs": hist, "warnings": warnings})
    out.recon, out.kl = _to_float(last.get("recon", np.nan)), _to_float(last.get("kl", np.nan))
    return out


def model_latents(model_id: str, dataset) -> RepData:
    from core.training import dataset_latents

    mu, valid = dataset_latents(model_id, dataset.name)
    mu = np.asarray(mu, dtype=np.float64).reshape(len(mu), -1)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(mu).all(axis=1)
    mu = np.where(valid[:, None], mu, 0.0)
    return RepData(X=mu, valid=valid, fingerprint=fingerprint("latent", model_id),
                   meta={"model_id": model_id})


# ----------------------------------------------------------------------------------------------
# representations from core.represent
def build_representation(dataset, kind: str, params: Mapping[str, Any]) -> RepData:
    from core.represent import RepresentationSpec, build_representation as build

    rep = build(dataset, RepresentationSpec(kind, dict(params)))
    X = np.asarray(rep.X, dtype=np.float64)
    return RepData(X=X.reshape(len(X), -1), valid=np.asarray(rep.valid, dtype=bool), fingerprint=str(rep.fingerprint),
                   uses_labels=bool(getattr(rep, "uses_labels", False)), label=getattr(rep, "label", None),
                   meta=dict(getattr(rep, "meta", {}) or {}))


# ----------------------------------------------------------------------------------------------
# clustering and metrics
def cluster(X: np.ndarray, valid: np.ndarray, *, algorithm: str, params: Mapping[str, Any], seed: int) -> ClusterOut:
    from core import cluster as cl

    fn = getattr(cl, "cluster_rows", None) or getattr(cl, "run_clustering")
    res = fn(X, valid, algorithm=algorithm, params=dict(params), random_state=int(seed))
    labels = np.asarray(res.labels)
    noise = np.asarray(getattr(res, "noise_mask", labels == -1), dtype=bool)
    warns = [str(w) for w in (getattr(res, "warnings", None) or [])]
    return ClusterOut(labels=labels, noise_mask=noise, n_clusters=int(res.n_clusters), warnings=warns, raw=res)


def evaluate(X: np.ndarray, result: ClusterOut, *, labels: Mapping[str, np.ndarray], uses_labels: Sequence[str],
             seed: int, sample_size: int | None = None) -> MetricOut:
    """Internal + external metrics; ``labels`` maps a label column to its (n_tracks,) values ('' = unknown);
    ``uses_labels``: the label columns the representation was built from (their scores are leaks)."""
    from core import metrics

    rep = metrics.evaluate(X, result.raw if result.raw is not None else result, label_columns=dict(labels),
                           uses_labels=list(uses_labels), sample_size=int(sample_size or 5000),
                           random_state=int(seed))
    values = {str(k): _to_float(v) for k, v in dict(rep.values).items()}
    warns = [f"{getattr(w, 'code', 'warning')}: {getattr(w, 'message', w)}" for w in (rep.warnings or [])]
    return MetricOut(values=values, warnings=warns)


def _to_float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


# ----------------------------------------------------------------------------------------------
# small local representations that core.represent does not offer (built on the feature sets)
def standardize(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Z-score columns over the valid rows; constant columns become 0. X: (n, d) -> (n, d)."""
    out = np.zeros_like(X, dtype=np.float64)
    if valid.any():
        Xv = X[valid]
        mu, sd = Xv.mean(axis=0), Xv.std(axis=0)
        sd[sd == 0] = 1.0
        out[valid] = (Xv - mu) / sd
    return out


def concat_parts(parts: list[RepData], weights: list[float]) -> RepData:
    """[w_1·z(part_1), w_2·z(part_2), …] with each part standardized; rows valid where every part is."""
    if not parts:
        raise ParameterError("parts", value=[], expected="at least one representation to concatenate")
    valid = np.logical_and.reduce([p.valid for p in parts])
    blocks = [w * standardize(p.X, valid) for p, w in zip(parts, weights)]
    uses = any(p.uses_labels for p in parts)
    label = next((p.label for p in parts if p.uses_labels), None)
    return RepData(X=np.hstack(blocks), valid=valid, uses_labels=uses, label=label,
                   fingerprint=fingerprint("concat", [p.fingerprint for p in parts], list(weights)),
                   meta={"dims": [int(p.X.shape[1]) for p in parts], "weights": list(weights)})


def feature_time_mean(dataset, *, features: str) -> RepData:
    """Mean over the last (time) axis of a frame feature, e.g. log-mel (128, T) -> (128,)."""
    from core.features import get_features

    fs = get_features(dataset, features)
    X = np.asarray(fs.X, dtype=np.float64)
    X = X.mean(axis=-1) if X.ndim >= 3 else X
    return RepData(X=X.reshape(len(X), -1), valid=np.asarray(fs.valid, dtype=bool),
                   fingerprint=fingerprint("time_mean", str(fs.fingerprint)), meta={"features": features})


def metadata_text(dataset, *, columns=("title", "artist"), n_components: int = 32, seed: int = 0) -> RepData:
    """TF-IDF on the concatenated text columns -> truncated SVD (n_components). Rows with no text are invalid."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tracks = dataset.tracks
    cols = [c for c in columns if c in tracks.columns]
    text = tracks[cols].fillna("").astype(str).agg(" ".join, axis=1).str.strip() if cols else \
        np.array([""] * len(tracks))
    text = np.asarray(text, dtype=object)
    valid = np.array([bool(t) for t in text])
    X = np.zeros((len(tracks), n_components))
    if valid.sum() >= 2:
        tf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=1).fit_transform(text[valid])
        k = max(1, min(n_components, tf.shape[1] - 1, int(valid.sum()) - 1))
        Z = TruncatedSVD(n_components=k, random_state=seed).fit_transform(tf) if k >= 1 and tf.shape[1] > 1 \
            else tf.toarray()
        X[np.flatnonzero(valid), :Z.shape[1]] = Z
    return RepData(X=X, valid=valid, fingerprint=fingerprint("metadata_text", text.tolist(), n_components, seed),
                   meta={"columns": cols, "n_components": n_components})


def onehot_top(dataset, *, column: str, top: int = 20) -> RepData:
    """One-hot of the ``top`` most frequent values of ``column`` (others all-zero). Uses a label if the
    column is one the metrics score against (language/genre)."""
    tracks = dataset.tracks
    if column not in tracks.columns:
        raise ParameterError("column", value=column, expected=f"a column of the track table {list(tracks.columns)}",
                             fix="Import a dataset with that column or drop this representation.")
    vals = tracks[column].fillna("").astype(str)
    cats = [c for c in vals[vals != ""].value_counts().index[:top]]
    X = np.stack([(vals == c).to_numpy(dtype=np.float64) for c in cats], axis=1) if cats else \
        np.zeros((len(tracks), 1))
    from core.schema import LABEL_COLUMNS

    return RepData(X=X, valid=np.ones(len(tracks), dtype=bool),
                   fingerprint=fingerprint("onehot_top", column, top, array_fingerprint(X)),
                   uses_labels=column in LABEL_COLUMNS, label=column if column in LABEL_COLUMNS else None,
                   meta={"column": column, "categories": cats})
