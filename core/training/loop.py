"""``train``: one seeded, validated training run → a stored artifact (or the existing one).

Conventions (the same for every model — see core/models/base.py for the losses):

* inputs are standardized with statistics of the training split unless ``input_scaling="none"``
  (core/training/scaling.py); the network, its losses and its latents live in scaled units;
* inputs are streamed: every batch (training, validation, encodings) is read from the input arrays —
  memory-mapped features, RowViews or arrays in memory — and scaled when it is used (core/training/stream.py),
  so memory grows with the batch size, not with the number of rows;
* best weights: the epoch with the lowest validation objective (val recon + β_max · val KL, z = μ;
  the training objective when there is no validation split) among *eligible* epochs — those after
  the linear KL warm-up and after VaDE's prior was fitted. ``restore_best`` (default) puts them
  back at the end, on early stopping and on cancel. With no eligible epoch the final weights stay.
* early stopping counts patience only after the linear warm-up (β still rising is not a plateau).
* active units (AU): latent dims whose μ varies over the epoch's training batches with variance > 0.01.
* identical runs are serialised by a per-artifact lock: the second waits and returns the first's result.
"""

from __future__ import annotations

import copy
import math
import os
import time
from typing import Callable, Mapping

import numpy as np

from core import artifacts
from core.config import models_dir
from core.errors import ArtifactError, ParameterError
from core.hashing import array_fingerprint, fingerprint
from core.models import MODELS
from core.training.config import (
    MODEL_CODE_VERSION,
    TrainConfig,
    TrainingDivergedError,
    anneal_factor,
    beta_at,
    select_device,
    validate_config,
)
from core.training.inputs import batches, check_inputs, chunks, resolve_params, split_rows
from core.training.scaling import SCALER_FILE, fit_scaler
from core.training.store import (
    TrainResult,
    artifact_status,
    clean,
    environment,
    publish,
    refresh_meta,
    result_from,
    reusable,
    training_lock,
)
from core.training.stream import BatchSource


def train(*, model: str, inputs: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None = None,
          cond: np.ndarray | None = None, model_params: Mapping | None = None, config: TrainConfig | None = None,
          input_fingerprint: str, meta: Mapping | None = None, progress: Callable | None = None,
          cancel: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``model`` on ``inputs`` and store the artifact; return the stored one when it exists.

    inputs: modality → (n, *shape) float32 (keys as in ``MODELS.get(model).inputs``), in the features'
        own units (scaling is fitted here, on the training split, and stored with the model); an
        np.memmap or a RowView is read one batch at a time, never copied whole
    masks: modality → (n,) bool, True where an OPTIONAL modality is present
    cond: (n,) int class codes (conditional VAE only)
    input_fingerprint: content fingerprint of the inputs (caches are keyed by it)
    meta: recorded in config.json (dataset, dataset_fingerprint, features, uses_labels, cond_column,
        cond_classes, name, notes …); on reuse of a stored artifact its dataset binding, name and notes
        are updated to the given ones
    progress(step, total, logs) is called after every batch; cancel() is checked after every batch.
    A cancelled run stores its best weights so far marked ``cancelled``; the next run of the same
    settings trains again and replaces it under the same model_id.
    """
    spec = MODELS.get(model)
    config = validate_config(config or TrainConfig())
    arrays, mk, c, n = check_inputs(spec, inputs, masks, cond)
    params = resolve_params(spec, model_params, c)
    if not isinstance(input_fingerprint, str) or not input_fingerprint:
        raise ParameterError("input_fingerprint", value=input_fingerprint, expected="a non-empty string")
    if n < 2:
        raise ParameterError("inputs", value=f"{n} rows", expected="at least 2 rows")
    train_idx, val_idx = split_rows(n, config.val_fraction, config.seed)
    if config.batch_size > len(train_idx):
        raise ParameterError("batch_size", value=config.batch_size,
                             expected=f"an int in [1, {len(train_idx)}] (training rows after the "
                                      f"{config.val_fraction:g} validation split of {n})",
                             fix="Lower batch_size or add data.")
    if "n_clusters" in params and params["n_clusters"] > len(train_idx):
        raise ParameterError("n_clusters", value=params["n_clusters"], expected=f"≤ {len(train_idx)} training rows")
    input_shapes = {m: tuple(a.shape[1:]) for m, a in arrays.items()}

    import torch

    device = select_device(config.device)

    cfg_key = {k: v for k, v in config.to_dict().items() if k != "device"}
    extra_fp = {"masks": {m: array_fingerprint(v) for m, v in sorted(mk.items())},
                "cond": None if c is None else array_fingerprint(c)}
    fp = fingerprint("train", model, params, cfg_key, input_fingerprint, extra_fp, version=MODEL_CODE_VERSION)
    model_id = f"{model}/{fp[:12]}"
    out_dir = models_dir() / model / fp[:12]
    meta = dict(meta or {})

    with training_lock(out_dir):  # a run of the same settings elsewhere finishes first; then it is reused
        cached = reusable(out_dir)
        if cached is not None:
            cfg_json = refresh_meta(out_dir, cached[0], meta)
            return result_from(out_dir, cfg_json, cached[1])
        torch.manual_seed(config.seed)
        net = spec.build(input_shapes, **params)  # raises ParameterError for impossible layer stacks

        uses_labels = list(meta.get("uses_labels") or [])
        if spec.uses_cond:
            col = meta.get("cond_column") or "cond"
            uses_labels = sorted(set(uses_labels) | {col})
        meta["uses_labels"] = uses_labels
        meta.setdefault("random_state", config.seed)
        scaler = fit_scaler(arrays, mk, train_idx, method=config.input_scaling)
        image = any(len(s) == 3 for s in input_shapes.values())  # channels_last is ~20 % faster on CPU
        source = BatchSource(arrays, mk, c, scaler, device=device, channels_last=image)

        t0 = time.perf_counter()
        prev_det = torch.are_deterministic_algorithms_enabled()
        if device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            state = _fit(net, source, train_idx, val_idx, config, device, progress, cancel, model)
        finally:
            torch.use_deterministic_algorithms(prev_det)
        seconds = time.perf_counter() - t0

        net = state["net"].to("cpu").eval()
        history = state["history"]
        last = history[-1] if history else {}
        cfg_json = {
            "model": model, "model_id": model_id, "label": spec.label, "family": spec.family,
            "model_params": params, "train_config": config.to_dict(),
            "input_shapes": {m: list(s) for m, s in input_shapes.items()}, "input_scaling": scaler.describe(),
            "input_fingerprint": input_fingerprint, "fingerprint": fp, "meta": meta, "uses_labels": uses_labels,
            "random_state": config.seed, "cancelled": state["cancelled"], "early_stopped": state["early_stopped"],
            "best_epoch": state["best_epoch"], "epochs_run": len(history), "n_rows": n,
            "n_train": int(len(train_idx)), "n_val": int(len(val_idx)), "device": str(device), "seconds": seconds,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "code_version": MODEL_CODE_VERSION,
            "final": {k: clean(last.get(k)) for k in ("loss", "recon", "kl", "val_loss", "au")},
        }

        def write(tmp):
            torch.save(net.state_dict(), tmp / "model.pt")
            scaler.save(tmp / SCALER_FILE)
            artifacts.write_json(tmp / "config.json", cfg_json)
            artifacts.write_json(tmp / "history.json", history)
            artifacts.write_json(tmp / "environment.json", environment(str(device), config.seed))
            if hasattr(net, "predict_clusters"):
                clusters = BatchSource(arrays, mk, c, scaler)  # the net is on the CPU now
                artifacts.save_npz(tmp / "clusters.npz", labels=predict_clusters_net(net, clusters))

        placed = publish(out_dir, write)
        got = None if placed else reusable(out_dir)
        if got is not None:  # the same settings finished elsewhere while we trained: theirs is kept
            return result_from(out_dir, got[0], got[1])
        if not placed:
            raise ArtifactError(f"The trained model {model_id} could not be stored in {out_dir}: another process "
                                "replaced and then removed it. Train again.")
    return TrainResult(model_id, out_dir, history, str(device), False, seconds, state["cancelled"],
                       state["best_epoch"], artifact_status(cfg_json), cfg_json["input_scaling"])


def predict_clusters_net(net, source: BatchSource) -> np.ndarray:
    """(n,) labels of a model with its own clusters, over the batches of ``source`` (which scales them)."""
    was = net.training
    net.eval()
    labels = [net.predict_clusters(source.batch(idx)) for idx in chunks(source.n)]
    net.train(was)
    return np.concatenate(labels) if labels else np.zeros(0, np.int64)


def _fit(net, source: BatchSource, train_idx, val_idx, config, device, progress, cancel, model_name):
    import torch

    torch.manual_seed(config.seed)
    net = net.to(device)
    net.logvar_clamp = tuple(config.logvar_clamp) if config.logvar_clamp is not None else (-math.inf, math.inf)
    if source.channels_last:
        net = net.to(memory_format=torch.channels_last)
    tr = torch.from_numpy(train_idx)  # row indices stay on the CPU: batches are gathered there
    va = torch.from_numpy(val_idx)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    n_batches = len(batches(torch.arange(len(tr)), config.batch_size))
    total = config.epochs * n_batches
    history: list[dict] = []
    best = {"score": math.inf, "state": None, "epoch": None}
    since_best, step = 0, 0
    cancelled = early_stopped = False

    def encode_all():
        was = net.training
        net.eval()
        with torch.no_grad():
            mus = [net.encode(source.batch(idx))[0] for idx in tr.split(512)]
        net.train(was)
        return torch.cat(mus)

    def diverged(where: str, value):
        raise TrainingDivergedError(
            f"Training of '{model_name}' diverged at {where}: the loss became {value}. Lower the learning rate "
            f"(lr={config.lr:g} → try {config.lr / 10:g}), keep logvar_clamp on (now {config.logvar_clamp}), set "
            f"grad_clip (now {config.grad_clip}), or check the inputs for extreme values. Nothing was saved.")

    for epoch in range(config.epochs):
        t_ep = time.perf_counter()
        net.on_epoch_start(epoch, encode_all=encode_all, seed=config.seed)
        beta_now = beta_at(config, epoch)
        net.train()
        order = tr[torch.randperm(len(tr), generator=gen)]
        sums: dict[str, float] = {}
        seen = 0
        mu_seen = None  # μ of this epoch's training batches, one buffer (no per-batch tensors kept)
        for bi, idx in enumerate(batches(order, config.batch_size)):
            out = net(source.batch(idx), beta=beta_now)
            if not torch.isfinite(out.loss):
                diverged(f"epoch {epoch + 1}, batch {bi + 1}", float(out.loss.detach()))
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            if config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
            opt.step()
            b = len(idx)
            seen += b
            for k, v in (("loss", out.loss), ("recon", out.recon_loss), ("kl", out.kl), *out.extras.items()):
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * b
            if mu_seen is None:
                mu_seen = out.mu.new_empty((len(tr), *out.mu.shape[1:]))
            mu_seen[seen - b:seen] = out.mu.detach()
            step += 1
            if progress is not None:
                progress(step, total, {"epoch": epoch + 1, "epochs": config.epochs, "loss": sums["loss"] / seen,
                                       "beta": beta_now})
            if cancel is not None and cancel():
                cancelled = True
                break
        row = {"epoch": epoch + 1, **{k: v / max(seen, 1) for k, v in sums.items()}, "beta": beta_now}
        mu_all = mu_seen[:seen] if mu_seen is not None else torch.zeros(0)
        row["au"] = int((mu_all.var(0, unbiased=False) > 0.01).sum()) if len(mu_all) > 1 else 0
        if len(va):
            net.eval()
            vs: dict[str, float] = {}
            with torch.no_grad():
                for idx in va.split(max(config.batch_size, 256)):
                    o = net(source.batch(idx), beta=beta_now)
                    for k, v in (("recon", o.recon_loss), ("kl", o.kl)):
                        vs[k] = vs.get(k, 0.0) + float(v) * len(idx)
            v_recon, v_kl = vs["recon"] / len(va), vs["kl"] / len(va)
            row.update(val_loss=v_recon + beta_now * v_kl, val_recon=v_recon, val_kl=v_kl)
            score = v_recon + config.beta * v_kl
            if not math.isfinite(score):
                diverged(f"epoch {epoch + 1} (validation)", score)
        else:
            row["val_loss"] = None
            score = row["recon"] + config.beta * row["kl"]
        row["seconds"] = time.perf_counter() - t_ep
        if cancelled:
            row["partial"] = True
        history.append(row)
        eligible = not cancelled and bool(getattr(net, "prior_ready", True)) and (
            config.kl_anneal != "linear" or anneal_factor(config, epoch) >= 1.0)
        if eligible:
            if score < best["score"]:
                best.update(score=score, epoch=epoch + 1, state=copy.deepcopy(net.state_dict()))
                since_best = 0
            else:
                since_best += 1
        if progress is not None:
            progress(step, total, {**{k: v for k, v in row.items() if v is not None}, "epochs": config.epochs,
                                   "history": list(history), "epoch_end": True})
        if cancelled:
            break
        if config.early_stopping_patience is not None and since_best >= config.early_stopping_patience:
            early_stopped = True
            break
    if config.restore_best and best["state"] is not None:
        net.load_state_dict(best["state"])
    net.on_train_end(encode_all=encode_all, seed=config.seed)
    return {"net": net, "history": history, "cancelled": cancelled, "early_stopped": early_stopped,
            "best_epoch": best["epoch"] if config.restore_best else None}
