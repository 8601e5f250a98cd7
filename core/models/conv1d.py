"""Conv1D VAE on MFCC frames (n_mfcc, frames) — report 004: Conv1d 64-128-256, k=4, s=2, BN, ReLU, latent 64.

Also the conditional VAE of report 004: the same network plus a learned label embedding
(``cond_dim`` = 16) concatenated to the encoder output and to z.
"""

from __future__ import annotations

from typing import Mapping

from core.models.base import ConvDecoder, ConvEncoder, MultiEncoderVAE, parse_layers


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 64, channels: str = "64-128-256",
          kernel: int = 4, first_stride: int = 2, activation: str = "relu", n_classes: int = 0,
          cond_dim: int = 16, deterministic: bool = False) -> MultiEncoderVAE:
    """input_shapes: {"x": (C, T)} → Conv1D VAE over time with C input channels."""
    enc = ConvEncoder(input_shapes["x"], dims=1, channels=parse_layers("channels", channels), kernel=kernel,
                      first_stride=first_stride, act=activation, name="inputs['x']")
    return MultiEncoderVAE(encoders={"x": enc}, decoders=lambda zin: {"x": ConvDecoder(zin, enc)},
                           input_shapes=input_shapes, latent_dim=latent_dim, n_classes=n_classes,
                           cond_dim=cond_dim, deterministic=deterministic)


def build_conditional(input_shapes: Mapping[str, tuple], *, n_classes: int, **kw) -> MultiEncoderVAE:
    if int(n_classes) < 2:
        from core.errors import ParameterError

        raise ParameterError("n_classes", value=n_classes, expected="an int ≥ 2 (classes in the condition column)",
                             fix="Pick a label column with at least two values (cond_column='language').")
    return build(input_shapes, n_classes=int(n_classes), **kw)
