"""StyleGAN2 training losses and the EMA generator update, as pure functions.

Reference: Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020)
and rosinality/stylegan2-pytorch ``train.py`` (``d_logistic_loss``, ``d_r1_loss``,
``g_nonsaturating_loss``, ``accumulate``), reimplemented from their definitions:

* discriminator, non-saturating logistic: mean softplus(−D(real)) + mean softplus(D(fake));
* generator, non-saturating: mean softplus(−D(fake));
* R1 (Mescheder et al. 2018): mean over the batch of ‖∇ₓ Σ D(real)‖², the squared gradient
  norm per image; the trainer applies it lazily, weighted γ/2 · k every k steps;
* EMA: p_ema ← β·p_ema + (1 − β)·p over parameters (buffers are copied), with
  β = 0.5^(batch / half-life in images) (StyleGAN2-ADA's form of rosinality's ``accum``).

Path-length regularisation is not part of vidbench (see ``vidbench.train.image``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def d_logistic_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """mean softplus(−D(real)) + mean softplus(D(fake))."""
    return F.softplus(-real_pred).mean() + F.softplus(fake_pred).mean()


def g_nonsaturating_loss(fake_pred: torch.Tensor) -> torch.Tensor:
    """mean softplus(−D(fake)) = mean −log σ(D(fake))."""
    return F.softplus(-fake_pred).mean()


def r1_penalty(real_pred: torch.Tensor, real_img: torch.Tensor) -> torch.Tensor:
    """Mean over images of the squared L2 norm of ∂ Σ D(real) / ∂ real_img.

    ``real_img`` must have ``requires_grad`` and ``real_pred`` must be computed from it; the
    graph is kept (``create_graph``) so the penalty can be back-propagated.
    """
    (grad,) = torch.autograd.grad(real_pred.sum(), real_img, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(dim=1).mean()


def ema_beta(batch: int, half_life_images: float, images_seen: int | None = None,
             rampup: float | None = None) -> float:
    """β = 0.5^(batch / h). With ``rampup`` the half-life h is capped at
    ``images_seen · rampup`` (StyleGAN2-ADA's ramp-up), so early averages do not keep the
    random initialisation."""
    h = float(half_life_images)
    if rampup is not None and images_seen is not None:
        h = min(h, images_seen * rampup)
    return 0.5 ** (batch / max(h, 1e-8))


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """p_ema ← β·p_ema + (1 − β)·p for every parameter; buffers are copied from ``model``.
    """
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p.detach(), 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)
