"""MLP VAE on vectors (MFCC summary 80-D, tabular 12-D, lyrics 64-D); report 000/002/003 default 256-128, latent 16."""

from __future__ import annotations

from typing import Mapping

from core.models.base import MLPDecoder, MLPEncoder, MultiEncoderVAE, parse_layers


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 16, hidden: str = "256-128",
          activation: str = "relu", deterministic: bool = False) -> MultiEncoderVAE:
    """input_shapes: {"x": (d,)} → MLP VAE (d → hidden → latent → reversed hidden → d)."""
    widths = parse_layers("hidden", hidden)
    shape = input_shapes["x"]
    enc = MLPEncoder(shape, widths, activation)
    return MultiEncoderVAE(
        encoders={"x": enc},
        decoders=lambda zin: {"x": MLPDecoder(zin, widths[::-1], shape, activation)},
        input_shapes=input_shapes, latent_dim=latent_dim, deterministic=deterministic)
