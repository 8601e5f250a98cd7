"""Features on disk: bounded memory while extracting, building representations, training and encoding,
memory-mapped results, one extraction at a time per dataset."""

from __future__ import annotations

import threading
import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from core.datasets import ImportResult, load_dataset, save_dataset

SR = 22050


class BlocksGroup:
    """A feature group of synthetic (n, *shape) rows streamed in blocks: what a large collection looks like
    to the writer, without audio. Rows are ``k`` separated Gaussian blobs (row i belongs to blob i % k)."""

    kind = "blocks"

    def __init__(self, shape=(64, 64), block: int = 25, k: int = 4):
        self.shape, self.block, self.k = tuple(shape), int(block), int(k)
        self.calls = 0

    def names(self):
        return ["blocks"]

    def unavailable(self, dataset):
        return ""

    def config(self, cfg):
        return {"shape": list(self.shape), "k": self.k}

    def fingerprint(self, dataset, cfg):
        from core.hashing import fingerprint

        return fingerprint("blocks", dataset.fingerprint, self.shape, self.k)

    def rows(self, start: int, m: int) -> np.ndarray:
        rng = np.random.default_rng(start)
        blob = (np.arange(start, start + m) % self.k).astype(np.float32)
        return (rng.standard_normal((m, *self.shape), dtype=np.float32) * 0.1
                + blob.reshape(-1, *([1] * len(self.shape))))

    def compute(self, dataset, cfg, *, group_fp, progress, cancel, jobs, scheduler=None):
        from core.features.extract import GroupResult

        self.calls += 1
        n = len(dataset.tracks)

        def blocks():
            for start in range(0, n, self.block):
                yield start, {"blocks": self.rows(start, min(self.block, n - start))}

        return GroupResult(arrays={}, valid=np.ones(n, bool), shapes={"blocks": self.shape}, blocks=blocks)


@pytest.fixture
def blocks_group(monkeypatch):
    from core.features import extract
    from core.features.base import FEATURES, FeatureSpec

    g = BlocksGroup()
    monkeypatch.setitem(extract.GROUPS._items, "blocks", g)
    monkeypatch.setitem(FEATURES._items, "blocks", FeatureSpec("blocks", "synthetic blocks", "blocks", g.shape))
    return g


@pytest.fixture
def vector_group(monkeypatch):
    """The same synthetic group with one (512,) vector per track: a feature a vector model trains on."""
    from core.features import extract
    from core.features.base import FEATURES, FeatureSpec

    g = BlocksGroup(shape=(512,), block=2000)
    monkeypatch.setitem(extract.GROUPS._items, "blocks", g)
    monkeypatch.setitem(FEATURES._items, "blocks", FeatureSpec("blocks", "synthetic vectors", "blocks", g.shape))
    return g


def _table_dataset(name: str, n: int):
    save_dataset(name, ImportResult(tracks=pd.DataFrame({"track_id": [f"s{i:06d}" for i in range(n)],
                                                         "title": [f"song {i}" for i in range(n)]})))
    return load_dataset(name)


def _peak(fn) -> tuple[object, int]:
    """(fn(), peak bytes allocated while it ran: numpy buffers included; pages of a memory map are not)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streamed_group_is_written_and_read_in_a_bounded_window(blocks_group):
    from core.features import get_features
    from core.represent import build_representation

    n = 2000
    ds = _table_dataset("big", n)
    data_bytes = n * 64 * 64 * 4                                         # 32.8 MB on disk
    fs, peak = _peak(lambda: get_features(ds, "blocks"))
    assert isinstance(fs.X, np.memmap) and not fs.X.flags.writeable and fs.X.shape == (n, 64, 64)
    assert peak < 3_000_000 < data_bytes / 10                             # a few blocks, never the feature
    np.testing.assert_array_equal(fs.X[1225:1250], blocks_group.rows(1225, 25))   # block 49, in place
    with pytest.raises(ValueError):
        fs.X[0, 0, 0] = 1.0                                              # read-only

    spec = {"kind": "time_mean", "params": {"feature": "blocks"}}
    build_representation(_table_dataset("small", 50), spec)                # imports done before measuring
    rep, peak = _peak(lambda: build_representation(ds, spec))
    assert rep.X.shape == (n, 64) and rep.valid.all()
    assert peak < 6 * n * 64 * 8 < data_bytes / 5                       # a few (n, 64) arrays, not (n, 64, 64)
    blob = np.arange(n) % 4                                               # the blobs survive the reduction
    means = np.array([rep.X[blob == b, 0].mean() for b in range(4)])
    assert np.all(np.diff(means) > 0.5)
    assert blocks_group.calls == 2 and get_features(ds, "blocks").X.shape == (n, 64, 64) and blocks_group.calls == 2


def test_pca_of_a_feature_larger_than_the_stream_bound_is_built_chunk_by_chunk(blocks_group, monkeypatch):
    """A 32.8 MB (2,000 × 64 × 64) memory-mapped feature, with the stream bound set to 8 MB: PCA is fitted and
    applied in chunks (IncrementalPCA, said in the warnings); memory stays a fraction of the feature, and the
    components span what exact PCA finds (the blobs separate the same way)."""
    from core.represent import base as rbase
    from core.represent import build_representation

    n = 2000
    ds = _table_dataset("bigpca", n)
    data_bytes = n * 64 * 64 * 4
    spec = {"kind": "pca", "params": {"feature": "blocks", "n_components": 4}}
    exact = build_representation(ds, spec)                                   # under the default 1 GiB bound
    assert not any("incrementally" in w for w in exact.meta["warnings"])
    monkeypatch.setenv("SONGSCAPE_STREAM_BYTES", str(8 << 20))
    monkeypatch.setattr(rbase, "CHUNK_BYTES", 1 << 20)                        # 32 rows of 32 KiB as float64
    rep, peak = _peak(lambda: build_representation(ds, {**spec, "params": {**spec["params"], "random_state": 1}}))
    assert any("incrementally" in w for w in rep.meta["warnings"])
    assert rep.X.shape == (n, 4) and rep.valid.all()
    assert peak < data_bytes / 3, peak
    blob = np.arange(n) % 4
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    for Z in (exact.X, rep.X):
        assert adjusted_rand_score(blob, KMeans(4, n_init=3, random_state=0).fit_predict(Z)) > 0.99
    # the blobs lie along one direction (the rest is noise): both find it as their first component
    assert abs(np.corrcoef(exact.X[:, 0], rep.X[:, 0])[0, 1]) > 0.999


def _rss_anon() -> int | None:
    """Bytes of this process's anonymous resident memory (Linux), None elsewhere. Pages of a memory map are
    file-backed and not counted; copies of them (numpy, torch or any other allocator) are."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("RssAnon:"))
    except (OSError, StopIteration):
        return None


def test_training_and_latents_stream_from_the_memory_map(vector_group):
    from core.features import get_features
    from core.training import TrainConfig, dataset_latents, train_on_dataset

    n = 40_000
    ds = _table_dataset("wide", n)
    fs = get_features(ds, "blocks")
    assert isinstance(fs.X, np.memmap) and fs.X.shape == (n, 512)
    feature_bytes = fs.X.nbytes                                           # 81.9 MB on disk
    cfg = TrainConfig(epochs=1, batch_size=64)
    train_on_dataset(dataset=_table_dataset("narrow", 64), model="mlp_vae", features={"x": "blocks"},
                     config=TrainConfig(epochs=1, batch_size=32))            # imports and torch's set-up first

    def run():
        res = train_on_dataset(dataset=ds, model="mlp_vae", features={"x": "blocks"}, config=cfg)
        return res, dataset_latents(res.model_id, ds)

    base, top, stop = _rss_anon(), [0], threading.Event()

    def watch():
        while not stop.is_set():
            top[0] = max(top[0], _rss_anon() or 0)
            stop.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        (res, (mu, valid)), peak = _peak(run)
    finally:
        stop.set()
        watcher.join()
    assert res.history[0]["epoch"] == 1 and valid.all() and mu.shape == (n, 16) and np.isfinite(mu).all()
    # 11.7 MB measured (statistics chunks, batches), 250 MB when the rows were copied and scaled in memory
    assert peak < feature_bytes / 3
    if base is not None:                                                 # with torch's tensors: 13-17 MB
        assert top[0] - base < feature_bytes / 3
    blob = np.arange(n) % 4                                               # and the blobs are apart in the latents
    centers = np.stack([mu[blob == b].mean(0) for b in range(4)])
    nearest = np.argmin(((mu[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    assert (nearest == blob).mean() > 0.95


def test_streamed_input_scaling_equals_the_in_memory_fit(tmp_path, monkeypatch):
    from core.training import stream
    from core.training.scaling import fit_scaler
    from core.training.stream import RowView

    rng = np.random.default_rng(1)
    n = 300
    data = {"x": (rng.standard_normal((n, 24), dtype=np.float32) * np.linspace(1, 80, 24, dtype=np.float32) + 50),
            "y": rng.standard_normal((n, 6, 40), dtype=np.float32) * 3 - 7}
    maps = {}
    for m, a in data.items():
        mm = np.lib.format.open_memmap(tmp_path / f"{m}.npy", mode="w+", dtype=np.float32, shape=a.shape)
        mm[:] = a
        mm.flush()
        maps[m] = np.load(tmp_path / f"{m}.npy", mmap_mode="r")
    usable = np.flatnonzero(np.arange(n) % 7 != 3)                       # a dataset's usable rows
    views = {m: RowView(x, usable) for m, x in maps.items()}
    masks = {"y": np.arange(len(usable)) % 5 != 0}                        # an optional modality
    rows = np.sort(rng.choice(len(usable), 200, replace=False))          # the training split
    monkeypatch.setattr(stream, "WINDOW_BYTES", 4096)                    # many small chunks
    assert stream.window_rows((n, 6, 40), itemsize=8) == 2
    got = fit_scaler(views, masks, rows, method="standard")
    for m, a in data.items():
        use = rows if m not in masks else rows[masks[m][rows]]
        x = a[usable][use].astype(np.float64)                              # all at once, in memory
        if x.ndim == 2:
            mean, std = x.mean(0), x.std(0)                                # per feature
        else:
            mean, std = x.mean((0, 2))[:, None], x.std((0, 2))[:, None]    # per row, over time
        np.testing.assert_allclose(got.mean[m], mean, rtol=1e-6)
        np.testing.assert_allclose(got.scale[m], std, rtol=1e-6)
        assert got.n_fit[m] == len(use)
    # the views read what the rows hold, in the order asked for
    order = rng.permutation(len(usable))[:50]
    np.testing.assert_array_equal(views["y"][order], data["y"][usable][order])
    np.testing.assert_array_equal(views["x"][-3:], data["x"][usable][-3:])
    np.testing.assert_array_equal(views["x"][masks["y"]], data["x"][usable][masks["y"]])
    np.testing.assert_array_equal(np.asarray(views["x"]), data["x"][usable])
    assert views["x"][5].shape == (24,) and views["y"].shape == (len(usable), 6, 40)


def _audio_dataset(tmp_path, name: str, n: int):
    rows, t = [], np.arange(SR // 2) / SR
    for i in range(n):
        p = tmp_path / f"{name}{i}.wav"
        sf.write(str(p), (0.3 * np.sin(2 * np.pi * (150 + 7 * i) * t)).astype(np.float32), SR)
        rows.append({"track_id": f"{name}{i}", "path": str(p), "duration_s": 0.5})
    save_dataset(name, ImportResult(tracks=pd.DataFrame(rows)))
    return load_dataset(name)


def test_audio_extraction_keeps_only_the_chunks_being_filled(tmp_path):
    from core.features import FeatureConfig, SpectralConfig, get_features

    n = 48
    ds = _audio_dataset(tmp_path, "mem", n)
    cfg = FeatureConfig(spectral=SpectralConfig(clip_s=0.5), chunk_size=4)
    row_bytes = sum(4 * int(np.prod(s)) for s in cfg.spectral.shapes().values())   # 221 KB per clip
    get_features(ds, "spectral_stats", jobs=1, config=FeatureConfig(spectral=SpectralConfig(clip_s=0.25)))  # warm
    fs, peak = _peak(lambda: get_features(ds, "logmel", jobs=1, config=cfg))
    assert fs.X.shape == (n, 128, 256) and fs.valid.all() and isinstance(fs.X, np.memmap)
    assert peak < 0.5 * n * row_bytes                                     # 10.6 MB of features, never all held
    assert fs.config["info"]["chunks_computed"] == n // 4 and fs.config["info"]["executor"] == "local"


def test_two_extractions_of_one_dataset_compute_once(blocks_group, monkeypatch):
    from core.features import get_features

    ds = _table_dataset("twice", 300)
    real = blocks_group.compute

    def slow(*a, **k):
        time.sleep(0.5)                                                   # the second caller arrives meanwhile
        return real(*a, **k)

    monkeypatch.setattr(blocks_group, "compute", slow)
    out = []
    threads = [threading.Thread(target=lambda: out.append(get_features(ds, "blocks"))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert blocks_group.calls == 1 and len(out) == 2
    assert np.array_equal(np.asarray(out[0].X), np.asarray(out[1].X)) and out[0].fingerprint == out[1].fingerprint


def test_extract_cli_columns_and_quiet(capsys):
    from core.cli import main
    from core.features import get_features

    save_dataset("tab", ImportResult(tracks=pd.DataFrame({
        "track_id": [f"t{i}" for i in range(12)], "energy": np.linspace(0, 1, 12),
        "tempo": np.linspace(80, 160, 12) ** 1.1, "danceability": np.cos(np.arange(12))})))
    assert main(["extract", "--dataset", "tab", "--features", "tabular", "--columns", "tempo, energy"]) == 0
    out = capsys.readouterr().out
    assert "columns used (2): tempo, energy" in out and "left out column danceability: not chosen" in out
    assert "valid 12/12" in out and out.strip().endswith("done")
    assert main(["extract", "--dataset", "tab", "--features", "tabular", "--quiet"]) == 0   # default columns
    assert capsys.readouterr().out.strip() == "done"
    fs = get_features(load_dataset("tab"), "tabular")
    assert fs.config["info"]["columns"] == ["energy", "tempo", "danceability"] and fs.X.shape == (12, 3)
