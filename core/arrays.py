"""Small array checks shared by the steps that take a row-validity mask."""

from __future__ import annotations

import numpy as np

from core.errors import ParameterError


def valid_rows(X: np.ndarray, valid, *, min_valid: int, expected: str, fix: str = "") -> np.ndarray:
    """The (n,) bool mask of rows to use: ``valid`` checked against X (n, d), or rows that are all finite."""
    mask = np.isfinite(X).all(axis=1) if valid is None else np.asarray(valid, dtype=bool)
    if mask.shape != (len(X),):
        raise ParameterError("valid", value=f"shape {mask.shape}", expected=f"a boolean mask of shape ({len(X)},)")
    if mask.sum() < min_valid:
        raise ParameterError("valid", value=f"{int(mask.sum())} valid rows", expected=expected, fix=fix)
    return mask
