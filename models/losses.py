"""MoCoGAN-HD losses as pure functions (docs/official-code.md, *Losses*).

Reference: snap-research/MoCoGAN-HD ``models/losses.py`` (``Relativistic_Average_LSGAN``,
``compute_gradient_penalty_T``, hinge losses), ``models/D_img.py``
(``get_cntr_loss_cross_domain``) and ``train_func_*.py`` (MI and feature-matching terms),
reimplemented. Multiscale discriminators are passed as a sequence of per-scale outputs (each
scale's *last* output only, as the official losses use).

* RaLS(a, b, y) = mean((a − mean(b) − y)²), targets 1 (real) and 0 (fake) (kept from the
  official code); ``mean(b)`` is over all elements of the other batch's map at the same scale;
  summed over scales.
* Gradient penalty: per-voxel L2 norm over dim 1 only (kept), mean((‖g‖ − 1)²), summed
  over scales, divided by the number of scales, times 10.
* InfoNCE: cosine logits / τ with the diagonal logit set to 0, not masked (kept).

Why these are kept: docs/official-code.md, *Behaviours kept or fixed*.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from vidbench.models.rng import rand, require_generator

Outputs = torch.Tensor | Sequence[torch.Tensor]


def _scales(x: Outputs) -> list[torch.Tensor]:
    return [x] if isinstance(x, torch.Tensor) else list(x)


def rals(pred: Outputs, other: Outputs, target: float) -> torch.Tensor:
    """Relativistic average LSGAN term, summed over scales: Σ_s MSE(pred_s − mean(other_s), y)."""
    preds, others = _scales(pred), _scales(other)
    if len(preds) != len(others):
        raise ValueError(f"{len(preds)} scales against {len(others)}")
    return sum(((p - o.mean() - target) ** 2).mean() for p, o in zip(preds, others))


def rals_d_loss(real: Outputs, fake: Outputs) -> torch.Tensor:
    """Discriminator loss 0.5·[RaLS(D(real), D(fake), 1) + RaLS(D(fake), D(real), 0)]."""
    return 0.5 * (rals(real, fake, 1.0) + rals(fake, real, 0.0))


def rals_g_loss(fake: Outputs, real: Outputs) -> torch.Tensor:
    """Generator loss 0.5·[RaLS(D(fake), D(real), 1) + RaLS(D(real), D(fake), 0)]."""
    return 0.5 * (rals(fake, real, 1.0) + rals(real, fake, 0.0))


def gradient_penalty(disc: Callable[[torch.Tensor], Outputs], real: torch.Tensor,
                     fake: torch.Tensor, generator: torch.Generator,
                     weight: float = 10.0) -> torch.Tensor:
    """D_3d gradient penalty at x̂ = α·real + (1 − α)·fake, α ~ U(0, 1) per sample.

    ``disc`` maps x̂ to per-scale outputs; for each scale the gradient of its output (summed,
    i.e. grad_outputs ones) w.r.t. x̂ is taken with ``create_graph=True``; its L2 norm over
    dim 1 (channels) gives a per-voxel norm; the penalty is
    weight · Σ_s mean((‖g_s‖ − 1)²) / n_scales. ``real`` and ``fake`` are detached.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ")
    alpha = rand((real.shape[0],) + (1,) * (real.ndim - 1),
                 require_generator(generator, "gradient_penalty"), real.device, real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    outs = _scales(disc(x_hat))
    total = real.new_zeros(())
    for out in outs:
        (grad,) = torch.autograd.grad(out, x_hat, grad_outputs=torch.ones_like(out),
                                      create_graph=True, retain_graph=True)
        total = total + ((grad.norm(2, dim=1) - 1) ** 2).mean()
    return total / len(outs) * weight


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean ReLU(1 − D(real)), mean ReLU(1 + D(fake)))."""
    return F.relu(1.0 - real).mean(), F.relu(1.0 + fake).mean()


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """−mean D(fake)."""
    return -fake.mean()


def feature_matching_loss(proj_fake: torch.Tensor, proj_real: torch.Tensor) -> torch.Tensor:
    """−mean_i cos(p(aug(x_t))_i, p(aug(x_1))_i) (rows compared pairwise)."""
    return -F.cosine_similarity(proj_fake, proj_real, dim=-1).mean()


def mi_loss(eps_hat: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Mutual-information loss of Eqn. 3: −mean cos(ε̂_t, ε_t) over all samples and steps,
    cosine along the last dim; ε is a constant (detached)."""
    if eps_hat.shape != eps.shape:
        raise ValueError(f"eps_hat {tuple(eps_hat.shape)} and eps {tuple(eps.shape)} differ")
    return -F.cosine_similarity(eps_hat, eps.detach(), dim=-1).mean()


def pair_cosine(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity of every row of ``a`` [N, K] with every row of ``b`` [M, K] → [N, M];
    row norms are clamped at ``eps``."""
    a = a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(eps)
    return a @ b.t()


def info_nce(p1: torch.Tensor, p2: torch.Tensor, queue: torch.Tensor,
             tau: float = 0.07) -> torch.Tensor:
    """InfoNCE of two views ``p1``, ``p2`` [B, K] against negatives ``queue`` [Q, K].

    Rows [p1; p2] (2B), columns [p1; p2; queue] (2B + Q), logits cos/τ except the diagonal
    logit, which is 0 (self-similarity stays in the denominator as e⁰); softmax over columns;
    loss = mean over i of −log P[i, i+B] and −log P[i+B, i]. The queue is detached.
    """
    if p1.shape != p2.shape or p1.ndim != 2 or queue.ndim != 2 or queue.shape[1] != p1.shape[1]:
        raise ValueError(f"bad shapes p1 {tuple(p1.shape)}, p2 {tuple(p2.shape)}, "
                         f"queue {tuple(queue.shape)}")
    b = p1.shape[0]
    sim = pair_cosine(torch.cat([p1, p2]), torch.cat([p1, p2, queue.detach()]))
    scale = torch.full_like(sim, 1.0 / tau)
    scale.fill_diagonal_(0.0)
    log_prob = torch.log_softmax(sim * scale, dim=1)
    idx = torch.arange(b, device=sim.device)
    return -(log_prob[idx, idx + b].sum() + log_prob[idx + b, idx].sum()) / (2 * b)


def contrastive_loss(real1: torch.Tensor, real2: torch.Tensor, q_real: torch.Tensor,
                     fake1: torch.Tensor, fake2: torch.Tensor, q_fake: torch.Tensor,
                     tau: float = 0.07) -> torch.Tensor:
    """L_contr = InfoNCE(real views, q_real) + InfoNCE(fake views, q_fake)."""
    return info_nce(real1, real2, q_real, tau) + info_nce(fake1, fake2, q_fake, tau)
