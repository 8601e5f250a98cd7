"""MODELS registry: every VAE family, its inputs, parameter table and builder.

Importing this module does not import torch: builders import their family module on first use.
Beta-VAE is not a class of its own: any VAE trained with ``TrainConfig.beta`` ≠ 1 (the report presets set it).
Autoencoders (``*_ae``) are the same builders with ``deterministic=True`` (z = μ, no KL).

Modalities: single-input models use the key ``"x"``; multimodal ones ``"audio"`` and ``"lyrics"``.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from core.models.spec import InputSpec, ModelSpec
from core.params import Param
from core.registry import Registry

MODELS: Registry = Registry("model")

AUDIO_VECTORS = ("mfcc_stats", "tabular", "mfcc20_stats", "spectral_stats", "chroma_stats", "contrast_stats")
LYRICS_VECTORS = ("lyrics", "lyrics_tfidf")
VECTOR_FEATURES = AUDIO_VECTORS + LYRICS_VECTORS
ACTIVATIONS = ("relu", "leaky_relu", "gelu", "elu")


def _lazy(module: str, attr: str = "build") -> Callable[..., Any]:
    def builder(input_shapes, **params):
        return getattr(importlib.import_module(f"core.models.{module}"), attr)(input_shapes, **params)

    builder.__name__ = f"{module}.{attr}"
    return builder


def _latent(default: int) -> Param:
    return Param("int", default, 1, 512, help="Size of the latent code z (μ is what downstream steps use).")


def _layers(default: str, what: str) -> Param:
    return Param("str", default, help=f"{what}, e.g. '{default}' (dash-separated widths).")


MLP_PARAMS = {
    "latent_dim": _latent(16),
    "hidden": _layers("256-128", "Hidden layer widths of the encoder (decoder mirrors them)"),
    "activation": Param("choice", "relu", choices=ACTIVATIONS, help="Hidden-layer activation."),
}
CONV2D_PARAMS = {
    "latent_dim": _latent(32),
    "channels": _layers("32-32-64-128", "Conv channels per stride-2 layer"),
    "kernel": Param("int", 4, 2, 8, help="Kernel size of the stride-2 convolutions."),
    "first_stride": Param("int", 4, 2, 8, help="Stride of the first conv (≥3: kernel = stride, a cheap patchify)."),
    "activation": Param("choice", "relu", choices=ACTIVATIONS, help="Activation after BatchNorm."),
}
CONV1D_PARAMS = {
    "latent_dim": _latent(64),
    "channels": _layers("64-128-256", "Conv1d channels per stride-2 layer (report 004)"),
    "kernel": Param("int", 4, 2, 8, help="Kernel size."),
    "first_stride": Param("int", 2, 2, 8, help="Stride of the first conv."),
    "activation": Param("choice", "relu", choices=ACTIVATIONS, help="Activation after BatchNorm."),
}
CVAE_PARAMS = {
    **CONV1D_PARAMS,
    "cond_dim": Param("int", 16, 1, 256, help="Size of the learned label embedding (report 004: 16)."),
    "n_classes": Param("int", 0, 0, 10_000, help="Number of condition classes; 0 = infer from the data."),
}
HYBRID_PARAMS = {
    "latent_dim": _latent(32),
    "audio_channels": _layers("32-64-128", "CNN audio encoder channels"),
    "lyrics_hidden": _layers("64-32", "MLP lyrics encoder widths"),
    "alpha_audio": Param("float", 1.0, 0.0, 100.0, help="Weight α_a of the audio reconstruction term."),
    "alpha_lyrics": Param("float", 0.1, 0.0, 100.0, help="Weight α_t of the lyrics reconstruction term."),
}
CONCAT_PARAMS = {
    "latent_dim": _latent(16),
    "hidden": _layers("512-256-128", "Hidden widths of the deeper MLP"),
    "activation": Param("choice", "relu", choices=ACTIVATIONS, help="Hidden-layer activation."),
    "alpha_audio": Param("float", 1.0, 0.0, 100.0, help="Weight of the audio part of the reconstruction."),
    "alpha_lyrics": Param("float", 1.0, 0.0, 100.0, help="Weight of the lyrics part of the reconstruction."),
    "block_scale": Param("bool", True, help="Scale each block to unit total variance before the encoder, so the "
                                            "block with more dimensions does not outweigh the other."),
}
VADE_PARAMS = {
    "latent_dim": _latent(10),
    "hidden": _layers("256-128", "Hidden layer widths"),
    "activation": Param("choice", "relu", choices=ACTIVATIONS, help="Hidden-layer activation."),
    "n_clusters": Param("int", 10, 2, 100, help="Components of the Gaussian-mixture prior = clusters found."),
    "pretrain_epochs": Param("int", 5, 0, 1000, help="Autoencoder epochs before the mixture prior is fitted."),
}

VEC = InputSpec("vector", (1,), VECTOR_FEATURES, help="One vector per track (MFCC stats, tabular or lyrics).")
LOGMEL = InputSpec("image", (2, 3), ("logmel",), help="Log-mel spectrogram (n_mels, frames) or (1, n_mels, frames).")
FRAMES = InputSpec("sequence", (2,), ("mfcc_frames",), help="MFCC frames (n_mfcc, frames).")


def _add(spec: ModelSpec) -> ModelSpec:
    return MODELS.add(spec.name, spec)


_add(ModelSpec("mlp_vae", "MLP VAE", "mlp", {"x": VEC}, MLP_PARAMS, _lazy("mlp"),
               "MLP VAE on one vector per track (reports 000, 002, 003)."))
_add(ModelSpec("conv2d_vae", "Conv2D VAE", "conv2d", {"x": LOGMEL}, CONV2D_PARAMS, _lazy("conv2d"),
               "Strided-conv VAE on log-mel spectrograms (reports 002, 003)."))
_add(ModelSpec("conv1d_vae", "Conv1D VAE", "conv1d", {"x": FRAMES}, CONV1D_PARAMS, _lazy("conv1d"),
               "Conv1d VAE over MFCC frames (report 004)."))
_add(ModelSpec("cvae", "Conditional VAE", "conditional", {"x": FRAMES}, CVAE_PARAMS,
               _lazy("conv1d", "build_conditional"),
               "Conv1D VAE conditioned on a label column (language or genre) through a learned embedding fed "
               "to encoder and decoder (report 004). Its results are marked as using labels.", uses_cond=True))
_add(ModelSpec("hybrid_vae", "Hybrid multimodal VAE", "hybrid",
               {"audio": InputSpec("image", (2, 3), ("audio_stack",), help="MFCC+chroma+contrast (39, 130)."),
                "lyrics": InputSpec("vector", (1,), LYRICS_VECTORS, required=False, help="Lyrics TF-IDF→64-D.")},
               HYBRID_PARAMS, _lazy("hybrid"),
               "CNN audio encoder + MLP lyrics encoder, shared latent, two decoders (report 001). Tracks "
               "without lyrics train with that modality masked."))
_add(ModelSpec("concat_vae", "Concatenation multimodal VAE", "concat",
               {"audio": InputSpec("vector", (1,), AUDIO_VECTORS, help="One audio vector per track."),
                "lyrics": InputSpec("vector", (1,), LYRICS_VECTORS, required=False, help="Lyrics vector.")},
               CONCAT_PARAMS, _lazy("concat"),
               "Audio and lyrics vectors concatenated into one deeper MLP VAE (report 000)."))
_add(ModelSpec("vade", "VaDE (deep clustering)", "vade", {"x": VEC}, VADE_PARAMS, _lazy("vade"),
               "VAE with a Gaussian-mixture prior whose components are the clusters (beyond the reports)."))
for _base, _label in (("mlp_vae", "MLP autoencoder"), ("conv2d_vae", "Conv2D autoencoder"),
                      ("conv1d_vae", "Conv1D autoencoder")):
    _s = MODELS.get(_base)
    _add(ModelSpec(_base.replace("_vae", "_ae"), _label, "autoencoder", _s.inputs, _s.params, _s.builder,
                   f"{_s.label} with β = 0 and no sampling: z = μ, no KL term (reports 003, 004).",
                   fixed={"deterministic": True}))

