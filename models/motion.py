"""MoCoGAN-HD motion generator G_M: an LSTM that walks a latent code along PCA directions.

Reference: Tian et al., "A Good Image Generator Is What You Need for High-Resolution Video
Synthesis" (ICLR 2021), Eqns. 1-3; official code snap-research/MoCoGAN-HD ``models/rnn.py``
(``RNNModule``), reimplemented. Parameter names and shapes match, so official ``modelR_*.pth``
state dicts load with ``strict=True``.

The PCA basis is set with :meth:`MotionGenerator.set_pca` and is not in the state dict (as in
the official files). ``residual=False`` is the ablation "w/o Eqn. 2". Forward pass,
initialisation and the ablation: docs/official-code.md, *Motion generator*.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import torch
from torch import nn

from vidbench.models.losses import mi_loss
from vidbench.models.rng import randn, require_generator
from vidbench.models.state_io import load_strict, read_state_dict
from vidbench.utils.errors import BadInputError

__all__ = ["MotionGenerator", "MotionOutput", "load_motion_generator", "mi_loss"]


class MotionOutput(NamedTuple):
    """What :meth:`MotionGenerator.forward` returns (all batch-first)."""

    latents: torch.Tensor    # [B, n, D]   w_1 … w_n
    eps: torch.Tensor        # [B, n-1, D] the noise fed at steps 2 … n
    eps_hat: torch.Tensor    # [B, n-1, D] the MI head's reconstruction of eps


class MotionGenerator(nn.Module):
    """G_M with official parameter names: ``enc_cell``, ``cell``, ``w``, ``b``, ``fc1``, ``fc2``.

    Keyword arguments::

        latent_dim      D, size of w and of ε (512)
        hidden_dim      LSTM hidden size (384)
        n_pca           PCA components used, n_pca <= D (384)
        residual_scale  λ of Eqn. 2 (0.2)
        residual        False: the "w/o Eqn. 2" ablation (see the module docstring)
        generator       torch.Generator for the initial weights (None: torch's global RNG)
    """

    def __init__(self, latent_dim: int = 512, hidden_dim: int = 384, n_pca: int = 384, *,
                 residual_scale: float = 0.2, residual: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        if not 0 < n_pca <= latent_dim:
            raise ValueError(f"n_pca must be in 1..{latent_dim}, got {n_pca}")
        self.latent_dim, self.hidden_dim, self.n_pca = latent_dim, hidden_dim, n_pca
        self.residual_scale, self.residual = residual_scale, residual
        self.enc_cell = nn.LSTMCell(latent_dim, hidden_dim)
        self.cell = nn.LSTMCell(latent_dim, hidden_dim)
        self.w = nn.Parameter(torch.empty(hidden_dim, n_pca))
        self.b = nn.Parameter(torch.empty(n_pca))
        self.fc1 = nn.Linear(2 * hidden_dim, latent_dim)
        self.fc2 = nn.Linear(latent_dim, latent_dim)
        self.register_buffer("pca_comp", torch.zeros(n_pca, latent_dim), persistent=False)
        self.register_buffer("pca_stdev", torch.zeros(n_pca), persistent=False)
        self.register_buffer("pca_mean", torch.zeros(latent_dim), persistent=False)
        self.has_pca = self.has_mean = False
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """As the official code: LSTM weights orthogonal per gate block (4 blocks of hidden_dim
        rows), LSTM biases 0; Linear weights orthogonal, Linear biases PyTorch's default
        U(±1/√fan_in); A ~ N(0, 0.02²); b = 0."""
        with torch.no_grad():
            for cell in (self.enc_cell, self.cell):
                for weight in (cell.weight_ih, cell.weight_hh):
                    for gate in weight.split(self.hidden_dim, dim=0):
                        nn.init.orthogonal_(gate, generator=generator)
                cell.bias_ih.zero_()
                cell.bias_hh.zero_()
            for fc in (self.fc1, self.fc2):
                nn.init.orthogonal_(fc.weight, generator=generator)
                bound = fc.in_features ** -0.5
                nn.init.uniform_(fc.bias, -bound, bound, generator=generator)
            nn.init.normal_(self.w, std=0.02, generator=generator)
            self.b.zero_()

    def set_pca(self, components: torch.Tensor, stdev: torch.Tensor,
                mean: torch.Tensor | None = None) -> None:
        """Install the PCA basis: ``components`` [>= n_pca, D] (rows = unit components sorted
        by variance, ``pca_comp.npy``), ``stdev`` [>= n_pca] (``pca_stdev.npy``); only the
        first n_pca are used. ``mean`` [D] is needed only for ``residual=False``."""
        components = torch.as_tensor(components, dtype=torch.float32)
        stdev = torch.as_tensor(stdev, dtype=torch.float32)
        if components.ndim != 2 or components.shape[1] != self.latent_dim \
                or components.shape[0] < self.n_pca:
            raise ValueError(f"components must be [>= {self.n_pca}, {self.latent_dim}], "
                             f"got {tuple(components.shape)}")
        if stdev.ndim != 1 or stdev.shape[0] < self.n_pca:
            raise ValueError(f"stdev must be [>= {self.n_pca}], got {tuple(stdev.shape)}")
        with torch.no_grad():
            self.pca_comp.copy_(components[:self.n_pca])
            self.pca_stdev.copy_(stdev[:self.n_pca])
            if mean is not None:
                self.pca_mean.copy_(torch.as_tensor(mean, dtype=torch.float32).view(-1))
        self.has_pca = True
        self.has_mean = mean is not None

    @property
    def basis(self) -> torch.Tensor:
        """B = diag(σ) V, [n_pca, D]: row k is component k scaled by its standard deviation."""
        return self.pca_comp * self.pca_stdev[:, None]

    def forward(self, w1: torch.Tensor, n_frames: int, generator: torch.Generator | None = None,
                eps: torch.Tensor | None = None) -> MotionOutput:
        """Unroll from ``w1`` [B, D] for ``n_frames`` frames.

        The per-step noise is ``eps`` [B, n_frames-1, D] when given, otherwise drawn from
        ``generator`` as one [B, n_frames-1, D] tensor. ``latents[:, 0]`` is ``w1`` itself.
        """
        if not self.has_pca:
            raise RuntimeError("MotionGenerator.set_pca() must be called before forward()")
        if not self.residual and not self.has_mean:
            raise RuntimeError("residual=False needs the PCA mean: set_pca(..., mean=...)")
        if w1.ndim != 2 or w1.shape[1] != self.latent_dim:
            raise ValueError(f"w1 must be [B, {self.latent_dim}], got {tuple(w1.shape)}")
        if n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        bsz = w1.shape[0]
        if eps is None:
            eps = randn((bsz, n_frames - 1, self.latent_dim),
                        require_generator(generator, "MotionGenerator (no eps given)"), w1.device)
        elif eps.shape != (bsz, n_frames - 1, self.latent_dim):
            raise ValueError(f"eps must be [{bsz}, {n_frames - 1}, {self.latent_dim}], "
                             f"got {tuple(eps.shape)}")
        basis = self.basis
        h, c = self.enc_cell(w1)
        latents, hs, cs = [w1], [], []
        for t in range(n_frames - 1):
            h, c = self.cell(eps[:, t], (h, c))
            coef = h @ self.w + self.b
            if self.residual:
                latents.append(latents[-1] + self.residual_scale * torch.tanh(coef) @ basis)
            else:
                latents.append(self.pca_mean + coef @ basis)
            hs.append(h)
            cs.append(c)
        if hs:
            hc = torch.cat([torch.stack(hs, 1), torch.stack(cs, 1)], dim=2)   # [B, n-1, 2H]
            eps_hat = self.fc2(torch.relu(self.fc1(hc)))
        else:
            eps_hat = eps.new_zeros(bsz, 0, self.latent_dim)
        return MotionOutput(torch.stack(latents, 1), eps, eps_hat)

    @staticmethod
    def flatten(x: torch.Tensor) -> torch.Tensor:
        """[B, n, D] → [B·n, D] in the official batch-major order (video 0 frames 0…n-1,
        then video 1, …): the layout ``RNNModule.forward`` returns."""
        return x.reshape(-1, x.shape[-1])


def load_motion_generator(path: str | os.PathLike, components: torch.Tensor,
                          stdev: torch.Tensor, *, residual_scale: float = 0.2,
                          mean: torch.Tensor | None = None,
                          residual: bool = True) -> MotionGenerator:
    """Read a ``modelR_*.pth`` state dict (official or vidbench) strictly and install its PCA.

    Dimensions come from the file (latent_dim from ``fc2``, hidden_dim from ``enc_cell``,
    n_pca from ``w``); the PCA must be the one the file was trained with.
    """
    state = read_state_dict(path)
    try:
        hidden_dim, n_pca = state["w"].shape
        latent_dim = state["fc2.weight"].shape[0]
    except (KeyError, ValueError):
        raise BadInputError(path, "not a motion-generator state dict (no 'w' [H, n_pca] "
                                  "or 'fc2.weight')") from None
    m = MotionGenerator(latent_dim, hidden_dim, n_pca, residual_scale=residual_scale,
                        residual=residual)
    load_strict(m, state, path, f"MoCoGAN-HD motion generator (D {latent_dim}, hidden "
                                f"{hidden_dim}, n_pca {n_pca})")
    m.set_pca(components, stdev, mean=mean)
    return m
