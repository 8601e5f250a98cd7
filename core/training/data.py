"""Models on a workspace dataset: choosing features, loading them as inputs, training, latents per track.

Rows that a dataset lacks in a REQUIRED modality (or, for the conditional VAE, whose label is empty)
are left out of training by ``train_on_dataset`` and get NaN latents from ``dataset_latents``;
missing OPTIONAL modalities (lyrics of the hybrid/concat VAEs) are masked instead.

A model is bound to the dataset's content: config.json records the dataset's name and fingerprint
(``meta.dataset_fingerprint``), and ``list_trained(dataset=ds)`` matches on that fingerprint.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from core.errors import ArtifactError, ParameterError
from core.hashing import array_fingerprint, fingerprint
from core.models import MODELS
from core.params import validate_params
from core.training.config import TrainConfig, validate_config
from core.training.inference import latents
from core.training.loop import train
from core.training.store import TrainResult, load_trained
from core.training.stream import RowView


def _load(dataset):
    """A Dataset from a Dataset or a name."""
    if isinstance(dataset, str):
        from core.datasets import load_dataset

        return load_dataset(dataset)
    if not hasattr(dataset, "tracks") or not hasattr(dataset, "fingerprint"):
        raise ParameterError("dataset", value=type(dataset).__name__, expected="a dataset name or a Dataset")
    return dataset


def choose_features(spec, ds, features: Mapping[str, str] | None) -> dict[str, str]:
    """modality → FEATURES name: the given ones, else the model's first preference this dataset offers."""
    from core import features as F

    features = dict(features or {})
    unknown = [m for m in features if m not in spec.inputs]
    if unknown:
        raise ParameterError("features", value=features, expected=f"keys among {list(spec.inputs)}")
    try:
        available = list(F.available_features(ds))
    except Exception:  # noqa: BLE001 - fall back to the model's first preference
        available = None
    out = {}
    for m, ispec in spec.inputs.items():
        if m in features:
            out[m] = features[m]
            continue
        choices = [f for f in ispec.features if available is None or f in available]
        if not choices:
            raise ParameterError(f"features['{m}']", value=None,
                                 expected=f"one of {list(ispec.features)} available for dataset '{ds.name}'",
                                 fix=f"This dataset offers {available}; pick another model or pass features=.")
        out[m] = choices[0]
    return out


def dataset_inputs(spec, ds, feats: Mapping[str, str], cond_column, cond_classes=None, progress=None, cancel=None):
    """Load a dataset's FeatureSets as a model's inputs.

    Returns (inputs modality → (n_usable, *shape) float32 in the features' units, masks modality →
    (n_usable,) bool for optional modalities, cond (n_usable,) int64 | None, rows (n_tracks,) bool —
    the usable tracks —, classes list | None, fsets modality → FeatureSet).

    The inputs are ``RowView``s of the features' memory maps (core/training/stream.py): nothing is read
    here; training and inference read them one batch at a time (``np.asarray`` reads them all).
    """
    from core import features as F

    fsets = {m: F.get_features(ds, name, progress=progress, cancel=cancel) for m, name in feats.items()}
    n = len(ds.tracks)
    rows = np.ones(n, bool)
    for m, fs in fsets.items():
        if len(fs.valid) != n:
            raise ArtifactError(f"Feature set '{fs.name}' has {len(fs.valid)} rows but dataset '{ds.name}' has {n}; "
                                "re-extract the features.")
        if spec.inputs[m].required:
            rows &= np.asarray(fs.valid, bool)
    codes, classes = None, None
    if spec.uses_cond:
        if not cond_column:
            raise ParameterError("cond_column", value=cond_column, expected="a label column such as 'language' or 'genre'",
                                 fix=f"'{spec.name}' is conditional; pass cond_column=.")
        if cond_column not in ds.tracks.columns:
            raise ParameterError("cond_column", value=cond_column,
                                 expected=f"a column of the track table {list(ds.tracks.columns)}")
        labels = ds.tracks[cond_column].astype(str).str.strip().to_numpy()
        present = labels != ""
        classes = list(cond_classes) if cond_classes is not None else sorted(set(labels[present]))
        if len(classes) < 2:
            raise ParameterError("cond_column", value=cond_column, expected="a column with at least 2 distinct labels")
        lut = {c: i for i, c in enumerate(classes)}
        codes_all = np.array([lut.get(v, -1) for v in labels], dtype=np.int64)
        rows &= codes_all >= 0
        codes = codes_all[rows]
    usable = np.flatnonzero(rows)
    inputs = {m: RowView(fs.X, None if len(usable) == n else usable) for m, fs in fsets.items()}
    masks = {m: np.asarray(fs.valid, bool)[rows] for m, fs in fsets.items() if not spec.inputs[m].required}
    return inputs, masks, codes, rows, classes, fsets


def train_on_dataset(*, dataset, model: str, features: Mapping[str, str] | None = None,
                     model_params: Mapping | None = None, config: TrainConfig | None = None,
                     cond_column: str | None = None, name: str | None = None, notes: str | None = None,
                     progress=None, cancel=None) -> TrainResult:
    """Train ``model`` on a workspace dataset's features (defaults from the model spec).

    dataset: a name or a Dataset. features: modality → FEATURES name (missing ones: the model's default).
    name/notes: the user's name for the model and free notes, stored in config.json and listed.
    Rows invalid in a REQUIRED modality (or with an empty condition label) are excluded and later get
    NaN latents; rows missing an OPTIONAL modality are masked.
    """
    spec = MODELS.get(model)
    config = validate_config(config or TrainConfig())
    validate_params(spec.params, dict(model_params or {}))  # fail fast, before any extraction
    if cond_column and not spec.uses_cond:
        raise ParameterError("cond_column", value=cond_column, expected=f"None: '{model}' is not conditional",
                             fix="Use model='cvae' to condition on a label column.")
    ds = _load(dataset)
    feats = choose_features(spec, ds, features)
    inputs, masks, codes, rows, classes, fsets = dataset_inputs(spec, ds, feats, cond_column, cancel=cancel)
    if rows.sum() < 2:
        raise ParameterError("dataset", value=ds.name, expected="at least 2 tracks with valid features",
                             fix=f"Only {int(rows.sum())} usable rows for features {feats}.")
    params = dict(model_params or {})
    if spec.uses_cond and not params.get("n_classes"):
        params["n_classes"] = len(classes)
    input_fp = fingerprint("dataset-inputs", {m: fs.fingerprint for m, fs in sorted(fsets.items())},
                           array_fingerprint(rows), cond_column, classes)
    meta = {"dataset": ds.name, "dataset_fingerprint": ds.fingerprint, "features": feats,
            "feature_fingerprints": {m: fs.fingerprint for m, fs in fsets.items()},
            "n_tracks": int(len(rows)), "n_excluded": int((~rows).sum()), "cond_column": cond_column,
            "cond_classes": classes, "uses_labels": [cond_column] if spec.uses_cond and cond_column else []}
    if name:
        meta["name"] = str(name)
    if notes:
        meta["notes"] = str(notes)
    return train(model=model, inputs=inputs, masks=masks or None, cond=codes, model_params=params, config=config,
                 input_fingerprint=input_fp, meta=meta, progress=progress, cancel=cancel)


def dataset_latents(model_id: str, dataset) -> tuple[np.ndarray, np.ndarray]:
    """(mu (n_tracks, latent_dim) with NaN rows for excluded tracks, valid (n_tracks,) bool).

    dataset: a name or a Dataset. Cached per feature content, usable rows and model weights.
    """
    tm = load_trained(model_id)
    meta = tm.config.get("meta", {})
    if not meta.get("features"):
        raise ParameterError("model_id", value=model_id, expected="a model trained with train_on_dataset "
                             "(its config records which features it used)")
    ds = _load(dataset)
    inputs, masks, codes, rows, _classes, fsets = dataset_inputs(
        tm.spec, ds, meta["features"], meta.get("cond_column"), meta.get("cond_classes"))
    fp = fingerprint("dataset-latents", {m: fs.fingerprint for m, fs in sorted(fsets.items())},
                     array_fingerprint(rows))
    mu = np.full((len(rows), tm.model.latent_dim), np.nan, dtype=np.float32)
    if rows.any():
        mu[rows] = latents(model_id, inputs=inputs, masks=masks or None, cond=codes, input_fingerprint=fp)
    return mu, rows
