"""The demo's context rows as video models: an untrained motion generator and a random walk in W.

* *untrained*: MoCoGAN-HD's motion generator exactly as :func:`vidbench.train.motion.train_motion`
  initialises it (same seed stream, ``stream_seed(seed, "init")``), before any step.
* *random walk in W*: ``w_1`` drawn from the image generator (z → w), then
  ``w_t = w_{t-1} + σ · Σ_k ε_{t,k} · s_k · c_k`` where ``c_k`` are the first ``n_pca`` PCA
  components, ``s_k`` their standard deviations and ``ε ~ N(0, 1)``: a Gaussian step projected on
  the PCA basis and scaled per component, as Eqn. 2 of Tian et al. (ICLR 2021) scales the LSTM's
  output, but with no learned dynamics. The step size σ is the trained motion generator's own
  residual scale λ (its ``residual_scale``), so the walk and the model take steps of one scale.

Both plug into :class:`vidbench.sample.generate.GeneratorSource` (they are ``VideoModel`` s), so their
samples are drawn with the same per-sample seeds (w_1, ε, noise maps) as a trained model's.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from vidbench.sample.generate import VideoModel
from vidbench.utils.seeding import stream_seed


@dataclass
class _Trajectory:
    latents: torch.Tensor   # [B, n, D]


class RandomWalkMotion(nn.Module):
    """``w_t = w_{t-1} + σ · (ε_t[:n_pca] ⊙ stdev) @ components`` (module docstring)."""

    def __init__(self, components: torch.Tensor, stdev: torch.Tensor, sigma: float):
        super().__init__()
        if components.ndim != 2 or stdev.shape != components.shape[:1]:
            raise ValueError(f"components [k, D] and stdev [k] expected, got "
                             f"{tuple(components.shape)} and {tuple(stdev.shape)}")
        self.register_buffer("comp", components.float().clone())
        self.register_buffer("stdev", stdev.float().clone())
        self.sigma = float(sigma)
        self.latent_dim = int(components.shape[1])

    def forward(self, w1: torch.Tensor, n_frames: int, eps: torch.Tensor) -> _Trajectory:
        if w1.ndim != 2 or w1.shape[1] != self.latent_dim:
            raise ValueError(f"w1 must be [B, {self.latent_dim}], got {tuple(w1.shape)}")
        if eps.shape[:2] != (w1.shape[0], n_frames - 1):
            raise ValueError(f"eps must be [B, {n_frames - 1}, D], got {tuple(eps.shape)}")
        k = self.comp.shape[0]
        steps = self.sigma * (eps[..., :k] * self.stdev) @ self.comp      # [B, n-1, D]
        walk = w1[:, None] + torch.cumsum(steps, dim=1)
        return _Trajectory(torch.cat([w1[:, None], walk], dim=1))


def untrained_model(trained: VideoModel, seed: int) -> VideoModel:
    """``trained``'s image generator and PCA with its motion generator re-initialised as
    training run ``seed`` starts (no step taken)."""
    motion = copy.deepcopy(trained.motion)
    motion.reset_parameters(torch.Generator().manual_seed(stream_seed(seed, "init")))
    where = f"{trained.info['motion']['file']} (re-initialised)"
    info = {**trained.info, "motion": {"kind": "untrained", "init_seed": seed, "file": where,
                                       "constructor": trained.info.get("constructor")}}
    return VideoModel(trained.image, motion.eval(), trained.n_frames, info)


def random_walk_model(trained: VideoModel, sigma: float | None = None) -> VideoModel:
    """A random walk in W on ``trained``'s image generator and PCA basis (module docstring);
    ``sigma`` defaults to the trained motion generator's λ."""
    m = trained.motion
    sigma = float(m.residual_scale) if sigma is None else float(sigma)
    walk = RandomWalkMotion(m.pca_comp, m.pca_stdev, sigma)
    where = f"random walk in W on {trained.info['motion']['file']}"
    info = {**trained.info, "motion": {"kind": "random-walk-w", "sigma": sigma, "file": where,
                                       "n_pca": int(m.pca_comp.shape[0])}}
    return VideoModel(trained.image, walk.eval(), trained.n_frames, info)
