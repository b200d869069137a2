"""Differentiable augmentation of the discriminator's inputs (DiffAugment).

Reference: Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training"
(NeurIPS 2020), mit-han-lab/data-efficient-gans ``DiffAugment_pytorch.py``: the same random
transform family is applied to real and generated images before the discriminator, in the
discriminator's and the generator's updates, and gradients flow through it. Implemented here
for the ``translation`` and ``cutout`` policies with their published sizes:

* ``translation``: each image shifted by integers (dy, dx), each uniform in
  [−round(H/8), round(H/8)], the uncovered border filled with 0 (mid-grey in [−1, 1]);
* ``cutout``: a square of side round(H/2) centred uniformly in the image (it may cross the
  border) set to 0.

Draws come from the caller's ``torch.Generator`` so that a resumed run repeats them.
"""
from __future__ import annotations

import torch

POLICIES = ("translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(text: str) -> tuple[str, ...]:
    """``"translation,cutout"`` → ("translation", "cutout"); ``""`` → (); unknown → ValueError."""
    names = tuple(t for t in (s.strip() for s in text.split(",")) if t)
    bad = [n for n in names if n not in POLICIES]
    if bad:
        raise ValueError(f"unknown augmentation {', '.join(bad)}; valid: {', '.join(POLICIES)}")
    return names


def _randint(lo: int, hi: int, n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(lo, hi + 1, (n,), generator=gen)


def translate(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Image i shifted down by dy[i] and right by dx[i] pixels; uncovered pixels are 0."""
    n, _, h, w = x.shape
    ys = torch.arange(h).view(1, h, 1) - dy.view(n, 1, 1)          # source row of each output row
    xs = torch.arange(w).view(1, 1, w) - dx.view(n, 1, 1)
    inside = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).to(x.device)
    ys, xs = ys.clamp(0, h - 1).to(x.device), xs.clamp(0, w - 1).to(x.device)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = x.permute(0, 2, 3, 1)[batch, ys, xs].permute(0, 3, 1, 2)
    return out * inside.unsqueeze(1).to(x.dtype)


def cutout(x: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor, side: int) -> torch.Tensor:
    """Image i with the side×side square starting at (cy[i] − side//2, cx[i] − side//2) set to 0."""
    n, _, h, w = x.shape
    y0, x0 = (cy - side // 2).view(n, 1, 1), (cx - side // 2).view(n, 1, 1)
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    hole = (ys >= y0) & (ys < y0 + side) & (xs >= x0) & (xs < x0 + side)
    return x * (~hole).unsqueeze(1).to(x.device, x.dtype)


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    """``x`` [N, C, H, W] with the policy's transforms applied in order, fresh draws per image."""
    n, _, h, w = x.shape
    for name in policy:
        if name == "translation":
            sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
            x = translate(x, _randint(-sy, sy, n, gen), _randint(-sx, sx, n, gen))
        elif name == "cutout":
            side = int(h * CUTOUT_RATIO + 0.5)
            x = cutout(x, _randint(0, h - 1, n, gen), _randint(0, w - 1, n, gen), side)
    return x
