"""How to train: ``TrainConfig``, its parameter table, validation, KL schedules and the device choice.

Torch-free at import (``select_device`` imports torch when called), so the Train page and the CLI
can build and validate a configuration without loading torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import ParameterError, SongscapeError
from core.params import Param

# Part of every artifact's fingerprint: bump it when training or inference changes what a model computes.
# models-2: inputs are standardized with statistics of the training split (TrainConfig.input_scaling).
MODEL_CODE_VERSION = "models-2"
DEVICES = ("auto", "cpu", "cuda", "mps")
ANNEALING = ("none", "linear", "cyclical")
INPUT_SCALINGS = ("standard", "none")


class TrainingDivergedError(SongscapeError):
    """The loss became NaN/inf; the message says where and what to change."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the model's own hyperparameters live in ``model_params``).

    beta: KL weight after warm-up (β = 1 plain VAE, ≠ 1 Beta-VAE, 0 no KL term).
    logvar_clamp: (low, high) applied to log σ² or None. grad_clip: max gradient norm or None.
    val_fraction: share of rows held out (seeded) for the validation loss and best-epoch choice.
    input_scaling: "standard" z-scores every input with means/stds of the training split (per feature
    of a vector, per row — mel band, coefficient, channel — of a 2-D input); "none" uses inputs as given.
    """

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    kl_anneal: str = "none"
    warmup_epochs: int = 10
    logvar_clamp: tuple[float, float] | None = (-10.0, 10.0)
    grad_clip: float | None = 5.0
    val_fraction: float = 0.1
    early_stopping_patience: int | None = None
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    input_scaling: str = "standard"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["logvar_clamp"] = list(self.logvar_clamp) if self.logvar_clamp is not None else None
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        """Rebuild from ``to_dict()`` output; unknown keys are ignored, missing ones take defaults
        (a config.json written before ``input_scaling`` existed reads back as "none": those models
        were trained on inputs as given)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        if kw.get("logvar_clamp") is not None:
            kw["logvar_clamp"] = tuple(float(v) for v in kw["logvar_clamp"])
        if data and "input_scaling" not in data:
            kw["input_scaling"] = "none"
        return cls(**kw)


TRAIN_PARAMS: dict[str, Param] = {
    "epochs": Param("int", 30, 1, 100_000, help="Passes over the training rows."),
    "batch_size": Param("int", 64, 1, 1_000_000, help="Rows per gradient step (≤ training rows)."),
    "lr": Param("float", 1e-3, 0.0, None, low_open=True, log=True,
                help="Adam learning rate (the hybrid β-VAE preset uses 5e-4)."),
    "beta": Param("float", 1.0, 0.0, 1000.0, help="KL weight β after warm-up; 1 = VAE, 0 = no KL term."),
    "kl_anneal": Param("choice", "none", choices=ANNEALING, help="KL warm-up schedule."),
    "warmup_epochs": Param("int", 10, 0, 100_000, help="Epochs of linear warm-up (cycle length if cyclical)."),
    "val_fraction": Param("float", 0.1, 0.0, 0.9, help="Share of rows held out for validation."),
    "seed": Param("int", 0, 0, 2**32 - 1, help="Random seed (split, initialisation, batches, sampling)."),
    "device": Param("choice", "auto", choices=DEVICES, help="auto = CUDA, then Apple MPS, then CPU."),
    "input_scaling": Param("choice", "standard", choices=INPUT_SCALINGS,
                           help="standard = z-score inputs with training-split statistics (recommended: one "
                                "loud column no longer dominates); none = use the features as given."),
}


def validate_config(config: TrainConfig) -> TrainConfig:
    """Raise ParameterError (name, allowed range, value) for any invalid field."""
    if not isinstance(config, TrainConfig):
        raise ParameterError("config", value=type(config).__name__, expected="a core.training.TrainConfig")
    for name, p in TRAIN_PARAMS.items():
        value = p.validate(name, getattr(config, name))
        if p.kind == "float" and not math.isfinite(value):
            raise ParameterError(name, value=getattr(config, name), expected=f"a finite {p.describe()[2:]}")
    if config.logvar_clamp is not None:
        lc = config.logvar_clamp
        ok = isinstance(lc, (tuple, list)) and len(lc) == 2 and all(isinstance(v, (int, float)) for v in lc) \
            and math.isfinite(lc[0]) and math.isfinite(lc[1]) and lc[0] < lc[1]
        if not ok:
            raise ParameterError("logvar_clamp", value=lc, expected="None or (low, high) finite with low < high",
                                 fix="e.g. (-10, 10).")
    if config.grad_clip is not None:
        if not math.isfinite(Param("float", 5.0, 0.0, None, low_open=True).validate("grad_clip", config.grad_clip)):
            raise ParameterError("grad_clip", value=config.grad_clip, expected="None or a finite float > 0")
    if config.early_stopping_patience is not None:
        Param("int", 5, 1, 100_000).validate("early_stopping_patience", config.early_stopping_patience)
    return config


def beta_at(config: TrainConfig, epoch: int) -> float:
    """β in force during ``epoch`` (0-based) under the config's annealing schedule."""
    return float(config.beta) * anneal_factor(config, epoch)


def anneal_factor(config: TrainConfig, epoch: int) -> float:
    """Share of β in force during ``epoch``: "linear" min(1, epoch / warmup); "cyclical" rises over
    the first half of each ``warmup_epochs``-long cycle, then holds."""
    w = int(config.warmup_epochs)
    if config.kl_anneal == "none" or w <= 0:
        return 1.0
    if config.kl_anneal == "linear":
        return min(1.0, epoch / w)
    t = (epoch % w) / w  # cyclical
    return min(1.0, 2.0 * t)


def select_device(preference: str = "auto"):
    """torch.device: "auto" → CUDA if available, then Apple MPS, then CPU; an explicit choice is checked."""
    import torch

    if preference not in DEVICES:
        raise ParameterError("device", value=preference, expected=f"one of {list(DEVICES)}")
    cuda_ok = torch.cuda.is_available()
    mps_backend = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps_backend is not None and mps_backend.is_available())
    if preference == "auto":
        return torch.device("cuda" if cuda_ok else "mps" if mps_ok else "cpu")
    if preference == "cuda" and not cuda_ok:
        raise ParameterError("device", value="cuda", expected="a device present on this machine",
                             fix="No CUDA GPU is visible to torch; use device='auto' or 'cpu'.")
    if preference == "mps" and not mps_ok:
        raise ParameterError("device", value="mps", expected="a device present on this machine",
                             fix="Apple MPS is not available; use device='auto' or 'cpu'.")
    return torch.device(preference)
