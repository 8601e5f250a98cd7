"""Where things live: the workspace (datasets, features, caches), trained models, and the default job count."""

from __future__ import annotations

import os
from pathlib import Path


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
