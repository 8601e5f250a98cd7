"""Using a trained model: latents μ, reconstructions, decoding latent points, errors, VaDE clusters.

Every entry point takes inputs in the features' own units: the model's stored input scaling is applied
before encoding and inverted after decoding, so reconstructions and ``recon_error`` are in the units
of the inputs (the numbers a user can compare with the features), never in scaled units.
"""

from __future__ import annotations

import numpy as np

from core.errors import ParameterError
from core.hashing import array_fingerprint, fingerprint
from core.training.inputs import batch_from, check_inputs, chunks
from core.training.loop import predict_clusters_net
from core.training.store import TrainedModel, load_trained


def _tensors(tm: TrainedModel, inputs, masks, cond):
    """Checked, scaled torch tensors: (X modality → (n, *shape), M modality → (n,), C (n,) | None, n)."""
    import torch

    arrays, mk, c, n = check_inputs(tm.spec, inputs, masks, cond,
                                    expect_shapes={m: tuple(s) for m, s in tm.config["input_shapes"].items()})
    if c is not None and c.size and c.max() >= tm.model.n_classes:
        raise ParameterError("cond", value=int(c.max()), expected=f"codes in [0, {tm.model.n_classes})")
    scaled = tm.scaler.transform(arrays, mk)
    X = {m: torch.from_numpy(np.ascontiguousarray(a)) for m, a in scaled.items()}
    M = {m: torch.from_numpy(v) for m, v in mk.items()}
    C = None if c is None else torch.from_numpy(c)
    return X, M, C, n


def model_fingerprint(model_id: str) -> str:
    """sha256 of the model's weights file: changes whenever the artifact under ``model_id`` is replaced."""
    return load_trained(model_id).weights_sha256


def latents(model_id: str, *, inputs, masks=None, cond=None, input_fingerprint: str | None = None) -> np.ndarray:
    """(n, latent_dim) float32 μ.

    With ``input_fingerprint`` the result is kept in ``core.cache.CACHE`` (namespace "latents", on disk)
    under a key of that fingerprint, the masks, the condition codes and the weights' sha256 (a replaced
    artifact never serves the previous weights' latents).
    """
    import torch

    from core.cache import CACHE, Entry

    tm = load_trained(model_id)

    def compute() -> Entry:
        X, M, C, n = _tensors(tm, inputs, masks, cond)
        with torch.no_grad():
            mu = [tm.model.encode(batch_from(X, M, C, idx))[0] for idx in chunks(n)]
        out = (torch.cat(mu) if mu else torch.zeros(0, tm.model.latent_dim)).numpy().astype(np.float32)
        return Entry({"mu": out}, {"model_id": model_id})

    if not input_fingerprint:
        return compute().arrays["mu"]
    key = fingerprint("latents", input_fingerprint, None if masks is None else
                      {m: array_fingerprint(np.asarray(v, bool)) for m, v in sorted(masks.items())},
                      None if cond is None else array_fingerprint(np.asarray(cond)), tm.weights_sha256)
    return CACHE.get_or_compute("latents", key, compute).arrays["mu"]


def reconstruct(model_id: str, *, inputs, masks=None, cond=None) -> dict[str, np.ndarray]:
    """modality → (n, *shape) decode(μ) in the inputs' units (eval mode, no sampling)."""
    import torch

    tm = load_trained(model_id)
    X, M, C, n = _tensors(tm, inputs, masks, cond)
    parts: dict[str, list] = {m: [] for m in tm.model.modalities}
    with torch.no_grad():
        for idx in chunks(n):
            b = batch_from(X, M, C, idx)
            mu, _ = tm.model.encode(b)
            for m, r in tm.model.decode(mu, b.cond).items():
                parts[m].append(r)
    return {m: tm.scaler.inverse(m, torch.cat(v).numpy()) for m, v in parts.items()}


def decode_latent(model_id: str, z, cond=None) -> dict[str, np.ndarray]:
    """z: (n, latent_dim) (or (latent_dim,)) → modality → (n, *shape) in the inputs' units."""
    import torch

    tm = load_trained(model_id)
    z = np.atleast_2d(np.asarray(z, dtype=np.float32))
    if z.shape[1] != tm.model.latent_dim:
        raise ParameterError("z", value=f"shape {z.shape}", expected=f"(n, {tm.model.latent_dim})")
    c = None
    if tm.spec.uses_cond:
        if cond is None:
            raise ParameterError("cond", value=None, expected=f"({len(z)},) class codes for this conditional VAE")
        c = torch.as_tensor(np.broadcast_to(np.asarray(cond, dtype=np.int64), (len(z),)).copy())
    with torch.no_grad():
        out = tm.model.decode(torch.from_numpy(z), c)
    return {m: tm.scaler.inverse(m, v.numpy()) for m, v in out.items()}


def recon_error(model_id: str, *, inputs, masks=None, cond=None, modality: str | None = None) -> np.ndarray:
    """(n,) per-sample mean squared error, in the inputs' units, over the features of the present
    modalities (or of one ``modality``); NaN for a row with no present modality."""
    arrays = {m: np.asarray(v, dtype=np.float32) for m, v in inputs.items()}
    rec = reconstruct(model_id, inputs=arrays, masks=masks, cond=cond)
    n = len(next(iter(arrays.values())))
    se, cnt = np.zeros(n), np.zeros(n)
    for m, r in rec.items():
        if modality is not None and m != modality:
            continue
        present = np.ones(n, bool) if not masks or m not in masks else np.asarray(masks[m], bool)
        d = (r - np.nan_to_num(arrays[m])).reshape(n, -1)
        se += np.where(present, (d.astype(np.float64) ** 2).sum(1), 0.0)
        cnt += np.where(present, d.shape[1], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, se / np.maximum(cnt, 1), np.nan)


def predict_clusters(model_id: str, *, inputs, masks=None, cond=None) -> np.ndarray:
    """(n,) cluster labels from a model with its own clustering (VaDE)."""
    tm = load_trained(model_id)
    if not hasattr(tm.model, "predict_clusters"):
        raise ParameterError("model_id", value=model_id, expected="a model with its own clusters (vade)")
    X, M, C, n = _tensors(tm, inputs, masks, cond)
    return predict_clusters_net(tm.model, {m: x.numpy() for m, x in X.items()},
                                {m: v.numpy() for m, v in M.items()}, None if C is None else C.numpy())
