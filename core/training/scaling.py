"""Input scaling owned by the model: z-scores fitted on the training split, stored in the artifact.

Raw features mix units: the MFCC-0 mean of ``mfcc_stats`` has a standard deviation of ~70 while the
smallest column's is ~1, so without scaling one loud clip dominates the loss and its latent code
(latent norm ~100 vs a median ~5), and k-means then spends a whole cluster on that one track.

``fit_scaler(arrays, masks, rows, method=...)`` computes one mean and one standard deviation per

* feature of a vector input: (n, d) → d statistics;
* row of a 2-D input, over the training rows AND time: log-mel (n, 128, T) or (n, 1, 128, T) → 128
  (one per mel band), MFCC frames (n, 40, T) → 40, audio stack (n, 39, T) → 39.

Only the training rows given in ``rows`` count, and of those only the rows where an optional
modality is present (masked lyrics rows are left out). The inputs may be memory-mapped: the statistics
are accumulated in float64 over chunks of rows, so fitting never holds more than one chunk. A constant
column keeps scale 1; a modality with no present training row keeps mean 0 and scale 1.

``Scaler.transform`` is applied to every batch before it reaches the network (training, latents,
reconstructions, reconstruction errors, VaDE clusters); ``Scaler.inverse`` maps decoder outputs back
to the input's units. Masked rows come out of ``transform`` as zeros (the models ignore them).
The statistics are stored as ``scaler.npz`` in the artifact (plain arrays, no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from core import artifacts
from core.errors import ArtifactError, ParameterError
from core.training.stream import gather, window_rows

SCALER_FILE = "scaler.npz"
_CHUNK_ROWS = 256


@dataclass(frozen=True)
class Scaler:
    """Per-modality statistics broadcastable to one sample.

    mean/scale: modality → float32 array of the per-sample shape with the time axis (last) kept as 1
    for 2-D inputs, e.g. (128, 1) for a (128, T) log-mel, (12,) for a 12-D vector.
    n_fit: modality → number of training rows the statistics were fitted on.
    method: "standard" or "none" (identity).
    """

    method: str = "none"
    mean: Mapping[str, np.ndarray] = field(default_factory=dict)
    scale: Mapping[str, np.ndarray] = field(default_factory=dict)
    n_fit: Mapping[str, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.method != "none" and bool(self.mean)

    def transform(self, arrays: Mapping[str, np.ndarray],
                  masks: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """modality → (n, *shape) float32 in scaled units (new arrays; the inputs are not changed)."""
        if not self.active:
            return dict(arrays)
        out = {}
        for m, a in arrays.items():
            if m not in self.mean:
                out[m] = a
                continue
            z = (np.asarray(a, dtype=np.float32) - self.mean[m]) / self.scale[m]
            present = None if not masks or m not in masks else np.asarray(masks[m], bool)
            if present is not None and not present.all():
                z[~present] = 0.0
            out[m] = z.astype(np.float32, copy=False)
        return out

    def inverse(self, modality: str, values: np.ndarray) -> np.ndarray:
        """(n, *shape) decoder output in scaled units → the input's units (float32)."""
        if not self.active or modality not in self.mean:
            return np.asarray(values, dtype=np.float32)
        v = np.asarray(values, dtype=np.float32)
        return (v * self.scale[modality] + self.mean[modality]).astype(np.float32, copy=False)

    def describe(self) -> dict[str, str]:
        """modality → one readable line, recorded in config.json as ``input_scaling``."""
        method = self.method if self.active else "none"
        return {m: _DESCRIBE[method](self, m) for m in (self.mean if self.active else self.n_fit)}

    def save(self, path: str | Path) -> Path:
        arrays = {"method": np.array(self.method)}
        for m in self.mean:
            arrays[f"mean__{m}"] = np.asarray(self.mean[m], np.float32)
            arrays[f"scale__{m}"] = np.asarray(self.scale[m], np.float32)
            arrays[f"n__{m}"] = np.array(int(self.n_fit.get(m, 0)))
        return artifacts.save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Scaler":
        """Read ``scaler.npz``; a missing file is the identity (artifacts trained on unscaled inputs)."""
        path = Path(path)
        if not path.exists():
            return cls()
        data = artifacts.load_npz(path)
        try:
            method = str(data["method"])
            mods = [k[len("mean__"):] for k in data if k.startswith("mean__")]
            return cls(method, {m: data[f"mean__{m}"] for m in mods}, {m: data[f"scale__{m}"] for m in mods},
                       {m: int(data[f"n__{m}"]) for m in mods})
        except KeyError as exc:
            raise ArtifactError(f"Input scaling file {path} lacks {exc}; delete the model and train it again.") from None


def _stat_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-sample shape of the statistics: vectors keep every feature; 2-D+ inputs pool the time axis."""
    return tuple(shape) if len(shape) == 1 else tuple(shape[:-1]) + (1,)


def _fit_standard(x, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean/std over ``rows`` of x (n, *shape) (and time for 2-D+), in float64.

    x may be memory-mapped (or a RowView): it is read in chunks of ``_CHUNK_ROWS`` rows at most and about
    ``WINDOW_BYTES`` of float64 each, twice (sum, then squared deviations from the mean: the exact two-pass
    statistics, never E[x²] − E[x]²), so memory is bounded by one chunk whatever the number of rows.
    """
    axes = (0,) if x.ndim == 2 else (0, x.ndim - 1)
    shape = _stat_shape(x.shape[1:])
    count = len(rows) * (1 if x.ndim == 2 else x.shape[-1])
    step = window_rows(x.shape, itemsize=8, cap=_CHUNK_ROWS)
    total = np.zeros(shape, np.float64)
    for i in range(0, len(rows), step):
        total += gather(x, rows[i:i + step]).sum(axis=axes, dtype=np.float64).reshape(shape)
    mean = total / count
    sq = np.zeros(shape, np.float64)
    for i in range(0, len(rows), step):
        d = gather(x, rows[i:i + step]).astype(np.float64)
        d -= mean
        np.square(d, out=d)
        sq += d.sum(axis=axes).reshape(shape)
        del d
    std = np.sqrt(sq / count)
    scale = np.where(std > 1e-8, std, 1.0)  # constant columns keep scale 1
    return mean.astype(np.float32), scale.astype(np.float32)


def fit_scaler(arrays: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None, rows: np.ndarray, *,
               method: str) -> Scaler:
    """Fit on the training rows ``rows`` (int indices) of ``arrays`` (modality → (n, *shape) float32).

    masks: modality → (n,) bool, True where an optional modality is present; absent rows are left out.
    """
    if method not in _FITTERS:
        raise ParameterError("input_scaling", value=method, expected=f"one of {list(_FITTERS)}")
    return _FITTERS[method](arrays, masks or {}, np.asarray(rows, dtype=np.int64))


def _fit_none(arrays, masks, rows) -> Scaler:
    return Scaler("none", {}, {}, {m: int(len(rows)) for m in arrays})


def _fit_all_standard(arrays, masks, rows) -> Scaler:
    mean, scale, n_fit = {}, {}, {}
    for m, x in arrays.items():
        use = rows if m not in masks else rows[np.asarray(masks[m], bool)[rows]]
        if len(use) == 0:
            mean[m] = np.zeros(_stat_shape(x.shape[1:]), np.float32)
            scale[m] = np.ones(_stat_shape(x.shape[1:]), np.float32)
        else:
            mean[m], scale[m] = _fit_standard(x, use)
        n_fit[m] = int(len(use))
    return Scaler("standard", mean, scale, n_fit)


def _describe_standard(s: Scaler, m: str) -> str:
    stat = s.mean[m]
    if stat.ndim == 1:
        return f"z-score per feature (fitted on {s.n_fit[m]} training rows)"
    rows = int(np.prod(stat.shape))
    return f"z-score per row ({rows} rows × time, fitted on {s.n_fit[m]} training rows)"


_FITTERS: dict[str, Callable[..., Scaler]] = {"standard": _fit_all_standard, "none": _fit_none}
_DESCRIBE: dict[str, Callable[[Scaler, str], str]] = {
    "standard": _describe_standard,
    "none": lambda s, m: "none (inputs used as given)",
}
