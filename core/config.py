"""Frozen configs: to/from JSON, fingerprinted, with the seed recorded."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, TypeVar

from core.hashing import fingerprint

C = TypeVar("C")


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)


def from_dict(cls: type[C], data: dict) -> C:
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in data.items():
        if k in names:
            kwargs[k] = tuple(v) if isinstance(v, list) else v
    return cls(**kwargs)


def config_fingerprint(cfg) -> str:
    return fingerprint(type(cfg).__name__, to_dict(cfg))


def to_json(cfg) -> str:
    return json.dumps(to_dict(cfg), indent=2, sort_keys=True, ensure_ascii=False)


def workspace() -> Path:
    """Where imported datasets, features and projections live (never inside the repo)."""
    root = Path(os.environ.get("SONGSCAPE_HOME", Path.home() / ".cache" / "songscape")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def models_dir() -> Path:
    """Trained model artifacts: ``cached_models/`` in the repo unless SONGSCAPE_MODELS says otherwise."""
    default = Path(__file__).resolve().parent.parent / "cached_models"
    root = Path(os.environ.get("SONGSCAPE_MODELS", default)).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def default_jobs() -> int:
    return max(1, int(os.environ.get("SONGSCAPE_JOBS", os.cpu_count() or 1)))
