"""Trained-model artifacts: where they live, how they are published, listed, loaded and deleted.

An artifact is the folder ``models_dir()/<model>/<fingerprint[:12]>/`` holding model.pt (state dict,
loadable with ``torch.load(weights_only=True)``), scaler.npz (input scaling, core/training/scaling.py),
config.json, history.json, environment.json and clusters.npz for VaDE (its latents live in core.cache). It is
built in a temporary sibling and renamed into place with a ``.complete`` marker (core/artifacts.py).

Concurrency: ``training_lock(path)`` serialises the runs that would write the same artifact (a second
identical run waits, then finds the first one's result); ``publish`` also survives the rename race
of two writers without that lock (another machine on a shared folder): when the destination became
complete meanwhile, the newer copy is discarded and the finished one kept.

Identity: ``TrainedModel.weights_sha256`` is the sha256 of model.pt's bytes, computed once at load;
caches of a model's outputs are keyed by it, so an artifact replaced under the same id (a cancelled
run trained again to the end) never serves the old weights' latents.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from core import artifacts
from core.config import models_dir
from core.errors import ArtifactError, DatasetNotFoundError, ParameterError
from core.locks import file_lock
from core.models import MODELS
from core.training.scaling import SCALER_FILE, Scaler

STATUSES = ("finished", "cancelled", "early-stopped")
META_REFRESHED_ON_REUSE = ("dataset", "dataset_fingerprint", "name", "notes")
LIST_COLUMNS = ["model_id", "name", "model", "dataset", "features", "beta", "latent_dim", "epochs", "loss", "recon",
                "kl", "val_loss", "seconds", "device", "uses_labels", "input_scaling", "status", "cancelled",
                "notes", "created"]


@dataclass
class TrainResult:
    model_id: str
    artifact_dir: Path
    history: list[dict]
    device: str
    from_cache: bool
    seconds: float
    cancelled: bool
    best_epoch: int | None = None
    status: str = "finished"
    input_scaling: dict = field(default_factory=dict)  # modality → description (config.json "input_scaling")


@dataclass
class TrainedModel:
    model: Any          # BaseVAE in eval mode on CPU
    config: dict        # config.json
    history: list[dict]
    spec: Any           # ModelSpec
    model_id: str = ""
    path: Path | None = None
    scaler: Scaler = field(default_factory=Scaler)
    weights_sha256: str = ""

    @property
    def status(self) -> str:
        return artifact_status(self.config)


# ------------------------------------------------------------------------------------------- paths
def artifact_dir(model_id: str) -> Path:
    parts = str(model_id).split("/")
    if len(parts) != 2 or not all(parts) or any(p.startswith(".") for p in parts):
        raise ParameterError("model_id", value=model_id, expected="'<model>/<fingerprint12>' as listed by list_trained()")
    return models_dir() / parts[0] / parts[1]


def read_complete(path: Path) -> tuple[dict, list] | None:
    """(config.json, history.json) of a complete artifact, else None (half-written or unreadable)."""
    if not artifacts.is_complete(path):
        return None
    try:
        return artifacts.read_json(path / "config.json"), artifacts.read_json(path / "history.json")
    except ArtifactError:
        return None


def artifact_status(cfg: Mapping) -> str:
    """"cancelled", "early-stopped" or "finished" from a config.json."""
    if cfg.get("cancelled"):
        return "cancelled"
    return "early-stopped" if cfg.get("early_stopped") else "finished"


def reusable(path: Path) -> tuple[dict, list] | None:
    """The artifact at ``path`` if a new run with its settings may return it instead of training:
    complete, with weights, and not cancelled (a cancelled artifact is replaced by the next full run)."""
    got = read_complete(path)
    if got is None or artifact_status(got[0]) == "cancelled" or not (path / "model.pt").exists():
        return None
    return got


def result_from(path: Path, cfg: Mapping, history: list) -> TrainResult:
    """A TrainResult for an existing artifact (a cache hit)."""
    return TrainResult(str(cfg.get("model_id") or f"{path.parent.name}/{path.name}"), path, history,
                       cfg.get("device", "cpu"), True, float(cfg.get("seconds", 0.0)), bool(cfg.get("cancelled")),
                       cfg.get("best_epoch"), artifact_status(cfg), dict(cfg.get("input_scaling") or {}))


# ------------------------------------------------------------------------------------- concurrency
@contextlib.contextmanager
def training_lock(path: Path) -> Iterator[None]:
    """Hold the cross-process lock of artifact ``path`` (waits for another run of the same settings)."""
    with file_lock(path):
        yield


def publish(path: Path, write: Callable[[Path], None]) -> bool:
    """Write an artifact with ``write(tmp_dir)`` and rename it to ``path``.

    Returns True when this copy is in place, False when the rename lost a race against another writer
    whose finished artifact is now at ``path`` (ours is discarded: both came from the same settings).
    """
    for attempt in (1, 2):
        try:
            with artifacts.atomic_dir(path) as tmp:
                write(tmp)
            return True
        except OSError as exc:
            if reusable(path) is not None:
                return False
            if attempt == 2:
                raise ArtifactError(f"Cannot store the trained model in {path}: {exc}. Another process may be "
                                    "writing the same model; wait for it and train again.") from exc
    return True  # pragma: no cover


def refresh_meta(path: Path, cfg: dict, meta: Mapping) -> dict:
    """On reuse of an artifact, record the caller's dataset binding, name and notes in its config.json."""
    old = dict(cfg.get("meta") or {})
    new = {**old, **{k: meta[k] for k in META_REFRESHED_ON_REUSE if meta.get(k) not in (None, "")}}
    if new == old:
        return cfg
    cfg = {**cfg, "meta": new}
    artifacts.write_json(path / "config.json", cfg)
    return cfg


def environment(device: str, seed: int) -> dict:
    import torch

    return {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "device": device, "seed": seed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def clean(v):
    """JSON-safe number: NaN/inf → None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# --------------------------------------------------------------------------------------- inventory
def _dataset_filter(dataset) -> Callable[[Mapping], bool] | None:
    """A Dataset matches by content fingerprint; a name by name AND the named dataset's current content
    (when that dataset can be loaded; otherwise by name alone)."""
    if dataset is None:
        return None
    if not isinstance(dataset, str):
        fp = getattr(dataset, "fingerprint", None)
        if not fp:
            raise ParameterError("dataset", value=type(dataset).__name__, expected="a dataset name or a Dataset")
        return lambda meta: meta.get("dataset_fingerprint") == fp
    from core.datasets import load_dataset

    try:
        fp = load_dataset(dataset).fingerprint
    except (DatasetNotFoundError, ParameterError, ArtifactError):
        fp = None
    return lambda meta: meta.get("dataset") == dataset and (fp is None or meta.get("dataset_fingerprint") == fp)


def list_trained(*, dataset=None):
    """pandas.DataFrame (columns ``LIST_COLUMNS``) of complete artifacts; half-written folders are ignored.

    dataset: a Dataset (models trained on exactly its content) or a dataset name (models trained on that
    name's current content). ``name``/``notes`` are what the user gave; ``status`` is one of ``STATUSES``;
    ``input_scaling`` is "standard" or "none".
    """
    import pandas as pd

    keep = _dataset_filter(dataset)
    rows = []
    root = models_dir()
    for mdir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for adir in sorted(p for p in mdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            got = read_complete(adir)
            if got is None:
                continue
            cfg, _hist = got
            meta = cfg.get("meta", {})
            if keep is not None and not keep(meta):
                continue
            final = cfg.get("final", {})
            tc = cfg.get("train_config", {})
            rows.append({
                "model_id": f"{mdir.name}/{adir.name}", "name": meta.get("name") or "",
                "model": cfg.get("model", mdir.name), "dataset": meta.get("dataset"),
                "features": ", ".join(f"{k}={v}" for k, v in (meta.get("features") or {}).items()),
                "beta": tc.get("beta"), "latent_dim": cfg.get("model_params", {}).get("latent_dim"),
                "epochs": cfg.get("epochs_run"), "loss": final.get("loss"), "recon": final.get("recon"),
                "kl": final.get("kl"), "val_loss": final.get("val_loss"), "seconds": cfg.get("seconds"),
                "device": cfg.get("device"), "uses_labels": list(cfg.get("uses_labels") or []),
                "input_scaling": tc.get("input_scaling", "none"), "status": artifact_status(cfg),
                "cancelled": bool(cfg.get("cancelled")), "notes": meta.get("notes") or "",
                "created": cfg.get("created"),
            })
    return pd.DataFrame(rows, columns=LIST_COLUMNS)


# model_id → ((mtime_ns, size, inode) of model.pt + (mtime_ns, inode) of config.json, TrainedModel)
_WEIGHTS_SHA256: dict[tuple, str] = {}


def weights_sha256(model_id: str) -> str:
    """sha256 of an artifact's model.pt (remembered per file size and mtime); no torch needed."""
    path = artifact_dir(model_id) / "model.pt"
    try:
        st = path.stat()
    except OSError:
        return f"missing:{model_id}"
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _WEIGHTS_SHA256:
        _WEIGHTS_SHA256[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _WEIGHTS_SHA256[key]


def load_trained(model_id: str) -> TrainedModel:
    """Rebuild the network from config.json, load model.pt (weights_only) and scaler.npz → eval mode on CPU."""

    path = artifact_dir(model_id)
    got = read_complete(path)
    if got is None or not (path / "model.pt").exists():
        known = list_trained()["model_id"].tolist()
        raise ArtifactError(f"No complete trained model '{model_id}' in {models_dir()}. Available: {known}. "
                            "Train one with `python -m core train --dataset NAME --model NAME`.")
    from core.cache import CACHE

    st, sc = (path / "model.pt").stat(), (path / "config.json").stat()
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino, sc.st_mtime_ns, sc.st_ino)
    return CACHE.get_or_compute_object("model", f"{model_id}:{stamp}", lambda: _load(model_id, path, got),
                                       nbytes=lambda tm: sum(p.numel() * p.element_size()
                                                             for p in tm.model.parameters()) + 4096)


def _load(model_id: str, path: Path, got) -> TrainedModel:
    import torch

    cfg, hist = got
    spec = MODELS.get(cfg["model"])
    net = spec.build({m: tuple(s) for m, s in cfg["input_shapes"].items()}, **cfg["model_params"])
    try:
        data = (path / "model.pt").read_bytes()
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        scaler = Scaler.load(path / SCALER_FILE)
    except Exception as exc:  # noqa: BLE001 - corrupt or incompatible weights
        raise ArtifactError(f"Cannot load weights of '{model_id}' ({path / 'model.pt'}): {exc}. "
                            f"Delete it with delete_trained('{model_id}') and train again.") from exc
    lc = cfg.get("train_config", {}).get("logvar_clamp")
    net.logvar_clamp = tuple(lc) if lc else (-math.inf, math.inf)
    return TrainedModel(net.eval(), cfg, hist, spec, model_id, path, scaler, hashlib.sha256(data).hexdigest())


def delete_trained(model_id: str) -> bool:
    """Remove an artifact folder (waiting for a run that is writing it); False when it did not exist."""
    path = artifact_dir(model_id)
    with training_lock(path):
        if not path.exists():
            return False
        shutil.rmtree(path)
    return True
