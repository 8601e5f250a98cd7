"""Named starting points from the reports: model, model parameters, features and TrainConfig values.

``preset(name)`` returns a fresh copy: ``{"model", "model_params", "config", "features", "cond_column",
"report"}``. The Train page and ``python -m core train --preset`` start from these.
"""

from __future__ import annotations

import copy

from core.errors import ParameterError


def _preset(model: str, params: dict | None = None, features: dict | None = None, cond_column: str | None = None,
            report: str = "", **config) -> dict:
    return {"model": model, "model_params": params or {}, "config": config, "features": features or {},
            "cond_column": cond_column, "report": report}


PRESETS: dict[str, dict] = {
    "report-000 VAE": _preset("mlp_vae", {"latent_dim": 16, "hidden": "256-128"}, {"x": "tabular"},
                              report="000", beta=1.0),
    "report-000 multimodal VAE": _preset("concat_vae", {"latent_dim": 16, "hidden": "512-256-128"},
                                         {"audio": "tabular", "lyrics": "lyrics_tfidf"}, report="000"),
    "report-000 β-VAE": _preset("mlp_vae", {"latent_dim": 16, "hidden": "256-128"}, {"x": "tabular"},
                                report="000", beta=4.0),
    "report-001 hybrid β-VAE": _preset("hybrid_vae", {"latent_dim": 32, "audio_channels": "32-64-128",
                                                      "lyrics_hidden": "64-32", "alpha_audio": 1.0,
                                                      "alpha_lyrics": 0.1},
                                       {"audio": "audio_stack", "lyrics": "lyrics"}, report="001", epochs=100,
                                       batch_size=64, lr=5e-4, beta=1.0, kl_anneal="linear", warmup_epochs=50,
                                       grad_clip=1.0),
    "report-002 MLP-VAE": _preset("mlp_vae", {"latent_dim": 16, "hidden": "256-128"}, {"x": "mfcc_stats"},
                                  report="002", epochs=50, batch_size=64, lr=1e-3),
    "report-002 ConvVAE": _preset("conv2d_vae", {"latent_dim": 32}, {"x": "logmel"}, report="002", epochs=25,
                                  batch_size=32, lr=1e-3),
    "report-002 β-VAE": _preset("conv2d_vae", {"latent_dim": 32}, {"x": "logmel"}, report="002", epochs=20,
                                batch_size=32, lr=1e-3, beta=2.0),
    "report-003 basic VAE": _preset("mlp_vae", {"latent_dim": 8}, {"x": "mfcc_stats"}, report="003"),
    "report-003 Conv-VAE": _preset("conv2d_vae", {"latent_dim": 16}, {"x": "logmel"}, report="003", epochs=400),
    "report-003 β-VAE": _preset("conv2d_vae", {"latent_dim": 16}, {"x": "logmel"}, report="003", epochs=400,
                                beta=0.1),
    "report-003 AE": _preset("conv2d_ae", {"latent_dim": 16}, {"x": "logmel"}, report="003", epochs=400, beta=0.0),
    "report-004 Conv1D VAE": _preset("conv1d_vae", {"latent_dim": 64, "channels": "64-128-256"},
                                     {"x": "mfcc_frames"}, report="004", epochs=10, batch_size=32, lr=1e-4),
    "report-004 CVAE": _preset("cvae", {"latent_dim": 64, "cond_dim": 16}, {"x": "mfcc_frames"}, "language",
                               report="004", epochs=10, batch_size=32, lr=1e-4),
    "report-004 β-VAE": _preset("cvae", {"latent_dim": 64, "cond_dim": 16}, {"x": "mfcc_frames"}, "language",
                                report="004", epochs=10, batch_size=32, lr=1e-4, beta=4.0),
    "report-004 AE": _preset("conv1d_ae", {"latent_dim": 64}, {"x": "mfcc_frames"}, report="004", epochs=10,
                             batch_size=32, lr=1e-4, beta=0.0),
}


def preset(name: str) -> dict:
    """A deep copy of ``PRESETS[name]``; ParameterError lists the names otherwise."""
    if name not in PRESETS:
        raise ParameterError("preset", value=name, expected=f"one of {list(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
