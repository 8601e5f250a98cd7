"""The model contract shared by every VAE family: Batch, ModelOutput, BaseVAE, ModelSpec, layer builders.

Loss conventions (identical for every model so they compare fairly):

* reconstruction = squared error **summed over the features** of a sample, **averaged over the
  batch** (rows masked out of a modality contribute 0 and still count in the batch size, so the
  loss is "expected error per track"); each modality's term is multiplied by its weight ``alpha``;
* KL = analytic KL(q(z|x) || p(z)) per sample **summed over latent dimensions**, averaged over the
  batch (VaDE replaces p(z) by its Gaussian mixture);
* total = reconstruction + β · KL; an autoencoder (``deterministic=True``) uses z = μ, reports
  KL = 0 and leaves it out of the loss;
* in ``train()`` mode z = μ + σ·ε is sampled, in ``eval()`` mode z = μ (validation losses,
  reconstructions and saved/loaded outputs are therefore deterministic).

``recon_error`` (per-sample, for the UI) is the *mean* squared error over features, so numbers are
comparable across inputs of different sizes.

This module imports torch; ``core.models`` (the registry) does not, so ``import core.models`` stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from core.errors import ParameterError
from core.models.spec import InputSpec, ModelSpec  # noqa: F401  (re-export)


# --------------------------------------------------------------------------------------------- data
@dataclass
class Batch:
    """Inputs of one forward pass.

    inputs: modality → tensor (B, *shape) float32, e.g. {"audio": (B, 39, 130), "lyrics": (B, 64)}
    cond:   (B,) long class codes for the conditional VAE, else None
    masks:  modality → (B,) bool, True where the modality is present (absent key = all present)
    """

    inputs: dict[str, torch.Tensor]
    cond: torch.Tensor | None = None
    masks: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def modalities(self) -> dict[str, torch.Tensor]:
        return self.inputs

    def __len__(self) -> int:
        return int(next(iter(self.inputs.values())).shape[0])

    def mask(self, modality: str) -> torch.Tensor:
        m = self.masks.get(modality) if self.masks else None
        if m is None:
            x = self.inputs[modality]
            return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        return m

    def to(self, device) -> "Batch":
        return Batch(
            inputs={k: v.to(device) for k, v in self.inputs.items()},
            cond=None if self.cond is None else self.cond.to(device),
            masks={k: v.to(device) for k, v in (self.masks or {}).items()},
        )


@dataclass
class ModelOutput:
    """Named outputs of ``forward``: scalars are 0-d tensors, ``recon`` is modality → tensor."""

    loss: torch.Tensor
    recon_loss: torch.Tensor
    kl: torch.Tensor
    recon: dict[str, torch.Tensor]
    z: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


# -------------------------------------------------------------------------------------- utilities
def parse_layers(name: str, value: Any) -> list[int]:
    """'256-128' or [256, 128] → [256, 128]; raises ParameterError naming ``name``."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        text = str(value).replace(",", "-").replace(" ", "")
        parts = [p for p in text.split("-") if p] if text else []
    try:
        out = [int(p) for p in parts]
    except (TypeError, ValueError):
        out = []
    if not out or any(v < 1 or v > 4096 for v in out):
        raise ParameterError(name, value=value, expected="layer widths like '256-128' (each 1..4096)")
    return out


def activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.2), "gelu": nn.GELU(), "elu": nn.ELU()}[name]


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(B,) analytic KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions."""
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=1)


# ---------------------------------------------------------------------------------------- layers
class MLPEncoder(nn.Module):
    """(B, *shape) → flatten → Linear/act per hidden width → (B, hidden[-1])."""

    def __init__(self, in_shape: Sequence[int], hidden: Sequence[int], act: str = "relu"):
        super().__init__()
        in_dim = int(np.prod(in_shape))
        layers: list[nn.Module] = [nn.Flatten()]
        for h in hidden:
            layers += [nn.Linear(in_dim, h), activation(act)]
            in_dim = h
        self.net = nn.Sequential(*layers)
        self.out_dim = in_dim

    def forward(self, x):
        return self.net(x)


class MLPDecoder(nn.Module):
    """(B, in_dim) → Linear/act per hidden width → Linear → (B, *out_shape) (linear output)."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_shape: Sequence[int], act: str = "relu"):
        super().__init__()
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(in_dim, h), activation(act)]
            in_dim = h
        layers.append(nn.Linear(in_dim, int(np.prod(out_shape))))
        self.net = nn.Sequential(*layers)
        self.out_shape = tuple(out_shape)

    def forward(self, h):
        return self.net(h).view(h.shape[0], *self.out_shape)


class ConvEncoder(nn.Module):
    """Strided conv stack for (C, T) [dims=1] or (C, H, W) / (H, W) [dims=2] inputs.

    Layer i: Conv(k, stride, padding) → BatchNorm → activation. The first layer may downsample
    harder (``first_stride`` ≥ 3 uses kernel = stride, padding 0: a cheap patchify step). The shapes
    after every layer are found by a dry run on the real input shape, so nothing is hard-wired;
    ``shapes`` feeds the mirrored decoder.
    """

    def __init__(self, in_shape: Sequence[int], *, dims: int, channels: Sequence[int], kernel: int = 4,
                 first_stride: int = 2, act: str = "relu", name: str = "input"):
        super().__init__()
        in_shape = tuple(in_shape)
        self.squeeze = dims == 2 and len(in_shape) == 2
        shape = (1, *in_shape) if self.squeeze else in_shape
        if len(shape) != dims + 1:
            raise ParameterError(name, value=in_shape, expected=f"a per-sample shape with {dims + 1} dims "
                                 f"(channels, {'H, W' if dims == 2 else 'time'})")
        Conv = nn.Conv2d if dims == 2 else nn.Conv1d
        BN = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
        self.dims, self.in_shape, self.act = dims, tuple(shape), act
        self.geometry: list[tuple[int, int, int]] = []  # (kernel, stride, padding) per layer
        blocks = []
        c_in = shape[0]
        for i, c_out in enumerate(channels):
            if i == 0 and first_stride >= 3:
                k, s, p = first_stride, first_stride, 0
            else:
                k, s, p = kernel, 2, (kernel - 2) // 2 if kernel >= 2 else 0
            blocks.append(nn.Sequential(Conv(c_in, c_out, k, s, p), BN(c_out), activation(act)))
            self.geometry.append((k, s, p))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        # dry run: record the shape entering every block and the final one
        self.shapes: list[tuple[int, ...]] = [tuple(shape)]
        with torch.no_grad():
            x = torch.zeros(2, *shape)
            was = self.training
            self.eval()
            for blk in self.blocks:
                try:
                    x = blk(x)
                except RuntimeError:
                    x = torch.zeros(0)
                if x.numel() == 0 or min(x.shape[2:]) < 1:
                    raise ParameterError(
                        "channels", value="-".join(map(str, channels)),
                        expected=f"few enough stride-2 layers for the input shape {tuple(in_shape)}",
                        fix="Use fewer conv layers or a smaller first_stride, or a larger input.")
                self.shapes.append(tuple(x.shape[1:]))
            self.train(was)
        self.out_shape = self.shapes[-1]
        self.out_dim = int(np.prod(self.out_shape))

    def forward(self, x):
        if self.squeeze:
            x = x.unsqueeze(1)
        for blk in self.blocks:
            x = blk(x)
        return x.flatten(1)


class ConvDecoder(nn.Module):
    """Mirror of a ConvEncoder: Linear → reshape → transposed convs back to the exact input shape.

    Each ConvTranspose is called with ``output_size`` = the shape its encoder layer received, so odd
    sizes come back exactly; a final crop/pad guards any remaining mismatch.
    """

    def __init__(self, in_dim: int, enc: ConvEncoder):
        super().__init__()
        dims = enc.dims
        ConvT = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose1d
        BN = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
        self.dims, self.squeeze = dims, enc.squeeze
        self.start_shape = enc.out_shape
        self.fc = nn.Linear(in_dim, enc.out_dim)
        self.start_act = activation(enc.act)
        self.targets = [enc.shapes[i] for i in range(len(enc.blocks) - 1, -1, -1)]
        ups, norms = [], []
        n = len(enc.blocks)
        for j, i in enumerate(range(n - 1, -1, -1)):
            k, s, p = enc.geometry[i]
            c_in = enc.shapes[i + 1][0]
            c_out = enc.shapes[i][0]
            ups.append(ConvT(c_in, c_out, k, s, p))
            last = j == n - 1
            norms.append(nn.Identity() if last else nn.Sequential(BN(c_out), activation(enc.act)))
        self.ups, self.norms = nn.ModuleList(ups), nn.ModuleList(norms)

    def forward(self, h):
        x = self.start_act(self.fc(h)).view(h.shape[0], *self.start_shape)
        for up, norm, target in zip(self.ups, self.norms, self.targets):
            x = norm(up(x, output_size=list(target[1:])))
        x = _fit(x, self.targets[-1])
        return x.squeeze(1) if self.squeeze else x


def _fit(x: torch.Tensor, target: Sequence[int]) -> torch.Tensor:
    """Crop or zero-pad the trailing spatial dims of x (B, C, ...) to ``target`` (C, ...)."""
    for axis, size in enumerate(target[1:], start=2):
        cur = x.shape[axis]
        if cur > size:
            x = x.narrow(axis, 0, size)
        elif cur < size:
            pad_shape = list(x.shape)
            pad_shape[axis] = size - cur
            x = torch.cat([x, x.new_zeros(pad_shape)], dim=axis)
    return x


# ----------------------------------------------------------------------------------------- models
class BaseVAE(nn.Module):
    """Shared VAE machinery: head to (μ, log σ²), conditioning, sampling, losses.

    Subclasses provide ``features(batch) -> (B, F)`` and ``decode_body(h) -> {modality: tensor}``.
    ``alphas`` weights each modality's reconstruction term. ``n_classes > 0`` adds a learned label
    embedding (``cond_dim``) concatenated to the encoder features and to z (conditional VAE).
    """

    def __init__(self, *, modalities: Sequence[str], input_shapes: Mapping[str, Sequence[int]], feat_dim: int,
                 latent_dim: int, alphas: Mapping[str, float] | None = None, n_classes: int = 0,
                 cond_dim: int = 16, deterministic: bool = False):
        super().__init__()
        self.modalities = list(modalities)
        self.input_shapes = {m: tuple(input_shapes[m]) for m in self.modalities}
        self.latent_dim = int(latent_dim)
        self.alphas = {m: float((alphas or {}).get(m, 1.0)) for m in self.modalities}
        self.deterministic = bool(deterministic)
        self.n_classes = int(n_classes)
        self.cond_dim = int(cond_dim) if self.n_classes > 0 else 0
        self.cond_emb = nn.Embedding(self.n_classes, self.cond_dim) if self.n_classes > 0 else None
        self.head = nn.Linear(feat_dim + self.cond_dim, 2 * self.latent_dim)
        self.logvar_clamp: tuple[float, float] = (-10.0, 10.0)

    # -- pieces subclasses implement
    def features(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode_body(self, h: torch.Tensor) -> dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- contract
    def _cond(self, cond: torch.Tensor | None, n: int, device) -> torch.Tensor | None:
        if self.cond_emb is None:
            return None
        if cond is None:
            raise ParameterError("cond", value=None, expected=f"(n,) class codes in [0, {self.n_classes})",
                                 fix="This conditional VAE needs the label column it was trained on.")
        return self.cond_emb(cond.to(device).long().view(n))

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """→ (mu, logvar), each (B, latent_dim); logvar clamped to ``logvar_clamp``."""
        h = self.features(batch)
        c = self._cond(batch.cond, h.shape[0], h.device)
        if c is not None:
            h = torch.cat([h, c], dim=1)
        mu, logvar = self.head(h).chunk(2, dim=1)
        lo, hi = self.logvar_clamp
        return mu, logvar.clamp(lo, hi)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """(B, latent_dim) → {modality: (B, *shape)} (always a dict, one key per modality)."""
        c = self._cond(cond, z.shape[0], z.device)
        if c is not None:
            z = torch.cat([z, c], dim=1)
        return self.decode_body(z)

    def sample_z(self, mu, logvar):
        if self.deterministic or not self.training:
            return mu
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def kl_divergence(self, mu, logvar, z) -> torch.Tensor:  # noqa: ARG002 - VaDE uses z
        """(B,) KL per sample, summed over latent dims."""
        return kl_standard_normal(mu, logvar)

    def sample_errors(self, batch: Batch, recon: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """modality → (B,) squared error summed over features; 0 for masked rows."""
        out = {}
        for m in self.modalities:
            x, mask = batch.inputs[m], batch.mask(m)
            keep = mask.view(-1, *([1] * (x.dim() - 1)))
            x = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
            se = (recon[m] - x).pow(2).flatten(1).sum(1)
            out[m] = torch.where(mask, se, torch.zeros((), dtype=se.dtype, device=se.device))
        return out

    def forward(self, batch: Batch, *, beta: float = 1.0) -> ModelOutput:
        mu, logvar = self.encode(batch)
        z = self.sample_z(mu, logvar)
        recon = self.decode(z, batch.cond)
        errs = self.sample_errors(batch, recon)
        n = mu.shape[0]
        extras = {f"recon_{m}": e.sum() / n for m, e in errs.items()}
        recon_loss = sum(self.alphas[m] * extras[f"recon_{m}"] for m in self.modalities)
        if self.deterministic:
            kl = mu.new_zeros(())
            loss = recon_loss
        else:
            kl = self.kl_divergence(mu, logvar, z).mean()
            loss = recon_loss + beta * kl if beta else recon_loss
        return ModelOutput(loss=loss, recon_loss=recon_loss, kl=kl, recon=recon, z=z, mu=mu, logvar=logvar,
                           extras=extras)

    # -- training hooks (no-ops unless a family needs them)
    def on_epoch_start(self, epoch: int, *, encode_all: Callable[[], torch.Tensor], seed: int) -> None:
        return None

    def on_train_end(self, *, encode_all: Callable[[], torch.Tensor], seed: int) -> None:
        return None


class MultiEncoderVAE(BaseVAE):
    """One encoder per modality, features concatenated (optional modalities masked), one decoder each.

    A row whose optional modality is missing gets a learned "missing" embedding in place of that
    encoder's output (the raw values never reach the network), and no reconstruction loss for it.
    """

    def __init__(self, *, encoders: Mapping[str, nn.Module], decoders: Callable[[int], Mapping[str, nn.Module]],
                 optional: Sequence[str] = (), **kw):
        feat_dim = sum(e.out_dim for e in encoders.values())
        super().__init__(modalities=list(encoders), feat_dim=feat_dim, **kw)
        self.encoders = nn.ModuleDict(dict(encoders))
        self.missing = nn.ParameterDict({m: nn.Parameter(torch.zeros(encoders[m].out_dim)) for m in optional})
        self.decoders = nn.ModuleDict(dict(decoders(self.latent_dim + self.cond_dim)))

    def features(self, batch: Batch) -> torch.Tensor:
        parts = []
        for m in self.modalities:
            x = batch.inputs[m]
            if m in self.missing:
                mask = batch.mask(m)
                keep = mask.view(-1, *([1] * (x.dim() - 1)))
                x = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
                h = self.encoders[m](x)
                h = torch.where(mask.view(-1, 1), h, self.missing[m].unsqueeze(0).expand_as(h))
            else:
                h = self.encoders[m](x)
            parts.append(h)
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def decode_body(self, h):
        return {m: self.decoders[m](h) for m in self.modalities}
