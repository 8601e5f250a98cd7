"""Concatenation multimodal VAE (report 000): [audio vector, lyrics vector] → one deeper MLP VAE.

Rows without lyrics are masked, not zero-filled as if they were data: the encoder sees
[audio, lyrics·m, m] (m = 1 when lyrics are present), so "no lyrics" is distinguishable from
"lyrics that are all zeros", and the lyrics part of the reconstruction loss is excluded for them.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from torch import nn

from core.models.base import BaseVAE, Batch, MLPDecoder, MLPEncoder, parse_layers


class ConcatVAE(BaseVAE):
    def __init__(self, *, input_shapes, hidden, activation, block_scale: bool = True, **kw):
        dims = {m: int(np.prod(input_shapes[m])) for m in ("audio", "lyrics")}
        # inputs arrive z-scored per dimension (training's input scaling): a block's total variance is its
        # dimension count; 1/sqrt(d) makes it 1, as fusion does for representations
        self.block_weights = {m: (1.0 / float(np.sqrt(d)) if block_scale else 1.0) for m, d in dims.items()}
        enc = MLPEncoder((dims["audio"] + dims["lyrics"] + 1,), hidden, activation)
        super().__init__(modalities=["audio", "lyrics"], input_shapes=input_shapes, feat_dim=enc.out_dim, **kw)
        self.dims = dims
        self.encoder = enc
        self.decoder = MLPDecoder(self.latent_dim + self.cond_dim, hidden[::-1], (dims["audio"] + dims["lyrics"],),
                                  activation)

    def encoder_input(self, batch: Batch) -> torch.Tensor:
        """(B, d_audio + d_lyrics + 1): [audio·w_a, lyrics·w_l·m, m] with the block weights."""
        a = batch.inputs["audio"].flatten(1) * self.block_weights["audio"]
        lyr = batch.inputs["lyrics"].flatten(1) * self.block_weights["lyrics"]
        m = batch.mask("lyrics").view(-1, 1)
        lyr = torch.where(m, lyr, torch.zeros((), dtype=lyr.dtype, device=lyr.device))
        return torch.cat([a, lyr, m.to(a.dtype)], dim=1)

    def features(self, batch: Batch) -> torch.Tensor:
        return self.encoder(self.encoder_input(batch))

    def decode_body(self, h):
        out = self.decoder(h)
        a, lyr = out.split([self.dims["audio"], self.dims["lyrics"]], dim=1)
        return {"audio": a.view(-1, *self.input_shapes["audio"]), "lyrics": lyr.view(-1, *self.input_shapes["lyrics"])}


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 16, hidden: str = "512-256-128",
          activation: str = "relu", alpha_audio: float = 1.0, alpha_lyrics: float = 1.0, block_scale: bool = True,
          deterministic: bool = False) -> nn.Module:
    """input_shapes: {"audio": (d_a,), "lyrics": (d_t,)}."""
    return ConcatVAE(input_shapes=input_shapes, hidden=parse_layers("hidden", hidden), activation=activation,
                     block_scale=block_scale,
                     latent_dim=latent_dim, alphas={"audio": alpha_audio, "lyrics": alpha_lyrics},
                     deterministic=deterministic)
