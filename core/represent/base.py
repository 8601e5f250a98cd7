"""Representation specs, the registry, transformers, inputs and the cached build (see core.represent)."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from core.cache import CACHE, Entry
from core.errors import ParameterError
from core.hashing import canonical_json, fingerprint
from core.params import Spec, validate_params
from core.registry import Registry

REPRESENT_VERSION = "2"
NESTED = ("audio", "base", "parts")  # params holding other representation specs


# ----------------------------------------------------------------------------- transformers

def _standard_scaler(X: np.ndarray, valid: np.ndarray):
    """sklearn StandardScaler fitted on the valid rows of X (n, d) (constant columns keep scale 1)."""
    from sklearn.preprocessing import StandardScaler

    rows = np.asarray(X, dtype=np.float64)[np.asarray(valid, bool)]
    if len(rows) == 0:
        raise ParameterError("valid", value="no valid rows", expected="at least one row to standardize")
    return StandardScaler().fit(rows)


def standardize(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """z-score fitted on the valid rows; X (n, d) -> (n, d) float32 (invalid rows transformed too)."""
    return _standard_scaler(X, valid).transform(np.nan_to_num(np.asarray(X, np.float64))).astype(np.float32)


def block_scale(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Centre a block on its valid rows and scale it to unit total variance (sum of column variances = 1).

    X: (n, d) -> (n, d) float32. The block's own geometry (relative scale of its dimensions) is kept;
    only its overall weight is normalised, so a 64-D block does not outweigh a 16-D one.
    """
    X = np.nan_to_num(np.asarray(X, dtype=np.float64))
    rows = X[np.asarray(valid, bool)]
    if len(rows) == 0:
        return np.zeros_like(X, dtype=np.float32)
    centred = X - rows.mean(axis=0)
    total = float(rows.var(axis=0).sum())
    return (centred / np.sqrt(total) if total > 1e-12 else centred).astype(np.float32)


CHUNK_BYTES = 64 << 20     # one chunk of a streamed pass, as float64
DEFAULT_STREAM_BYTES = 1 << 30


def stream_bytes() -> int:
    """Features larger than this (``SONGSCAPE_STREAM_BYTES``, default 1 GiB) are reduced chunk by chunk."""
    try:
        return max(0, int(os.environ.get("SONGSCAPE_STREAM_BYTES", DEFAULT_STREAM_BYTES)))
    except ValueError:
        return DEFAULT_STREAM_BYTES


def _pca_streamed(X: np.ndarray, valid: np.ndarray, k: int):
    """StandardScaler + IncrementalPCA fitted and applied chunk by chunk of the valid rows: memory holds a
    chunk (CHUNK_BYTES as float64) and the components, never the feature."""
    from sklearn.decomposition import IncrementalPCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = np.flatnonzero(valid)
    step = max(row_step(X), k + 1)  # IncrementalPCA needs at least k rows per batch
    chunks = [rows[a:a + step] for a in range(0, len(rows), step)]
    if len(chunks) > 1 and len(chunks[-1]) < k:  # fold a short tail into the chunk before it
        chunks[-2:] = [np.concatenate(chunks[-2:])]
    scaler, ipca = StandardScaler(), IncrementalPCA(n_components=k)
    for c in chunks:
        scaler.partial_fit(np.asarray(X[c], np.float64))
    for c in chunks:
        ipca.partial_fit(scaler.transform(np.asarray(X[c], np.float64)))
    Z = np.full((len(X), k), np.nan, dtype=np.float32)
    for c in chunks:
        Z[c] = ipca.transform(scaler.transform(np.asarray(X[c], np.float64))).astype(np.float32)
    return Z, make_pipeline(scaler, ipca)


def pca_reduce(X: np.ndarray, valid: np.ndarray, n_components: int, *, random_state: int = 0):
    """StandardScaler -> PCA fitted on the valid rows (a scikit-learn Pipeline).

    Returns (Z (n, k) float32 with NaN rows where invalid, pipeline, warnings). k is capped at
    min(valid rows - 1, dims) and the cap is said in ``warnings``. A feature larger than ``stream_bytes()``
    is reduced chunk by chunk with IncrementalPCA (the same subspace up to float noise; said in ``warnings``).
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    valid = np.asarray(valid, bool)
    limit = max(1, min(int(valid.sum()) - 1, X.shape[1]))
    k = min(int(n_components), limit)
    warnings = [] if k == n_components else [
        f"PCA reduced to {k} components (n_components={n_components} needs more than {n_components} tracks and "
        f"dimensions; there are {int(valid.sum())} tracks with {X.shape[1]} dimensions)."]
    if X.nbytes > stream_bytes():
        Z, pipe = _pca_streamed(X, valid, k)  # IncrementalPCA has no randomness to seed
        return Z, pipe, warnings + [f"PCA fitted incrementally, {row_step(X)} tracks at a time: the feature "
                                    f"({X.nbytes / 2**30:.1f} GiB) is larger than SONGSCAPE_STREAM_BYTES."]
    pipe = make_pipeline(StandardScaler(), PCA(n_components=k, random_state=random_state))
    Z = np.full((len(X), k), np.nan, dtype=np.float32)
    Z[valid] = pipe.fit_transform(np.asarray(X, np.float64)[valid]).astype(np.float32)
    return Z, pipe, warnings


# ----------------------------------------------------------------------------- specs and results

def _plain(v):
    if isinstance(v, RepresentationSpec):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass(frozen=True)
class RepresentationSpec:
    """What to build: ``kind`` (a REPRESENTATIONS name) and its ``params``.

    Nested specs (``params["audio"]`` of fusion, ``params["base"]`` of umap, ``params["parts"]`` of concat)
    are RepresentationSpecs or ``{"kind": ..., "params": {...}}`` dicts.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "params": {k: _plain(v) for k, v in sorted(self.params.items())}}

    @classmethod
    def from_any(cls, obj) -> "RepresentationSpec":
        if isinstance(obj, RepresentationSpec):
            return obj
        if isinstance(obj, Mapping) and "kind" in obj:
            return cls(str(obj["kind"]), dict(obj.get("params", {}) or {}))
        raise ParameterError("representation", value=obj,
                             expected="a RepresentationSpec or a dict {'kind': ..., 'params': {...}}")

    def __hash__(self) -> int:
        return hash(canonical_json(self.to_dict()))

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping):
            other = RepresentationSpec.from_any(other)
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

    @property
    def warnings(self) -> list[str]:
        return list(self.meta.get("warnings", []))


@dataclass(frozen=True)
class RepresentationKind(Spec):
    """``build(dataset, params) -> Parts``; ``persist``: keep on disk (costly to rebuild).

    roles: what a parameter names, for pages and the CLI to offer the right options: "feature",
    "audio_feature", "lyrics_feature", "model", "label", "column", "spec", "specs", "weights".
    inputs(dataset, params) -> tokens the result depends on besides the params (feature fingerprints…).
    """

    build: Callable[[Any, dict], "Parts"] | None = None
    persist: bool = False
    roles: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Parts:
    X: np.ndarray
    valid: np.ndarray
    track_ids: np.ndarray
    uses_labels: frozenset = frozenset()
    label: str = ""
    meta: dict = field(default_factory=dict)


REPRESENTATIONS: Registry[RepresentationKind] = Registry("representation")


# ----------------------------------------------------------------------------- inputs

def _features(dataset, name: str):
    """core.features.get_features, kept in the shared cache's memory for this process (sliders rebuild
    representations many times a second). ``clear_memory_cache()`` forgets them."""
    feats = importlib.import_module("core.features")
    return CACHE.get_or_compute_object("features", f"{dataset.fingerprint}:{name}",
                                       lambda: feats.get_features(dataset, name),
                                       nbytes=lambda fs: int(np.asarray(fs.X).nbytes) + 1024)


def _flat(fs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(fs.X, dtype=np.float32).reshape(len(fs.X), -1)  # a view of a memory-mapped feature
    valid = np.asarray(fs.valid, dtype=bool) & finite_rows(X)
    return X, valid, np.asarray(fs.track_ids).astype(str)


def row_step(X: np.ndarray, *, budget: int | None = None) -> int:
    """Rows per chunk so that a float64 copy of one chunk of X (n, d) stays within ``budget`` bytes
    (CHUNK_BYTES by default; the streamed PCA fit works in about 7 times that)."""
    return max(1, int((budget or CHUNK_BYTES) // max(1, 8 * int(np.prod(X.shape[1:])))))


def finite_rows(X: np.ndarray) -> np.ndarray:
    """(n,) bool: rows of X with no NaN/inf, computed chunk by chunk (a memory map is never copied whole)."""
    out = np.empty(len(X), dtype=bool)
    step = row_step(X)
    for a in range(0, len(X), step):
        out[a:a + step] = np.isfinite(X[a:a + step]).all(axis=1)
    return out


def _nan_rows(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float32, copy=True)
    X[~valid] = np.nan
    return X


def _need_valid(valid: np.ndarray, name: str, what: str) -> None:
    if not valid.any():
        raise ParameterError(name, value=what, expected="a feature extracted for at least one track",
                             fix="Extract it first (Dataset page or `python -m core extract`).")


def weights_token(model_id: str) -> str:
    """Content hash of a trained model's weights (so a retrained model never serves old latents)."""
    training = importlib.import_module("core.training")
    return training.weights_sha256(model_id) if hasattr(training, "weights_sha256") else f"unhashed:{model_id}"


def feature_warnings(fs) -> list[str]:
    """What a feature set says about its own inputs: e.g. a tabular feature using k of n available columns."""
    info = (getattr(fs, "config", None) or {}).get("info", {}) or {}
    used, avail = info.get("n_columns_used"), info.get("n_columns_available")
    if used is not None and avail and used < avail:
        dropped = info.get("dropped") or {}
        what = "; ".join(f"{c}: {why}" for c, why in list(dropped.items())[:5]) + (" …" if len(dropped) > 5 else "")
        return [f"uses {used} of {avail} available columns" + (f" (left out — {what})" if what else "")
                + ". Choose columns explicitly (`extract --columns`) if that is not what you want."]
    return []



def concat_blocks(blocks: list[tuple[np.ndarray, np.ndarray, float]], *, required: np.ndarray) -> np.ndarray:
    """[w_i · block_scale(X_i)] side by side; a part missing for a row gets its zero (mean) block.

    blocks: (X_i (n, d_i), valid_i (n,), w_i); rows not ``required`` are NaN. -> (n, Σ d_i) float32.
    """
    out = [np.float32(w) * block_scale(X, v) for X, v, w in blocks]
    for (X, v, _), B in zip(blocks, out):
        B[~np.asarray(v, bool)] = 0.0
    Z = np.concatenate(out, axis=1).astype(np.float32)
    Z[~required] = np.nan
    return Z


# ----------------------------------------------------------------------------- building and caching

def _load_dataset(dataset):
    if isinstance(dataset, str):
        from core.datasets import load_dataset

        return load_dataset(dataset)
    return dataset


def validate_spec(spec) -> tuple[RepresentationSpec, dict]:
    """(spec, validated params); nested specs stay RepresentationSpecs, ``weights`` a list of floats."""
    spec = RepresentationSpec.from_any(spec)
    kind = REPRESENTATIONS.get(spec.kind)
    params = dict(spec.params)
    nested: dict[str, Any] = {}
    for name, role in kind.roles.items():
        if role == "spec":
            if name not in params:
                raise ParameterError(name, value=None, expected=f"the {name} part of '{spec.kind}' (a representation "
                                     "spec)", fix="e.g. {'kind': 'pca', 'params': {'feature': 'mfcc_stats'}}")
            nested[name] = RepresentationSpec.from_any(params.pop(name))
            REPRESENTATIONS.get(nested[name].kind)
        elif role == "specs":
            items = params.pop(name, None)
            if not items:
                raise ParameterError(name, value=items, expected="a non-empty list of representation specs")
            nested[name] = tuple(RepresentationSpec.from_any(s) for s in items)
        elif role == "weights":
            w = params.pop(name, ())
            try:
                nested[name] = tuple(float(x) for x in w)
            except (TypeError, ValueError):
                raise ParameterError(name, value=w, expected="a list of numbers") from None
            if any(not np.isfinite(x) or x < 0 for x in nested[name]):
                raise ParameterError(name, value=list(w), expected="finite weights ≥ 0")
    p = validate_params(kind.params, params)
    if spec.kind == "latent" and not p["model_id"]:
        raise ParameterError("model_id", value="", expected="a trained model id", fix="Train a model first (Train page).")
    p.update(nested)
    return spec, p


def _input_tokens(dataset, kind: str, p: dict) -> list:
    """What a request depends on besides its params: feature fingerprints, model weights, nested inputs."""
    tokens: list = []
    roles = REPRESENTATIONS.get(kind).roles
    for name, role in roles.items():
        if role in ("feature", "lyrics_feature"):
            tokens.append(_features(dataset, p[name]).fingerprint)
        elif role == "model":
            tokens.append([str(p[name]), weights_token(p[name])])
        elif role == "spec":
            s, sp = validate_spec(p[name])
            tokens.append(_input_tokens(dataset, s.kind, sp))
        elif role == "specs":
            for s in p[name]:
                s, sp = validate_spec(s)
                tokens.append(_input_tokens(dataset, s.kind, sp))
    if kind in ("metadata_text", "onehot", "label_onehot"):
        cols = [c for c in ("title", "artist", p.get("column"), p.get("label")) if c and c in dataset.tracks.columns]
        tokens.append(fingerprint(dataset.tracks[cols].astype(str).values.tolist()))
    return tokens


def representation_key(dataset, spec) -> str:
    """The cache key (and fingerprint) of a request: kind, params and every input's fingerprint."""
    dataset = _load_dataset(dataset)
    spec, p = validate_spec(spec)
    return fingerprint("representation", dataset.fingerprint, spec.kind, {k: _plain(v) for k, v in p.items()},
                       _input_tokens(dataset, spec.kind, p), version=REPRESENT_VERSION)


def representation_fingerprint(dataset, spec) -> str:
    """Fingerprint of a representation without building it (reads only the inputs' fingerprints)."""
    return representation_key(dataset, spec)


def build_representation(dataset, spec) -> Representation:
    """Build (or fetch from ``core.cache.CACHE``) the representation ``spec`` of ``dataset`` (a Dataset or name)."""
    dataset = _load_dataset(dataset)
    spec, p = validate_spec(spec)
    kind = REPRESENTATIONS.get(spec.kind)
    key = representation_key(dataset, spec)

    def compute() -> Entry:
        parts = kind.build(dataset, p)
        meta = {"kind": spec.kind, "warnings": [], **parts.meta}
        return Entry({"X": np.asarray(parts.X, dtype=np.float32), "valid": np.asarray(parts.valid, bool),
                      "track_ids": np.asarray(parts.track_ids).astype(str)},
                     {"uses_labels": sorted(parts.uses_labels), "label": parts.label, "meta": meta})

    entry = CACHE.get_or_compute("representation", key, compute, persist=kind.persist)
    return Representation(X=entry.arrays["X"], valid=entry.arrays["valid"].astype(bool),
                          track_ids=entry.arrays["track_ids"].astype(str), fingerprint=key,
                          uses_labels=frozenset(entry.meta["uses_labels"]), label=entry.meta["label"],
                          meta=entry.meta["meta"])


def clear_memory_cache() -> None:
    """Forget in-memory representations and feature sets (disk caches stay)."""
    CACHE.clear_memory("representation")
    CACHE.clear_memory("features")
