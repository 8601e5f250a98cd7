"""Experiment grid specifications: what a grid runs, before anything is built or trained.

``TrainSpec`` (a model to train per seed), ``RepEntry`` (one representation: a REPRESENTATIONS kind
with its params, a model to train, nested parts), ``GridSpec`` (representations × algorithms ×
parameter lists × seeds, expanded into cells), what a dataset offers (``DatasetCaps``) and the
baselines a grid adds. ``core.experiments.grid`` runs them.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from core.errors import ParameterError

DEFAULT_SEEDS = (0, 1, 2)


# ----------------------------------------------------------------------------------------------
# specs
@dataclass(frozen=True)
class TrainSpec:
    """A model to train as part of a representation (one model per seed).

    features: a feature name, or a tuple of names for multimodal models (e.g. ("audio_stack", "lyrics")).
    config: TrainConfig overrides (epochs, batch_size, lr, beta, kl_anneal, grad_clip, …); keys that
    TrainConfig does not have are handed to the model as parameters.
    """

    model: str
    features: str | tuple[str, ...]
    model_params: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    cond_column: str | None = None

    def with_epochs(self, epochs: int | None) -> "TrainSpec":
        if epochs is None:
            return self
        return dataclasses.replace(self, config={**dict(self.config), "epochs": int(epochs)})

    def as_dict(self) -> dict:
        return {"model": self.model, "features": list(self.features) if isinstance(self.features, tuple) else self.features,
                "model_params": dict(self.model_params), "config": dict(self.config), "cond_column": self.cond_column}


@dataclass(frozen=True)
class RepEntry:
    """One representation of the grid: a REPRESENTATIONS ``kind`` with its ``params``, plus

    train: the model whose latent means μ form the representation (kind "latent"; one model per seed);
    parts/weights: for kind "concat": the parts (RepEntries) and their weights;
    algorithms: restrict this representation to these algorithms (None = all of the grid's).
    """

    label: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    train: TrainSpec | None = None
    parts: tuple["RepEntry", ...] = ()
    weights: tuple[float, ...] = ()
    algorithms: tuple[str, ...] | None = None

    @property
    def trains(self) -> bool:
        return self.train is not None or any(p.trains for p in self.parts)

    def with_epochs(self, epochs: int | None) -> "RepEntry":
        return dataclasses.replace(
            self, train=self.train.with_epochs(epochs) if self.train else None,
            parts=tuple(p.with_epochs(epochs) for p in self.parts))

    def as_dict(self) -> dict:
        from core.represent import _plain

        return {"label": self.label, "kind": self.kind, "params": {k: _plain(v) for k, v in self.params.items()},
                "train": self.train.as_dict() if self.train else None,
                "parts": [p.as_dict() for p in self.parts], "weights": list(self.weights),
                "algorithms": list(self.algorithms) if self.algorithms is not None else None}

    def key(self) -> dict:
        """What the representation's content depends on (the label is only a name)."""
        d = self.as_dict()
        d.pop("label")
        d.pop("algorithms")
        d["parts"] = [p.key() for p in self.parts]
        return d

    def to_spec(self, model_for: Callable[[TrainSpec], str]):
        """The RepresentationSpec to build, once ``model_for(train_spec) -> model_id`` has trained the models."""
        from core.represent import RepresentationSpec

        params = dict(self.params)
        if self.train is not None:
            params["model_id"] = model_for(self.train)
        if self.parts:
            params["parts"] = [p.to_spec(model_for) for p in self.parts]
            params["weights"] = list(self.weights) or [1.0] * len(self.parts)
        return RepresentationSpec(self.kind, params)


def latent(label: str, train: TrainSpec, **kw) -> RepEntry:
    return RepEntry(label=label, kind="latent", train=train, **kw)


def as_entry(obj) -> RepEntry:
    """RepEntry, TrainSpec (→ its latent), or a representation spec (RepresentationSpec or its dict form)."""
    if isinstance(obj, RepEntry):
        return obj
    if isinstance(obj, TrainSpec):
        beta = dict(obj.config).get("beta", dict(obj.model_params).get("beta"))
        return latent(f"{obj.model}" + (f" β={beta}" if beta is not None else ""), obj)
    from core.represent import RepresentationSpec, _plain

    try:
        spec = RepresentationSpec.from_any(obj)
    except ParameterError:
        raise ParameterError("representations", value=obj,
                             expected="RepEntry, TrainSpec or representation spec items") from None
    params = dict(spec.params)
    label = spec.kind + ("(" + ", ".join(f"{k}={_label_value(v)}" for k, v in sorted(params.items())) + ")"
                         if params else "")
    return RepEntry(label=label, kind=spec.kind, params={k: _plain(v) for k, v in params.items()})


def _label_value(v) -> str:
    if isinstance(v, Mapping) and "kind" in v:
        return str(v["kind"])
    return str(getattr(v, "kind", v))


@dataclass(frozen=True)
class GridSpec:
    """representations × algorithms (each with lists of parameter values) × seeds.

    algorithms: e.g. {"kmeans": {"n_clusters": [4, 6, 10]}, "dbscan": {"eps": [1.5], "min_samples": [10]}}.
    label_columns: track-table columns scored by the external metrics (ARI/NMI/Purity).
    baselines: add PCA + KMeans, KMeans on spectral (or tabular) features and autoencoder + KMeans.
    epochs: overrides every model's epoch count (quick runs).
    """

    representations: Sequence[Any]
    algorithms: Mapping[str, Mapping[str, Sequence[Any]]]
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    label_columns: tuple[str, ...] = ("language", "genre")
    baselines: bool = True
    baseline_k: int | None = None
    epochs: int | None = None
    sample_size: int | None = 5000

    def entries(self) -> list[RepEntry]:
        return [as_entry(r).with_epochs(self.epochs) for r in self.representations]

    def algorithm_cells(self) -> list[tuple[str, dict]]:
        """Every (algorithm, params) of the product of each algorithm's parameter lists."""
        out = []
        for alg, table in self.algorithms.items():
            names = list(table)
            values = [list(v) if isinstance(v, (list, tuple)) else [v] for v in table.values()]
            for combo in itertools.product(*values):
                out.append((alg, dict(zip(names, combo))))
        return out

    def as_dict(self) -> dict:
        return {"representations": [e.as_dict() for e in self.entries()],
                "algorithms": {a: {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in t.items()}
                               for a, t in self.algorithms.items()},
                "seeds": list(self.seeds), "label_columns": list(self.label_columns), "baselines": self.baselines,
                "baseline_k": self.baseline_k, "epochs": self.epochs, "sample_size": self.sample_size}


# ----------------------------------------------------------------------------------------------
# what the dataset has
@dataclass(frozen=True)
class DatasetCaps:
    has_audio: bool
    has_lyrics: bool
    has_tabular: bool
    labels: tuple[str, ...]
    n_classes: Mapping[str, int]
    n_tracks: int

    @property
    def spectral(self) -> str:
        """The 1-D audio summary features the reports use (or tabular features without audio)."""
        return "mfcc_stats" if self.has_audio else "tabular"


def dataset_caps(dataset) -> DatasetCaps:
    from core import features
    from core.schema import has_audio, label_columns

    tracks = dataset.tracks
    avail = features.available_features(dataset)
    labels = tuple(label_columns(tracks))
    n_classes = {c: int(tracks[c].replace("", np.nan).dropna().nunique()) for c in labels}
    audio = has_audio(tracks)
    return DatasetCaps(has_audio=audio, has_lyrics="lyrics" in avail, has_tabular="tabular" in avail or not audio,
                       labels=labels, n_classes=n_classes, n_tracks=int(len(tracks)))


def baseline_entries(caps: DatasetCaps, k: int) -> list[RepEntry]:
    """PCA + KMeans, KMeans directly on spectral (or tabular) features, autoencoder + KMeans."""
    feats = ["spectral_stats", "mfcc_stats"] if caps.has_audio else ["tabular"]
    only = ("kmeans",)
    out = [RepEntry(label=f"baseline: PCA({feats[-1]}) + KMeans", kind="pca",
                    params={"feature": feats[-1], "n_components": 16}, algorithms=only)]
    out += [RepEntry(label=f"baseline: {f} + KMeans", kind="raw", params={"feature": f}, algorithms=only)
            for f in feats]
    ae = TrainSpec(model="mlp_ae", features=feats[-1], model_params={"latent_dim": 16},
                   config={"epochs": 20, "batch_size": 64, "lr": 1e-3})
    out.append(latent("baseline: autoencoder + KMeans", ae, algorithms=only))
    return out
