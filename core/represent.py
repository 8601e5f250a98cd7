"""Representations: what gets clustered. The REPRESENTATIONS registry and ``build_representation``.

A representation turns a dataset into X (n_tracks, d) float32 with one row per track (same order as
``dataset.tracks``) and a ``valid`` mask. Rows that are not valid (failed extraction, no such
modality, a model without latents for them) are NaN in X, so they cannot be used by accident;
``core.cluster.cluster_rows(X, valid, ...)`` gives them label -2 and the metrics ignore them.

Kinds (each a spec with a Param table and sklearn-style transformers):

* ``raw``          any extracted FeatureSet, flattened, standardized (z-score fitted on valid rows);
* ``pca``          standardized feature -> PCA(n_components) (the PCA baselines of reports 001-004);
* ``latent``       mu of a trained model (core.training.dataset_latents); ``uses_labels`` read from the
                   model's ``config["meta"]["uses_labels"]`` (a conditional VAE uses its condition);
* ``lyrics``       the lyrics FeatureSet (TF-IDF -> SVD), optionally standardized;
* ``fusion``       late fusion ``[z_audio, alpha * e_lyrics]`` (reports 002/003): both parts standardized
                   on their valid rows; a track without lyrics gets a lyrics part of zeros *after*
                   standardization (= the lyrics mean, no pull in any direction); valid = audio valid.
                   The audio part is any other representation spec (``params["audio"]``);
* ``label_onehot`` a standardized feature with ``weight * one_hot(label)`` appended: report 003's
                   genre-aware space. It is built from the labels, so ``uses_labels = {label}`` and
                   the metrics flag that label's scores as leaked.

Results are cached in memory (LRU) and, for the kinds that are expensive, on disk under
``workspace()/representations/<fingerprint>.npz``.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from core import artifacts
from core.config import workspace
from core.errors import ArtifactError, ParameterError
from core.hashing import canonical_json, fingerprint
from core.params import Param, Spec, validate_params
from core.registry import Registry

REPRESENT_VERSION = "1"
_MEMORY_SLOTS = 32


# ----------------------------------------------------------------------------- transformers

class Standardizer:
    """z-score fitted on the valid rows. X: (n, d). Constant columns keep scale 1. Fitted: ``mean_``, ``scale_``."""

    def fit(self, X: np.ndarray, valid: np.ndarray | None = None):
        X = np.asarray(X, dtype=np.float64)
        rows = X if valid is None else X[np.asarray(valid, dtype=bool)]
        if len(rows) == 0:
            raise ParameterError("valid", value="no valid rows", expected="at least one row to standardize")
        self.mean_ = rows.mean(axis=0)
        scale = rows.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_).astype(np.float32)

    def fit_transform(self, X, valid=None):
        return self.fit(X, valid).transform(X)


class PCAReducer:
    """Standardize, then PCA, both fitted on the valid rows. Fitted: ``standardizer_``, ``pca_``, ``n_components_``."""

    def __init__(self, n_components: int = 16, *, random_state: int = 0):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: np.ndarray, valid: np.ndarray | None = None):
        from sklearn.decomposition import PCA

        valid = np.ones(len(X), bool) if valid is None else np.asarray(valid, bool)
        self.standardizer_ = Standardizer().fit(X, valid)
        Z = self.standardizer_.transform(X[valid])
        limit = min(Z.shape)
        if self.n_components > limit:
            raise ParameterError("n_components", value=self.n_components,
                                 expected=f"at most min(valid tracks, feature dims) = {limit}")
        self.pca_ = PCA(n_components=self.n_components, random_state=self.random_state).fit(Z)
        self.n_components_ = self.n_components
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.pca_.transform(self.standardizer_.transform(X)).astype(np.float32)


class FusionTransformer:
    """Late fusion ``[z_audio, alpha * e_lyrics]``, each part standardized on its own valid rows.

    fit(audio (n, da), lyrics (n, dl), audio_valid (n,), lyrics_valid (n,)); transform returns (n, da+dl).
    Rows without lyrics get zeros in the lyrics part (after standardization); rows without audio are NaN.
    Fitted: ``audio_scaler_``, ``lyrics_scaler_``.
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, audio, lyrics, audio_valid, lyrics_valid):
        self.audio_scaler_ = Standardizer().fit(audio, audio_valid)
        both = np.asarray(audio_valid, bool) & np.asarray(lyrics_valid, bool)
        self.lyrics_scaler_ = Standardizer().fit(lyrics, both if both.any() else lyrics_valid)
        return self

    def transform(self, audio, lyrics, audio_valid, lyrics_valid) -> np.ndarray:
        za = self.audio_scaler_.transform(np.nan_to_num(audio))
        zl = self.lyrics_scaler_.transform(np.nan_to_num(lyrics))
        zl[~np.asarray(lyrics_valid, bool)] = 0.0
        X = np.concatenate([za, np.float32(self.alpha) * zl], axis=1).astype(np.float32)
        X[~np.asarray(audio_valid, bool)] = np.nan
        return X


# ----------------------------------------------------------------------------- specs and results

@dataclass(frozen=True)
class RepresentationSpec:
    """What to build: ``kind`` (a REPRESENTATIONS name) and its ``params``.

    For ``fusion`` and ``label_onehot``-style nesting, ``params["audio"]`` is another
    RepresentationSpec (or a ``{"kind": ..., "params": {...}}`` dict).
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind,
                "params": {k: (v.to_dict() if isinstance(v, RepresentationSpec) else v)
                           for k, v in sorted(self.params.items())}}

    @classmethod
    def from_any(cls, obj) -> "RepresentationSpec":
        if isinstance(obj, RepresentationSpec):
            return obj
        if isinstance(obj, Mapping) and "kind" in obj:
            return cls(str(obj["kind"]), dict(obj.get("params", {})))
        raise ParameterError("representation", value=obj,
                             expected="a RepresentationSpec or a dict {'kind': ..., 'params': {...}}")

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_dict()))

    def __eq__(self, other) -> bool:
        return isinstance(other, RepresentationSpec) and self.to_dict() == other.to_dict()


@dataclass
class Representation:
    """X: (n, d) float32 (NaN rows where not valid); valid: (n,) bool; track_ids: (n,) str."""

    X: np.ndarray
    valid: np.ndarray
    track_ids: np.ndarray
    fingerprint: str
    uses_labels: frozenset[str]
    label: str
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


@dataclass(frozen=True)
class RepresentationKind(Spec):
    """``build(dataset, params) -> _Parts``; ``persist``: keep on disk (costly to rebuild)."""

    build: Callable[[Any, dict], "_Parts"] | None = None
    persist: bool = False


@dataclass
class _Parts:
    X: np.ndarray
    valid: np.ndarray
    track_ids: np.ndarray
    inputs: tuple  # fingerprints of the inputs (feature sets, model, dataset)
    uses_labels: frozenset = frozenset()
    label: str = ""
    meta: dict = field(default_factory=dict)


REPRESENTATIONS: Registry[RepresentationKind] = Registry("representation")


# ----------------------------------------------------------------------------- inputs

_feature_memo: "OrderedDict[tuple, Any]" = OrderedDict()


def _features(dataset, name: str):
    """core.features.get_features, remembered per (dataset fingerprint, name) for this process.

    Sliders (alpha, k) rebuild representations many times a second; re-reading a feature file each
    time would dominate. ``clear_memory_cache()`` forgets them (call it after re-extracting)."""
    key = (dataset.fingerprint, name)
    if key in _feature_memo:
        _feature_memo.move_to_end(key)
        return _feature_memo[key]
    feats = importlib.import_module("core.features")
    if not hasattr(feats, "get_features"):  # pragma: no cover - only while core.features is being written
        raise ArtifactError("core.features.get_features is not available yet.")
    fs = feats.get_features(dataset, name)
    _feature_memo[key] = fs
    while len(_feature_memo) > 8:
        _feature_memo.popitem(last=False)
    return fs


def _flat(fs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(fs.X, dtype=np.float32).reshape(len(fs.X), -1)
    valid = np.asarray(fs.valid, dtype=bool) & np.isfinite(X).all(axis=1)
    return X, valid, np.asarray(fs.track_ids).astype(str)


def _nan_rows(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float32, copy=True)
    X[~valid] = np.nan
    return X


def _build_raw(dataset, p: dict) -> _Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    if not valid.any():
        raise ParameterError("feature", value=p["feature"], expected="a feature extracted for at least one track",
                             fix="Extract it first (Features page or `python -m core extract`).")
    Z = Standardizer().fit(X, valid).transform(X) if p["standardize"] else X
    return _Parts(_nan_rows(Z, valid), valid, ids, (fs.fingerprint,), label=f"{p['feature']} (raw)",
                  meta={"feature": p["feature"], "dims": int(X.shape[1])})


def _build_pca(dataset, p: dict) -> _Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    red = PCAReducer(p["n_components"], random_state=p["random_state"]).fit(X, valid)
    Z = np.full((len(X), p["n_components"]), np.nan, dtype=np.float32)
    Z[valid] = red.transform(X[valid])
    return _Parts(Z, valid, ids, (fs.fingerprint,), label=f"PCA{p['n_components']} of {p['feature']}",
                  meta={"feature": p["feature"],
                        "explained_variance": float(red.pca_.explained_variance_ratio_.sum())})


def _build_latent(dataset, p: dict) -> _Parts:
    training = importlib.import_module("core.training")
    mu, valid = training.dataset_latents(p["model_id"], dataset.name)
    mu = np.asarray(mu, dtype=np.float32)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(mu).all(axis=1)
    cfg = getattr(training.load_trained(p["model_id"]), "config", {}) or {}
    uses = frozenset(str(c) for c in ((cfg.get("meta", {}) or {}).get("uses_labels", []) or [])) \
        | frozenset(str(c) for c in (cfg.get("uses_labels") or []))
    ids = dataset.tracks["track_id"].astype(str).to_numpy()
    if len(mu) != len(ids):
        raise ArtifactError(f"Model {p['model_id']} returned {len(mu)} latents for {len(ids)} tracks of "
                            f"dataset {dataset.name}; retrain or re-encode it.")
    return _Parts(_nan_rows(mu, valid), valid, ids, (str(p["model_id"]), dataset.fingerprint), uses_labels=uses,
                  label=f"latent μ of {p['model_id']}", meta={"model_id": p["model_id"], "dims": int(mu.shape[1])})


def _build_lyrics(dataset, p: dict) -> _Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    if p["standardize"] and valid.any():
        X = Standardizer().fit(X, valid).transform(X)
    return _Parts(_nan_rows(X, valid), valid, ids, (fs.fingerprint,), label=f"lyrics ({p['feature']})",
                  meta={"feature": p["feature"], "n_with_lyrics": int(valid.sum())})


def _build_fusion(dataset, p: dict) -> _Parts:
    audio = build_representation(dataset, p["audio"])
    ly = _features(dataset, p["lyrics_feature"])
    L, lvalid, lids = _flat(ly)
    if len(L) != len(audio.X) or (lids != audio.track_ids).any():
        raise ArtifactError(f"Lyrics feature '{p['lyrics_feature']}' rows do not line up with the audio "
                            f"representation ({len(L)} vs {len(audio.X)} tracks); re-extract it.")
    fus = FusionTransformer(p["alpha"]).fit(np.nan_to_num(audio.X), L, audio.valid, lvalid)
    X = fus.transform(audio.X, L, audio.valid, lvalid)
    return _Parts(X, audio.valid.copy(), audio.track_ids, (audio.fingerprint, ly.fingerprint),
                  uses_labels=audio.uses_labels,
                  label=f"[{audio.label}, {p['alpha']:g}·lyrics]",
                  meta={"audio_dims": audio.dim, "lyrics_dims": int(L.shape[1]), "alpha": p["alpha"],
                        "n_without_lyrics": int((audio.valid & ~lvalid).sum())})


def _build_label_onehot(dataset, p: dict) -> _Parts:
    base = _build_raw(dataset, {"feature": p["feature"], "standardize": True})
    col = p["label"]
    if col not in dataset.tracks.columns:
        raise ParameterError("label", value=col, expected=f"a label column of the dataset {list(dataset.tracks.columns)}")
    values = dataset.tracks[col].fillna("").astype(str).to_numpy()
    classes = sorted(set(values) - {""})
    onehot = np.zeros((len(values), len(classes)), dtype=np.float32)
    for j, c in enumerate(classes):
        onehot[values == c, j] = p["weight"]
    X = np.concatenate([np.nan_to_num(base.X), onehot], axis=1)
    X[~base.valid] = np.nan
    return _Parts(X, base.valid, base.track_ids, base.inputs + (fingerprint(values.tolist()),),
                  uses_labels=frozenset({col}), label=f"{p['feature']} + {col} one-hot",
                  meta={"classes": classes, "weight": p["weight"]})


_SEED = Param("int", 0, 0, 2**31 - 1, help="Random seed.")
REPRESENTATIONS.add("raw", RepresentationKind(
    "raw", "Raw feature",
    {"feature": Param("str", "mfcc_stats", help="An extracted feature (FEATURES registry name)."),
     "standardize": Param("bool", True, help="z-score each dimension on the valid tracks.")},
    help="An extracted feature, flattened and standardized (direct spectral clustering).", build=_build_raw))
REPRESENTATIONS.add("pca", RepresentationKind(
    "pca", "PCA of a feature",
    {"feature": Param("str", "mfcc_stats", help="An extracted feature."),
     "n_components": Param("int", 16, 1, 512, help="PCA dimensions (reports: 8, 16, 32, 64)."),
     "random_state": _SEED},
    help="Standardize then PCA: the linear baseline every report compares against.", build=_build_pca, persist=True))
REPRESENTATIONS.add("latent", RepresentationKind(
    "latent", "Model latents (μ)",
    {"model_id": Param("str", "", help="A trained model id (cached_models/<model>/<fingerprint12>).")},
    help="The posterior mean of a trained VAE/AE for every track.", build=_build_latent, persist=True))
REPRESENTATIONS.add("lyrics", RepresentationKind(
    "lyrics", "Lyrics embedding",
    {"feature": Param("str", "lyrics", help="The lyrics feature (TF-IDF -> SVD)."),
     "standardize": Param("bool", False, help="z-score each dimension.")},
    help="Lyrics only; tracks without lyrics are left out (label -2).", build=_build_lyrics))
REPRESENTATIONS.add("fusion", RepresentationKind(
    "fusion", "Audio + lyrics fusion",
    {"alpha": Param("float", 1.0, 0.0, 10.0, help="Weight of the lyrics part (report 002: 0.25, 2.0)."),
     "lyrics_feature": Param("str", "lyrics", help="The lyrics feature.")},
    help="[z_audio, α·e_lyrics], each standardized; tracks without lyrics get a zero lyrics part. "
         "params['audio'] is the audio representation spec.", build=_build_fusion))
REPRESENTATIONS.add("label_onehot", RepresentationKind(
    "label_onehot", "Feature + label one-hot (leak demo)",
    {"feature": Param("str", "mfcc_stats", help="An extracted feature."),
     "label": Param("choice", "genre", choices=("genre", "language"), help="The label appended as one-hot."),
     "weight": Param("float", 1.0, 0.0, 100.0, help="Scale of the one-hot columns.")},
    help="Report 003's genre-aware space: appends the very labels being scored (a leak the metrics flag).",
    build=_build_label_onehot))


# ----------------------------------------------------------------------------- building and caching

_memory: "OrderedDict[str, Representation]" = OrderedDict()


def _load_dataset(dataset):
    if isinstance(dataset, str):
        from core.datasets import load_dataset

        return load_dataset(dataset)
    return dataset


def validate_spec(spec) -> tuple[RepresentationSpec, dict]:
    """(spec, validated params); for fusion the nested ``audio`` spec is kept as a RepresentationSpec."""
    spec = RepresentationSpec.from_any(spec)
    kind = REPRESENTATIONS.get(spec.kind)
    params = dict(spec.params)
    audio = None
    if spec.kind == "fusion":
        if "audio" not in params:
            raise ParameterError("audio", value=None, expected="the audio part of the fusion (a representation spec)",
                                 fix="e.g. RepresentationSpec('fusion', {'audio': RepresentationSpec('latent', {'model_id': M}), 'alpha': 1.0})")
        audio = RepresentationSpec.from_any(params.pop("audio"))
        REPRESENTATIONS.get(audio.kind)
    p = validate_params(kind.params, params)
    if spec.kind == "latent" and not p["model_id"]:
        raise ParameterError("model_id", value="", expected="a trained model id", fix="Train a model first (Train page).")
    if audio is not None:
        p["audio"] = audio
    return spec, p


def representation_fingerprint(dataset, spec) -> str:
    """Fingerprint of a representation (needs the inputs' fingerprints, so it may read the feature cache)."""
    return build_representation(dataset, spec).fingerprint


def build_representation(dataset, spec) -> Representation:
    """Build (or fetch from cache) the representation ``spec`` of ``dataset`` (a Dataset or its name)."""
    dataset = _load_dataset(dataset)
    spec, p = validate_spec(spec)
    kind = REPRESENTATIONS.get(spec.kind)
    # key of the request itself (cheap); the content fingerprint below also covers the inputs
    req_key = fingerprint("repr-request", dataset.fingerprint, spec.kind,
                          {k: (v.to_dict() if isinstance(v, RepresentationSpec) else v) for k, v in p.items()},
                          _input_tokens(dataset, spec.kind, p), version=REPRESENT_VERSION)
    if req_key in _memory:
        _memory.move_to_end(req_key)
        return _memory[req_key]
    disk = workspace() / "representations" / f"{req_key}.npz"
    rep = _read_disk(disk) if kind.persist else None
    if rep is None:
        parts = kind.build(dataset, p)
        fp = fingerprint("representation", spec.kind,
                         {k: (v.to_dict() if isinstance(v, RepresentationSpec) else v) for k, v in p.items()},
                         list(parts.inputs), version=REPRESENT_VERSION)
        rep = Representation(X=np.asarray(parts.X, dtype=np.float32), valid=np.asarray(parts.valid, bool),
                             track_ids=np.asarray(parts.track_ids).astype(str), fingerprint=fp,
                             uses_labels=frozenset(parts.uses_labels), label=parts.label,
                             meta={"kind": spec.kind, **parts.meta})
        if kind.persist:
            _write_disk(disk, rep)
    _memory[req_key] = rep
    while len(_memory) > _MEMORY_SLOTS:
        _memory.popitem(last=False)
    return rep


def _input_tokens(dataset, kind: str, p: dict) -> list:
    """Fingerprints of the inputs a request depends on, so a re-extracted feature invalidates the cache."""
    tokens: list = []
    if kind in ("raw", "pca", "lyrics", "label_onehot"):
        tokens.append(_features(dataset, p["feature"]).fingerprint)
    elif kind == "fusion":
        tokens.append(_features(dataset, p["lyrics_feature"]).fingerprint)
        a_spec, a_p = validate_spec(p["audio"])
        tokens.append(_input_tokens(dataset, a_spec.kind, a_p))
    elif kind == "latent":
        tokens.append(str(p["model_id"]))
    return tokens


def _write_disk(path: Path, rep: Representation) -> None:
    import json

    artifacts.save_npz(path, X=rep.X, valid=rep.valid, track_ids=rep.track_ids.astype(str),
                       info=np.array(json.dumps({"fingerprint": rep.fingerprint, "uses_labels": sorted(rep.uses_labels),
                                                 "label": rep.label, "meta": rep.meta}, default=str)))


def _read_disk(path: Path) -> Representation | None:
    import json

    if not path.exists():
        return None
    try:
        d = artifacts.load_npz(path)
        info = json.loads(str(d["info"]))
    except (ArtifactError, KeyError, ValueError):
        return None
    return Representation(X=d["X"], valid=d["valid"].astype(bool), track_ids=d["track_ids"].astype(str),
                          fingerprint=info["fingerprint"], uses_labels=frozenset(info["uses_labels"]),
                          label=info["label"], meta=info["meta"])


def clear_memory_cache() -> None:
    """Forget in-memory representations and feature sets (disk caches stay)."""
    _memory.clear()
    _feature_memo.clear()
