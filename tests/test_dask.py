"""Extraction on a Dask cluster (loopback): the same FeatureSets as the local pool, a killed worker's task
reruns, a finished chunk is never computed again, map_tasks runs anywhere."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from core.datasets import ImportResult, load_dataset, save_dataset

distributed = pytest.importorskip("distributed")

SR = 22050
AUDIO = ("mfcc_stats", "logmel", "spectral_stats", "audio_stack")


@pytest.fixture(scope="module")
def cluster():
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    from core.features import _worker

    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        with distributed.Client(c.scheduler_address, set_as_default=False) as client:
            for w in client.scheduler_info()["workers"]:  # workers import librosa while the local reference runs
                distributed.fire_and_forget(client.submit(_worker.warm, pure=False, workers=[w]))
        yield c


def _dataset(tmp_path, name: str, n: int, *, broken: bool = True):
    rows = []
    t = np.arange(SR) / SR
    for i in range(n):
        p = tmp_path / f"{name}{i}.wav"
        y = 0.3 * np.sin(2 * np.pi * (180 + 40 * i) * t) + 0.02 * np.random.default_rng(i).standard_normal(t.size)
        sf.write(str(p), y.astype(np.float32), SR)
        rows.append({"track_id": f"{name}{i}", "path": str(p), "duration_s": 1.0})
    if broken:
        p = tmp_path / f"{name}-broken.ogg"
        p.write_bytes(b"not audio at all" * 40)
        rows.insert(2, {"track_id": f"{name}-broken", "path": str(p), "duration_s": 1.0})
    save_dataset(name, ImportResult(tracks=pd.DataFrame(rows)))
    return load_dataset(name)


def _cfg(chunk_size: int):
    from core.features import FeatureConfig, SpectralConfig

    return FeatureConfig(spectral=SpectralConfig(clip_s=1.0), chunk_size=chunk_size)


def _local(ds, cfg) -> dict:
    from core.features import extract, get_features

    out = {n: get_features(ds, n, jobs=1, config=cfg, scheduler="local") for n in AUDIO}
    out = {n: (np.array(fs.X), fs.valid.copy(), dict(fs.errors), fs.fingerprint) for n, fs in out.items()}
    shutil.rmtree(extract.features_root(ds))
    return out


def _same(fsets: dict, ref: dict) -> None:
    for n, fs in fsets.items():
        X, valid, errors, fp = ref[n]
        assert isinstance(fs.X, np.memmap) and not fs.X.flags.writeable
        assert np.array_equal(np.asarray(fs.X), X), n                 # bit-identical, not just close
        assert fs.valid.tolist() == valid.tolist() and fs.errors == errors and fs.fingerprint == fp


@pytest.mark.slow
def test_cli_scheduler_extracts_the_same_features_and_never_recomputes_a_chunk(tmp_path, cluster, capsys):
    from core.cli import main
    from core.features import extract, get_features
    from core.progress import Cancelled

    ds = _dataset(tmp_path, "dk", 5)
    cfg = _cfg(1)
    ref = _local(ds, cfg)
    addr = cluster.scheduler_address

    with pytest.raises(Cancelled):                                    # stop after the first finished chunk
        get_features(ds, "mfcc_stats", config=cfg, scheduler=addr, cancel=lambda: True)
    part = list((extract.features_root(ds) / ".partial").rglob("chunk_*.npz"))
    assert 1 <= len(part) < 6
    said = []
    fsets = {n: get_features(ds, n, config=cfg, scheduler=addr, progress=lambda s, t, logs: said.append(logs))
             for n in AUDIO}
    assert any("on 2 Dask workers" in str(x.get("file", "")) for x in said)      # the bar says where it runs
    _same(fsets, ref)
    info = fsets["mfcc_stats"].config["info"]
    assert info["executor"] == "dask" and info["chunks_reused"] >= len(part)
    assert info["chunks_reused"] + info["chunks_computed"] == 6 and info["chunks_computed"] <= 6 - len(part)
    assert set(fsets["logmel"].errors) == {"dk-broken"} and fsets["logmel"].valid.sum() == 5

    shutil.rmtree(extract.features_root(ds))                          # the CLI path, through the same flag
    assert main(["extract", "--dataset", "dk", "--features", "mfcc_stats", "--scheduler", addr, "--quiet"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "done; 1 track(s) failed" and "dk-broken" in out.err
    assert main(["extract", "--dataset", "dk", "--scheduler", "nowhere"]) == 2
    assert "scheduler" in capsys.readouterr().err


@pytest.mark.slow
def test_a_killed_worker_task_reruns_and_the_result_is_identical(tmp_path, cluster):
    from core.features import get_features

    ds = _dataset(tmp_path, "kw", 8, broken=False)
    cfg = _cfg(1)
    ref = _local(ds, cfg)
    client = distributed.Client(cluster.scheduler_address, set_as_default=False)
    killed = []

    def kill_a_busy_worker(step, total, logs):
        if killed or step == 0:
            return
        pids = client.run(os.getpid)
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        victim = (busy or sorted(pids))[0]
        os.kill(pids[victim], signal.SIGKILL)
        killed.append((victim, bool(busy)))

    try:
        fsets = {"mfcc_stats": get_features(ds, "mfcc_stats", config=cfg, scheduler=cluster.scheduler_address,
                                            progress=kill_a_busy_worker)}
        fsets.update({n: get_features(ds, n, config=cfg) for n in AUDIO[1:]})  # read from the cache
    finally:
        client.close()
    assert killed and killed[0][1]                                     # a worker died while running a chunk
    _same(fsets, ref)
    info = fsets["mfcc_stats"].config["info"]
    assert info["chunks_reused"] + info["chunks_computed"] == 8


def _square(x):
    return x * x


@pytest.mark.slow
def test_map_tasks_local_and_dask_agree(cluster):
    from core.executors import map_tasks, resolve

    seen = []
    assert map_tasks(_square, range(6), jobs=1, progress=lambda s, t, l: seen.append((s, t))) == [0, 1, 4, 9, 16, 25]
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert map_tasks(_square, range(6), scheduler=cluster.scheduler_address) == [0, 1, 4, 9, 16, 25]
    assert resolve(None).name == "local" and resolve("tcp://10.0.0.5:8786").name == "dask"
    with pytest.raises(ValueError, match="scheduler"):
        resolve("not an address")


def _table_dataset(name: str):
    """60 tracks, 8 numeric columns, two languages separated on 4 of them."""
    rng = np.random.default_rng(0)
    n = 60
    lang = np.where(np.arange(n) % 2 == 0, "English", "Bangla")
    cols = {f"f{j}": rng.normal(0, 1, n) + (4.0 if j < 4 else 0.0) * (lang == "English") for j in range(8)}
    save_dataset(name, ImportResult(tracks=pd.DataFrame({"track_id": [f"r{i}" for i in range(n)],
                                                         "title": [f"s{i}" for i in range(n)], "language": lang,
                                                         **cols}), layout="tabular"))
    return load_dataset(name)


@pytest.mark.slow
def test_grid_and_train_through_the_scheduler_equal_the_local_run(tmp_path, cluster, monkeypatch, capsys):
    """A grid with a trained latent runs its cells on the cluster (one task per representation × seed) into
    the workspace; the table equals the local run's. `train --scheduler` trains on a worker."""
    from core.cli import main
    from core.experiments.grid import run_grid
    from core.experiments.spec import GridSpec, TrainSpec, latent
    from core.represent import RepresentationSpec
    from core.training import list_trained

    spec = GridSpec(representations=[RepresentationSpec("pca", {"feature": "tabular", "n_components": 4}),
                                     latent("MLP VAE", TrainSpec("mlp_vae", "tabular", {"latent_dim": 4, "hidden": "16"},
                                                                 {"epochs": 3, "batch_size": 16}))],
                    algorithms={"kmeans": {"n_clusters": [2, 3]}}, seeds=(0, 1), baselines=False,
                    label_columns=("language",))
    tables = {}
    for where in ("local", "cluster"):
        monkeypatch.setenv("SONGSCAPE_HOME", str(tmp_path / where / "home"))
        monkeypatch.setenv("SONGSCAPE_MODELS", str(tmp_path / where / "models"))
        ds = _table_dataset("tab")
        res = run_grid(ds, spec, scheduler=cluster.scheduler_address if where == "cluster" else None)
        tables[where] = res.table
        if where == "cluster":
            assert res.configs["cached_cells"] == len(res.table) == 8   # every cell came back from the workers
    cols = ["representation", "algorithm", "params", "seed", "model_id", "warnings"]
    assert tables["cluster"][cols].equals(tables["local"][cols])
    for m in ("silhouette", "ari_language", "nmi_language"):
        np.testing.assert_allclose(tables["cluster"][m].to_numpy(float), tables["local"][m].to_numpy(float), atol=1e-6)

    assert main(["train", "--dataset", "tab", "--model", "mlp_vae", "--feature", "tabular", "--epochs", "2",
                 "--latent-dim", "3", "--batch-size", "16", "--scheduler", cluster.scheduler_address, "--quiet"]) == 0
    out = capsys.readouterr().out
    model_id = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("model_id: "))
    assert model_id in list_trained(dataset="tab")["model_id"].tolist()       # written to the shared model folder
