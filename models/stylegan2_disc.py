"""StyleGAN2 discriminator (resnet architecture) in the rosinality ``stylegan2-pytorch`` layout.

Reference: Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020),
config E/F discriminator, as implemented by rosinality/stylegan2-pytorch ``model.py``
(``Discriminator``). The architecture, names and shapes match, so the ``d`` entry of a
rosinality checkpoint loads with ``strict=True``.

By design, initial weights come from a caller's ``torch.Generator``, channel counts can be
overridden, and a batch that the stddev group does not divide raises a ``ValueError``. Layers
and differences: docs/official-code.md, *StyleGAN2 discriminator*.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.stylegan2 import stylegan2_channels
from vidbench.models.stylegan2_layers import EqualLinear, FIRFilter, FusedLeakyReLU


class EqualConv2d(nn.Module):
    """Conv2d with equalised learning rate: weight N(0, 1), scaled by 1/√(C_in·k²) when run."""

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channel, in_channel, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channel)) if bias else None
        self.scale = 1.0 / math.sqrt(in_channel * kernel_size ** 2)
        self.stride, self.padding = stride, padding
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.weight.copy_(torch.randn(self.weight.shape, generator=generator))
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride,
                        padding=self.padding)


class ConvLayer(nn.Sequential):
    """[blur] → EqualConv2d → [fused leaky ReLU] as ``nn.Sequential`` (keys ``0.``, ``1.``, …).

    With ``downsample`` the blur pads by ``p = (len(taps) − 2) + (k − 1)`` split
    ``((p+1)//2, p//2)`` and the conv has stride 2 and no padding; otherwise the conv pads
    ``k // 2``. An activated layer carries its bias in the activation, not the conv.
    """

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int,
                 downsample: bool = False, blur_kernel: Sequence[int] = (1, 3, 3, 1),
                 bias: bool = True, activate: bool = True):
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(FIRFilter(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_channel, out_channel, kernel_size, stride=stride,
                                  padding=padding, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channel))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Residual downsampling block: (conv2(conv1(x)) + skip(x)) / √2, halving the side."""

    def __init__(self, in_channel: int, out_channel: int,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1)):
        super().__init__()
        self.conv1 = ConvLayer(in_channel, in_channel, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channel, out_channel, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_channel, out_channel, 1, downsample=True, activate=False,
                              bias=False, blur_kernel=blur_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, num_features: int = 1) -> torch.Tensor:
    """Append the minibatch standard deviation channel(s) to ``x`` [N, C, H, W].

    Samples ``i, i + N/G, i + 2N/G, …`` form a group of G = min(group_size, N); within it the
    (biased) std of every feature is taken, averaged over channels (per feature split) and
    pixels, and broadcast back to every member as ``num_features`` extra channels.
    """
    n, c, h, w = x.shape
    group = min(n, group_size)
    if n % group:
        raise ValueError(f"minibatch stddev: batch {n} is not divisible by the group size {group}")
    if c % num_features:
        raise ValueError(f"minibatch stddev: {c} channels do not split into {num_features} "
                         f"features")
    y = x.view(group, -1, num_features, c // num_features, h, w)
    y = torch.sqrt(y.var(0, unbiased=False) + 1e-8)          # [N/G, F, C/F, H, W]
    y = y.mean(dim=[2, 3, 4], keepdim=True).squeeze(2)        # [N/G, F, 1, 1]
    y = y.repeat(group, 1, h, w)                              # [N, F, H, W]
    return torch.cat([x, y], dim=1)


class StyleGAN2Discriminator(nn.Module):
    """StyleGAN2 resnet discriminator: images [N, 3, S, S] (about [-1, 1]) → logits [N, 1].

    Keyword arguments (defaults are the official config-F discriminator at ``size``)::

        size                input side S, a power of two >= 8
        channel_multiplier  cm of the channel table (2)
        channels            override: one int for all resolutions or {resolution: channels}
        max_channels        cap on every resolution's channels
        stddev_group        minibatch-stddev group size (4)
        generator           torch.Generator for the initial weights (None: torch's global RNG)
    """

    def __init__(self, size: int, channel_multiplier: int = 2, *,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1),
                 channels: int | Mapping[int, int] | None = None,
                 max_channels: int | None = None, stddev_group: int = 4,
                 generator: torch.Generator | None = None):
        super().__init__()
        if size < 8 or size & (size - 1):
            raise ValueError(f"StyleGAN2 discriminator size must be a power of two >= 8, "
                             f"got {size}")
        self.size = size
        self.channels = stylegan2_channels(size, channel_multiplier, channels, max_channels)
        self.stddev_group, self.stddev_feat = stddev_group, 1
        in_channel = self.channels[size]
        convs: list[nn.Module] = [ConvLayer(3, in_channel, 1)]
        for i in range(int(math.log2(size)), 2, -1):
            out_channel = self.channels[2 ** (i - 1)]
            convs.append(ResBlock(in_channel, out_channel, blur_kernel))
            in_channel = out_channel
        self.convs = nn.Sequential(*convs)
        c4 = self.channels[4]
        self.final_conv = ConvLayer(in_channel + self.stddev_feat, c4, 3)
        self.final_linear = nn.Sequential(EqualLinear(c4 * 4 * 4, c4, activation=True),
                                          EqualLinear(c4, 1))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Redraw the initial weights as the reference does (N(0, 1) weights, zero biases)."""
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters(generator)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1:] != (3, self.size, self.size):
            raise ValueError(f"discriminator expects images [N, 3, {self.size}, {self.size}], "
                             f"got {tuple(images.shape)}")
        out = minibatch_stddev(self.convs(images), self.stddev_group, self.stddev_feat)
        out = self.final_conv(out)
        return self.final_linear(out.reshape(out.shape[0], -1))
