"""Pretrained musicnn: checkpoint reader, PyTorch port vs the original TensorFlow outputs, features, CLI."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from core.datasets import ImportResult, load_dataset, save_dataset
from core.errors import ArtifactError, ParameterError, SchemaError
from core.features import musicnn as M

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests/data/musicnn_reference.npz"
needs_checkpoints = pytest.mark.skipif(bool(M.missing_reason()), reason=M.missing_reason() or "installed")


def _synth_clip():
    spec = importlib.util.spec_from_file_location("musicnn_reference", ROOT / "bench/musicnn_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.synth_clip()


def _musicnn_shapes(midend: int = 64, backend: int = 200) -> dict[str, tuple]:
    """Every trained tensor of a musicnn checkpoint, from the architecture (not from the file)."""
    out = {}
    bn_sizes = [1, 204, 204, 51, 51, 51, midend, midend, midend, 1506, backend]
    for i, n in enumerate(bn_sizes):
        name = "batch_normalization" + (f"_{i}" if i else "")
        out.update({f"{name}/{v}": (n,) for v in ("beta", "gamma", "moving_mean", "moving_variance")})
    kernels = [(7, 38, 1, 204), (7, 67, 1, 204), (128, 1, 1, 51), (64, 1, 1, 51), (32, 1, 1, 51),
               (7, 561, 1, midend), (7, midend, 1, midend), (7, midend, 1, midend)]
    for i, k in enumerate(kernels):
        name = "conv2d" + (f"_{i}" if i else "")
        out[f"{name}/kernel"], out[f"{name}/bias"] = k, (k[-1],)
    out.update({"dense/kernel": (1506, backend), "dense/bias": (backend,), "dense_1/kernel": (backend, 50),
                "dense_1/bias": (50,)})
    return out


def _vgg_shapes() -> dict[str, tuple]:
    out = {}
    for i in range(6):
        name = "batch_normalization" + (f"_{i}" if i else "")
        n = 1 if i == 0 else 128
        out.update({f"{name}/{v}": (n,) for v in ("beta", "gamma", "moving_mean", "moving_variance")})
    for i in range(1, 6):
        out[f"{i}CNN/kernel"], out[f"{i}CNN/bias"] = (3, 3, 1 if i == 1 else 128, 128), (128,)
    out.update({"dense/kernel": (256, 50), "dense/bias": (50,)})
    return out


# ---------------------------------------------------------------- checkpoint reader

@needs_checkpoints
@pytest.mark.parametrize("model", ["MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"])
def test_every_tensor_of_every_shipped_checkpoint(model):
    from core.features.musicnn.checkpoint import checkpoint_entries, read_checkpoint

    entries = checkpoint_entries(M.checkpoint_dir(model))
    trained = _vgg_shapes() if "vgg" in model else _musicnn_shapes()
    slots = {f"{n}/{s}": shape for n, shape in trained.items() if "moving" not in n for s in ("Adam", "Adam_1")}
    expected = {**trained, **slots, "beta1_power": (), "beta2_power": ()}
    assert {n: e.shape for n, e in entries.items()} == expected
    assert {e.dtype for e in entries.values()} == {1}                       # DT_FLOAT
    assert all(e.size == 4 * int(np.prod(e.shape)) for e in entries.values())
    w = read_checkpoint(M.checkpoint_dir(model), names=list(trained))
    assert all(w[n].dtype == np.float32 and w[n].shape == s for n, s in trained.items())
    assert all(np.isfinite(a).all() for a in w.values())
    assert (w["batch_normalization/moving_variance"] > 0).all() and np.abs(w["dense/kernel"]).std() > 1e-3
    small = [n for n, e in entries.items() if e.size <= 4096]                 # pure-Python CRC: small ones
    read_checkpoint(M.checkpoint_dir(model), names=small, check_crc=True)     # raises on a mismatch


def _table(entries: list[tuple[bytes, bytes]], *, restart_every: int = 2) -> bytes:
    """A LevelDB table: one prefix-compressed data block + index block + footer (what TF writes)."""
    def varint(v):
        out = bytearray()
        while True:
            b, v = v & 0x7F, v >> 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)

    def block(items):
        buf, restarts, prev = bytearray(), [], b""
        for i, (k, v) in enumerate(items):
            shared = 0
            if i % restart_every == 0:
                restarts.append(len(buf))
            else:
                while shared < min(len(k), len(prev)) and k[shared] == prev[shared]:
                    shared += 1
            buf += varint(shared) + varint(len(k) - shared) + varint(len(v)) + k[shared:] + v
            prev = k
        for r in restarts:
            buf += struct.pack("<I", r)
        return bytes(buf + struct.pack("<I", len(restarts)))

    data = block(entries)
    out = data + b"\x00\x00\x00\x00\x00"                                       # type 0 (none) + crc
    index = block([(entries[-1][0], varint(0) + varint(len(data)))])
    idx_off = len(out)
    out += index + b"\x00\x00\x00\x00\x00"
    footer = varint(0) + varint(0) + varint(idx_off) + varint(len(index))
    return out + footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", 0xDB4775248B80FB57)


def test_reader_undoes_prefix_compression_and_decodes_entries(tmp_path):
    from core.features.musicnn.checkpoint import read_checkpoint

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, -8], dtype=np.int64)

    def entry(dtype, shape, offset, size):                                   # BundleEntryProto by hand
        dims = b"".join(b"\x12" + bytes([2]) + b"\x08" + bytes([d]) for d in shape)
        return (b"\x08" + bytes([dtype]) + b"\x12" + bytes([len(dims)]) + dims + b"\x20" + bytes([offset])
                + b"\x28" + bytes([size]))

    (tmp_path / "ck.index").write_bytes(_table([(b"", b"\x08\x01"),               # header: num_shards 1
                                                (b"layer/bias", entry(9, (2,), 24, 16)),
                                                (b"layer/kernel", entry(1, (2, 3), 0, 24))]))
    (tmp_path / "ck.data-00000-of-00001").write_bytes(a.tobytes() + b.tobytes())
    w = read_checkpoint(tmp_path / "ck")
    assert list(w) == ["layer/bias", "layer/kernel"]                           # the header entry is skipped
    assert np.array_equal(w["layer/kernel"], a) and np.array_equal(w["layer/bias"], b)
    assert w["layer/bias"].dtype == np.int64
    with pytest.raises(ArtifactError, match="no tensor"):
        read_checkpoint(tmp_path / "ck", names=["nope"])
    (tmp_path / "bad.index").write_bytes(b"\x00" * 60)
    with pytest.raises(ArtifactError, match="magic"):
        read_checkpoint(tmp_path / "bad")


# ---------------------------------------------------------------- the port vs the original

@needs_checkpoints
def test_port_matches_the_original_tensorflow_musicnn():
    from core.features.musicnn.embed import embed_clip

    ref = np.load(REFERENCE)
    y = _synth_clip()
    assert len(y) == int(ref["sr"] * ref["seconds"]) and np.array_equal(y[:64], ref["audio_head"])
    assert np.sum(y, dtype=np.float64) == ref["audio_sum"]
    mel = M.log_mel(y)
    assert mel.shape == (438, 96) and mel.astype(np.float64).sum() == pytest.approx(float(ref["logmel_sum"]), abs=1e-3)
    assert np.array_equal(M.patches(mel)[0, 10], ref["patch0_frame10"])
    for key, model in (("mtt", "MTT_musicnn"), ("msd", "MSD_musicnn")):
        out = embed_clip(y, model=model)
        assert out["taggram"].shape == (2, 50) and out["penultimate"].shape == (2, 200)
        np.testing.assert_allclose(out["taggram"], ref[f"{key}_taggram"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(out["penultimate"], ref[f"{key}_penultimate"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(out["tags"], ref[f"{key}_taggram"].mean(0), atol=1e-4, rtol=0)
        pen = ref[f"{key}_penultimate"]
        np.testing.assert_allclose(out["embedding"], np.concatenate([pen.mean(0), pen.max(0)]), atol=1e-4, rtol=0)


@needs_checkpoints
def test_pooled_layer_matches_the_original():
    import torch

    from core.features.musicnn.model import load_model

    ref = np.load(REFERENCE)
    x = torch.from_numpy(M.patches(M.log_mel(_synth_clip())))
    with torch.no_grad():
        out = load_model("MTT_musicnn")(x)
    assert out["max_pool"].shape == (2, 753) and out["mean_pool"].shape == (2, 753)
    scale = np.abs(ref["mtt_max_pool"]).max()
    assert np.abs(out["max_pool"].numpy() - ref["mtt_max_pool"]).max() / scale < 1e-5


def test_log_mel_stays_finite_where_float16_would_overflow():
    t = np.arange(16000) / 16000
    y = (0.9 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)            # mel power far above 6.55
    mel = M.log_mel(y)
    assert np.isfinite(mel).all() and mel.max() > np.log10(10000 * 6.6)


@needs_checkpoints
def test_short_clip_is_repeat_padded_and_inference_is_deterministic():
    from core.features.musicnn.embed import embed_clip

    y = _synth_clip()[:16000]                                               # 1 s → 63 frames
    mel = M.log_mel(y)
    assert mel.shape == (63, 96)
    x = M.patches(mel)
    assert x.shape == (1, 187, 96)
    assert np.array_equal(x[0, :63], mel) and np.array_equal(x[0, 63:126], mel) and np.array_equal(x[0, 126:], mel[:61])
    a, b = embed_clip(y, model="MTT_musicnn"), embed_clip(y, model="MTT_musicnn")
    assert a["embedding"].shape == (400,) and a["tags"].shape == (50,) and a["taggram"].shape == (1, 50)
    assert np.array_equal(a["embedding"], b["embedding"]) and np.array_equal(a["tags"], b["tags"])
    assert np.isfinite(a["embedding"]).all() and ((a["tags"] > 0) & (a["tags"] < 1)).all()
    with pytest.raises(ParameterError, match="'y'"):
        embed_clip(np.zeros(0, np.float32))


@needs_checkpoints
def test_tags_hear_drums_versus_a_soft_pad():
    from core.features.musicnn.embed import embed_clip

    sr, n = 16000, 6 * 16000
    t = np.arange(n) / sr
    rng = np.random.default_rng(0)
    drums = np.zeros(n)
    for k in range(int(n / (0.25 * sr))):                                   # kick / hat pattern at 120 BPM
        s = int(k * 0.25 * sr)
        m = min(n - s, 2000)
        tt = np.arange(m) / sr
        drums[s:s + m] += (0.4 * np.sin(2 * np.pi * 60 * tt) if k % 2 == 0 else 0.1 * rng.standard_normal(m)) \
            * np.exp(-tt * 25)
    pad = sum(0.04 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) * np.minimum(1, t / 2)
    d = dict(M.top_tags(embed_clip(drums.astype(np.float32))["tags"], n=50))
    p = dict(M.top_tags(embed_clip(pad.astype(np.float32))["tags"], n=50))
    assert d["drums"] > p["drums"] and d["beat"] > p["beat"]
    assert p["quiet"] + p["ambient"] + p["soft"] > d["quiet"] + d["ambient"] + d["soft"]


def test_top_tags_orders_probabilities_and_checks_length():
    probs = np.linspace(0, 1, 50)
    assert M.top_tags(probs, n=2) == [("choral", 1.0), ("female voice", pytest.approx(48 / 49))]
    assert [t for t, _ in M.top_tags(probs, model="MSD_musicnn", n=1)] == ["happy"]
    with pytest.raises(ParameterError, match="50 tag probabilities"):
        M.top_tags(np.zeros(3))


# ---------------------------------------------------------------- device

def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    import torch

    from core.features.musicnn.embed import select_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device().type == "cpu"


# ---------------------------------------------------------------- features

def _dataset(tmp_path, seconds=(4.0, 1.5)):
    rows = []
    for i, s in enumerate(seconds):
        p = tmp_path / f"m{i}.wav"
        y = _synth_clip()[: int(s * 16000)] * (1.0 if i == 0 else 0.5)
        sf.write(str(p), np.interp(np.arange(int(s * 22050)) / 22050, np.arange(len(y)) / 16000, y), 22050)
        rows.append({"track_id": f"m{i}", "path": str(p), "duration_s": s})
    rows.append({"track_id": "silent", "path": "", "duration_s": 1.0})
    save_dataset("mn", ImportResult(tracks=pd.DataFrame(rows)))
    return load_dataset("mn")


@needs_checkpoints
def test_musicnn_features_are_cached_per_clip_and_on_demand(tmp_path, monkeypatch):
    from core.audio import load_audio
    from core.features import FEATURES, available_features, default_features, extract, get_features
    from core.features.musicnn.embed import embed_clip

    ds = _dataset(tmp_path)
    assert {"musicnn_mtt", "musicnn_mtt_tags", "musicnn_msd", "musicnn_msd_tags"} <= set(available_features(ds))
    assert not [n for n in default_features(ds) if n.startswith("musicnn")]
    assert "MagnaTagATune" in FEATURES.get("musicnn_mtt").help and "not heard" in FEATURES.get("musicnn_mtt").help
    assert "Million Song Dataset" in FEATURES.get("musicnn_msd").help

    fs = get_features(ds, "musicnn_mtt", jobs=1)
    assert fs.X.shape == (3, 400) and fs.valid.tolist() == [True, True, False] and set(fs.errors) == {"silent"}
    assert fs.config["model"] == "MTT_musicnn" and fs.config["group"] == "musicnn_mtt"
    want = embed_clip(load_audio(ds.tracks["path"][0], sr=16000, duration=4.0), model="MTT_musicnn")
    np.testing.assert_allclose(fs.X[0], want["embedding"], atol=1e-5)
    calls = []
    monkeypatch.setattr(extract, "run_rows", lambda *a, **k: calls.append(1))
    tags = get_features(ds, "musicnn_mtt_tags", jobs=1)                   # same pass: read from the cache
    assert calls == [] and tags.X.shape == (3, 50)
    np.testing.assert_allclose(tags.X[0], want["tags"], atol=1e-5)
    assert ((tags.X[:2] > 0) & (tags.X[:2] < 1)).all() and not tags.X[2].any()


@needs_checkpoints
def test_extract_cli_computes_musicnn_only_when_named(tmp_path, capsys):
    from core.cli import main

    _dataset(tmp_path)
    assert main(["extract", "--dataset", "mn", "--jobs", "1", "--features", "musicnn_mtt_tags"]) == 0
    out = capsys.readouterr().out
    assert "musicnn_mtt_tags" in out and "(50,)" in out and "valid 2/3" in out
    assert main(["extract", "--dataset", "mn", "--jobs", "1"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "mfcc_stats" in header and "musicnn" not in header


@pytest.mark.slow  # two worker processes each import torch
@needs_checkpoints
def test_musicnn_parallel_equals_serial(tmp_path):
    import shutil

    from core.features import extract, get_features

    ds = _dataset(tmp_path)
    serial = get_features(ds, "musicnn_msd", jobs=1)
    shutil.rmtree(extract.features_root(ds))
    par = get_features(ds, "musicnn_msd", jobs=2)
    np.testing.assert_allclose(serial.X, par.X, atol=1e-5)
    assert par.valid.tolist() == serial.valid.tolist() == [True, True, False]


def test_missing_checkpoints_say_how_to_install(tmp_path, monkeypatch):
    from core.features import available_features, get_features

    ds = _dataset(tmp_path)
    monkeypatch.setattr(M.importlib.util, "find_spec", lambda name, *a: None)
    assert "make run" in M.missing_reason()
    assert not [n for n in available_features(ds) if n.startswith("musicnn")]
    with pytest.raises(SchemaError, match="make run"):
        get_features(ds, "musicnn_mtt", jobs=1)
    with pytest.raises(ArtifactError, match="make run"):
        M.checkpoint_dir("MTT_musicnn")


@needs_checkpoints
def test_tags_cli_prints_the_top_tags(tmp_path, capsys):
    from core.cli import main

    p = tmp_path / "clip.wav"
    sf.write(str(p), _synth_clip(), 16000)
    assert main(["tags", str(p), "--top", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "MTT_musicnn" in lines[0] and "2 patch(es)" in lines[0] and len(lines) == 4
    assert [ln.split(None, 1)[1] for ln in lines[1:]] == ["quiet", "slow", "soft"]   # the original's top 3
    assert main(["tags", str(p), "--model", "msd", "--top", "1"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1].split(None, 1)[1] == "electronic"
    assert main(["tags", str(tmp_path / "nope.wav")]) == 2
