"""Torch-free registry records: what a model expects (InputSpec) and how to build it (ModelSpec)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence


@dataclass(frozen=True)
class InputSpec:
    """What a model expects for one modality.

    ndims: allowed numbers of per-sample dimensions (1 = vector, 2 = (C, T) or (H, W), 3 = (C, H, W))
    features: default FEATURES names, in order of preference
    required: rows missing a required modality are excluded; optional ones are masked
    """

    kind: str
    ndims: tuple[int, ...]
    features: tuple[str, ...]
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A MODELS registry entry.

    builder(input_shapes: {modality: per-sample shape}, **model_params) -> BaseVAE
    fixed: builder keyword arguments this entry always passes (e.g. deterministic=True)
    """

    name: str
    label: str
    family: str
    inputs: Mapping[str, InputSpec]
    params: Mapping[str, Any]
    builder: Callable[..., Any]
    help: str = ""
    uses_cond: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def input_kinds(self) -> dict[str, str]:
        return {m: s.kind for m, s in self.inputs.items()}

    def build(self, input_shapes: Mapping[str, Sequence[int]], **params):
        return self.builder({k: tuple(int(d) for d in v) for k, v in input_shapes.items()},
                            **{**params, **self.fixed})
