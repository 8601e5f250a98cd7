"""Per-clip musicnn features: the embedding and tag probabilities of one clip (imports torch).

A clip is cut into non-overlapping 3-s patches (see ``core.features.musicnn``); each patch gives a
200-D penultimate vector (the back-end's batch-normalised dense layer, after ReLU: the last layer
before the tag logits, so it summarises what the tagger heard) and 50 tag probabilities. Per clip::

    embedding  (400,)  [mean over patches (200) | max over patches (200)] of the penultimate layer
    tags       (50,)   taggram mean: the average probability of each tag over the patches
    taggram    (n_patches, 50), penultimate (n_patches, 200)

Inference is deterministic (eval mode, no dropout); patches are fed in batches of ``batch``.
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import ParameterError
from core.features.musicnn import MODELS, log_mel, patches


def select_device(preference: str = "auto") -> torch.device:
    """CUDA if present, then Apple MPS, then CPU (as training does; an explicit choice is checked)."""
    from core.training import select_device as _select

    return _select(preference)


@torch.inference_mode()
def run_patches(x: np.ndarray, *, model: str, device: str | torch.device = "cpu", batch: int = 32) -> dict:
    """(n_patches, 187, 96) log-mel patches → {"penultimate": (n, D), "taggram": (n, 50)} float32."""
    from core.features.musicnn.model import load_model

    net = load_model(model, device=str(device))
    pens, tags = [], []
    for s in range(0, len(x), batch):
        out = net(torch.from_numpy(np.ascontiguousarray(x[s:s + batch], dtype=np.float32)).to(device))
        pens.append(out["penultimate"].float().cpu().numpy())
        tags.append(torch.sigmoid(out["logits"]).float().cpu().numpy())
    return {"penultimate": np.concatenate(pens), "taggram": np.concatenate(tags)}


def embed_clip(y: np.ndarray, *, model: str = "MTT_musicnn", device: str | torch.device = "cpu",
               batch: int = 32) -> dict[str, np.ndarray]:
    """16 kHz mono (n,) → {"embedding" (2·D,), "tags" (50,), "taggram" (n_patches, 50), "penultimate"}."""
    MODELS.get(model)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise ParameterError("y", value=f"array of shape {y.shape}", expected="mono audio of shape (n_samples,), n > 0",
                             fix="Decode with core.audio.load_audio(path, sr=16000), which mixes down to mono.")
    out = run_patches(patches(log_mel(y)), model=model, device=device, batch=batch)
    pen = out["penultimate"]
    out["embedding"] = np.concatenate([pen.mean(axis=0), pen.max(axis=0)]).astype(np.float32)
    out["tags"] = out["taggram"].mean(axis=0).astype(np.float32)
    return out

