"""The losses of one MoCoGAN-HD generator step and one discriminator step (Eqns. 3-7).

Reference: snap-research/MoCoGAN-HD ``train_func_in_domain.py`` and
``train_func_cross_domain.py`` (``G_step``, ``D_step``), reimplemented over the pure loss
functions of :mod:`vidbench.models.losses` (docs/official-code.md, *Losses*).

Inputs are frames [B, T, 3, S, S] in [−1, 1] at the discriminator size (fakes already
box-pooled). Terms are returned unweighted; the totals apply the weights of
:class:`vidbench.train.motion_config.LossConfig`. Every random draw comes from the
``generator`` argument, in the order each function's docstring states.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from vidbench.models.augment import flip_time, warp
from vidbench.models.image_disc import ContrastiveImageDiscriminator, image_pair
from vidbench.models.losses import (feature_matching_loss, gradient_penalty, hinge_d_loss,
                                    hinge_g_loss, info_nce, mi_loss, rals_d_loss, rals_g_loss)
from vidbench.models.motion import MotionOutput
from vidbench.models.rng import randint
from vidbench.models.video_disc import VideoDiscriminator, d3d_input
from vidbench.train.motion_config import LossConfig


@dataclass(frozen=True)
class LossSetup:
    """Which losses a run computes."""

    mode: str                 # in-domain | cross-domain
    variant: str              # official | paper-contrastive (in-domain image D)
    loss: LossConfig

    @property
    def conditioned(self) -> bool:
        """D_3d sees [x_1; x_t] pairs (in-domain)."""
        return self.mode == "in-domain"

    @property
    def contrastive_image(self) -> bool:
        """The image D is the contrastive BigGAN D."""
        return self.mode == "cross-domain" or self.variant == "paper-contrastive"


class StepLosses(NamedTuple):
    total: torch.Tensor                                  # weighted sum to back-propagate
    terms: dict[str, torch.Tensor]                       # unweighted terms
    push: tuple[torch.Tensor, torch.Tensor] | None       # EMA projections for the queues


def _draw_t(n_frames: int, generator: torch.Generator) -> int:
    return 1 + randint(n_frames - 1, generator)


def video_terms(disc: VideoDiscriminator, real: torch.Tensor, fake: torch.Tensor,
                setup: LossSetup, generator: torch.Generator) -> tuple[list, list]:
    """D_3d outputs on the time-flipped real and fake batches (flip real first); with
    ``video_response="averaged"`` each sample's patch responses are averaged first."""
    real_in = flip_time(d3d_input(real, setup.conditioned), generator)
    fake_in = flip_time(d3d_input(fake, setup.conditioned), generator)
    outs = disc(real_in), disc(fake_in)
    if setup.loss.video_response == "averaged":
        outs = tuple([o.flatten(1).mean(1) for o in scales] for scales in outs)
    return outs


def g_losses(setup: LossSetup, video_disc: VideoDiscriminator | None,
             image_disc: nn.Module | None, real: torch.Tensor, fake: torch.Tensor,
             motion_out: MotionOutput, generator: torch.Generator) -> StepLosses:
    """Losses of one motion-generator step (the discriminators should be frozen).

    * Official in-domain image D: ``w_video·L_3d + w_image·L_2d + w_mi·L_mi`` with RaLS G
      losses on D_3d ([x_1; x_t] conditioned, 15 frames) and on the pair D ([x_1; x_t], one t).
    * Contrastive image D (cross-domain; in-domain ``paper-contrastive``):
      ``w_video·L_3d + w_image·(−mean D(aug x_t)) + w_match·L_fm + w_mi·L_mi``, with
      L_fm = −mean cos(p(aug x_t), p(aug x_1)) from the online D; cross-domain also returns the
      EMA-D projections of the same augmented frames, to be pushed into the queues
      (docs/official-code.md, *Queues filled in generator steps*).

    Random draws, in this order (a term that is off draws nothing): the D_3d time flip of the
    real batch, then of the fake batch; t (1..T−1); ``warp`` of x_t, then of x_1 (contrastive
    image D).
    """
    cfg, terms, push = setup.loss, {}, None
    total = fake.new_zeros(())
    if cfg.video_disc:
        d_real, d_fake = video_terms(video_disc, real, fake, setup, generator)
        terms["video"] = rals_g_loss(d_fake, d_real)
        total = total + cfg.w_video * terms["video"]
    if cfg.image_disc:
        t = _draw_t(fake.shape[1], generator)
        if setup.contrastive_image:
            aug_t, aug_1 = warp(fake[:, t], generator), warp(fake[:, 0], generator)
            if setup.mode == "cross-domain" and cfg.contrastive:
                with torch.no_grad():
                    push = (image_disc(aug_1, ema=True, proj_only=True),
                            image_disc(aug_t, ema=True, proj_only=True))
            logit_t, proj_t = image_disc(aug_t)
            _, proj_1 = image_disc(aug_1)
            terms["image"] = hinge_g_loss(logit_t)
            terms["match"] = feature_matching_loss(proj_t, proj_1)
            total = total + cfg.w_image * terms["image"] + cfg.w_match * terms["match"]
        else:
            d_fake = image_disc(image_pair(fake, t))
            d_real = image_disc(image_pair(real, t).detach())
            terms["image"] = rals_g_loss(d_fake, d_real)
            total = total + cfg.w_image * terms["image"]
    if cfg.mi:
        terms["mi"] = mi_loss(motion_out.eps_hat, motion_out.eps)
        total = total + cfg.w_mi * terms["mi"]
    terms["total"] = total
    return StepLosses(total, terms, push)


def video_d_loss(setup: LossSetup, video_disc: VideoDiscriminator, real: torch.Tensor,
                 fake: torch.Tensor, generator: torch.Generator) -> StepLosses:
    """D_3d loss ``0.5·[RaLS(real, fake, 1) + RaLS(fake, real, 0)] + GP``: RaLS on flipped
    inputs, the gradient penalty on unflipped ones.

    RaLS sees every patch of each scale's map (as the official code does);
    ``loss.video_response="averaged"`` first averages each sample's patch responses ("local
    responses are averaged", paper §3.1; the GP stays on the patch maps). Random draws, in
    this order: flip real, flip fake, GP α.
    """
    fake = fake.detach()
    d_real, d_fake = video_terms(video_disc, real, fake, setup, generator)
    adv = rals_d_loss(d_real, d_fake)
    gp = gradient_penalty(video_disc, d3d_input(real, setup.conditioned),
                          d3d_input(fake, setup.conditioned), generator,
                          weight=setup.loss.gp_weight)
    return StepLosses(adv + gp, {"video": adv, "gp": gp}, None)


def image_d_loss(setup: LossSetup, image_disc: nn.Module, real: torch.Tensor,
                 fake: torch.Tensor, generator: torch.Generator) -> StepLosses:
    """Image-D loss of the run's variant.

    * Official in-domain: the RaLS form of D_3d's loss on [x_1; x_t] pairs.
    * Cross-domain: hinge on D(aug x_1) (real) vs D(aug x_t) (fake) plus
      ``w_contrastive·L_contr`` with two augmentations of each (docs/official-code.md,
      *Contrastive diagonal logit set to zero* and *Cross-domain image D sees only generated
      frames*); negatives from ``q_real`` for the x_1 views and ``q_fake`` for the x_t views
      (as the code), or from ``q_fake`` for both with ``loss.memory_bank="fake-frames"``
      (paper App. A.2.2: EMA outputs of fake frames are the negatives).
    * In-domain ``paper-contrastive`` (paper §3.2, [inferred]): hinge on an augmented real
      frame vs an augmented generated frame, plus ``w_contrastive·InfoNCE`` of two augmented
      frames of the same real video against ``q_real``; the EMA projections of the real and
      fake frames are returned for the queues.

    Random draws, in this order: pair D: t. Cross-domain: t, warp(x_1), warp(x_1), warp(x_t),
    warp(x_t). Paper-contrastive: frame a (0..T−1), frame b ≠ a, t, warp(x_a), warp(x_b),
    warp(x_t).
    """
    cfg, fake = setup.loss, fake.detach()
    n_frames = fake.shape[1]
    if not setup.contrastive_image:
        t = _draw_t(n_frames, generator)
        loss = rals_d_loss(image_disc(image_pair(real, t)), image_disc(image_pair(fake, t)))
        return StepLosses(loss, {"image": loss}, None)
    if not isinstance(image_disc, ContrastiveImageDiscriminator):
        raise TypeError("the contrastive image loss needs a ContrastiveImageDiscriminator")
    if setup.mode == "cross-domain":
        t = _draw_t(n_frames, generator)
        views = [warp(fake[:, 0], generator), warp(fake[:, 0], generator),
                 warp(fake[:, t], generator), warp(fake[:, t], generator)]
        (lr1, pr1), (_, pr2), (lf1, pf1), (_, pf2) = [image_disc(v) for v in views]
        contr, push = None, None
        if cfg.contrastive and cfg.memory_bank == "fake-frames":   # paper App. A.2.2
            bank = image_disc.q_fake[:image_disc.q_len]
            contr = info_nce(pr1, pr2, bank, image_disc.tau) + info_nce(pf1, pf2, bank,
                                                                         image_disc.tau)
        elif cfg.contrastive:
            contr = image_disc.contrastive_loss(pr1, pr2, pf1, pf2)
    else:  # in-domain, paper-contrastive
        a = randint(n_frames, generator)
        b = (a + 1 + randint(n_frames - 1, generator)) % n_frames
        t = _draw_t(n_frames, generator)
        ra, rb, f = (warp(real[:, a], generator), warp(real[:, b], generator),
                     warp(fake[:, t], generator))
        (lr1, pr1), (_, pr2), (lf1, _) = image_disc(ra), image_disc(rb), image_disc(f)
        contr = None
        push = None
        if cfg.contrastive:
            contr = info_nce(pr1, pr2, image_disc.q_real[:image_disc.q_len], image_disc.tau)
            with torch.no_grad():
                push = (image_disc(ra, ema=True, proj_only=True),
                        image_disc(f, ema=True, proj_only=True))
    loss_real, loss_fake = hinge_d_loss(lr1, lf1)
    terms = {"image_real": loss_real, "image_fake": loss_fake}
    total = loss_real + loss_fake
    if contr is not None:
        terms["contrastive"] = contr
        total = total + cfg.w_contrastive * contr
    return StepLosses(total, terms, push)
