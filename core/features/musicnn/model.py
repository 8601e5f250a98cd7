"""musicnn and its VGG baseline in PyTorch, with weights loaded from musicnn's TF checkpoints.

A layer-for-layer port of musicnn 0.1.0's ``models.py`` (inference only: dropout is off, batch norm
uses the stored moving mean / variance with TensorFlow's epsilon 1e-3). Shapes for one 3-s patch,
B patches at a time::

    musicnn  x (B, 187, 96) log-mel
      front-end  batch norm (1 channel) →
                 timbral  pad time 3+3, conv [7×38] and [7×67] → 204 maps each, ReLU, BN, max over freq
                 temporal 'same' conv [128×1], [64×1], [32×1] → 51 maps each, ReLU, BN, max over freq
                 concat → (B, 561, 187)
      mid-end    3 × (pad 3+3, conv [7×width] → 64, ReLU, BN), the 2nd and 3rd with residual adds;
                 dense concat [front, c1, c1+c2, c1+c2+c3] → (B, 753, 187)
      back-end   max and mean over time, interleaved (max₀, mean₀, max₁, …) → (B, 1506), BN,
                 dense 200 + ReLU, BN → **penultimate (B, 200)**, dense 50 → logits (B, 50)

    vgg      x (B, 187, 96): BN, 5 × (3×3 'same' conv 128, ReLU, BN, max pool
             [4×1]/2, [2×2]/2, [2×2]/2, [2×2]/2, [4×4]/4) → pool5 (B, 2, 1, 128) → flatten (B, 256) → dense 50

TensorFlow 'same' padding puts the odd extra row after the data (a [128×1] kernel pads 63 before,
64 after); TF kernels (kh, kw, in, out) become torch (out, in, kh, kw); dense kernels are transposed.

    load_model(name, *, device="cpu") -> nn.Module     cached per (name, device)
    model(x) -> {"logits", "penultimate", "mean_pool", "max_pool"}   (vgg: "logits", "penultimate" = pool5)
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.features.musicnn import BN_EPS, MODELS, N_MELS, checkpoint_dir
from core.features.musicnn.checkpoint import read_checkpoint


def _bn(n: int, dims: int) -> nn.Module:
    return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(n, eps=BN_EPS)


def _same_pad(k: int) -> tuple[int, int]:
    total = k - 1
    return total // 2, total - total // 2


class Musicnn(nn.Module):
    """musicnn with front-end 1.6 × (128 timbral, 32 temporal) filters."""

    def __init__(self, *, n_mels: int = N_MELS, midend: int = 64, backend: int = 200, n_classes: int = 50):
        super().__init__()
        nt, ns = int(1.6 * 128), int(1.6 * 32)
        self.bn_in = _bn(1, 2)
        self.timbral_k = (int(0.4 * n_mels), int(0.7 * n_mels))
        self.timbral = nn.ModuleList(nn.Conv2d(1, nt, (7, k)) for k in self.timbral_k)
        self.timbral_bn = nn.ModuleList(_bn(nt, 2) for _ in self.timbral_k)
        self.temporal_k = (128, 64, 32)
        self.temporal = nn.ModuleList(nn.Conv2d(1, ns, (k, 1)) for k in self.temporal_k)
        self.temporal_bn = nn.ModuleList(_bn(ns, 2) for _ in self.temporal_k)
        front = 2 * nt + 3 * ns
        self.mid = nn.ModuleList([nn.Conv1d(front, midend, 7), nn.Conv1d(midend, midend, 7),
                                  nn.Conv1d(midend, midend, 7)])
        self.mid_bn = nn.ModuleList(_bn(midend, 1) for _ in range(3))
        pooled = 2 * (front + 3 * midend)
        self.flat_bn = _bn(pooled, 1)
        self.dense = nn.Linear(pooled, backend)
        self.dense_bn = _bn(backend, 1)
        self.out = nn.Linear(backend, n_classes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, T, 96) → logits (B, 50), penultimate (B, 200), mean_pool / max_pool (B, 753)."""
        h = self.bn_in(x.unsqueeze(1))                                   # (B, 1, T, F)
        feats = []
        padded = F.pad(h, (0, 0, 3, 3))
        for conv, bn in zip(self.timbral, self.timbral_bn):
            feats.append(bn(F.relu(conv(padded))).amax(dim=3))           # (B, 204, T)
        for k, conv, bn in zip(self.temporal_k, self.temporal, self.temporal_bn):
            feats.append(bn(F.relu(conv(F.pad(h, (0, 0, *_same_pad(k)))))).amax(dim=3))   # (B, 51, T)
        front = torch.cat(feats, dim=1)                                  # (B, 561, T)
        c1 = self.mid_bn[0](F.relu(self.mid[0](F.pad(front, (3, 3)))))
        c2 = self.mid_bn[1](F.relu(self.mid[1](F.pad(c1, (3, 3))))) + c1
        c3 = self.mid_bn[2](F.relu(self.mid[2](F.pad(c2, (3, 3))))) + c2
        mid = torch.cat([front, c1, c2, c3], dim=1)                     # (B, 753, T)
        max_pool, mean_pool = mid.amax(dim=2), mid.mean(dim=2)
        flat = torch.stack([max_pool, mean_pool], dim=2).flatten(1)      # (B, 1506) interleaved as TF's flatten
        pen = self.dense_bn(F.relu(self.dense(self.flat_bn(flat))))
        return {"logits": self.out(pen), "penultimate": pen, "mean_pool": mean_pool, "max_pool": max_pool}

    def load_tf(self, w: dict[str, np.ndarray]) -> None:
        convs = [*self.timbral, *self.temporal]
        bns = [self.bn_in, *self.timbral_bn, *self.temporal_bn, *self.mid_bn, self.flat_bn, self.dense_bn]
        for i, conv in enumerate(convs):
            _conv2d(conv, w, _name("conv2d", i))
        for i, conv in enumerate(self.mid):
            k = w[f"{_name('conv2d', len(convs) + i)}/kernel"]             # (7, width, 1, out)
            _set(conv.weight, k[:, :, 0, :].transpose(2, 1, 0))
            _set(conv.bias, w[f"{_name('conv2d', len(convs) + i)}/bias"])
        for i, bn in enumerate(bns):
            _batchnorm(bn, w, _name("batch_normalization", i))
        _dense(self.dense, w, "dense")
        _dense(self.out, w, "dense_1")


class Vgg(nn.Module):
    """musicnn's VGG-like baseline (128 filters per layer)."""

    POOLS = ((4, 1, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (4, 4, 4, 4))   # kh, kw, sh, sw

    def __init__(self, *, filters: int = 128, n_classes: int = 50):
        super().__init__()
        self.bn_in = _bn(1, 2)
        self.convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1) for i in range(5))
        self.bns = nn.ModuleList(_bn(filters, 2) for _ in range(5))
        self.out = nn.Linear(2 * 1 * filters, n_classes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, 187, 96) → logits (B, 50), penultimate = flattened pool5 (B, 256)."""
        h = self.bn_in(x.unsqueeze(1))
        for conv, bn, (kh, kw, sh, sw) in zip(self.convs, self.bns, self.POOLS):
            h = F.max_pool2d(bn(F.relu(conv(h))), (kh, kw), (sh, sw))
        pool5 = h.permute(0, 2, 3, 1).flatten(1)                         # TF flattens (H, W, C)
        return {"logits": self.out(pool5), "penultimate": pool5}

    def load_tf(self, w: dict[str, np.ndarray]) -> None:
        for i, conv in enumerate(self.convs):
            _conv2d(conv, w, f"{i + 1}CNN")
        for i, bn in enumerate([self.bn_in, *self.bns]):
            _batchnorm(bn, w, _name("batch_normalization", i))
        _dense(self.out, w, "dense")


ARCHS = {"musicnn": Musicnn, "vgg": Vgg}


def _name(base: str, i: int) -> str:
    return base if i == 0 else f"{base}_{i}"


def _set(param: torch.Tensor, value: np.ndarray) -> None:
    value = np.ascontiguousarray(value, dtype=np.float32)
    if tuple(param.shape) != value.shape:
        raise ValueError(f"checkpoint shape {value.shape} does not fit the layer's {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(value))


def _conv2d(conv: nn.Conv2d, w: dict, name: str) -> None:
    _set(conv.weight, w[f"{name}/kernel"].transpose(3, 2, 0, 1))
    _set(conv.bias, w[f"{name}/bias"])


def _batchnorm(bn: nn.Module, w: dict, name: str) -> None:
    _set(bn.weight, w[f"{name}/gamma"])
    _set(bn.bias, w[f"{name}/beta"])
    _set(bn.running_mean, w[f"{name}/moving_mean"])
    _set(bn.running_var, w[f"{name}/moving_variance"])


def _dense(lin: nn.Linear, w: dict, name: str) -> None:
    _set(lin.weight, w[f"{name}/kernel"].T)
    _set(lin.bias, w[f"{name}/bias"])


def trained_weights(name: str) -> dict[str, np.ndarray]:
    """The model's own tensors from its checkpoint (the optimiser's Adam slots are skipped)."""
    prefix = checkpoint_dir(name)
    from core.features.musicnn.checkpoint import checkpoint_entries

    names = [n for n in checkpoint_entries(prefix) if "/Adam" not in n and not n.startswith("beta")]
    return read_checkpoint(prefix, names=names)


@functools.lru_cache(maxsize=8)
def load_model(name: str, *, device: str = "cpu") -> nn.Module:
    """The pretrained network ``name`` (a MODELS key) in eval mode on ``device``."""
    spec = MODELS.get(name)
    model = ARCHS[spec.arch](n_classes=len(spec.labels))
    model.load_tf(trained_weights(name))
    return model.eval().to(device)
