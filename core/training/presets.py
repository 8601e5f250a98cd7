"""Named starting points from the reports: model, model parameters, features and TrainConfig values.

They are read from the report presets (``core.presets``, one module per report: the one source of the
reports' hyperparameters), so the Train page, ``python -m core train --preset`` and the Compare grids
train exactly the same models. ``preset(name)`` returns a fresh copy: ``{"model", "model_params",
"config", "features", "cond_column", "report"}``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from functools import lru_cache

from core.errors import ParameterError


@lru_cache(maxsize=1)
def _recipes() -> dict[str, dict]:
    from core.models import MODELS
    from core.presets import model_recipes
    from core.training.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    out = {}
    for label, (preset_id, spec) in model_recipes().items():
        modalities = list(MODELS.get(spec.model).inputs)
        feats = [spec.features] if isinstance(spec.features, str) else list(spec.features)
        config = {k: v for k, v in dict(spec.config).items() if k in names}
        params = {**{k: v for k, v in dict(spec.config).items() if k not in names}, **dict(spec.model_params)}
        out[label] = {"model": spec.model, "model_params": params, "config": config,
                      "features": dict(zip(modalities, feats)), "cond_column": spec.cond_column, "report": preset_id}
    return out


class _Presets(Mapping):
    """Read-only {name: recipe}, built on first use (importing it stays cheap)."""

    def __getitem__(self, key):
        return _recipes()[key]

    def __iter__(self):
        return iter(_recipes())

    def __len__(self):
        return len(_recipes())


PRESETS: Mapping[str, dict] = _Presets()


def preset(name: str) -> dict:
    if name not in PRESETS:
        raise ParameterError("preset", value=name, expected=f"one of {list(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
