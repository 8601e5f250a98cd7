"""Training, artifacts and inference for every model in ``core.models.MODELS``.

``train(model=..., inputs={modality: (n, ...) float32}, ...)`` validates every hyperparameter before
any work, standardizes the inputs with statistics of its seeded training split, trains with a seeded
permutation/initialisation, and stores the artifact in ``models_dir()/<model>/<fingerprint[:12]>/``.
Training the same model + params + config on the same inputs again loads that artifact instantly.

One job per module (this package imports torch only when a model is built, trained or loaded):

* ``config``    TrainConfig, TRAIN_PARAMS, validate_config, KL schedules (beta_at), select_device
* ``scaling``   input standardization fitted on the training split, stored as scaler.npz
* ``inputs``    input checks and batching shared by training and inference
* ``stream``    RowView (memory-mapped rows read on demand), BatchSource (scaled batches gathered per step)
* ``loop``      train() and the epoch loop (best epoch, early stopping, cancel, divergence)
* ``store``     artifact folders: publish (locked, race-safe), list_trained, load_trained, delete_trained
* ``inference`` latents, reconstruct, decode_latent, recon_error, predict_clusters (in input units)
* ``data``      dataset level: choose_features, dataset_inputs, train_on_dataset, dataset_latents
* ``presets``   the reports' starting points (PRESETS, preset)
* ``cli``       ``python -m core train``
"""

from __future__ import annotations

from core.training.cli import parse_features, register_cli
from core.training.config import (
    ANNEALING,
    DEVICES,
    INPUT_SCALINGS,
    MODEL_CODE_VERSION,
    TRAIN_PARAMS,
    TrainConfig,
    TrainingDivergedError,
    anneal_factor,
    beta_at,
    select_device,
    validate_config,
)
from core.training.data import choose_features, dataset_inputs, dataset_latents, train_on_dataset
from core.training.inference import (
    decode_latent,
    latents,
    model_fingerprint,
    predict_clusters,
    recon_error,
    reconstruct,
)
from core.training.loop import train
from core.training.presets import PRESETS, preset
from core.training.scaling import Scaler, fit_scaler
from core.training.store import (
    LIST_COLUMNS,
    STATUSES,
    TrainedModel,
    TrainResult,
    artifact_dir,
    artifact_status,
    delete_trained,
    list_trained,
    load_trained,
    weights_sha256,
)

__all__ = [
    "ANNEALING", "weights_sha256", "DEVICES", "INPUT_SCALINGS", "LIST_COLUMNS", "MODEL_CODE_VERSION", "PRESETS", "STATUSES",
    "TRAIN_PARAMS", "Scaler", "TrainConfig", "TrainResult", "TrainedModel", "TrainingDivergedError",
    "anneal_factor", "artifact_dir", "artifact_status", "beta_at", "choose_features", "dataset_inputs",
    "dataset_latents", "decode_latent", "delete_trained", "fit_scaler", "latents", "list_trained",
    "load_trained", "model_fingerprint", "parse_features", "predict_clusters", "preset", "recon_error",
    "reconstruct", "register_cli", "select_device", "train", "train_on_dataset", "validate_config",
]
