"""Contract suite over EVERY registered model (core.models.MODELS), on tiny inputs of known structure.

Input shapes are derived from each spec's input kinds (so a new model is covered automatically) and
are deliberately not the reports' sizes (log-mel 1×32×64, MFCC frames 8×40, audio stack 13×40),
which also proves that layers follow the input shape.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.errors import ParameterError, SongscapeError  # noqa: E402
from core.models import MODELS  # noqa: E402
from core.models.base import Batch  # noqa: E402
from core.training import TrainConfig, TrainingDivergedError, latents, load_trained, train  # noqa: E402

ALL = MODELS.names()
TINY = {"vector": (12,), "image": (1, 32, 64), "sequence": (8, 40)}
OVERRIDE = {("hybrid_vae", "audio"): (13, 40), ("concat_vae", "lyrics"): (8,), ("hybrid_vae", "lyrics"): (8,)}
SMALL_PARAMS = {"conv1d_vae": {"channels": "16-32"}, "conv1d_ae": {"channels": "16-32"},
                "cvae": {"channels": "16-32"}, "vade": {"n_clusters": 2, "pretrain_epochs": 2}}


def shapes_for(name: str) -> dict[str, tuple]:
    spec = MODELS.get(name)
    return {m: OVERRIDE.get((name, m), TINY[s.kind]) for m, s in spec.inputs.items()}


def blobs(name: str, n: int = 48, seed: int = 0):
    """Two classes; every modality = class template + small noise. Returns (inputs, masks, cond, y)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    inputs = {}
    for m, shape in shapes_for(name).items():
        templates = rng.normal(0, 1, (2, *shape)).astype(np.float32)
        inputs[m] = (templates[y] + 0.1 * rng.normal(0, 1, (n, *shape))).astype(np.float32)
    spec = MODELS.get(name)
    masks = {m: (np.arange(n) % 3 != 0) for m, s in spec.inputs.items() if not s.required} or None
    cond = y.astype(np.int64) if spec.uses_cond else None
    return inputs, masks, cond, y


def build(name: str, **params):
    spec = MODELS.get(name)
    kw = {**SMALL_PARAMS.get(name, {}), **params}
    if spec.uses_cond:
        kw.setdefault("n_classes", 2)
    return spec.build(shapes_for(name), **kw)


def as_batch(inputs, masks, cond, idx=slice(None)) -> Batch:
    return Batch(inputs={m: torch.from_numpy(a[idx]) for m, a in inputs.items()},
                 cond=None if cond is None else torch.from_numpy(cond[idx]),
                 masks={m: torch.from_numpy(v[idx]) for m, v in (masks or {}).items()})


def fit(name: str, *, epochs: int = 6, seed: int = 0, **cfg):
    inputs, masks, cond, _ = blobs(name)
    config = TrainConfig(epochs=epochs, batch_size=16, lr=cfg.pop("lr", 3e-3), seed=seed, **cfg)
    return train(model=name, inputs=inputs, masks=masks, cond=cond, model_params=SMALL_PARAMS.get(name, {}),
                 config=config, input_fingerprint=f"blobs-{name}")


def test_registry_covers_report_families():
    fams = {MODELS.get(n).family for n in ALL}
    assert {"mlp", "conv2d", "conv1d", "conditional", "hybrid", "concat", "vade", "autoencoder"} <= fams
    for n in ALL:
        spec = MODELS.get(n)
        assert spec.label and spec.help and spec.inputs and "latent_dim" in spec.params


@pytest.mark.parametrize("name", ALL)
def test_output_shapes_and_finite_loss(name):
    inputs, masks, cond, _ = blobs(name, n=6)
    net = build(name)
    torch.manual_seed(0)
    out = net(as_batch(inputs, masks, cond))
    d = net.latent_dim
    assert out.mu.shape == (6, d) and out.logvar.shape == (6, d) and out.z.shape == (6, d)
    assert set(out.recon) == set(inputs)
    for m, x in inputs.items():
        assert tuple(out.recon[m].shape) == x.shape, m
    for v in (out.loss, out.recon_loss, out.kl):
        assert v.dim() == 0 and torch.isfinite(v)
    mu, logvar = net.encode(as_batch(inputs, masks, cond))
    assert mu.shape == (6, d)
    dec = net.decode(mu, None if cond is None else torch.from_numpy(cond))
    assert {m: tuple(v.shape) for m, v in dec.items()} == {m: x.shape for m, x in inputs.items()}


@pytest.mark.parametrize("name", ALL)
def test_beta_zero_means_no_kl_in_loss(name):
    inputs, masks, cond, _ = blobs(name, n=6)
    net = build(name)
    torch.manual_seed(0)
    out = net(as_batch(inputs, masks, cond), beta=0.0)
    assert torch.equal(out.loss, out.recon_loss)
    torch.manual_seed(0)
    out4 = net(as_batch(inputs, masks, cond), beta=4.0)
    if net.deterministic or (name == "vade"):  # AE: KL reported 0; VaDE pretraining: no KL yet
        assert float(out4.kl) == 0.0 and torch.equal(out4.loss, out4.recon_loss)
    else:
        assert float(out4.kl.detach()) > 0
        assert math.isclose(float(out4.loss.detach()), float((out4.recon_loss + 4.0 * out4.kl).detach()), rel_tol=1e-5)


def test_autoencoders_do_not_sample():
    for name in [n for n in ALL if MODELS.get(n).family == "autoencoder"]:
        inputs, masks, cond, _ = blobs(name, n=6)
        net = build(name).train()
        b = as_batch(inputs, masks, cond)
        o1, o2 = net(b), net(b)
        assert torch.equal(o1.z, o1.mu) and torch.equal(o1.z, o2.z)


@pytest.mark.parametrize("name", ALL)
def test_loss_falls_on_structured_data(name):
    res = fit(name, epochs=8)
    first, last = res.history[0]["recon"], res.history[-1]["recon"]
    assert last < 0.7 * first, (first, last)
    assert all(np.isfinite(h["loss"]) for h in res.history)


@pytest.mark.parametrize("name", ALL)
def test_save_load_gives_identical_outputs(name, tmp_path):
    inputs, masks, cond, _ = blobs(name, n=12)
    torch.manual_seed(1)
    net = build(name)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(3):  # move weights and BatchNorm running statistics away from their init
        o = net(as_batch(inputs, masks, cond))
        opt.zero_grad()
        o.loss.backward()
        opt.step()
    net.eval()
    b = as_batch(inputs, masks, cond)
    before = net(b)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    buf.seek(0)
    net2 = build(name)
    net2.load_state_dict(torch.load(buf, weights_only=True))
    net2.eval()
    after = net2(b)
    assert torch.equal(before.mu, after.mu) and torch.equal(before.loss, after.loss)
    for m in before.recon:
        assert torch.equal(before.recon[m], after.recon[m])


@pytest.mark.parametrize("name", ALL)
def test_trained_artifact_loads_to_identical_latents(name):

    res = fit(name, epochs=2)
    inputs, masks, cond, _ = blobs(name)
    mu1 = latents(res.model_id, inputs=inputs, masks=masks, cond=cond)
    __import__("core.cache").cache.CACHE.clear_memory("model")  # force a fresh load from disk
    tm = load_trained(res.model_id)
    assert not tm.model.training and next(tm.model.parameters()).device.type == "cpu"
    mu2 = latents(res.model_id, inputs=inputs, masks=masks, cond=cond)
    assert mu1.shape == (48, tm.model.latent_dim) and np.array_equal(mu1, mu2)


@pytest.mark.parametrize("name", ALL)
def test_models_do_not_care_about_the_inputs_units(name):
    """Scaling is fitted on the training split and applied on every path: the same data in other units
    (×20 + 100) trains to the same latents, and reconstructions come back in each input's own units."""
    from core.training import decode_latent, reconstruct

    inputs, masks, cond, _ = blobs(name)
    loud = {m: (20.0 * a + 100.0).astype(np.float32) for m, a in inputs.items()}
    config = TrainConfig(epochs=2, batch_size=16, lr=3e-3)
    kw = dict(model=name, masks=masks, cond=cond, model_params=SMALL_PARAMS.get(name, {}), config=config)
    a = train(inputs=inputs, input_fingerprint=f"units-{name}", **kw)
    b = train(inputs=loud, input_fingerprint=f"units-loud-{name}", **kw)
    sa, sb = load_trained(a.model_id).scaler, load_trained(b.model_id).scaler
    for m, x in inputs.items():
        stat = sa.mean[m].shape
        assert stat == ((x.shape[1],) if x.ndim == 2 else (*x.shape[1:-1], 1))  # per feature / per row
        assert np.allclose(sb.mean[m], 20 * sa.mean[m] + 100, rtol=1e-4) and np.allclose(sb.scale[m], 20 * sa.scale[m])
    mu_a = latents(a.model_id, inputs=inputs, masks=masks, cond=cond)
    mu_b = latents(b.model_id, inputs=loud, masks=masks, cond=cond)
    assert np.allclose(mu_a, mu_b, atol=0.02)  # float32 rounding of the loud inputs only
    rec_a = reconstruct(a.model_id, inputs=inputs, masks=masks, cond=cond)
    rec_b = reconstruct(b.model_id, inputs=loud, masks=masks, cond=cond)
    for m in rec_a:
        assert np.allclose(rec_b[m], 20 * rec_a[m] + 100, atol=20 * 0.02), m
    dec = decode_latent(b.model_id, mu_b[:3], cond=None if cond is None else cond[:3])
    for m in dec:
        assert np.allclose(dec[m], rec_b[m][:3], atol=1e-2)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_numbers(name):
    from core.training import delete_trained

    a = fit(name, epochs=2, seed=3)
    hist_a = [h["loss"] for h in a.history]
    inputs, masks, cond, _ = blobs(name)
    mu_a = latents(a.model_id, inputs=inputs, masks=masks, cond=cond)
    assert delete_trained(a.model_id)
    b = fit(name, epochs=2, seed=3)
    assert not b.from_cache and b.model_id == a.model_id
    assert [h["loss"] for h in b.history] == hist_a
    assert np.array_equal(latents(b.model_id, inputs=inputs, masks=masks, cond=cond), mu_a)
    c = fit(name, epochs=2, seed=4)
    assert c.model_id != a.model_id and [h["loss"] for h in c.history] != hist_a


@pytest.mark.parametrize("name", ALL)
def test_invalid_hyperparameters_name_the_parameter(name):
    spec = MODELS.get(name)
    inputs, masks, cond, _ = blobs(name, n=10)
    for pname, p in spec.params.items():
        if p.kind not in ("int", "float") or p.low is None:
            continue
        bad = p.low - 1
        with pytest.raises(ParameterError) as ei:
            train(model=name, inputs=inputs, masks=masks, cond=cond, model_params={pname: bad},
                  config=TrainConfig(epochs=1, batch_size=4), input_fingerprint="x")
        assert ei.value.name == pname and str(bad) in str(ei.value) and "in [" in str(ei.value)
    with pytest.raises(ParameterError, match="latent_dim"):
        train(model=name, inputs=inputs, masks=masks, cond=cond, model_params={"latent_dim": 0},
              config=TrainConfig(epochs=1, batch_size=4), input_fingerprint="x")


def test_layers_that_do_not_fit_the_input_are_rejected():
    with pytest.raises(ParameterError, match="channels"):
        MODELS.get("conv2d_vae").build({"x": (1, 8, 8)}, channels="8-8-8-8-8-8")
    with pytest.raises(ParameterError, match="hidden"):
        MODELS.get("mlp_vae").build({"x": (12,)}, hidden="abc")


@pytest.mark.parametrize("shape", [(1, 33, 61), (1, 128, 256), (37, 97)])
def test_conv2d_reconstructs_odd_and_full_sizes_exactly(shape):
    net = MODELS.get("conv2d_vae").build({"x": shape}).eval()
    x = torch.zeros(2, *shape)
    assert tuple(net.decode(net.encode(Batch({"x": x}))[0])["x"].shape) == (2, *shape)


@pytest.mark.parametrize("name", [n for n in ALL if any(not s.required for s in MODELS.get(n).inputs.values())])
def test_masked_rows_do_not_contribute_to_the_optional_modality(name):
    inputs, masks, cond, _ = blobs(name, n=12)
    opt_mod = next(m for m, s in MODELS.get(name).inputs.items() if not s.required)
    assert masks[opt_mod].sum() < 12  # some rows are masked
    net = build(name)
    changed = {m: a.copy() for m, a in inputs.items()}
    gone = ~masks[opt_mod]
    changed[opt_mod][gone] = 1e3  # wildly different values in the masked rows only …
    changed2 = {m: a.copy() for m, a in inputs.items()}
    changed2[opt_mod][gone] = np.nan  # … or even NaN
    for train_mode in (True, False):
        net.train(train_mode)
        outs = []
        for arrs in (inputs, changed, changed2):
            torch.manual_seed(0)
            outs.append(net(as_batch(arrs, masks, cond)))
        for o in outs[1:]:
            assert torch.equal(o.loss, outs[0].loss) and torch.equal(o.mu, outs[0].mu)
            assert torch.equal(o.extras[f"recon_{opt_mod}"], outs[0].extras[f"recon_{opt_mod}"])
    # and the mask matters: unmasking those rows changes the lyrics term
    torch.manual_seed(0)
    full = net(as_batch(changed, {opt_mod: np.ones(12, bool)}, cond))
    assert not torch.equal(full.extras[f"recon_{opt_mod}"], outs[0].extras[f"recon_{opt_mod}"])
    # gradient: masked rows' values never reach the weights
    net.train()
    grads = []
    for arrs in (inputs, changed2):
        net.zero_grad()
        torch.manual_seed(0)
        net(as_batch(arrs, masks, cond)).loss.backward()
        grads.append([p.grad.clone() for p in net.parameters() if p.grad is not None])
    assert all(torch.equal(a, b) for a, b in zip(*grads))


def test_hybrid_defaults_follow_report_001():
    net = MODELS.get("hybrid_vae").build({"audio": (39, 130), "lyrics": (64,)})
    assert net.latent_dim == 32 and net.alphas == {"audio": 1.0, "lyrics": 0.1}
    convs = [m for m in net.encoders["audio"].modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128]
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in net.encoders["audio"].modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.encoders["audio"].modules())
    lin = [m for m in net.encoders["lyrics"].modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(64, 64), (64, 32)]


def test_cvae_condition_changes_the_decoding():
    inputs, masks, cond, _ = blobs("cvae", n=4)
    net = build("cvae").eval()
    z = torch.zeros(1, net.latent_dim)
    a = net.decode(z, torch.tensor([0]))["x"]
    b = net.decode(z, torch.tensor([1]))["x"]
    assert not torch.equal(a, b)
    with pytest.raises(ParameterError, match="cond"):
        net.decode(z)


def test_cvae_records_uses_labels():
    from core import artifacts

    res = fit("cvae", epochs=1)
    cfg = artifacts.read_json(res.artifact_dir / "config.json")
    assert cfg["uses_labels"] == ["cond"] and cfg["meta"]["uses_labels"] == ["cond"]
    inputs, masks, cond, _ = blobs("cvae")
    r = train(model="cvae", inputs=inputs, cond=cond, model_params=SMALL_PARAMS["cvae"],
              config=TrainConfig(epochs=1, batch_size=16), input_fingerprint="blobs-cvae",
              meta={"cond_column": "language"})
    assert artifacts.read_json(r.artifact_dir / "config.json")["uses_labels"] == ["language"]


def test_vade_finds_the_two_blobs_and_saves_its_clusters():
    from sklearn.metrics import adjusted_rand_score

    from core import artifacts
    from core.training import predict_clusters

    inputs, _, _, y = blobs("vade", n=80)
    res = train(model="vade", inputs=inputs, model_params={"n_clusters": 2, "pretrain_epochs": 3, "latent_dim": 4},
                config=TrainConfig(epochs=10, batch_size=16, lr=3e-3), input_fingerprint="vade-blobs")
    saved = artifacts.load_npz(res.artifact_dir / "clusters.npz")["labels"]
    assert saved.shape == (80,)
    assert adjusted_rand_score(y, saved) > 0.9
    assert np.array_equal(predict_clusters(res.model_id, inputs=inputs), saved)


def test_nan_loss_gives_a_clear_error(monkeypatch):
    from core.models.base import BaseVAE

    inputs, masks, cond, _ = blobs("mlp_vae")
    real = BaseVAE.forward
    calls = {"n": 0}

    def poisoned(self, batch, *, beta=1.0):
        out = real(self, batch, beta=beta)
        calls["n"] += 1
        if calls["n"] >= 4:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(BaseVAE, "forward", poisoned)
    with pytest.raises(TrainingDivergedError) as ei:
        train(model="mlp_vae", inputs=inputs, config=TrainConfig(epochs=3, batch_size=16), input_fingerprint="nan")
    msg = str(ei.value)
    assert isinstance(ei.value, SongscapeError)
    assert "learning rate" in msg and "epoch 2" in msg and "nan" in msg


def test_nan_input_is_named_before_training():
    inputs, _, _, _ = blobs("mlp_vae")
    inputs["x"][5, 3] = np.nan
    with pytest.raises(ParameterError) as ei:
        train(model="mlp_vae", inputs=inputs, config=TrainConfig(epochs=1, batch_size=8), input_fingerprint="nan")
    assert ei.value.name == "inputs['x']" and "[5]" in str(ei.value)


def test_huge_learning_rate_diverges_with_a_clear_error():
    inputs, _, _, _ = blobs("mlp_vae")
    inputs = {"x": inputs["x"] * 1e4}
    with pytest.raises(TrainingDivergedError, match="Lower the learning rate"):
        train(model="mlp_vae", inputs=inputs, config=TrainConfig(epochs=30, batch_size=8, lr=1e6, grad_clip=None,
                                                                 logvar_clamp=None), input_fingerprint="lr")


def test_concat_vae_gives_each_block_unit_total_variance_before_the_encoder():
    """16 audio dims and 64 lyrics dims, both z-scored: without block scaling the lyrics carry 4× the
    variance the audio does into the encoder; with it (the default) each block carries 1."""
    import torch

    from core.models import MODELS
    from core.models.base import Batch

    g = torch.Generator().manual_seed(0)
    batch = Batch({"audio": torch.randn(512, 16, generator=g), "lyrics": torch.randn(512, 64, generator=g)})
    spec = MODELS.get("concat_vae")
    for scaled, ratio in ((True, 1.0), (False, 4.0)):
        model = spec.builder({"audio": (16,), "lyrics": (64,)}, latent_dim=4, hidden="32", block_scale=scaled)
        x = model.encoder_input(batch)
        var_a, var_l = x[:, :16].var(0).sum().item(), x[:, 16:80].var(0).sum().item()
        assert var_l / var_a == pytest.approx(ratio, rel=0.15)
        if scaled:
            assert var_a == pytest.approx(1.0, rel=0.15) and var_l == pytest.approx(1.0, rel=0.15)
