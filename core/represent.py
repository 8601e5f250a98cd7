"""Representations: what gets clustered. The REPRESENTATIONS registry and ``build_representation``.

This is the ONE representation layer: the Explore page, the ``cluster`` CLI, the Compare grid, the
report presets and the β sweep all build what they cluster here.

A representation turns a dataset into X (n_tracks, d) float32 with one row per track (same order as
``dataset.tracks``) and a ``valid`` mask. Rows that are not valid (failed extraction, no such
modality, a model without latents for them) are NaN in X, so they cannot be used by accident;
``core.cluster.cluster_rows(X, valid, ...)`` gives them label -2 and the metrics ignore them.

Kinds (each a spec with a Param table; the Param's ``role`` in ``RepresentationKind.roles`` tells the
page and the CLI which options to offer: extracted features, trained models, label columns, …):

* ``raw``           an extracted feature, flattened, standardized (z-score fitted on valid rows);
* ``pca``           standardized feature -> PCA(n_components) (capped at min(valid rows - 1, dims), said
                    in ``meta["warnings"]``): the linear baseline of every report;
* ``latent``        μ of a trained model; ``uses_labels`` from the model's config (a conditional VAE);
* ``lyrics``        the lyrics feature (TF-IDF -> SVD), optionally standardized;
* ``time_mean``     a frame feature averaged over time (log-mel (128, T) -> 128);
* ``metadata_text`` character TF-IDF of text columns (title + artist) -> SVD;
* ``onehot``        one-hot of the ``top`` most frequent values of a column (artist, genre…);
* ``concat``        blocks side by side: ``[w_1·B(part_1), w_2·B(part_2), …]`` where B centres a block and
                    scales it to unit total variance, so a block's dimension count does not weigh;
* ``fusion``        late fusion ``[B(z_audio), α·B(e_lyrics)]`` (the same block scaling; lyrics keep their
                    own geometry, no per-dimension z-score); a track without lyrics gets a zero lyrics
                    block (= the lyrics mean); valid = audio valid. α → ∞ gives the lyrics-only
                    clustering, α = 0 the audio-only one;
* ``label_onehot``  a standardized feature with ``weight * one_hot(label)`` appended: a genre-aware space
                    built from the labels, so ``uses_labels = {label}`` and the metrics flag the leak;
* ``umap``          another representation reduced by UMAP to a few dimensions (``min_dist`` 0): the
                    standard recipe before HDBSCAN/DBSCAN on 16–64-D embeddings.

Results live in ``core.cache.CACHE`` (namespace "representation"): in memory for every kind, on disk
for the costly ones, keyed by the request and its inputs' fingerprints (a re-extracted feature or a
retrained model — weights hashed — gives a new key).
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from core.cache import CACHE, Entry
from core.errors import ArtifactError, ParameterError
from core.hashing import canonical_json, fingerprint
from core.params import Param, Spec, validate_params
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


def pca_reduce(X: np.ndarray, valid: np.ndarray, n_components: int, *, random_state: int = 0):
    """StandardScaler -> PCA fitted on the valid rows (a scikit-learn Pipeline).

    Returns (Z (n, k) float32 with NaN rows where invalid, pipeline, warnings). k is capped at
    min(valid rows - 1, dims) and the cap is said in ``warnings``.
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
    X = np.asarray(fs.X, dtype=np.float32).reshape(len(fs.X), -1)
    valid = np.asarray(fs.valid, dtype=bool) & np.isfinite(X).all(axis=1)
    return X, valid, np.asarray(fs.track_ids).astype(str)


def _nan_rows(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float32, copy=True)
    X[~valid] = np.nan
    return X


def _need_valid(valid: np.ndarray, name: str, what: str) -> None:
    if not valid.any():
        raise ParameterError(name, value=what, expected="a feature extracted for at least one track",
                             fix="Extract it first (Dataset page or `python -m core extract`).")


_WEIGHTS_HASH: dict[tuple, str] = {}


def weights_token(model_id: str) -> str:
    """Content hash of a trained model's weights (so a retrained model never serves old latents)."""
    from core.config import models_dir

    path = Path(models_dir()) / str(model_id) / "model.pt"
    try:
        st = path.stat()
    except OSError:
        return f"missing:{model_id}"
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _WEIGHTS_HASH:
        _WEIGHTS_HASH[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _WEIGHTS_HASH[key]


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


def _build_raw(dataset, p: dict) -> Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    _need_valid(valid, "feature", p["feature"])
    Z = standardize(X, valid) if p["standardize"] else X
    warnings = feature_warnings(fs)
    if X.shape[1] > 1000 and getattr(fs, "name", "").endswith("tfidf"):
        warnings.append(f"high-dimensional sparse input ({X.shape[1]}-D TF-IDF): Euclidean distances between such "
                        "vectors are not meaningful; cluster the SVD lyrics embedding instead.")
    return Parts(_nan_rows(Z, valid), valid, ids, label=f"{p['feature']} (raw)",
                 meta={"feature": p["feature"], "dims": int(X.shape[1]), "standardized": bool(p["standardize"]),
                       "warnings": warnings})


def _build_pca(dataset, p: dict) -> Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    _need_valid(valid, "feature", p["feature"])
    Z, pipe, warnings = pca_reduce(X, valid, p["n_components"], random_state=p["random_state"])
    warnings = feature_warnings(fs) + warnings
    return Parts(Z, valid, ids, label=f"PCA{Z.shape[1]} of {p['feature']}",
                 meta={"feature": p["feature"], "n_components": int(Z.shape[1]),
                       "requested_components": int(p["n_components"]),
                       "explained_variance": float(pipe[-1].explained_variance_ratio_.sum()), "warnings": warnings})


def _build_latent(dataset, p: dict) -> Parts:
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
    name = (cfg.get("meta", {}) or {}).get("name") or p["model_id"]
    warnings = ["this model's training was cancelled: its latents come from partly trained weights."] \
        if cfg.get("cancelled") else []
    scaling = (cfg.get("train_config", {}) or {}).get("input_scaling", "standard")
    if scaling == "none":
        warnings.append("input not standardized: the model trained on raw feature values, so one loud clip or one "
                        "large-valued column can dominate its latent space. Retrain with input scaling 'standard'.")
    return Parts(_nan_rows(mu, valid), valid, ids, uses_labels=uses, label=f"latent μ of {name}",
                 meta={"model_id": p["model_id"], "dims": int(mu.shape[1]), "warnings": warnings})


def _build_lyrics(dataset, p: dict) -> Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    if p["standardize"] and valid.any():
        X = standardize(X, valid)
    return Parts(_nan_rows(X, valid), valid, ids, label=f"lyrics ({p['feature']})",
                 meta={"feature": p["feature"], "n_with_lyrics": int(valid.sum())})


def _build_time_mean(dataset, p: dict) -> Parts:
    fs = _features(dataset, p["feature"])
    X = np.asarray(fs.X, dtype=np.float32)
    X = X.mean(axis=-1) if X.ndim >= 3 else X
    X = X.reshape(len(X), -1)
    valid = np.asarray(fs.valid, bool) & np.isfinite(X).all(axis=1)
    _need_valid(valid, "feature", p["feature"])
    Z = standardize(X, valid) if p["standardize"] else X
    return Parts(_nan_rows(Z, valid), valid, np.asarray(fs.track_ids).astype(str),
                 label=f"time mean of {p['feature']}", meta={"feature": p["feature"], "dims": int(X.shape[1])})


def _build_metadata_text(dataset, p: dict) -> Parts:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tracks = dataset.tracks
    cols = [c.strip() for c in str(p["columns"]).split(",") if c.strip() in tracks.columns]
    text = (tracks[cols].fillna("").astype(str).agg(" ".join, axis=1).str.strip().to_numpy(dtype=object)
            if cols else np.array([""] * len(tracks), dtype=object))
    valid = np.array([bool(t) for t in text])
    X = np.full((len(tracks), p["n_components"]), np.nan, dtype=np.float32)
    warnings = []
    if valid.sum() >= 3:
        tf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(text[valid])
        k = max(1, min(p["n_components"], tf.shape[1] - 1, int(valid.sum()) - 1))
        Z = TruncatedSVD(n_components=k, random_state=p["random_state"]).fit_transform(tf)
        X[valid] = 0.0
        X[np.flatnonzero(valid), :k] = Z
        if k < p["n_components"]:
            warnings.append(f"text SVD reduced to {k} components (not enough distinct texts).")
    else:
        valid[:] = False
    return Parts(X, valid, tracks["track_id"].astype(str).to_numpy(), label=f"text of {', '.join(cols) or '—'}",
                 meta={"columns": cols, "warnings": warnings})


def _onehot(values: np.ndarray, top: int) -> tuple[np.ndarray, list[str]]:
    vals = np.asarray(values, dtype=object).astype(str)
    present = vals[vals != ""]
    uniq, counts = np.unique(present, return_counts=True)
    order = np.lexsort((uniq, -counts))[:top]
    classes = sorted(uniq[order].tolist())
    return (vals[:, None] == np.array(classes, dtype=object)[None, :]).astype(np.float32), classes


def _build_onehot(dataset, p: dict) -> Parts:
    col = p["column"]
    if col not in dataset.tracks.columns:
        raise ParameterError("column", value=col, expected=f"a column of the track table {list(dataset.tracks.columns)}")
    X, classes = _onehot(dataset.tracks[col].fillna("").to_numpy(), p["top"])
    return Parts(X * np.float32(p["weight"]), np.ones(len(X), bool), dataset.tracks["track_id"].astype(str).to_numpy(),
                 uses_labels=frozenset({col}), label=f"{col} one-hot", meta={"column": col, "classes": classes})


def _build_label_onehot(dataset, p: dict) -> Parts:
    base = _build_raw(dataset, {"feature": p["feature"], "standardize": True})
    col = p["label"]
    if col not in dataset.tracks.columns:
        raise ParameterError("label", value=col, expected=f"a label column of the dataset {list(dataset.tracks.columns)}")
    onehot, classes = _onehot(dataset.tracks[col].fillna("").to_numpy(), 10_000)
    X = np.concatenate([np.nan_to_num(base.X), onehot * np.float32(p["weight"])], axis=1)
    X[~base.valid] = np.nan
    return Parts(X, base.valid, base.track_ids, uses_labels=frozenset({col}), label=f"{p['feature']} + {col} one-hot",
                 meta={"classes": classes, "weight": p["weight"]})


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


def _build_concat(dataset, p: dict) -> Parts:
    parts = [build_representation(dataset, s) for s in p["parts"]]
    weights = list(p["weights"]) or [1.0] * len(parts)
    if len(weights) != len(parts):
        raise ParameterError("weights", value=weights, expected=f"one weight per part ({len(parts)})")
    valid = np.logical_and.reduce([r.valid for r in parts])
    X = concat_blocks([(r.X, r.valid, w) for r, w in zip(parts, weights)], required=valid)
    uses = frozenset().union(*[r.uses_labels for r in parts])
    warnings = [w for r in parts for w in r.warnings]
    return Parts(X, valid, parts[0].track_ids, uses_labels=uses,
                 label="[" + ", ".join(f"{w:g}·{r.label}" for r, w in zip(parts, weights)) + "]",
                 meta={"dims": [r.dim for r in parts], "weights": weights, "warnings": warnings,
                       "scaling": "each block centred and scaled to unit total variance"})


def _build_fusion(dataset, p: dict) -> Parts:
    audio = build_representation(dataset, p["audio"])
    ly = _features(dataset, p["lyrics_feature"])
    L, lvalid, lids = _flat(ly)
    if len(L) != len(audio.X) or (lids != audio.track_ids).any():
        raise ArtifactError(f"Lyrics feature '{p['lyrics_feature']}' rows do not line up with the audio "
                            f"representation ({len(L)} vs {len(audio.X)} tracks); re-extract it.")
    X = concat_blocks([(audio.X, audio.valid, 1.0), (L, lvalid & audio.valid, p["alpha"])], required=audio.valid)
    return Parts(X, audio.valid.copy(), audio.track_ids, uses_labels=audio.uses_labels,
                 label=f"[{audio.label}, {p['alpha']:g}·lyrics]",
                 meta={"audio_dims": audio.dim, "lyrics_dims": int(L.shape[1]), "alpha": p["alpha"],
                       "n_without_lyrics": int((audio.valid & ~lvalid).sum()), "warnings": audio.warnings,
                       "scaling": "audio and lyrics blocks each centred and scaled to unit total variance"})


def _build_umap(dataset, p: dict) -> Parts:
    base = build_representation(dataset, p["base"])
    from core.project import project

    Y = project(base.X, method="umap", random_state=p["random_state"], valid=base.valid,
                n_neighbors=p["n_neighbors"], min_dist=p["min_dist"], n_components=p["n_components"])
    return Parts(np.asarray(Y, np.float32), base.valid, base.track_ids, uses_labels=base.uses_labels,
                 label=f"UMAP-{p['n_components']} of {base.label}",
                 meta={"n_components": p["n_components"], "warnings": base.warnings})


_SEED = Param("int", 0, 0, 2**31 - 1, help="Random seed.")
_FEATURE = Param("str", "mfcc_stats", help="An extracted feature (FEATURES registry name).")


def _kind(name: str, label: str, params: dict, build, help: str, *, persist: bool = False, roles=None) -> None:
    REPRESENTATIONS.add(name, RepresentationKind(name, label, params, help=help, build=build, persist=persist,
                                                 roles=roles or {}))


_kind("raw", "Raw feature",
      {"feature": _FEATURE, "standardize": Param("bool", True, help="z-score each dimension on the valid tracks.")},
      _build_raw, "An extracted feature, flattened and standardized (direct spectral clustering).",
      roles={"feature": "feature"})
_kind("pca", "PCA of a feature",
      {"feature": _FEATURE, "n_components": Param("int", 16, 1, 512, help="PCA dimensions (the reports use 8–64)."),
       "random_state": _SEED},
      _build_pca, "Standardize then PCA: the linear baseline every report compares against.", persist=True,
      roles={"feature": "feature", "n_components": "dims"})
_kind("latent", "Model latents (μ)",
      {"model_id": Param("str", "", help="A trained model (cached_models/<model>/<fingerprint12>).")},
      _build_latent, "The posterior mean of a trained VAE/AE for every track.", persist=True,
      roles={"model_id": "model"})
_kind("lyrics", "Lyrics embedding",
      {"feature": Param("str", "lyrics", help="The lyrics feature (TF-IDF -> SVD)."),
       "standardize": Param("bool", False, help="z-score each dimension.")},
      _build_lyrics, "Lyrics only; tracks without lyrics are left out (label -2).",
      roles={"feature": "lyrics_feature"})
_kind("time_mean", "Time mean of a frame feature",
      {"feature": Param("str", "logmel", help="A frame feature (log-mel, MFCC frames…)."),
       "standardize": Param("bool", True, help="z-score each dimension.")},
      _build_time_mean, "A frame feature averaged over time (the mean-mel audio baseline).",
      roles={"feature": "feature"})
_kind("metadata_text", "Title + artist text",
      {"columns": Param("str", "title,artist", help="Comma-separated text columns."),
       "n_components": Param("int", 32, 1, 512, help="SVD dimensions."), "random_state": _SEED},
      _build_metadata_text, "Character TF-IDF of text columns reduced by SVD.")
_kind("onehot", "One-hot of a column",
      {"column": Param("str", "artist", help="A column of the track table."),
       "top": Param("int", 20, 1, 10_000, help="Most frequent values kept (others all-zero)."),
       "weight": Param("float", 1.0, 0.0, 100.0, help="Scale of the one-hot columns.")},
      _build_onehot, "One-hot of a column's most frequent values (marked as using that column).",
      roles={"column": "column"})
_kind("concat", "Concatenation of representations",
      {}, _build_concat, "Blocks side by side, each centred and scaled to unit total variance, then weighted. "
      "params['parts']: representation specs; params['weights']: one weight per part.",
      roles={"parts": "specs", "weights": "weights"})
_kind("fusion", "Audio + lyrics fusion",
      {"alpha": Param("float", 1.0, 0.0, 1000.0, help="Weight of the lyrics block (blocks scaled to unit "
                      "variance first; the reports used 0.25 and 2.0)."),
       "lyrics_feature": Param("str", "lyrics", help="The lyrics feature.")},
      _build_fusion, "[B(z_audio), α·B(e_lyrics)], each block centred and scaled to unit total variance; tracks "
      "without lyrics get a zero lyrics block. params['audio'] is the audio representation spec.",
      roles={"audio": "spec", "lyrics_feature": "lyrics_feature"})
_kind("label_onehot", "Feature + label one-hot (leak demo)",
      {"feature": _FEATURE, "label": Param("str", "genre", help="The label appended as one-hot."),
       "weight": Param("float", 1.0, 0.0, 100.0, help="Scale of the one-hot columns.")},
      _build_label_onehot, "A genre-aware space: appends the very labels being scored (a leak the metrics flag).",
      roles={"feature": "feature", "label": "label"})
_kind("umap", "UMAP-reduced representation",
      {"n_components": Param("int", 8, 2, 32, help="UMAP dimensions (5–10 suits density clustering)."),
       "n_neighbors": Param("int", 15, 2, 200, help="UMAP neighbourhood size."),
       "min_dist": Param("float", 0.0, 0.0, 1.0, help="0 packs clusters tightly (best for HDBSCAN)."),
       "random_state": _SEED},
      _build_umap, "Another representation reduced by UMAP (min_dist 0): run HDBSCAN/DBSCAN on this.",
      persist=True, roles={"base": "spec"})


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
