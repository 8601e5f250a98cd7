"""core.training: config validation, device choice, schedules, caching, cancel, artifacts, inference,
the dataset-level helpers (with synthetic FeatureSets, not real extraction) and the CLI."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from core import artifacts  # noqa: E402
from core.errors import ArtifactError, ParameterError  # noqa: E402
from core.training import (  # noqa: E402
    PRESETS,
    TrainConfig,
    beta_at,
    decode_latent,
    delete_trained,
    latents,
    list_trained,
    load_trained,
    preset,
    recon_error,
    reconstruct,
    select_device,
    train,
)


def blobs(n=60, d=12, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    centers = rng.normal(0, 2, (2, d))
    return (centers[y] + 0.2 * rng.normal(0, 1, (n, d))).astype(np.float32), y


def quick(epochs=3, **kw):
    X, _ = blobs()
    kw.setdefault("input_fingerprint", "blobs")
    return train(model=kw.pop("model", "mlp_vae"), inputs={"x": X}, config=TrainConfig(epochs=epochs, batch_size=16,
                 **kw.pop("cfg", {})), **kw)


# ------------------------------------------------------------------------------------------- device
def test_select_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device().type == "cuda" and select_device("auto").type == "cuda"
    assert select_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device().type == "cpu"
    with pytest.raises(ParameterError) as ei:
        select_device("cuda")
    assert ei.value.name == "device"
    with pytest.raises(ParameterError):
        select_device("tpu")


def test_train_uses_the_selected_device(monkeypatch):
    import core.training.loop as T

    seen = {}
    real = T.select_device

    def spy(pref="auto"):
        seen["pref"] = pref
        return real("cpu")

    monkeypatch.setattr(T, "select_device", spy)
    res = quick(epochs=1, cfg={"device": "auto"})
    assert seen["pref"] == "auto" and res.device == "cpu"
    assert artifacts.read_json(res.artifact_dir / "environment.json")["device"] == "cpu"


# ------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("cfg, name", [
    ({"beta": -1.0}, "beta"), ({"epochs": 0}, "epochs"), ({"lr": 0.0}, "lr"), ({"batch_size": 0}, "batch_size"),
    ({"kl_anneal": "cosine"}, "kl_anneal"), ({"val_fraction": 0.95}, "val_fraction"),
    ({"logvar_clamp": (5.0, -5.0)}, "logvar_clamp"), ({"grad_clip": 0.0}, "grad_clip"),
    ({"early_stopping_patience": 0}, "early_stopping_patience"), ({"device": "gpu"}, "device"),
])
def test_invalid_config_names_parameter_range_and_value(cfg, name):
    X, _ = blobs()
    with pytest.raises(ParameterError) as ei:
        train(model="mlp_vae", inputs={"x": X}, config=TrainConfig(**{"epochs": 1, **cfg}), input_fingerprint="v")
    assert ei.value.name == name
    assert repr(cfg[name]) in str(ei.value)


def test_batch_larger_than_data_is_rejected_with_the_allowed_range():
    X, _ = blobs(n=20)
    with pytest.raises(ParameterError) as ei:
        train(model="mlp_vae", inputs={"x": X}, config=TrainConfig(epochs=1, batch_size=64), input_fingerprint="v")
    assert ei.value.name == "batch_size" and "[1, 18]" in str(ei.value) and "64" in str(ei.value)


def test_missing_or_misshaped_inputs_are_named():
    X, _ = blobs()
    with pytest.raises(ParameterError, match="inputs"):
        train(model="hybrid_vae", inputs={"audio": np.zeros((10, 13, 40), np.float32)},
              config=TrainConfig(epochs=1, batch_size=4), input_fingerprint="v")
    with pytest.raises(ParameterError) as ei:
        train(model="conv2d_vae", inputs={"x": X}, config=TrainConfig(epochs=1, batch_size=4), input_fingerprint="v")
    assert ei.value.name == "inputs['x']" and "(60, 12)" in str(ei.value)
    with pytest.raises(ParameterError) as ei:
        train(model="cvae", inputs={"x": np.zeros((10, 8, 40), np.float32)},
              config=TrainConfig(epochs=1, batch_size=4), input_fingerprint="v")
    assert ei.value.name == "cond"
    with pytest.raises(ParameterError, match="model"):
        train(model="nope", inputs={"x": X}, input_fingerprint="v")


def test_validation_happens_before_any_training(monkeypatch):
    import core.training.loop as T

    monkeypatch.setattr(T, "_fit", lambda *a, **k: pytest.fail("trained before validating"))
    X, _ = blobs()
    with pytest.raises(ParameterError):
        train(model="mlp_vae", inputs={"x": X}, model_params={"latent_dim": 0}, input_fingerprint="v")


# ------------------------------------------------------------------------------------------ schedules
def test_kl_annealing_schedules():
    lin = TrainConfig(beta=2.0, kl_anneal="linear", warmup_epochs=4)
    assert [beta_at(lin, e) for e in range(6)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    cyc = TrainConfig(beta=1.0, kl_anneal="cyclical", warmup_epochs=4)
    assert [beta_at(cyc, e) for e in range(8)] == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0]
    assert beta_at(TrainConfig(beta=4.0), 0) == 4.0


def test_history_records_every_epoch():
    res = quick(epochs=4, cfg={"kl_anneal": "linear", "warmup_epochs": 2})
    assert [h["epoch"] for h in res.history] == [1, 2, 3, 4]
    assert [h["beta"] for h in res.history] == [0.0, 0.5, 1.0, 1.0]
    for h in res.history:
        assert {"loss", "recon", "kl", "beta", "au", "val_loss", "seconds"} <= set(h)
        assert 0 <= h["au"] <= 16 and h["seconds"] > 0
        assert h["loss"] == pytest.approx(h["recon"] + h["beta"] * h["kl"], rel=1e-5)
    assert res.history[-1]["au"] >= 1
    assert res.best_epoch in (3, 4)  # only epochs after the warm-up are eligible


def test_report_001_preset_values():
    p = preset("Sufian: Hybrid β-VAE (latent 32)")
    assert p["model"] == "hybrid_vae"
    assert p["model_params"]["latent_dim"] == 32 and p["model_params"]["alpha_lyrics"] == 0.1
    c = p["config"]
    assert (c["batch_size"], c["lr"], c["kl_anneal"], c["warmup_epochs"], c["beta"]) == (64, 5e-4, "linear", 50, 1.0)
    assert preset("Das: Beta-VAE (β=4)")["config"]["beta"] == 4.0
    assert preset("Song Dataset Project Team: Conv1D VAE (latent 64)")["model_params"]["latent_dim"] == 64
    for name, p in PRESETS.items():  # every preset is a valid configuration
        TrainConfig(**p["config"])
        from core.models import MODELS
        from core.params import validate_params

        validate_params(MODELS.get(p["model"]).params, p["model_params"])
    with pytest.raises(ParameterError):
        preset("report-999")


# -------------------------------------------------------------------------------------- caching
def test_same_config_same_inputs_loads_from_cache_quickly():
    a = quick(epochs=3)
    assert not a.from_cache
    t0 = time.perf_counter()
    b = quick(epochs=3)
    assert b.from_cache and time.perf_counter() - t0 < 1.0
    assert b.model_id == a.model_id and b.history == a.history
    assert quick(epochs=3, cfg={"beta": 2.0}).model_id != a.model_id
    assert quick(epochs=3, input_fingerprint="other").model_id != a.model_id
    assert quick(epochs=3, cfg={"device": "cpu"}).model_id == a.model_id  # device is not part of the key


def test_artifact_files_and_contents():
    res = quick(epochs=2, meta={"dataset": "demo", "features": {"x": "mfcc_stats"}})
    files = {p.name for p in res.artifact_dir.iterdir()}
    assert {"model.pt", "config.json", "history.json", "environment.json", ".complete"} <= files
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["model"] == "mlp_vae" and cfg["model_params"]["latent_dim"] == 16
    assert cfg["train_config"]["epochs"] == 2 and cfg["random_state"] == 0
    assert cfg["input_shapes"] == {"x": [12]} and cfg["input_fingerprint"] == "blobs"
    assert cfg["meta"]["dataset"] == "demo" and cfg["uses_labels"] == []
    env = artifacts.read_json(res.artifact_dir / "environment.json")
    assert {"python", "torch", "numpy", "device", "seed", "time"} <= set(env)
    state = torch.load(res.artifact_dir / "model.pt", weights_only=True)
    assert any(k.endswith("weight") for k in state)
    assert len(artifacts.read_json(res.artifact_dir / "history.json")) == 2


def test_half_written_artifact_is_ignored():
    res = quick(epochs=1)
    (res.artifact_dir / ".complete").unlink()
    assert res.model_id not in list_trained()["model_id"].tolist()

    __import__("core.cache").cache.CACHE.clear_memory("model")
    with pytest.raises(ArtifactError):
        load_trained(res.model_id)
    again = quick(epochs=1)  # not a cache hit: trains and completes it
    assert not again.from_cache and artifacts.is_complete(again.artifact_dir)


def test_list_and_delete_trained():
    a = quick(epochs=1, meta={"dataset": "one", "features": {"x": "tabular"}})
    b = quick(epochs=1, cfg={"beta": 4.0}, meta={"dataset": "two"})
    df = list_trained()
    assert set(df["model_id"]) == {a.model_id, b.model_id}
    for col in ("model_id", "model", "dataset", "features", "beta", "latent_dim", "epochs", "loss", "recon", "kl",
                "seconds", "device", "uses_labels", "cancelled", "created"):
        assert col in df.columns
    one = list_trained(dataset="one")
    assert one["model_id"].tolist() == [a.model_id] and one["features"].iloc[0] == "x=tabular"
    assert list_trained(dataset="two")["beta"].tolist() == [4.0]
    assert delete_trained(a.model_id) and not delete_trained(a.model_id)
    assert list_trained()["model_id"].tolist() == [b.model_id]
    with pytest.raises(ParameterError, match="model_id"):
        load_trained("no-slash")


# ------------------------------------------------------------------------------- cancel / early stop
def test_cancel_keeps_best_weights_and_saves_marked_artifact():
    X, _ = blobs()
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] == 9  # 54 training rows / 16 → 4 batches per epoch: stops in epoch 3

    cfg = TrainConfig(epochs=20, batch_size=16, seed=1)
    res = train(model="mlp_vae", inputs={"x": X}, config=cfg, input_fingerprint="c", cancel=cancel)
    assert res.cancelled and len(res.history) == 3 and res.history[-1].get("partial")
    assert res.best_epoch in (1, 2)
    cfgj = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfgj["cancelled"] and artifacts.is_complete(res.artifact_dir)
    assert list_trained()["cancelled"].tolist() == [True] and list_trained()["status"].tolist() == ["cancelled"]
    saved = torch.load(res.artifact_dir / "model.pt", weights_only=True)
    # the same run stopped after best_epoch epochs has exactly those weights
    ref = train(model="mlp_vae", inputs={"x": X}, config=TrainConfig(epochs=res.best_epoch, batch_size=16, seed=1),
                input_fingerprint="c-ref")
    ref_state = torch.load(ref.artifact_dir / "model.pt", weights_only=True)
    assert all(torch.equal(saved[k], ref_state[k]) for k in saved)
    # a cancelled artifact is not a cache hit: the full run trains again
    again = train(model="mlp_vae", inputs={"x": X}, config=cfg, input_fingerprint="c")
    assert not again.from_cache and not again.cancelled and len(again.history) == 20


def test_early_stopping_stops_and_restores_best():
    X, _ = blobs(n=40)
    res = train(model="mlp_vae", inputs={"x": X}, config=TrainConfig(epochs=300, batch_size=8, lr=1e-2,
                                                                      early_stopping_patience=3),
                input_fingerprint="es")
    assert len(res.history) < 300
    assert artifacts.read_json(res.artifact_dir / "config.json")["early_stopped"]
    scores = [h["val_recon"] + h["val_kl"] for h in res.history]
    assert res.best_epoch == int(np.argmin(scores)) + 1
    assert len(res.history) - res.best_epoch == 3
    assert res.status == "early-stopped" and list_trained()["status"].tolist() == ["early-stopped"]


def test_progress_reports_batches_and_epochs():
    seen = []
    quick(epochs=2, progress=lambda s, t, logs: seen.append((s, t, dict(logs))))
    steps = [s for s, _, _ in seen]
    assert steps == sorted(steps) and seen[-1][0] == seen[-1][1] == 8
    ends = [logs for _, _, logs in seen if logs.get("epoch_end")]
    assert len(ends) == 2 and len(ends[-1]["history"]) == 2 and "loss" in ends[0]


# ------------------------------------------------------------------------------------------ inference
def test_latents_reconstruct_decode_and_recon_error():
    X, y = blobs()
    res = train(model="mlp_ae", inputs={"x": X}, config=TrainConfig(epochs=30, batch_size=16, lr=3e-3),
                input_fingerprint="inf")
    mu = latents(res.model_id, inputs={"x": X}, input_fingerprint="inf")
    assert mu.shape == (60, 16) and mu.dtype == np.float32
    from core.cache import CACHE

    cached = list((CACHE.path("latents", "00").parent.parent).rglob("*.npz"))
    assert len(cached) == 1  # kept in the one array store, on disk
    hits = CACHE.stats()["namespaces"]["latents"]["memory_hits"]
    assert np.array_equal(latents(res.model_id, inputs={"x": X}, input_fingerprint="inf"), mu)
    assert CACHE.stats()["namespaces"]["latents"]["memory_hits"] == hits + 1
    # class means are far apart in latent space (the blobs survive encoding)
    gap = np.linalg.norm(mu[y == 0].mean(0) - mu[y == 1].mean(0))
    assert gap > 3 * mu[y == 0].std(0).mean()
    rec = reconstruct(res.model_id, inputs={"x": X})
    assert rec["x"].shape == X.shape
    dec = decode_latent(res.model_id, mu[:5])
    assert np.allclose(dec["x"], rec["x"][:5], atol=1e-5)
    err = recon_error(res.model_id, inputs={"x": X})
    assert err.shape == (60,) and np.allclose(err, ((rec["x"] - X) ** 2).mean(1), rtol=1e-4)
    noise = np.random.default_rng(5).normal(0, 3, X.shape).astype(np.float32)
    assert recon_error(res.model_id, inputs={"x": noise}).mean() > 3 * err.mean()
    with pytest.raises(ParameterError, match="inputs"):
        latents(res.model_id, inputs={"x": X[:, :5]})
    with pytest.raises(ParameterError, match="z"):
        decode_latent(res.model_id, np.zeros((2, 3)))


# ------------------------------------------------------------------------------------ dataset level
def _fake_dataset(monkeypatch, n=30):
    """A saved dataset plus a fake core.features: mfcc_frames (row 3 invalid), lyrics (every 3rd row missing)."""
    from core import features as F
    from core.datasets import ImportResult, save_dataset

    tracks = pd.DataFrame({"track_id": [f"id{i}" for i in range(n)], "title": [f"t{i}" for i in range(n)],
                           "language": (["english", "bangla"] * n)[:n],
                           "genre": ["pop"] * n, "lyrics": ["" if i % 3 == 0 else "la la" for i in range(n)]})
    tracks.loc[7, "language"] = ""
    save_dataset("toy", ImportResult(tracks=tracks))
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    frames = (rng.normal(0, 1, (2, 8, 40))[y] + 0.1 * rng.normal(0, 1, (n, 8, 40))).astype(np.float32)
    fvalid = np.ones(n, bool)
    fvalid[3] = False
    frames[3] = 0
    stats = frames.mean(2)
    lyr = rng.normal(0, 1, (n, 8)).astype(np.float32)
    lvalid = np.arange(n) % 3 != 0
    lyr[~lvalid] = 0
    made = {"mfcc_frames": (frames, fvalid), "mfcc_stats": (stats, fvalid), "lyrics": (lyr, lvalid),
            "audio_stack": (frames, fvalid)}

    def get_features(ds, name, *, progress=None, cancel=None, jobs=None, config=None):
        X, valid = made[name]
        return F.FeatureSet(name=name, X=X, valid=valid, track_ids=ds.tracks["track_id"].to_numpy(),
                            fingerprint=f"fp-{name}", config={}, errors={})

    monkeypatch.setattr(F, "get_features", get_features)
    monkeypatch.setattr(F, "available_features", lambda ds: list(made))
    return fvalid, lvalid


def test_train_on_dataset_excludes_invalid_rows_and_gives_nan_latents(monkeypatch):
    from core.training import dataset_latents, train_on_dataset

    fvalid, _ = _fake_dataset(monkeypatch)
    res = train_on_dataset(dataset="toy", model="conv1d_vae", model_params={"channels": "16-32"},
                           config=TrainConfig(epochs=2, batch_size=8))
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["meta"]["features"] == {"x": "mfcc_frames"} and cfg["meta"]["dataset"] == "toy"
    assert cfg["n_rows"] == 29 and cfg["meta"]["n_excluded"] == 1 and cfg["uses_labels"] == []
    mu, valid = dataset_latents(res.model_id, "toy")
    assert mu.shape == (30, 64) and np.array_equal(valid, fvalid)
    assert np.isnan(mu[3]).all() and np.isfinite(mu[valid]).all()
    assert list_trained(dataset="toy")["model_id"].tolist() == [res.model_id]


def test_train_on_dataset_masks_missing_lyrics_for_hybrid(monkeypatch):
    from core.training import dataset_latents, train_on_dataset

    fvalid, lvalid = _fake_dataset(monkeypatch)
    res = train_on_dataset(dataset="toy", model="hybrid_vae", config=TrainConfig(epochs=1, batch_size=8))
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["meta"]["features"] == {"audio": "audio_stack", "lyrics": "lyrics"}
    assert cfg["n_rows"] == int(fvalid.sum())  # tracks without lyrics are kept (masked), not dropped
    mu, valid = dataset_latents(res.model_id, "toy")
    assert np.array_equal(valid, fvalid) and np.isfinite(mu[valid]).all()


def test_train_on_dataset_cvae_records_label_use(monkeypatch):
    from core.training import dataset_latents, train_on_dataset

    fvalid, _ = _fake_dataset(monkeypatch)
    with pytest.raises(ParameterError, match="cond_column"):
        train_on_dataset(dataset="toy", model="cvae", config=TrainConfig(epochs=1, batch_size=8))
    with pytest.raises(ParameterError, match="cond_column"):
        train_on_dataset(dataset="toy", model="cvae", cond_column="genre", config=TrainConfig(epochs=1, batch_size=8))
    res = train_on_dataset(dataset="toy", model="cvae", cond_column="language", model_params={"channels": "16-32"},
                           config=TrainConfig(epochs=1, batch_size=8))
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["uses_labels"] == ["language"] and cfg["meta"]["cond_classes"] == ["bangla", "english"]
    assert cfg["model_params"]["n_classes"] == 2
    assert list_trained()["uses_labels"].tolist() == [["language"]]
    mu, valid = dataset_latents(res.model_id, "toy")
    expect = fvalid.copy()
    expect[7] = False  # empty label: no condition → excluded
    assert np.array_equal(valid, expect) and np.isnan(mu[7]).all()


def test_cli_train(monkeypatch, capsys):
    from core.cli import main

    _fake_dataset(monkeypatch)
    rc = main(["train", "--dataset", "toy", "--model", "mlp_vae", "--epochs", "2", "--batch-size", "8",
               "--latent-dim", "4", "--beta", "2", "--device", "cpu"])
    out = capsys.readouterr()
    assert rc == 0 and "model_id: mlp_vae/" in out.out and "device: cpu" in out.out and "final:" in out.out
    row = list_trained().iloc[0]
    assert (row["latent_dim"], row["beta"], row["epochs"], row["features"]) == (4, 2.0, 2, "x=mfcc_stats")
    rc = main(["train", "--dataset", "toy", "--model", "mlp_vae", "--latent-dim", "0"])
    assert rc == 2 and "latent_dim" in capsys.readouterr().err


# ----------------------------------------------------------------------------------- input scaling
def loud_outlier(n=120, d=12, seed=0):
    """Two blobs in 11 unit-scale columns + one pure-noise column with std 70; row 5 sits 14 σ out in it."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = np.zeros((n, d), np.float32)
    X[:, 1:] = rng.normal(0, 1, (2, d - 1))[y] * 1.5 + rng.normal(0, 0.5, (n, d - 1))
    X[:, 0] = rng.normal(0, 70, n)
    X[5, 0] = X[:, 0].mean() + 14 * X[:, 0].std()
    return X.astype(np.float32), y


@pytest.mark.parametrize("scaling", ["standard", "none"])
def test_one_loud_clip_does_not_get_a_cluster_of_its_own_when_inputs_are_scaled(scaling):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    X, y = loud_outlier()
    res = train(model="mlp_vae", inputs={"x": X}, input_fingerprint="loud",
                config=TrainConfig(epochs=20, batch_size=16, input_scaling=scaling))
    mu = latents(res.model_id, inputs={"x": X})
    sizes = np.bincount(KMeans(2, n_init=10, random_state=0).fit_predict(mu))
    norms = np.linalg.norm(mu, axis=1)
    if scaling == "standard":
        assert sizes.min() > 30  # the two blobs, not the loud clip
        assert adjusted_rand_score(y, KMeans(2, n_init=10, random_state=0).fit_predict(mu)) > 0.9
        assert norms[5] < 5 * np.median(norms)
    else:  # the failure the scaling fixes: the loud clip is a cluster and its latent code is huge
        assert sorted(sizes.tolist()) == [1, 119]
        assert norms[5] > 10 * np.median(norms)


def test_scaler_is_fitted_on_the_training_split_stored_and_reloaded():
    from core.training import Scaler
    from core.training.inputs import split_rows

    X, _ = loud_outlier()
    X[:, 3] = 7.0  # a constant column keeps scale 1
    res = train(model="mlp_vae", inputs={"x": X}, input_fingerprint="sc",
                config=TrainConfig(epochs=1, batch_size=16, val_fraction=0.25, seed=3))
    tr, va = split_rows(len(X), 0.25, 3)
    assert len(tr) == 90 and len(va) == 30
    __import__("core.cache").cache.CACHE.clear_memory("model")
    sc = load_trained(res.model_id).scaler
    assert sc.method == "standard" and sc.n_fit == {"x": 90}
    assert np.allclose(sc.mean["x"], X[tr].mean(0), rtol=1e-5, atol=1e-4)
    expect_std = X[tr].std(0)
    expect_std[3] = 1.0
    assert np.allclose(sc.scale["x"], expect_std, rtol=1e-5) and sc.scale["x"][3] == 1.0
    assert not np.allclose(sc.mean["x"], X.mean(0), rtol=1e-5)  # validation rows were not used
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["input_scaling"] == {"x": "z-score per feature (fitted on 90 training rows)"}
    assert cfg["train_config"]["input_scaling"] == "standard" and cfg["code_version"] == "models-2"
    assert res.input_scaling == cfg["input_scaling"]
    assert Scaler.load(res.artifact_dir / "scaler.npz").mean["x"].tolist() == sc.mean["x"].tolist()
    torch.load(res.artifact_dir / "model.pt", weights_only=True)  # still plain weights
    assert list_trained()["input_scaling"].tolist() == ["standard"]
    off = train(model="mlp_vae", inputs={"x": X}, input_fingerprint="sc",
                config=TrainConfig(epochs=1, batch_size=16, val_fraction=0.25, seed=3, input_scaling="none"))
    assert off.model_id != res.model_id  # the scaling is part of the fingerprint
    assert not load_trained(off.model_id).scaler.active
    assert off.input_scaling == {"x": "none (inputs used as given)"}


def test_2d_inputs_get_one_statistic_per_row_and_masked_rows_are_left_out():
    from core.training.inputs import split_rows

    rng = np.random.default_rng(0)
    n = 40
    frames = (rng.normal(0, 1, (n, 8, 40)) * np.arange(1, 9)[None, :, None] * 10
              + np.arange(8)[None, :, None] * 100).astype(np.float32)
    res = train(model="conv1d_vae", inputs={"x": frames}, model_params={"channels": "16-32"},
                input_fingerprint="rows", config=TrainConfig(epochs=1, batch_size=8))
    tr, _ = split_rows(n, 0.1, 0)
    sc = load_trained(res.model_id).scaler
    assert sc.mean["x"].shape == (8, 1)
    assert np.allclose(sc.mean["x"][:, 0], frames[tr].mean(axis=(0, 2)), atol=1e-3)
    assert np.allclose(sc.scale["x"][:, 0], frames[tr].std(axis=(0, 2)), rtol=1e-4)
    assert "8 rows × time" in res.input_scaling["x"]
    # concat VAE: lyrics rows that are masked hold garbage (1e6) and must not move the statistics
    audio = rng.normal(5, 2, (n, 6)).astype(np.float32)
    lyr = rng.normal(-3, 0.5, (n, 4)).astype(np.float32)
    present = np.arange(n) % 3 != 0
    lyr[~present] = 1e6
    res = train(model="concat_vae", inputs={"audio": audio, "lyrics": lyr}, masks={"lyrics": present},
                input_fingerprint="masked", config=TrainConfig(epochs=1, batch_size=8))
    sc = load_trained(res.model_id).scaler
    use = tr[present[tr]]
    assert sc.n_fit == {"audio": len(tr), "lyrics": len(use)}
    assert np.allclose(sc.mean["lyrics"], lyr[use].mean(0), atol=1e-4)
    assert np.allclose(sc.scale["lyrics"], lyr[use].std(0), rtol=1e-4)
    mu = latents(res.model_id, inputs={"audio": audio, "lyrics": lyr}, masks={"lyrics": present})
    assert np.isfinite(mu).all() and np.abs(mu).max() < 50


def test_reconstructions_come_back_in_the_inputs_units():
    X, y = blobs(n=80)
    X = X * np.linspace(1, 60, X.shape[1], dtype=np.float32) + np.linspace(-500, 500, X.shape[1], dtype=np.float32)
    errs = {}
    for scaling in ("standard", "none"):
        res = train(model="mlp_ae", inputs={"x": X}, input_fingerprint="units",
                    config=TrainConfig(epochs=60, batch_size=16, lr=3e-3, input_scaling=scaling))
        rec = reconstruct(res.model_id, inputs={"x": X})["x"]
        err = recon_error(res.model_id, inputs={"x": X})
        assert np.allclose(err, ((rec.astype(np.float64) - X) ** 2).mean(1), rtol=1e-4)
        mu = latents(res.model_id, inputs={"x": X})
        assert np.allclose(decode_latent(res.model_id, mu[:4])["x"], rec[:4], rtol=1e-4, atol=1e-3)
        errs[scaling] = err.mean()
        if scaling == "standard":  # column means and spreads of the reconstruction follow the input's units
            assert np.allclose(rec.mean(0), X.mean(0), atol=0.2 * X.std(0).max())
            assert np.corrcoef(rec[:, -1], X[:, -1])[0, 1] > 0.9
    # both errors are in the same (input) units: the scaled model fits the wide columns at least as well
    per_col_var = X.var(0).mean()
    assert errs["standard"] < 0.2 * per_col_var and errs["standard"] <= 1.5 * errs["none"]


# ------------------------------------------------------------------- replaced artifacts and races
def test_a_finished_run_replaces_the_cancelled_one_and_never_serves_its_latents(monkeypatch):
    import hashlib

    from core.datasets import load_dataset
    from core.training import dataset_inputs, dataset_latents, train_on_dataset

    _fake_dataset(monkeypatch)
    cfg = TrainConfig(epochs=4, batch_size=8)
    first = train_on_dataset(dataset="toy", model="mlp_vae", config=cfg, cancel=lambda: True)  # stops after 1 batch
    assert first.cancelled and first.status == "cancelled" and len(first.history) == 1
    mu0, valid0 = dataset_latents(first.model_id, "toy")
    sha0 = load_trained(first.model_id).weights_sha256
    from core.cache import CACHE

    store = CACHE.path("latents", "00").parent.parent
    stale = {p: p.read_bytes() for p in store.rglob("*.npz")}
    assert len(stale) == 1

    again = train_on_dataset(dataset="toy", model="mlp_vae", config=cfg)
    assert again.model_id == first.model_id and not again.from_cache and again.status == "finished"
    assert len(again.history) == 4 and list_trained()["status"].tolist() == ["finished"]
    # the cancelled weights' latents are still in the store: they must not be served for the new weights
    assert all(p.read_bytes() == data for p, data in stale.items())
    tm = load_trained(again.model_id)
    assert tm.weights_sha256 == hashlib.sha256((again.artifact_dir / "model.pt").read_bytes()).hexdigest() != sha0
    mu1, valid1 = dataset_latents(again.model_id, "toy")
    ds = load_dataset("toy")
    inputs, masks, codes, rows, _c, _f = dataset_inputs(tm.spec, ds, {"x": "mfcc_stats"}, None)
    fresh = latents(again.model_id, inputs=inputs)  # no fingerprint: computed, not cached
    assert np.array_equal(valid1, rows) and np.array_equal(mu1[valid1], fresh)
    assert not np.allclose(mu1[valid1], mu0[valid0])


def test_two_identical_runs_at_once_train_once_and_share_the_artifact():
    import threading

    X, _ = blobs()
    results, errors = [], []
    gate = threading.Barrier(2)

    def run():
        gate.wait()
        try:
            results.append(train(model="mlp_vae", inputs={"x": X}, config=TrainConfig(epochs=3, batch_size=16),
                                 input_fingerprint="race"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 2
    assert results[0].model_id == results[1].model_id
    assert sorted(r.from_cache for r in results) == [False, True]  # the second waited for the first
    assert results[0].history == results[1].history
    folder = results[0].artifact_dir.parent
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) == [results[0].artifact_dir.name]


def test_losing_the_rename_race_keeps_the_finished_artifact(monkeypatch, tmp_path):
    import os
    import shutil

    X, _ = blobs()
    kw = dict(model="mlp_vae", inputs={"x": X}, config=TrainConfig(epochs=2, batch_size=16), input_fingerprint="rr")
    theirs = train(**kw)
    dest = theirs.artifact_dir
    side = tmp_path / "theirs"
    shutil.move(str(dest), side)  # the other writer's finished copy, about to land
    their_weights = (side / "model.pt").read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == dest and not dest.exists():  # it lands between our existence check and our rename
            real_replace(side, dest)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    ours = train(**kw)  # os.replace(tmp, dest) now fails with "Directory not empty"
    monkeypatch.setattr(os, "replace", real_replace)
    assert ours.model_id == theirs.model_id and ours.from_cache and ours.status == "finished"
    assert (dest / "model.pt").read_bytes() == their_weights and artifacts.is_complete(dest)
    assert [p.name for p in dest.parent.iterdir() if not p.name.endswith(".lock")] == [dest.name]


# ---------------------------------------------------------------------------- dataset binding, CLI
def test_models_are_bound_to_the_datasets_content_not_its_name(monkeypatch):
    from core.datasets import ImportResult, load_dataset, save_dataset
    from core.training import train_on_dataset

    _fake_dataset(monkeypatch)
    old = load_dataset("toy")
    res = train_on_dataset(dataset=old, model="mlp_vae", config=TrainConfig(epochs=1, batch_size=8))
    meta = artifacts.read_json(res.artifact_dir / "config.json")["meta"]
    assert meta["dataset"] == "toy" and meta["dataset_fingerprint"] == old.fingerprint
    assert list_trained(dataset="toy")["model_id"].tolist() == [res.model_id]
    assert list_trained(dataset=old)["model_id"].tolist() == [res.model_id]
    tracks = old.tracks.copy()
    tracks["track_id"] = [f"new{i}" for i in range(len(tracks))]
    save_dataset("toy", ImportResult(tracks=tracks))  # re-imported: same name, other content
    new = load_dataset("toy")
    assert new.fingerprint != old.fingerprint
    assert list_trained(dataset="toy").empty and list_trained(dataset=new).empty
    assert list_trained(dataset=old)["model_id"].tolist() == [res.model_id]
    assert list_trained(dataset="never-imported").empty and len(list_trained()) == 1


def test_cli_train_feature_hidden_name_notes_quiet_and_scaling(monkeypatch, capsys):
    from core.cli import main

    _fake_dataset(monkeypatch)
    rc = main(["train", "--dataset", "toy", "--model", "mlp_vae", "--feature", "mfcc_stats", "--hidden", "32-16",
               "--epochs", "2", "--batch-size", "8", "--name", "first try", "--notes", "small MLP", "--quiet"])
    out = capsys.readouterr()
    assert rc == 0 and out.err == ""
    assert "name: first try" in out.out and "status: finished" in out.out
    assert "input scaling: x: z-score per feature (fitted on 26 training rows)" in out.out.splitlines()
    row = list_trained().iloc[0]
    assert (row["name"], row["notes"], row["features"], row["status"]) == ("first try", "small MLP", "x=mfcc_stats",
                                                                          "finished")
    assert load_trained(row["model_id"]).config["model_params"]["hidden"] == "32-16"
    # progress off a terminal (captured stderr is not a tty): one plain line per epoch, no carriage returns
    rc = main(["train", "--dataset", "toy", "--model", "mlp_vae", "--epochs", "3", "--batch-size", "8", "--seed", "4",
               "--input-scaling", "none"])
    out = capsys.readouterr()
    assert rc == 0 and "\r" not in out.err
    assert [line.split()[:4] for line in out.err.splitlines()] == [["train", "mlp_vae:", "epoch", f"{e}/3"] for e in (1, 2, 3)]
    assert "input scaling: x: none (inputs used as given)" in out.out
    rc = main(["train", "--dataset", "toy", "--model", "hybrid_vae", "--feature", "audio=audio_stack,lyrics=lyrics",
               "--epochs", "1", "--batch-size", "8", "--quiet"])
    assert rc == 0 and "audio=audio_stack, lyrics=lyrics" in list_trained()["features"].tolist()
    capsys.readouterr()
    base = ["train", "--dataset", "toy", "--model", "mlp_vae", "--quiet"]
    for bad, name in ((["--lr", "inf"], "lr"), (["--epochs", "0"], "epochs"), (["--epochs", "ten"], "--epochs"),
                      (["--kl-anneal", "cosine"], "kl_anneal"), (["--device", "tpu"], "device"),
                      (["--input-scaling", "minmax"], "input_scaling"), (["--feature", "audio=tabular"], "--feature"),
                      (["--model", "conv1d_vae", "--hidden", "64"], "hidden")):
        rc = main(base + bad)
        err = capsys.readouterr().err
        assert rc == 2 and len(err.strip().splitlines()) == 1 and f"'{name}'" in err, (bad, err)


def test_console_progress_plain_lines_and_bar():
    import io

    from core.progress import console_progress

    buf = io.StringIO()
    fn = console_progress("train x", stream=buf)  # not a terminal → plain lines
    for step in range(1, 7):
        fn(step, 6, {"epoch": (step + 2) // 3, "epochs": 2, "loss": 1.0 / step})
        if step % 3 == 0:
            fn(step, 6, {"epoch": step // 3, "epochs": 2, "loss": 0.5, "val_loss": 0.25, "epoch_end": True})
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue() and len(lines) == 2
    assert lines[0].startswith("train x: epoch 1/2 ") and "val_loss=0.25" in lines[1]
    buf = io.StringIO()
    fn = console_progress("extract", stream=buf)
    for step in range(1, 101):
        fn(step, 100, {"file": f"f{step}.wav"})
    assert len(buf.getvalue().splitlines()) == 10 and buf.getvalue().splitlines()[-1].startswith("extract: 100/100")
    buf = io.StringIO()
    fn = console_progress("train x", stream=buf, plain=False)  # the live bar (tqdm)
    for step in range(1, 5):
        fn(step, 4, {"loss": 0.5})
    assert "train x" in buf.getvalue() and "4/4" in buf.getvalue()


def test_beta_variant_keeps_features_scaling_and_names_itself(monkeypatch):
    from core.explore import train_beta_variant
    from core.training import train_on_dataset

    _fake_dataset(monkeypatch)
    base = train_on_dataset(dataset="toy", model="mlp_vae", features={"x": "mfcc_stats"}, name="calm",
                            config=TrainConfig(epochs=1, batch_size=8, input_scaling="none"))
    var = train_beta_variant(base.model_id, beta=4.0)
    assert var.model_id != base.model_id and not var.from_cache
    cfg = load_trained(var.model_id).config
    assert cfg["train_config"]["beta"] == 4.0 and cfg["train_config"]["input_scaling"] == "none"
    assert cfg["meta"]["features"] == {"x": "mfcc_stats"} and cfg["meta"]["name"] == "calm · β=4"
    assert train_beta_variant(base.model_id, beta=4.0).from_cache


def test_reusing_an_artifact_records_the_new_name_notes_and_dataset_binding():
    a = quick(epochs=1, meta={"dataset": "one", "dataset_fingerprint": "fp-1", "name": "first"})
    assert load_trained(a.model_id).config["meta"]["name"] == "first"
    b = quick(epochs=1, meta={"dataset": "one", "dataset_fingerprint": "fp-2", "name": "second", "notes": "n"})
    assert b.from_cache and b.model_id == a.model_id
    meta = load_trained(a.model_id).config["meta"]
    assert (meta["name"], meta["notes"], meta["dataset_fingerprint"]) == ("second", "n", "fp-2")
    assert list_trained()[["name", "notes"]].values.tolist() == [["second", "n"]]
    assert quick(epochs=1).from_cache and load_trained(a.model_id).config["meta"]["name"] == "second"


def test_train_config_round_trips_and_old_configs_read_as_unscaled():
    cfg = TrainConfig(epochs=3, logvar_clamp=(-5.0, 5.0), input_scaling="none")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict(TrainConfig().to_dict()).input_scaling == "standard"
    old = {k: v for k, v in TrainConfig(beta=2.0).to_dict().items() if k != "input_scaling"}
    assert TrainConfig.from_dict(old) == TrainConfig(beta=2.0, input_scaling="none")  # trained before scaling existed
