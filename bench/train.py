"""Benchmark: seconds per epoch of the Conv2D VAE on 1,000 log-mel inputs (1 × 128 × 256), CPU.

Trains, on the same synthetic structured log-mel data, for the same epochs and with the same loop
(Adam, lr 1e-3, batch 64, β = 1, MSE summed over features / averaged over batch):

* ``conv2d_vae`` from ``core.models`` (the registered default), and
* a straightforward baseline Conv2D VAE: 4 stride-2 convs 32-64-128-256 (kernel 4) and a big dense
  layer to/from the latent, its width tuned so it has ≈ 6.7 M parameters;

then also times ``core.training.train`` on the registered model (what the app runs: split, validation,
history). Prints the median wall s/epoch after the first (warm-up) epoch, CPU-seconds per
epoch, and the final reconstruction MSE (per element, z = μ) of each.

    .venv/bin/python bench/train.py [--n 1000] [--epochs 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def synthetic_logmel(n: int, *, n_mels: int = 128, frames: int = 256, seed: int = 0) -> np.ndarray:
    """(n, 1, n_mels, frames) float32 standardized log-mel-like images with known structure.

    Each clip: a harmonic stack (fundamental band f0, 1-4 partials with decaying level), a beat
    pattern (periodic broadband onsets, tempo per clip), a spectral tilt, and a little noise.
    """
    rng = np.random.default_rng(seed)
    mel = np.arange(n_mels)[:, None].astype(np.float32)
    t = np.arange(frames)[None, :].astype(np.float32)
    out = np.empty((n, 1, n_mels, frames), np.float32)
    for i in range(n):
        f0 = rng.uniform(6, 30)
        img = -0.02 * rng.uniform(0.5, 1.5) * mel + np.zeros_like(t)
        for h in range(1, int(rng.integers(2, 6))):
            band = np.exp(-0.5 * ((mel - f0 * h ** 0.8) / rng.uniform(1.0, 2.5)) ** 2)
            env = 0.5 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(30, 120) + rng.uniform(0, 6.28))
            img += (3.0 / h) * band * env
        period = int(rng.integers(12, 40))
        onsets = (np.arange(frames) % period < 3).astype(np.float32)[None, :]
        img += rng.uniform(0.5, 2.0) * onsets * np.exp(-mel / rng.uniform(20, 80))
        img += 0.1 * rng.standard_normal(img.shape).astype(np.float32)
        out[i, 0] = img
    out -= out.mean()
    out /= out.std()
    return out


def baseline_vae(input_shape=(1, 128, 256), latent_dim: int = 32, target_params: float = 6.7e6):
    """A straightforward Conv2D VAE: 4 × (Conv k4 s2 p1 + ReLU) 32-64-128-256, dense hidden h, latent."""
    import torch
    from torch import nn

    class Baseline(nn.Module):
        def __init__(self, hidden: int):
            super().__init__()
            c, H, W = input_shape
            chans = [c, 32, 64, 128, 256]
            enc = []
            for a, b in zip(chans[:-1], chans[1:]):
                enc += [nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()]
            self.enc = nn.Sequential(*enc, nn.Flatten())
            self.shape = (256, H // 16, W // 16)
            flat = int(np.prod(self.shape))
            self.fc = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
            self.dec_fc = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, flat), nn.ReLU())
            dec = []
            rev = chans[::-1]
            for j, (a, b) in enumerate(zip(rev[:-1], rev[1:])):
                dec += [nn.ConvTranspose2d(a, b, 4, 2, 1)] + ([nn.ReLU()] if j < 3 else [])
            self.dec = nn.Sequential(*dec)

        def forward(self, x):
            mu, logvar = self.fc(self.enc(x)).chunk(2, 1)
            logvar = logvar.clamp(-10, 10)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
            rec = self.dec(self.dec_fc(z).view(-1, *self.shape))
            return rec, mu, logvar

    def count(h):
        return sum(p.numel() for p in Baseline(h).parameters())

    lo, hi = 1, 512
    while lo < hi:  # smallest hidden width with ≥ target params
        mid = (lo + hi) // 2
        if count(mid) < target_params:
            lo = mid + 1
        else:
            hi = mid
    return Baseline(lo)


class _Wrap:
    """Uniform (rec, mu, logvar) interface over a core.models network."""

    def __init__(self, net):
        self.net = net

    def __call__(self, x):
        from core.models.base import Batch

        mu, logvar = self.net.encode(Batch({"x": x}))
        z = self.net.sample_z(mu, logvar)
        return self.net.decode(z)["x"], mu, logvar


def run_loop(name, forward, module, X, *, epochs: int, batch: int, seed: int, channels_last: bool) -> dict:
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X)
    if channels_last:
        Xt = Xt.contiguous(memory_format=torch.channels_last)
        module.to(memory_format=torch.channels_last)
    gen = torch.Generator().manual_seed(seed)
    times, cpu = [], []
    for ep in range(epochs):
        module.train()
        t0, c0 = time.perf_counter(), time.process_time()
        order = torch.randperm(len(Xt), generator=gen)
        for idx in order.split(batch):
            x = Xt[idx]
            rec, mu, logvar = forward(x)
            recon = (rec - x).pow(2).flatten(1).sum(1).mean()
            kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
            loss = recon + kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            opt.step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        print(f"  {name}: epoch {ep + 1}/{epochs} {times[-1]:.2f} s  loss/elem {float(recon.detach()) / x[0].numel():.4f}",
              flush=True)
    module.eval()
    with torch.no_grad():
        se = sum(float((forward(Xt[idx])[0] - Xt[idx]).pow(2).sum()) for idx in torch.arange(len(Xt)).split(256))
    params = sum(p.numel() for p in module.parameters())
    # first epoch includes one-off warm-up (allocator, kernels); report the mean of the others when possible
    steady = times[1:] if len(times) > 1 else times
    cpu_steady = cpu[1:] if len(cpu) > 1 else cpu
    return {"name": name, "params": params, "s_per_epoch": float(np.median(steady)), "first_epoch_s": times[0],
            "cpu_s_per_epoch": float(np.median(cpu_steady)), "recon_mse": se / X.size}


def _only_train(args) -> int:
    import json

    from core.training import TrainConfig, train

    X = synthetic_logmel(args.n, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SONGSCAPE_MODELS"] = tmp
        res = train(model="conv2d_vae", inputs={"x": X}, input_fingerprint=f"bench-{args.n}-{args.seed}",
                    config=TrainConfig(epochs=args.epochs, batch_size=args.batch, seed=args.seed, device="auto"))
    hist = res.history
    steady = [h["seconds"] for h in hist[1:]] or [hist[0]["seconds"]]
    print(json.dumps({"s_per_epoch": float(np.median(steady)), "first_epoch_s": hist[0]["seconds"],
                      "val_recon": hist[-1]["val_recon"] / X[0].size, "device": res.device,
                      "n_train": int(round(args.n * 0.9))}))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--no-channels-last", action="store_true")
    ap.add_argument("--only-train", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    if args.only_train:
        return _only_train(args)
    from core.models import MODELS

    X = synthetic_logmel(args.n, seed=args.seed)
    load0 = os.getloadavg()
    print(f"data: {X.shape} float32, {X.nbytes / 2**20:.0f} MiB; torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, cpu_count {os.cpu_count()}", flush=True)
    results = []
    torch.manual_seed(args.seed)
    net = MODELS.get("conv2d_vae").build({"x": X.shape[1:]})
    results.append(run_loop("conv2d_vae (ours)", _Wrap(net), net, X, epochs=args.epochs, batch=args.batch,
                            seed=args.seed, channels_last=not args.no_channels_last))
    if not args.skip_baseline:
        torch.manual_seed(args.seed)
        base = baseline_vae(X.shape[1:])
        results.append(run_loop("baseline 6.7M", base, base, X, epochs=args.epochs, batch=args.batch,
                                seed=args.seed, channels_last=False))

    # what the app runs: core.training.train, in a fresh process (as the CLI would run it)
    import json
    import subprocess

    cmd = [sys.executable, __file__, "--only-train", "--n", str(args.n), "--epochs", str(args.epochs),
           "--batch", str(args.batch), "--threads", str(args.threads), "--seed", str(args.seed)]
    tr = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    print()
    print(f"load average before/after: {load0} / {os.getloadavg()} (other processes share these cores)")
    print(f"{'model':<22}{'params':>12}{'s/epoch':>10}{'1st epoch':>11}{'CPU-s/ep':>10}{'recon MSE':>11}")
    for r in results:
        print(f"{r['name']:<22}{r['params']:>12,}{r['s_per_epoch']:>10.2f}{r['first_epoch_s']:>11.2f}"
              f"{r['cpu_s_per_epoch']:>10.2f}{r['recon_mse']:>11.4f}")
    print(f"{'train() conv2d_vae':<22}{'':>12}{tr['s_per_epoch']:>10.2f}{tr['first_epoch_s']:>11.2f}{'':>10}"
          f"{tr['val_recon']:>11.4f}  (val recon/elem, device {tr['device']}, {args.epochs} epochs on "
          f"{tr['n_train']} train rows, 10 % validation pass included)")
    ok = results[0]["s_per_epoch"] <= 3.0 and (len(results) < 2 or results[0]["recon_mse"] <= results[1]["recon_mse"])
    print("target (≤ 3 s/epoch, recon ≤ baseline):", "met" if ok else "NOT met")
    return 0 if not math.isnan(results[0]["recon_mse"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
