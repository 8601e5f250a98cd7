"""Streaming model inputs: rows read from (memory-mapped) features one batch or chunk at a time.

Training and inference never hold a whole feature in memory: a feature is a read-only ``np.memmap``
(core/features/extract.py) and only the rows of the current batch are read, scaled and handed to the
network. Peak memory is therefore bounded by a batch (training, inference) or a chunk (statistics,
input checks), not by the size of the dataset.

* ``RowView(base, index)``: the rows ``index`` of a (N, *shape) array as a lazy (n, *shape) float32 array.
  Indexing it (int, slice, int or bool array) reads just those rows; ``np.asarray(view)`` reads them all.
  ``dataset_inputs`` returns one per modality, so a dataset's usable rows are never copied up front.
* ``BatchSource(arrays, masks, cond, scaler)``: ``batch(idx)`` gathers rows ``idx`` of every modality,
  applies the input scaling and returns a ``core.models.base.Batch`` of tensors (on ``device``);
  ``raw(idx)`` returns the same rows unscaled (reconstruction errors compare in the inputs' units).
* ``window_rows(shape)``: how many rows of a (n, *shape) input make one chunk of ``WINDOW_BYTES``.

Scaling a batch gives exactly the values the rows would have had if the whole array were scaled at once
(the transform is element-wise), so batches, losses and latents are the same numbers as in memory.
This module imports torch only inside ``BatchSource.batch``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

WINDOW_BYTES = 8 << 20   # float32 bytes read at once by chunked passes (statistics, input checks)
MAX_WINDOW_ROWS = 256


def window_rows(shape: tuple[int, ...], *, itemsize: int = 4, budget: int | None = None,
                cap: int = MAX_WINDOW_ROWS) -> int:
    """Rows of a (n, *shape) input per chunk: at most ``cap`` and about ``budget`` (default ``WINDOW_BYTES``)
    bytes of ``itemsize``-byte values, at least 1."""
    budget = WINDOW_BYTES if budget is None else budget
    per_row = itemsize * int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else itemsize
    return int(max(1, min(cap, budget // max(per_row, 1))))


def _positions(key, n: int) -> np.ndarray | int:
    """Row positions in range(n) selected by ``key`` (int, slice, int array, bool array, torch tensor)."""
    if isinstance(key, slice):
        return np.arange(*key.indices(n), dtype=np.int64)
    if isinstance(key, (int, np.integer)):
        k = int(key)
        if not -n <= k < n:
            raise IndexError(f"row {k} out of range for {n} rows")
        return k % n
    if hasattr(key, "detach"):  # torch tensor
        key = key.detach().cpu().numpy()
    key = np.asarray(key)
    if key.dtype == bool:
        if key.shape != (n,):
            raise IndexError(f"boolean index of shape {key.shape} for {n} rows")
        return np.flatnonzero(key)
    if not np.issubdtype(key.dtype, np.integer):
        raise IndexError(f"rows must be selected by int, slice, int array or bool array, not {key.dtype}")
    key = key.astype(np.int64, copy=False).reshape(-1)
    if key.size and (key.min() < -n or key.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    return np.where(key < 0, key + n, key)


def take_rows(base, pos: np.ndarray) -> np.ndarray:
    """float32 copy of ``base[pos]`` (pos: int rows); the rows are read in ascending order (memmap pages
    sequentially) and put back in the order asked for."""
    pos = np.asarray(pos, dtype=np.int64)
    if pos.size > 1 and np.any(pos[1:] < pos[:-1]):
        order = np.argsort(pos, kind="stable")
        got = np.asarray(base[pos[order]])
        out = np.empty(got.shape, dtype=np.float32)
        out[order] = got
        return out
    if pos.size and pos[-1] - pos[0] == pos.size - 1:  # a contiguous run: one slice
        return np.array(base[int(pos[0]):int(pos[-1]) + 1], dtype=np.float32)
    return np.asarray(base[pos]).astype(np.float32, copy=False)


class RowView:
    """Rows ``index`` (ints into the first axis; all rows when None) of ``base`` (n, *shape), read on demand.

    Behaves like a read-only float32 array for what training and inference need: ``shape``, ``ndim``,
    ``dtype``, ``len``, indexing along the first axis (returns a float32 ndarray copy of those rows) and
    ``np.asarray`` (reads every row: only for small data).
    """

    def __init__(self, base, index=None):
        self.base = base
        self.index = None if index is None else np.asarray(index, dtype=np.int64).reshape(-1)
        n = len(base) if self.index is None else len(self.index)
        self.shape = (int(n), *tuple(base.shape[1:]))
        self.dtype = np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return 4 * self.size

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"RowView(shape={self.shape}, base={type(self.base).__name__})"

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key else (slice(None), ())
        pos = _positions(key, len(self))
        if np.ndim(pos) == 0:
            row = np.array(self.base[int(pos if self.index is None else self.index[pos])], dtype=np.float32)
            return row[rest] if rest else row
        rows = take_rows(self.base, pos if self.index is None else self.index[pos])
        return rows[(slice(None), *rest)] if rest else rows

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)


def gather(array, idx: np.ndarray) -> np.ndarray:
    """float32 rows ``idx`` of an in-memory array, an np.memmap or a RowView."""
    if isinstance(array, RowView):
        return array[idx]
    if isinstance(array, np.memmap):
        return take_rows(array, idx)
    return np.asarray(array[idx], dtype=np.float32)


def _as_index(idx) -> np.ndarray:
    if hasattr(idx, "detach"):
        idx = idx.detach().cpu().numpy()
    return np.asarray(idx, dtype=np.int64)


class BatchSource:
    """Batches of a model's inputs gathered on demand from ``arrays`` (modality → (n, *shape): in memory,
    memory-mapped or a RowView), scaled with ``scaler`` and moved to ``device``.

    masks: modality → (n,) bool (optional modalities); cond: (n,) int64 or None. Both are small and kept.
    channels_last: 4-D inputs are laid out channels-last (what training uses for image models on CPU).
    """

    def __init__(self, arrays: Mapping[str, Any], masks: Mapping[str, np.ndarray] | None = None, cond=None,
                 scaler=None, *, device=None, channels_last: bool = False):
        self.arrays = dict(arrays)
        self.masks = {m: np.asarray(v, bool) for m, v in (masks or {}).items()}
        self.cond = None if cond is None else np.asarray(cond, dtype=np.int64)
        self.scaler = scaler
        self.device = device
        self.channels_last = channels_last
        self.n = int(len(next(iter(self.arrays.values())))) if self.arrays else 0

    def __len__(self) -> int:
        return self.n

    def raw(self, idx) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray | None]:
        """(inputs modality → float32 rows in the inputs' units, masks, cond) of rows ``idx``."""
        i = _as_index(idx)
        return ({m: gather(a, i) for m, a in self.arrays.items()}, {m: v[i] for m, v in self.masks.items()},
                None if self.cond is None else self.cond[i])

    def batch(self, idx):
        """A core.models.base.Batch of rows ``idx`` (int array or tensor), scaled, on ``device``."""
        return self.make(*self.raw(idx))

    def make(self, x: Mapping[str, np.ndarray], mk: Mapping[str, np.ndarray], c):
        """A Batch of rows already read with ``raw``: scaled, as tensors on ``device``."""
        import torch

        from core.models.base import Batch

        if self.scaler is not None:
            x = self.scaler.transform(x, mk)
        inputs = {}
        for m, a in x.items():
            t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
            if self.device is not None:
                t = t.to(self.device)
            if self.channels_last and t.dim() == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            inputs[m] = t
        masks = {m: torch.from_numpy(v) for m, v in mk.items()}
        cond = None if c is None else torch.from_numpy(c)
        if self.device is not None:
            masks = {m: v.to(self.device) for m, v in masks.items()}
            cond = None if cond is None else cond.to(self.device)
        return Batch(inputs=inputs, cond=cond, masks=masks)
