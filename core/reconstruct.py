"""What the Reconstructions page shows: original vs decoded inputs, errors, latent traversals, audio.

Speed: a page interaction must not redo what an earlier one did. ``prepare(model_id, dataset)``
gathers a model's inputs on a dataset once (the log-mel of every track is tens of MB read from the
feature cache) and is kept for the last ``PREPARED_KEEP`` (model weights, dataset) pairs; a track's
μ and reconstruction are kept per (weights, dataset, row) for the last ``ROWS_KEEP`` tracks. Keys use
the sha256 of the weights, so a model retrained under the same id is never served stale. A traversal
move then costs one decoder pass over a handful of latents and one figure. Turning a log-mel back
into sound (Griffin-Lim, ``to_audio``) costs seconds per 30-s clip: the page does it only when asked,
with ``GRIFFIN_LIM_ITERS`` iterations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from core.errors import ParameterError

PREPARED_KEEP = 2          # (model, dataset) input sets kept in memory
ROWS_KEEP = 64             # per-track μ / reconstructions kept in memory
GRIFFIN_LIM_ITERS = 32     # mel inversion iterations (quality vs seconds; 32 ≈ a few s per 30-s clip)
AUDIO_KEEP = 8             # inverted clips kept in memory (≈ 2.6 MB each for 30 s)
FIGURE_DECIMALS = 3        # values sent to the browser: 3 decimals of a [0, 1] log-mel are plenty


@dataclass(frozen=True)
class ReconView:
    """One track's input and its reconstruction decode(μ) for one modality."""

    row: int               # index into dataset.tracks
    modality: str
    feature: str           # FEATURES name the modality came from
    original: np.ndarray   # per-sample shape, e.g. (128, 256) for logmel (channel axis dropped)
    recon: np.ndarray      # same shape as original
    error: float           # mean squared error over the modality's values


@dataclass(frozen=True)
class Prepared:
    """A model's inputs on a dataset (``dataset_inputs`` rows), ready for per-track work."""

    model_id: str
    weights: str           # sha256 of the model's weights
    dataset: str           # dataset fingerprint
    features: dict         # modality → FEATURES name
    inputs: dict           # modality → (n_usable, *shape)
    masks: dict            # modality → (n_usable,) bool (optional modalities only)
    codes: Any             # (n_usable,) int condition codes or None
    usable: np.ndarray     # (n_tracks,) bool: rows the model can encode
    latent_dim: int

    def position(self, row: int) -> int:
        """Position of track ``row`` among the usable rows; ParameterError if the model cannot encode it."""
        row = int(row)
        if not 0 <= row < len(self.usable) or not self.usable[row]:
            raise ParameterError("row", value=row, expected="a track the model could encode (its features are valid)",
                                 fix="Pick another track, or extract its features again.")
        return int(np.count_nonzero(self.usable[:row]))

    def rows_of(self, p: int) -> tuple[dict, dict | None, Any]:
        sl = slice(p, p + 1)
        return ({m: a[sl] for m, a in self.inputs.items()}, {m: v[sl] for m, v in self.masks.items()} or None,
                None if self.codes is None else self.codes[sl])


class _Bounded:
    """A small thread-safe LRU map: compute once per key, keep the ``keep`` most recent."""

    def __init__(self, keep: int):
        self.keep, self.items, self.lock = keep, OrderedDict(), threading.Lock()

    def get(self, key, compute: Callable[[], Any]):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.keep:
                self.items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_PREPARED = _Bounded(PREPARED_KEEP)
_ROWS = _Bounded(ROWS_KEEP)
_AUDIO = _Bounded(AUDIO_KEEP)


def clear_memory() -> None:
    """Forget every kept input set and per-track result (tests; after deleting models)."""
    _PREPARED.clear()
    _ROWS.clear()
    _AUDIO.clear()


def _dataset_of(dataset):
    from core.datasets import load_dataset

    return load_dataset(dataset) if isinstance(dataset, str) else dataset


def prepare(model_id: str, dataset) -> Prepared:
    """The model's inputs on ``dataset`` (a Dataset or a name), gathered once per (weights, dataset)."""
    from core.training import load_trained

    tm = load_trained(model_id)
    ds = _dataset_of(dataset)
    meta = tm.config.get("meta", {})
    if not meta.get("features"):
        raise ParameterError("model_id", value=model_id, expected="a model trained on a dataset (its config lists features)",
                             fix="Train it from the Train page or `python -m core train --dataset NAME`.")

    def gather() -> Prepared:
        from core.training import dataset_inputs

        inputs, masks, codes, rows, _classes, _fsets = dataset_inputs(
            tm.spec, ds, meta["features"], meta.get("cond_column"), meta.get("cond_classes"))
        return Prepared(model_id, tm.weights_sha256, ds.fingerprint, dict(meta["features"]), inputs, masks or {},
                        codes, np.asarray(rows, bool), int(tm.model.latent_dim))

    return _PREPARED.get((model_id, tm.weights_sha256, ds.fingerprint), gather)


def _squeeze(a: np.ndarray) -> np.ndarray:
    return a[0] if a.ndim == 3 and a.shape[0] == 1 else a


def _row_views(prep: Prepared, row: int) -> list[ReconView]:
    from core.training import reconstruct

    def compute() -> list[ReconView]:
        inputs, masks, codes = prep.rows_of(prep.position(row))
        rec = reconstruct(prep.model_id, inputs=inputs, masks=masks, cond=codes)
        out = []
        for m, arr in rec.items():
            if masks and m in masks and not masks[m][0]:
                continue
            o, x = _squeeze(np.asarray(inputs[m][0])), _squeeze(np.asarray(arr[0]))
            out.append(ReconView(row=int(row), modality=m, feature=prep.features[m], original=o, recon=x,
                                 error=float(np.mean((o.astype(np.float64) - x) ** 2))))
        return out

    return _ROWS.get(("views", prep.weights, prep.dataset, int(row)), compute)


def reconstructions(model_id: str, dataset, rows: Sequence[int]) -> list[ReconView]:
    """Reconstruct the given track rows (those the model could encode) for every modality."""
    prep = prepare(model_id, dataset)
    out: list[ReconView] = []
    for r in rows:
        if 0 <= int(r) < len(prep.usable) and prep.usable[int(r)]:
            out.extend(_row_views(prep, int(r)))
    return out


def row_latent(model_id: str, dataset, row: int) -> np.ndarray:
    """μ of one track, (latent_dim,) float32."""
    from core.training import latents

    prep = prepare(model_id, dataset)

    def compute() -> np.ndarray:
        inputs, masks, codes = prep.rows_of(prep.position(row))
        return latents(model_id, inputs=inputs, masks=masks, cond=codes)[0]

    return _ROWS.get(("mu", prep.weights, prep.dataset, int(row)), compute)


def traversal(model_id: str, dataset, row: int, *, dim: int, offsets: Sequence[float]) -> tuple[str, list[np.ndarray]]:
    """Decode μ(row) + offset·e_dim for each offset; returns (main modality, [decoded arrays])."""
    from core.training import decode_latent

    prep = prepare(model_id, dataset)
    p = prep.position(row)
    if not isinstance(dim, (int, np.integer)) or not 0 <= int(dim) < prep.latent_dim:
        raise ParameterError("dim", value=dim, expected=f"an int in [0, {prep.latent_dim - 1}]")
    mu = row_latent(model_id, dataset, row)
    z = np.repeat(mu[None, :], len(offsets), axis=0)
    z[:, int(dim)] += np.asarray(offsets, dtype=np.float32)
    dec = decode_latent(model_id, z, cond=None if prep.codes is None else prep.codes[p])
    main = "audio" if "audio" in dec else next(iter(dec))
    return main, [_squeeze(d) for d in dec[main]]


def traversal_figure(decoded: Sequence[np.ndarray], offsets: Sequence[float], *, dim: int, height: int = 380):
    """One strip of the decoded spectrograms (one colour scale and one colour bar for all), or, for
    vector inputs, their lines in one chart. Plotly figure."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from core import viz

    arrs = [np.asarray(d, dtype=np.float32) for d in decoded]
    titles = [f"z{dim} {o:+.1f} σ" for o in offsets]
    if arrs and arrs[0].ndim == 2:
        lo = float(min(a.min() for a in arrs))
        hi = float(max(a.max() for a in arrs))
        fig = make_subplots(rows=1, cols=len(arrs), subplot_titles=titles, horizontal_spacing=0.015, shared_yaxes=True)
        for i, a in enumerate(arrs, start=1):
            fig.add_trace(go.Heatmap(z=np.round(a, FIGURE_DECIMALS), zmin=lo, zmax=hi, colorscale="Magma",
                                     coloraxis="coloraxis", hovertemplate="frame %{x}, band %{y}: %{z}<extra></extra>"),
                          row=1, col=i)
        fig.update_layout(coloraxis=dict(colorscale="Magma", cmin=lo, cmax=hi, colorbar=dict(title="value", thickness=12)))
        fig.update_xaxes(showticklabels=False)
        fig.update_xaxes(title_text="time →", row=1, col=(len(arrs) + 1) // 2)
        fig.update_yaxes(title_text="mel band", row=1, col=1)
    else:
        fig = go.Figure()
        for i, (a, t) in enumerate(zip(arrs, titles)):
            fig.add_scatter(y=np.round(a.reshape(-1), FIGURE_DECIMALS), name=t, mode="lines",
                            line=dict(color=viz.PALETTE[i % len(viz.PALETTE)]))
        fig.update_layout(xaxis_title="feature", yaxis_title="value")
    fig.update_layout(template=viz.TEMPLATE, height=height, margin=dict(l=50, r=20, t=70, b=30),
                      title=f"Latent traversal along z{dim}")
    return fig


def to_audio(feature: str, arr: np.ndarray, *, n_iter: int = GRIFFIN_LIM_ITERS) -> np.ndarray | None:
    """Audio at ``core.audio.SAMPLE_RATE`` for a decoded log-mel (mel inversion, then Griffin-Lim with
    ``n_iter`` iterations); None for features that are not invertible.

    The same inversion as ``core.features.logmel_to_audio``, but the mel → linear step (a non-negative
    least squares per frame, the slow part) runs on the pooled frames before they are repeated
    ``logmel_pool`` times: every repeated frame has the same solution, so the result is the same for
    ``logmel_pool`` times less work; Griffin-Lim then runs in float32.
    """
    if feature != "logmel":
        return None
    import librosa

    from core.audio import SAMPLE_RATE, fix_length
    from core.features.spectral import SpectralConfig

    cfg = SpectralConfig()
    x = np.clip(np.asarray(arr, dtype=np.float64), 0.0, 1.0)
    if x.ndim != 2 or x.shape[0] != cfg.n_mels:
        raise ParameterError("arr", value=getattr(x, "shape", None), expected=f"a log-mel of shape ({cfg.n_mels}, T)")
    power = 10.0 ** (((x - 1.0) * cfg.top_db) / 10.0)
    mag = librosa.feature.inverse.mel_to_stft(power, sr=cfg.sr, n_fft=cfg.n_fft, power=2.0, fmin=cfg.fmin,
                                              fmax=cfg.fmax)
    mag = np.repeat(mag.astype(np.float32), cfg.logmel_pool, axis=1)  # float32 STFTs: half the time
    y = librosa.griffinlim(mag, n_iter=int(n_iter), hop_length=cfg.hop_length, n_fft=cfg.n_fft, random_state=0)
    y = fix_length(y, n_samples=mag.shape[1] * cfg.hop_length)
    if SAMPLE_RATE != cfg.sr:
        y = librosa.resample(y, orig_sr=cfg.sr, target_sr=SAMPLE_RATE)
    top = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (0.5 / top) if top > 0 else y).astype(np.float32)


def reconstruction_audio(model_id: str, dataset, row: int, *, dim: int | None = None,
                         offset: float = 0.0) -> np.ndarray | None:
    """Sound of a track's reconstruction (``dim`` None) or of its traversal point μ + offset·e_dim,
    by mel inversion of the main log-mel modality; None when the model's main input is not a log-mel.
    Kept for the last ``AUDIO_KEEP`` requests."""
    prep = prepare(model_id, dataset)
    main = next((m for m, f in prep.features.items() if f == "logmel"), None)
    if main is None:
        return None

    def compute():
        if dim is None:
            view = next(v for v in _row_views(prep, row) if v.modality == main)
            return to_audio("logmel", view.recon)
        got_main, decoded = traversal(model_id, dataset, row, dim=dim, offsets=[float(offset)])
        return to_audio(prep.features[got_main], decoded[0])

    return _AUDIO.get((prep.weights, prep.dataset, int(row), dim, round(float(offset), 3)), compute)


def dataset_recon_error(model_id: str, dataset) -> np.ndarray:
    """(n_tracks,) per-track reconstruction MSE; NaN for tracks the model could not encode."""
    from core.training import recon_error

    prep = prepare(model_id, dataset)
    out = np.full(len(prep.usable), np.nan)
    if prep.usable.any():
        out[prep.usable] = recon_error(model_id, inputs=prep.inputs, masks=prep.masks or None, cond=prep.codes)
    return out
