"""StyleGAN2's building blocks in the rosinality ``stylegan2-pytorch`` layout (``model.py``):
equalised-lr linear layers, FIR filters, modulated/demodulated convolutions, noise injection,
the constant input, fused leaky ReLU, styled convs and skip ToRGBs. Parameter names and shapes
are the reference's, so published ``g_ema`` state dicts load with ``strict=True`` into
:class:`vidbench.models.stylegan2.StyleGAN2Generator`, which assembles them; the discriminator
(:mod:`vidbench.models.stylegan2_disc`) shares the linear, filter and activation blocks. Every random
draw takes a ``torch.Generator``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.stylegan2_ops import fused_leaky_relu, make_kernel, upfirdn2d

def normal_weights(shape: Sequence[int], generator: torch.Generator | None) -> torch.Tensor:
    """N(0, 1) initial weights of ``shape`` from ``generator`` (None: torch's global RNG)."""
    return torch.randn(tuple(shape), generator=generator)


class PixelNorm(nn.Module):
    """x / sqrt(mean(x², dim 1) + 1e-8)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: y = x·(W·lr_mul/√in)ᵀ + b·lr_mul."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_dim, in_dim))
        self.bias = nn.Parameter(torch.empty(out_dim))
        self.bias_init, self.lr_mul, self.activation = bias_init, lr_mul, activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.weight.copy_(normal_weights(self.weight.shape, generator) / self.lr_mul)
            self.bias.fill_(self.bias_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class FIRFilter(nn.Module):
    """upfirdn2d with a fixed FIR kernel buffer (rosinality's ``Blur`` and ``Upsample``)."""

    def __init__(self, taps: Sequence[int], pad: tuple[int, int], up: int = 1, gain: float = 1.0):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps) * gain)
        self.pad, self.up = pad, up

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.up, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Style-modulated convolution; ``upsample`` = stride-2 transposed conv then 4x4 blur."""

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1)):
        super().__init__()
        self.in_channel, self.out_channel, self.kernel_size = in_channel, out_channel, kernel_size
        self.demodulate, self.upsample = demodulate, upsample
        self.scale = 1.0 / math.sqrt(in_channel * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.empty(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1.0)
        if upsample:
            p = (len(blur_kernel) - 2) - (kernel_size - 1)
            self.blur = FIRFilter(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), gain=4.0)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.weight.copy_(normal_weights(self.weight.shape, generator))

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        k, co = self.kernel_size, self.out_channel
        s = self.modulation(style).view(n, 1, c, 1, 1)
        weight = self.scale * self.weight * s                       # [N, Co, Ci, k, k]
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(n, co, 1, 1, 1)
        x = x.reshape(1, n * c, h, w)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(n * c, co, k, k)
            out = F.conv_transpose2d(x, weight, stride=2, padding=0, groups=n)
            return self.blur(out.view(n, co, out.shape[2], out.shape[3]))
        out = F.conv2d(x, weight.reshape(n * co, c, k, k), padding=self.padding, groups=n)
        return out.view(n, co, out.shape[2], out.shape[3])


class NoiseInjection(nn.Module):
    """out = image + weight · noise (weight is a learned scalar)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.weight.zero_()

    def forward(self, image: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return image if noise is None else image + self.weight * noise


class ConstantInput(nn.Module):
    """The learned 4x4 input, repeated over the batch."""

    def __init__(self, channel: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.empty(1, channel, size, size))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.input.copy_(normal_weights(self.input.shape, generator))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class FusedLeakyReLU(nn.Module):
    """leaky_relu(x + bias, 0.2)·√2 with a learned per-channel bias."""

    def __init__(self, channel: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channel))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias)


class StyledConv(nn.Module):
    """Modulated 3x3 conv → noise injection → fused leaky ReLU."""

    def __init__(self, in_channel: int, out_channel: int, style_dim: int, upsample: bool = False,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1)):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, 3, style_dim, upsample=upsample,
                                    blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x: torch.Tensor, style: torch.Tensor,
                noise: torch.Tensor | None) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """Modulated 1x1 conv to RGB (no demodulation) + bias, plus the upsampled skip image."""

    def __init__(self, in_channel: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1)):
        super().__init__()
        if upsample:
            p = len(blur_kernel) - 2
            self.upsample = FIRFilter(blur_kernel, pad=((p + 1) // 2 + 1, p // 2), up=2, gain=4.0)
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.bias.zero_()

    def forward(self, x: torch.Tensor, style: torch.Tensor,
                skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style) + self.bias
        return out if skip is None else out + self.upsample(skip)
