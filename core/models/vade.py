"""VaDE-style deep-clustering VAE: an MLP VAE whose prior is a learned Gaussian mixture.

p(c) = softmax(π), p(z|c) = N(μ_c, diag σ²_c). The first ``pretrain_epochs`` train it as a plain
autoencoder (z = μ, no KL); then a diagonal GaussianMixture fitted on the latents (seeded) initialises
the prior, and training continues on the VaDE ELBO (Jiang et al., 2017). Cluster assignments come
from the model itself: ``predict_clusters`` = argmax_c q(c|x) at z = μ; ``train`` saves them for the
training rows in the artifact (clusters.npz).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import torch
from torch import nn

from core.models.base import Batch, MLPDecoder, MLPEncoder, MultiEncoderVAE, parse_layers


class VaDE(MultiEncoderVAE):
    def __init__(self, *, n_clusters: int, pretrain_epochs: int, **kw):
        super().__init__(**kw)
        k, d = int(n_clusters), self.latent_dim
        self.n_clusters, self.pretrain_epochs = k, int(pretrain_epochs)
        self.pi_logits = nn.Parameter(torch.zeros(k))
        self.mu_c = nn.Parameter(torch.randn(k, d) * 0.5)
        self.logvar_c = nn.Parameter(torch.zeros(k, d))
        self.register_buffer("prior_ready", torch.zeros((), dtype=torch.bool))

    @property
    def pretraining(self) -> bool:
        return self.training and not bool(self.prior_ready)

    def sample_z(self, mu, logvar):
        return mu if self.pretraining else super().sample_z(mu, logvar)

    def log_p_z_given_c(self, z):
        """(B, K) log N(z | μ_c, σ²_c)."""
        var_c = self.logvar_c.exp()
        diff = z.unsqueeze(1) - self.mu_c.unsqueeze(0)
        return -0.5 * (math.log(2 * math.pi) * z.shape[1] + self.logvar_c.sum(1).unsqueeze(0)
                       + (diff.pow(2) / var_c.unsqueeze(0)).sum(2))

    def responsibilities(self, z):
        """(B, K) q(c|x) ≈ p(c|z)."""
        return torch.softmax(torch.log_softmax(self.pi_logits, 0).unsqueeze(0) + self.log_p_z_given_c(z), dim=1)

    def kl_divergence(self, mu, logvar, z):
        if self.pretraining:
            return mu.new_zeros(mu.shape[0])
        gamma = self.responsibilities(z)
        log_pi = torch.log_softmax(self.pi_logits, 0)
        var_c = self.logvar_c.exp().unsqueeze(0)                         # (1, K, d)
        term = (self.logvar_c.unsqueeze(0) + logvar.exp().unsqueeze(1) / var_c
                + (mu.unsqueeze(1) - self.mu_c.unsqueeze(0)).pow(2) / var_c).sum(2)  # (B, K)
        return (0.5 * (gamma * term).sum(1) - (gamma * log_pi.unsqueeze(0)).sum(1)
                + (gamma * torch.log(gamma + 1e-10)).sum(1) - 0.5 * (1 + logvar).sum(1))

    @torch.no_grad()
    def fit_prior(self, mu: torch.Tensor, *, seed: int) -> None:
        from sklearn.mixture import GaussianMixture

        x = mu.detach().cpu().double().numpy()
        k = min(self.n_clusters, len(x))
        gmm = GaussianMixture(n_components=k, covariance_type="diag", random_state=seed, reg_covar=1e-4,
                              max_iter=200).fit(x)
        dev = self.mu_c.device
        means, covs, w = gmm.means_, gmm.covariances_, gmm.weights_
        if k < self.n_clusters:  # fewer rows than clusters: pad with far-away, near-zero-weight components
            pad = self.n_clusters - k
            means = np.vstack([means, np.repeat(means.mean(0, keepdims=True), pad, 0)])
            covs = np.vstack([covs, np.ones((pad, covs.shape[1]))])
            w = np.concatenate([w, np.full(pad, 1e-6)])
        self.mu_c.copy_(torch.as_tensor(means, dtype=torch.float32, device=dev))
        self.logvar_c.copy_(torch.as_tensor(np.log(covs), dtype=torch.float32, device=dev))
        self.pi_logits.copy_(torch.as_tensor(np.log(w + 1e-10), dtype=torch.float32, device=dev))
        self.prior_ready.fill_(True)

    def on_epoch_start(self, epoch, *, encode_all, seed):
        if epoch == self.pretrain_epochs and not bool(self.prior_ready):
            self.fit_prior(encode_all(), seed=seed)

    def on_train_end(self, *, encode_all, seed):
        if not bool(self.prior_ready):
            self.fit_prior(encode_all(), seed=seed)

    @torch.no_grad()
    def predict_clusters(self, batch: Batch) -> np.ndarray:
        """(B,) int cluster index = argmax q(c|x) at z = μ."""
        mu, _ = self.encode(batch)
        return self.responsibilities(mu).argmax(1).cpu().numpy().astype(np.int64)


def build(input_shapes: Mapping[str, tuple], *, latent_dim: int = 10, hidden: str = "256-128",
          activation: str = "relu", n_clusters: int = 10, pretrain_epochs: int = 5,
          deterministic: bool = False) -> VaDE:
    """input_shapes: {"x": (d,)}."""
    widths = parse_layers("hidden", hidden)
    shape = input_shapes["x"]
    return VaDE(encoders={"x": MLPEncoder(shape, widths, activation)},
                decoders=lambda zin: {"x": MLPDecoder(zin, widths[::-1], shape, activation)},
                input_shapes=input_shapes, latent_dim=latent_dim, n_clusters=n_clusters,
                pretrain_epochs=pretrain_epochs, deterministic=deterministic)
