"""Using a trained model: latents μ, reconstructions, decoding latent points, errors, VaDE clusters.

Every entry point takes inputs in the features' own units: the model's stored input scaling is applied
before encoding and inverted after decoding, so reconstructions and ``recon_error`` are in the units
of the inputs (the numbers a user can compare with the features), never in scaled units.

Inputs may be memory-mapped features or ``RowView``s (``dataset_inputs``): every entry point reads,
scales and encodes them one batch of rows at a time (core/training/stream.py), so memory is bounded by
a batch plus the result (latents (n, latent_dim), per-row errors (n,); ``reconstruct`` returns full
reconstructions and therefore grows with n — ``recon_error`` never builds them).
"""

from __future__ import annotations

import numpy as np

from core.errors import ParameterError
from core.hashing import array_fingerprint, fingerprint
from core.training.inputs import check_inputs, chunks
from core.training.loop import predict_clusters_net
from core.training.store import TrainedModel, load_trained
from core.training.stream import BatchSource


def _source(tm: TrainedModel, inputs, masks, cond) -> BatchSource:
    """Checked inputs as a BatchSource that scales each batch with the model's input scaling."""
    arrays, mk, c, n = check_inputs(tm.spec, inputs, masks, cond,
                                    expect_shapes={m: tuple(s) for m, s in tm.config["input_shapes"].items()})
    if c is not None and c.size and c.max() >= tm.model.n_classes:
        raise ParameterError("cond", value=int(c.max()), expected=f"codes in [0, {tm.model.n_classes})")
    return BatchSource(arrays, mk, c, tm.scaler)


def _decoded(tm: TrainedModel, src: BatchSource):
    """Per inference batch: (rows idx, (inputs, masks) of those rows in the inputs' units,
    decode(μ) modality → float32 in the inputs' units). Each batch is read once."""
    import torch

    with torch.no_grad():
        for idx in chunks(src.n):
            raw, mk, c = src.raw(idx)
            b = src.make(raw, mk, c)
            mu, _ = tm.model.encode(b)
            rec = {m: tm.scaler.inverse(m, r.numpy()) for m, r in tm.model.decode(mu, b.cond).items()}
            yield idx.numpy(), (raw, mk), rec


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
        src = _source(tm, inputs, masks, cond)
        out = np.empty((src.n, tm.model.latent_dim), np.float32)  # filled batch by batch
        with torch.no_grad():
            for idx in chunks(src.n):
                out[idx.numpy()] = tm.model.encode(src.batch(idx))[0].numpy()
        return Entry({"mu": out}, {"model_id": model_id})

    if not input_fingerprint:
        return compute().arrays["mu"]
    key = fingerprint("latents", input_fingerprint, None if masks is None else
                      {m: array_fingerprint(np.asarray(v, bool)) for m, v in sorted(masks.items())},
                      None if cond is None else array_fingerprint(np.asarray(cond)), tm.weights_sha256)
    return CACHE.get_or_compute("latents", key, compute).arrays["mu"]


def reconstruct(model_id: str, *, inputs, masks=None, cond=None) -> dict[str, np.ndarray]:
    """modality → (n, *shape) decode(μ) in the inputs' units (eval mode, no sampling)."""
    tm = load_trained(model_id)
    src = _source(tm, inputs, masks, cond)
    out: dict[str, np.ndarray] = {}
    for idx, _raw, rec in _decoded(tm, src):
        for m, r in rec.items():
            if m not in out:
                out[m] = np.empty((src.n, *r.shape[1:]), np.float32)
            out[m][idx] = r
    return out or {m: np.zeros((0, *tm.config["input_shapes"][m]), np.float32) for m in tm.model.modalities}


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
    modalities (or of one ``modality``); NaN for a row with no present modality. Computed batch by batch:
    the reconstructions of all rows are never held at once."""
    tm = load_trained(model_id)
    src = _source(tm, inputs, masks, cond)
    se, cnt = np.zeros(src.n), np.zeros(src.n)
    for idx, (raw, mk), rec in _decoded(tm, src):
        for m, r in rec.items():
            if modality is not None and m != modality:
                continue
            present = mk.get(m, np.ones(len(idx), bool))
            d = (r - np.nan_to_num(raw[m])).reshape(len(idx), -1)
            se[idx] += np.where(present, (d.astype(np.float64) ** 2).sum(1), 0.0)
            cnt[idx] += np.where(present, d.shape[1], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, se / np.maximum(cnt, 1), np.nan)


def predict_clusters(model_id: str, *, inputs, masks=None, cond=None) -> np.ndarray:
    """(n,) cluster labels from a model with its own clustering (VaDE)."""
    tm = load_trained(model_id)
    if not hasattr(tm.model, "predict_clusters"):
        raise ParameterError("model_id", value=model_id, expected="a model with its own clusters (vade)")
    return predict_clusters_net(tm.model, _source(tm, inputs, masks, cond))
