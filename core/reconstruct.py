"""What the Reconstructions page shows: original vs decoded inputs, errors, latent traversals, audio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.errors import ParameterError


@dataclass(frozen=True)
class ReconView:
    """One track's input and its reconstruction decode(μ) for one modality."""

    row: int               # index into dataset.tracks
    modality: str
    feature: str           # FEATURES name the modality came from
    original: np.ndarray   # per-sample shape, e.g. (128, 256) for logmel (channel axis dropped)
    recon: np.ndarray      # same shape as original
    error: float           # mean squared error over the modality's values


def _model_inputs(model_id: str, dataset):
    from core.training import dataset_inputs, load_trained

    tm = load_trained(model_id)
    meta = tm.config.get("meta", {})
    if not meta.get("features"):
        raise ParameterError("model_id", value=model_id, expected="a model trained on a dataset (its config lists features)")
    inputs, masks, codes, rows, _classes, _fsets = dataset_inputs(
        tm.spec, dataset, meta["features"], meta.get("cond_column"), meta.get("cond_classes"))
    return tm, meta["features"], inputs, masks, codes, rows


def _squeeze(a: np.ndarray) -> np.ndarray:
    return a[0] if a.ndim == 3 and a.shape[0] == 1 else a


def reconstructions(model_id: str, dataset, rows: Sequence[int]) -> list[ReconView]:
    """Reconstruct the given track rows (those the model could encode) for every modality."""
    from core.training import reconstruct

    tm, feats, inputs, masks, codes, usable = _model_inputs(model_id, dataset)
    pos = np.cumsum(usable) - 1  # track row → position among usable rows
    keep = [int(r) for r in rows if usable[int(r)]]
    if not keep:
        return []
    sel = pos[keep]
    sub_in = {m: a[sel] for m, a in inputs.items()}
    sub_mask = {m: v[sel] for m, v in masks.items()} if masks else None
    rec = reconstruct(model_id, inputs=sub_in, masks=sub_mask, cond=None if codes is None else codes[sel])
    out = []
    for i, r in enumerate(keep):
        for m, arr in rec.items():
            if sub_mask and m in sub_mask and not sub_mask[m][i]:
                continue
            o, x = _squeeze(np.asarray(sub_in[m][i])), _squeeze(np.asarray(arr[i]))
            out.append(ReconView(row=r, modality=m, feature=feats[m], original=o, recon=x,
                                 error=float(np.mean((o.astype(np.float64) - x) ** 2))))
    return out


def traversal(model_id: str, dataset, row: int, *, dim: int, offsets: Sequence[float]) -> tuple[str, list[np.ndarray]]:
    """Decode μ(row) + offset·e_dim for each offset; returns (main modality, [decoded arrays])."""
    from core.training import decode_latent, latents

    tm, feats, inputs, masks, codes, usable = _model_inputs(model_id, dataset)
    if not usable[row]:
        raise ParameterError("row", value=row, expected="a track the model could encode (its features are valid)")
    if not 0 <= dim < tm.model.latent_dim:
        raise ParameterError("dim", value=dim, expected=f"an int in [0, {tm.model.latent_dim - 1}]")
    p = int(np.cumsum(usable)[row] - 1)
    mu = latents(model_id, inputs={m: a[p:p + 1] for m, a in inputs.items()},
                 masks={m: v[p:p + 1] for m, v in masks.items()} if masks else None,
                 cond=None if codes is None else codes[p:p + 1])[0]
    z = np.repeat(mu[None, :], len(offsets), axis=0)
    z[:, dim] += np.asarray(offsets, dtype=np.float32)
    dec = decode_latent(model_id, z, cond=None if codes is None else codes[p])
    main = "audio" if "audio" in dec else next(iter(dec))
    return main, [_squeeze(d) for d in dec[main]]


def to_audio(feature: str, arr: np.ndarray) -> np.ndarray | None:
    """Audio for a decoded log-mel (mel inversion, Griffin-Lim); None for features that are not invertible."""
    if feature != "logmel":
        return None
    from core.features import logmel_to_audio

    return logmel_to_audio(np.asarray(arr, dtype=np.float32))


def dataset_recon_error(model_id: str, dataset) -> np.ndarray:
    """(n_tracks,) per-track reconstruction MSE; NaN for tracks the model could not encode."""
    from core.training import recon_error

    _tm, _feats, inputs, masks, codes, usable = _model_inputs(model_id, dataset)
    out = np.full(len(usable), np.nan)
    if usable.any():
        out[usable] = recon_error(model_id, inputs=inputs, masks=masks or None, cond=codes)
    return out
