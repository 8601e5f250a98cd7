"""Conv2D VAE on log-mel images (1, n_mels, frames); report 002/003: strided convs, latent 32.

Built for speed on a few CPU cores (see docs/BENCHMARKS.md): the first layer patchifies with
stride ``first_stride`` (kernel = stride, 4 by default; 32 filters, so each 4×4 patch is decoded
from a rank-32 basis), the next layers halve the resolution while widening (32-64-128), and the
flatten after the last conv is small (128 × H/32 × W/32), so there is no giant dense layer.
"""

from __future__ import annotations

from typing import Mapping

from core.models.base import ConvDecoder, ConvEncoder, MultiEncoderVAE, parse_layers


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 32, channels: str = "32-32-64-128",
          kernel: int = 4, first_stride: int = 4, activation: str = "relu",
          deterministic: bool = False) -> MultiEncoderVAE:
    """input_shapes: {"x": (1, H, W) or (H, W)} → Conv2D VAE reconstructing exactly (…, H, W)."""
    enc = ConvEncoder(input_shapes["x"], dims=2, channels=parse_layers("channels", channels), kernel=kernel,
                      first_stride=first_stride, act=activation, name="inputs['x']")
    return MultiEncoderVAE(encoders={"x": enc}, decoders=lambda zin: {"x": ConvDecoder(zin, enc)},
                           input_shapes=input_shapes, latent_dim=latent_dim, deterministic=deterministic)
