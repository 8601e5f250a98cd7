"""Input checks and batching shared by training and inference.

``check_inputs`` validates the arrays against a model's ``ModelSpec`` (modalities, per-sample dims,
row counts, masks of optional modalities, finite values in present rows, condition codes) and returns
them as float32 / bool / int64. Float32 arrays, memory maps and ``RowView``s (core/training/stream.py)
are kept as they are, not copied, and the finite-value check reads them one chunk of rows at a time.
The batching helpers are torch-aware but import torch lazily.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from core.errors import ParameterError
from core.params import validate_params
from core.training.stream import RowView, window_rows


def as_float_array(name: str, value) -> np.ndarray:
    """float32 (n, ...) rows; a float32 array or memory map is returned without a copy, a RowView as is
    (a memory map of another dtype becomes a RowView: its rows are converted as they are read)."""
    if isinstance(value, RowView):
        return value
    if isinstance(value, np.memmap) and value.ndim >= 1:
        return value if value.dtype == np.float32 else RowView(value)
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ParameterError(name, value=type(value).__name__, expected="a numeric array (n, ...)") from None
    return arr


def check_inputs(spec, inputs, masks, cond, *, expect_shapes: Mapping[str, tuple] | None = None):
    """Validate arrays against the spec; return (inputs float32, masks bool, cond int64|None, n)."""
    if not isinstance(inputs, Mapping) or not inputs:
        raise ParameterError("inputs", value=type(inputs).__name__,
                             expected=f"a dict with arrays for {list(spec.inputs)}")
    missing = [m for m in spec.inputs if m not in inputs]
    extra = [m for m in inputs if m not in spec.inputs]
    if missing or extra:
        raise ParameterError("inputs", value=sorted(inputs), expected=f"exactly the modalities {list(spec.inputs)}",
                             fix=f"Model '{spec.name}' needs {dict(spec.input_kinds)}; missing {missing}, "
                                 f"unexpected {extra}.")
    out, n = {}, None
    for m, ispec in spec.inputs.items():
        arr = as_float_array(f"inputs['{m}']", inputs[m])
        if arr.ndim - 1 not in ispec.ndims:
            raise ParameterError(f"inputs['{m}']", value=f"array of shape {arr.shape}",
                                 expected=f"(n, ...) with {ispec.ndims} dims per row ({ispec.kind}: {ispec.help})")
        if expect_shapes is not None and tuple(arr.shape[1:]) != tuple(expect_shapes[m]):
            raise ParameterError(f"inputs['{m}']", value=f"rows of shape {tuple(arr.shape[1:])}",
                                 expected=f"rows of shape {tuple(expect_shapes[m])} (what the model was trained on)")
        if n is None:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise ParameterError(f"inputs['{m}']", value=f"{arr.shape[0]} rows", expected=f"{n} rows like the others")
        out[m] = arr
    mk = {}
    for m, mask in (masks or {}).items():
        if m not in spec.inputs:
            raise ParameterError("masks", value=m, expected=f"keys among {list(spec.inputs)}")
        mask = np.asarray(mask)
        if mask.shape != (n,):
            raise ParameterError(f"masks['{m}']", value=f"shape {mask.shape}", expected=f"shape ({n},) of bool")
        mask = mask.astype(bool)
        if spec.inputs[m].required and not mask.all():
            raise ParameterError(f"masks['{m}']", value=f"{int((~mask).sum())} masked rows",
                                 expected="no masked rows: this modality is required",
                                 fix="Leave those rows out of the inputs (train_on_dataset does this).")
        mk[m] = mask
    for m, arr in out.items():
        bad = _nonfinite_rows(arr, mk.get(m))
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise ParameterError(f"inputs['{m}']", value=f"NaN/inf in rows {rows} ({int(bad.sum())} rows)",
                                 expected="finite values in every present row",
                                 fix="Mask those rows (optional modality) or drop them before training.")
    c = None
    if spec.uses_cond:
        if cond is None:
            raise ParameterError("cond", value=None, expected=f"({n},) integer class codes",
                                 fix=f"'{spec.name}' is conditional: pass cond (train_on_dataset: cond_column=).")
        c = np.asarray(cond)
        if c.shape != (n,) or not np.issubdtype(c.dtype, np.integer) or (c.size and c.min() < 0):
            raise ParameterError("cond", value=f"{c.dtype} array of shape {c.shape}",
                                 expected=f"({n},) non-negative integer class codes")
        c = c.astype(np.int64)
    return out, mk, c, int(n or 0)


def _nonfinite_rows(arr, present: np.ndarray | None) -> np.ndarray:
    """(n,) bool: present rows of ``arr`` with a NaN/inf, checked one chunk of rows at a time."""
    n = len(arr)
    bad = np.zeros(n, bool)
    step = window_rows(arr.shape)
    for i in range(0, n, step):
        x = arr[i:i + step]
        bad[i:i + len(x)] = ~np.isfinite(x.reshape(len(x), -1)).all(1)
    return bad if present is None else bad & present


def resolve_params(spec, model_params: Mapping | None, cond: np.ndarray | None) -> dict:
    """Validated model parameters; a conditional model's n_classes defaults to the largest code + 1."""
    params = validate_params(spec.params, dict(model_params or {}))
    if spec.uses_cond and cond is not None:
        needed = int(cond.max()) + 1 if cond.size else 0
        if params.get("n_classes", 0) == 0:
            params["n_classes"] = max(needed, 2)
        elif params["n_classes"] < needed:
            raise ParameterError("n_classes", value=params["n_classes"], expected=f"≥ {needed} (largest cond code + 1)")
    return params


def split_rows(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train rows, validation rows), both sorted; at least 2 training rows stay."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    n_val = min(n_val, n - 2) if n_val >= 1 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def batch_from(arrays: Mapping[str, Any], masks: Mapping[str, Any], cond, idx):
    """A core.models.base.Batch of rows ``idx`` (tensors indexed as given)."""
    from core.models.base import Batch

    return Batch(inputs={m: a[idx] for m, a in arrays.items()},
                 cond=None if cond is None else cond[idx],
                 masks={m: v[idx] for m, v in masks.items()})


def batches(order, batch_size: int):
    """Split an index tensor into batches; a trailing batch of 1 joins the previous (BatchNorm needs ≥ 2)."""
    chunks = list(order.split(batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        import torch

        chunks[-2] = torch.cat([chunks[-2], chunks[-1]])
        chunks.pop()
    return chunks


def chunks(n: int, size: int = 256):
    """Index tensors of at most ``size`` rows covering range(n) (inference batches)."""
    import torch

    return torch.arange(n).split(size)
