"""MoCoGAN-HD's cross-domain augmentation ``warp`` and the D_3d time flip.

Reference: snap-research/MoCoGAN-HD ``train_func_cross_domain.py`` (``warp``,
``warp_with_cutout_real``, ``warp_with_flip``, ``warp_with_color``, ``warp_with_affine``,
``flip_video``), reimplemented (docs/official-code.md, *Cross-domain augmentation* and
*Video discriminator*). Frames are in [-1, 1]. Scope of the match: the distributions, the
rounding (Python ``round``, half to even) and the order of operations; random numbers come from
a ``torch.Generator`` instead of Python's ``random`` and torch's global RNG, so the draws
themselves differ. Every operation is differentiable (the generator step back-propagates through
``warp``).

``warp``, per sample:
1. cutout, always: ratio r ~ U(0.125, 0.25); a band (top, bottom, left, right; width 0.25)
   ~ U{4}; start fractions drawn inside the band; pixel start round(f·(H−1) − 0.5);
   side round(H·r − 0.5); the square is set to 0;
2. then one of (uniformly): horizontal flip with p 0.5; a colour shift c ~ U(−0.5, 0.5) added
   to all channels (p 1/4) or one of R, G, B (p 1/4 each); an affine warp θ ~ U(−π, π),
   t ~ U(−0.1, 0.1)², s ~ U(0.95, 1.05), bilinear ``grid_sample`` with reflection padding,
   ``align_corners=False``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vidbench.models.rng import randint, uniform

CUTOUT_MAX_RATIO = 0.25


def draw_cutout(h: int, w: int, generator: torch.Generator,
                max_ratio: float = CUTOUT_MAX_RATIO) -> tuple[int, int, int]:
    """Draw one cutout square: (row start, column start, side) in pixels."""
    ratio = uniform(max_ratio / 2, max_ratio, generator)
    band = randint(4, generator)
    if band == 0:      # top
        h_start = uniform(0, max_ratio - ratio, generator)
        w_start = uniform(0, 1 - max_ratio, generator)
    elif band == 1:    # bottom
        h_start = uniform(1 - max_ratio, 1 - ratio, generator)
        w_start = uniform(0, 1 - max_ratio, generator)
    elif band == 2:    # left
        w_start = uniform(0, max_ratio - ratio, generator)
        h_start = uniform(0, 1 - max_ratio, generator)
    else:              # right
        w_start = uniform(1 - max_ratio, 1 - ratio, generator)
        h_start = uniform(0, 1 - max_ratio, generator)
    return cutout_pixels(h, w, ratio, h_start, w_start)


def cutout_pixels(h: int, w: int, ratio: float, h_start: float,
                  w_start: float) -> tuple[int, int, int]:
    """Fractions → pixels: (round(h_start·(H−1) − 0.5), round(w_start·(W−1) − 0.5),
    round(H·ratio − 0.5)), Python ``round`` (half to even), as the reference."""
    return round(h_start * (h - 1) - 0.5), round(w_start * (w - 1) - 0.5), round(h * ratio - 0.5)


def cutout(x: torch.Tensor, top: int, left: int, side: int) -> torch.Tensor:
    """Zero the square [top:top+side, left:left+side] of every channel of ``x`` [C, H, W]."""
    mask = torch.ones_like(x)
    mask[:, top:top + side, left:left + side] = 0
    return x * mask


def color_shift(x: torch.Tensor, shift: float, channel: int | None) -> torch.Tensor:
    """Add ``shift`` to every channel of ``x`` [C, H, W] (``channel=None``) or to one."""
    if channel is None:
        return x + shift
    offset = torch.zeros_like(x)
    offset[channel] = shift
    return x + offset


def affine(x: torch.Tensor, angle: float, tx: float, ty: float, scale: float) -> torch.Tensor:
    """Warp ``x`` [C, H, W] with [[s·cosθ, −s·sinθ, tx], [s·sinθ, s·cosθ, ty]] (normalised
    coordinates; bilinear, reflection padding, align_corners=False)."""
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    theta = torch.tensor([[[c, -s, tx], [s, c, ty]]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    out = F.grid_sample(x[None], grid, mode="bilinear", padding_mode="reflection",
                        align_corners=False)
    return out[0]


def _one_of(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    choice = randint(3, generator)
    if choice == 0:
        return torch.flip(x, [-1]) if randint(2, generator) == 1 else x
    if choice == 1:
        shift = uniform(-0.5, 0.5, generator)
        target = randint(4, generator)
        return color_shift(x, shift, None if target == 0 else target - 1)
    angle = uniform(-math.pi, math.pi, generator)
    tx = uniform(-0.1, 0.1, generator)
    ty = uniform(-0.1, 0.1, generator)
    scale = uniform(0.95, 1.05, generator)
    return affine(x, angle, tx, ty, scale)


def warp(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The cross-domain augmentation of frames ``x`` [B, C, H, W] (see the module docstring).

    Draw order, as in the reference: the cutouts of all samples first, then each sample's
    second operation.
    """
    if x.ndim != 4:
        raise ValueError(f"warp expects frames [B, C, H, W], got {tuple(x.shape)}")
    _, _, h, w = x.shape
    cut = [cutout(x[i], *draw_cutout(h, w, generator)) for i in range(x.shape[0])]
    return torch.stack([_one_of(frame, generator) for frame in cut])


def flip_time(video: torch.Tensor, generator: torch.Generator, dim: int = 2) -> torch.Tensor:
    """Reverse the whole batch along time (``dim``; 2 in the D_3d layout [B, C, T, H, W])
    with probability 0.5 (one draw for the batch)."""
    return torch.flip(video, [dim]) if randint(2, generator) == 0 else video
