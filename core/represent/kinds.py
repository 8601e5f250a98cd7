"""The representation kinds: one builder each, registered with its parameter table and roles."""

from __future__ import annotations

import importlib

import numpy as np

from core.errors import ArtifactError, ParameterError
from core.params import Param
from core.represent.base import (
    REPRESENTATIONS,
    Parts,
    RepresentationKind,
    _features,
    _flat,
    _nan_rows,
    _need_valid,
    build_representation,
    concat_blocks,
    feature_warnings,
    pca_reduce,
    standardize,
)


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


def _lyrics_labels(dataset) -> frozenset:
    """Label columns derived from the lyrics themselves (language detected from lyrics): scoring a lyrics-based
    representation against them measures the detector, not the clustering."""
    info = getattr(dataset, "info", {}) or {}
    return frozenset({"language"}) if info.get("language_source") == "detected from lyrics" else frozenset()


def _build_lyrics(dataset, p: dict) -> Parts:
    fs = _features(dataset, p["feature"])
    X, valid, ids = _flat(fs)
    if p["standardize"] and valid.any():
        X = standardize(X, valid)
    return Parts(_nan_rows(X, valid), valid, ids, label=f"lyrics ({p['feature']})", uses_labels=_lyrics_labels(dataset),
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
    return Parts(X, audio.valid.copy(), audio.track_ids, uses_labels=audio.uses_labels | _lyrics_labels(dataset),
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

