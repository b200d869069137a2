"""Native PyTorch equivalents of StyleGAN2's two custom CUDA ops.

Matches the semantics of ``upfirdn2d`` and ``fused_leaky_relu`` in rosinality's
``stylegan2-pytorch`` (``op/upfirdn2d.py``, ``op/fused_act.py``; the same ops MoCoGAN-HD ships
in ``models/stylegan2/op/``), written from their definitions (docs/official-code.md,
*StyleGAN2 image generator*):

* ``upfirdn2d``: zero-insertion upsampling by ``up`` (each pixel followed by ``up - 1``
  zeros), zero padding ``pad = (before, after)`` on both spatial axes (negative values crop),
  a 2-D FIR filter applied as a true convolution (kernel flipped), then keeping every
  ``down``-th sample. Output side = (in·up + before + after − k) // down + 1.
* ``fused_leaky_relu``: ``leaky_relu(x + bias, 0.2) · √2`` with the bias broadcast over
  dim 1.

Both run on any device and are differentiable by autograd.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F


def make_kernel(taps: Sequence[float]) -> torch.Tensor:
    """Separable 2-D FIR kernel ``outer(taps, taps)`` normalised to sum 1."""
    k = torch.tensor(list(taps), dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample, pad, FIR-filter and downsample ``x`` [N, C, H, W] with a square ``kernel``."""
    if x.ndim != 4 or kernel.ndim != 2:
        raise ValueError(f"upfirdn2d expects x [N,C,H,W] and a 2-D kernel, got "
                         f"{tuple(x.shape)} and {tuple(kernel.shape)}")
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0): x.shape[2] - max(-p1, 0), max(-p0, 0): x.shape[3] - max(-p1, 0)]
    weight = torch.flip(kernel, [0, 1]).to(dtype=x.dtype, device=x.device)
    weight = weight[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor, negative_slope: float = 0.2,
                     scale: float = math.sqrt(2.0)) -> torch.Tensor:
    """``leaky_relu(x + bias, negative_slope) * scale``; ``bias`` [C] broadcasts over dim 1."""
    shape = [1, -1] + [1] * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), negative_slope) * scale
