"""Hybrid multimodal VAE (report 001): CNN audio encoder + MLP lyrics encoder → one latent, two decoders.

audio: (39, 130) MFCC+chroma+contrast stack, Conv2d 32-64-128 with BatchNorm and LeakyReLU;
lyrics: 64-D TF-IDF→PCA vector, MLP 64 → 64 → 32 (ReLU). The encoder outputs are concatenated and
mapped to μ, log σ² (latent 32). Loss: α_a·SE(audio) + α_t·SE(lyrics) + β·KL with α_a=1, α_t=0.1.
Tracks without lyrics are *masked*: a learned "missing" embedding replaces the lyrics encoder output
and their lyrics reconstruction error is excluded (see MultiEncoderVAE).
"""

from __future__ import annotations

from typing import Mapping

from core.models.base import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder, MultiEncoderVAE, parse_layers


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 32, audio_channels: str = "32-64-128",
          lyrics_hidden: str = "64-32", alpha_audio: float = 1.0, alpha_lyrics: float = 0.1,
          deterministic: bool = False) -> MultiEncoderVAE:
    """input_shapes: {"audio": (H, W) or (1, H, W), "lyrics": (d,)}."""
    audio = ConvEncoder(input_shapes["audio"], dims=2, channels=parse_layers("audio_channels", audio_channels),
                        kernel=4, first_stride=2, act="leaky_relu", name="inputs['audio']")
    widths = parse_layers("lyrics_hidden", lyrics_hidden)
    lyrics = MLPEncoder(input_shapes["lyrics"], widths, "relu")
    return MultiEncoderVAE(
        encoders={"audio": audio, "lyrics": lyrics},
        decoders=lambda zin: {"audio": ConvDecoder(zin, audio),
                              "lyrics": MLPDecoder(zin, widths[::-1], input_shapes["lyrics"], "relu")},
        optional=("lyrics",), input_shapes=input_shapes, latent_dim=latent_dim,
        alphas={"audio": alpha_audio, "lyrics": alpha_lyrics}, deterministic=deterministic)
