"""StyleGAN2 generator in the rosinality ``stylegan2-pytorch`` layout, plain PyTorch.

Reference: Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020),
as implemented by rosinality/stylegan2-pytorch ``model.py`` (the copy MoCoGAN-HD ships in
``models/stylegan2/``). Scope of the match (MOCOGANHD.md §3): the generator's architecture,
parameter names and shapes, so that ``g_ema`` state dicts of published checkpoints load with
``strict=True``; the forward computation (mapping, modulated/demodulated convs, transposed-conv
upsampling + [1,3,3,1] blur, noise injection, skip ToRGBs). The CUDA ops are replaced by their
native equivalents (:mod:`models.stylegan2_ops`). Not included: the discriminator, style
mixing, truncation (MoCoGAN-HD uses neither).

Differences from the reference, by design: every random draw (initial weights, noise maps)
takes a ``torch.Generator``; channel counts can be overridden (``channels``, ``max_channels``)
so that tiny models run on a CPU; resolution is any power of two >= 8.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from models.rng import randn, require_generator
from models.state_io import load_strict, read_state_dict
from models.stylegan2_ops import fused_leaky_relu, make_kernel, upfirdn2d

NoiseSpec = str | Sequence[torch.Tensor | None]
"""``"none"`` (no noise term), ``"random"`` (fresh maps per image), ``"const"`` (the stored
``noises.noise_i`` buffers) or one tensor [N or 1, 1, h, w] (or None = no noise) per layer."""


def _normal(shape: Sequence[int], generator: torch.Generator | None) -> torch.Tensor:
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
            self.weight.copy_(_normal(self.weight.shape, generator) / self.lr_mul)
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
            self.weight.copy_(_normal(self.weight.shape, generator))

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
            self.input.copy_(_normal(self.input.shape, generator))

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


def stylegan2_channels(size: int, channel_multiplier: int = 2,
                       channels: int | Mapping[int, int] | None = None,
                       max_channels: int | None = None) -> dict[int, int]:
    """Channels per resolution 4 … size: 512 up to 32², then 16384·cm / r (rosinality's table:
    64 → 256·cm, 128 → 128·cm, …, 1024 → 16·cm). ``channels`` overrides (one int for every
    resolution, or a partial {resolution: channels} map); ``max_channels`` caps the result."""
    table = {2 ** i: (512 if 2 ** i <= 32 else max(1, 16384 * channel_multiplier // 2 ** i))
             for i in range(2, int(math.log2(size)) + 1)}
    if isinstance(channels, int):
        table = dict.fromkeys(table, channels)
    elif channels is not None:
        unknown = set(channels) - set(table)
        if unknown:
            raise ValueError(f"channels given for resolutions {sorted(unknown)} not in 4..{size}")
        table.update(channels)
    if max_channels is not None:
        table = {r: min(c, max_channels) for r, c in table.items()}
    return table


class StyleGAN2Generator(nn.Module):
    """StyleGAN2 generator: ``mapping`` z → w, ``synthesis`` w → image [N, 3, S, S] (~[-1, 1]).

    Keyword arguments (defaults are the official config-F generator at ``size``)::

        size                output side S, a power of two >= 8
        style_dim           z and w dimension (512)
        n_mlp               mapping layers (8)
        channel_multiplier  cm of the channel table (2)
        lr_mlp              mapping learning-rate multiplier (0.01)
        channels            override: one int for all resolutions or {resolution: channels}
        max_channels        cap on every resolution's channels
        generator           torch.Generator for the initial weights (None: torch's global RNG)
    """

    def __init__(self, size: int, style_dim: int = 512, n_mlp: int = 8,
                 channel_multiplier: int = 2, *, lr_mlp: float = 0.01,
                 blur_kernel: Sequence[int] = (1, 3, 3, 1),
                 channels: int | Mapping[int, int] | None = None,
                 max_channels: int | None = None, generator: torch.Generator | None = None):
        super().__init__()
        if size < 8 or size & (size - 1):
            raise ValueError(f"StyleGAN2 size must be a power of two >= 8, got {size}")
        self.size, self.style_dim = size, style_dim
        self.log_size = int(math.log2(size))
        self.channels = stylegan2_channels(size, channel_multiplier, channels, max_channels)
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation=True) for _ in range(n_mlp)])
        c4 = self.channels[4]
        self.input = ConstantInput(c4)
        self.conv1 = StyledConv(c4, c4, style_dim, blur_kernel=blur_kernel)
        self.to_rgb1 = ToRGB(c4, style_dim, upsample=False)
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        in_channel = c4
        for i in range(3, self.log_size + 1):
            out_channel = self.channels[2 ** i]
            self.convs.append(StyledConv(in_channel, out_channel, style_dim, upsample=True,
                                         blur_kernel=blur_kernel))
            self.convs.append(StyledConv(out_channel, out_channel, style_dim,
                                         blur_kernel=blur_kernel))
            self.to_rgbs.append(ToRGB(out_channel, style_dim, blur_kernel=blur_kernel))
            in_channel = out_channel
        self.num_layers = 2 * (self.log_size - 2) + 1          # noise layers
        self.n_latent = 2 * self.log_size - 2                  # latent slots
        self.noises = nn.Module()
        for i, side in enumerate(self.noise_sides()):
            self.noises.register_buffer(f"noise_{i}", torch.zeros(1, 1, side, side))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Redraw the initial weights as the reference initialises them (N(0, 1) weights and
        constant input, modulation biases 1, noise strengths and other biases 0) and the
        stored noise maps."""
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters(generator)
        with torch.no_grad():
            for buf in self.noises.buffers():
                buf.copy_(_normal(buf.shape, generator))

    def noise_sides(self) -> list[int]:
        """Side of each noise layer's map: 4, 8, 8, 16, 16, …, S, S."""
        return [2 ** ((i + 5) // 2) for i in range(self.num_layers)]

    def make_noise(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        """Fresh noise maps [n, 1, h, w], one per noise layer, drawn from ``generator``."""
        device = self.input.input.device
        return [randn((n, 1, s, s), generator, device) for s in self.noise_sides()]

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, style_dim] → w [N, style_dim] (PixelNorm + n_mlp EqualLinear/leaky ReLU)."""
        if z.ndim != 2 or z.shape[1] != self.style_dim:
            raise ValueError(f"z must be [N, {self.style_dim}], got {tuple(z.shape)}")
        return self.style(z)

    def _noise_list(self, n: int, noise: NoiseSpec,
                    generator: torch.Generator | None) -> list[torch.Tensor | None]:
        if isinstance(noise, str):
            if noise == "none":
                return [None] * self.num_layers
            if noise == "const":
                return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
            if noise == "random":
                return list(self.make_noise(n, require_generator(generator, "noise='random'")))
            raise ValueError(f"noise must be 'none', 'random', 'const' or a list, got {noise!r}")
        maps = list(noise)
        if len(maps) != self.num_layers:
            raise ValueError(f"expected {self.num_layers} noise maps, got {len(maps)}")
        return maps

    def synthesis(self, w: torch.Tensor, noise: NoiseSpec = "none",
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Render w → images [N, 3, S, S].

        ``w`` is [N, style_dim] (broadcast to every latent slot, as MoCoGAN-HD does) or
        [N, n_latent, style_dim] (one w per slot). ``noise``: see :data:`NoiseSpec`;
        ``generator`` is needed for ``noise="random"``.
        """
        if w.ndim == 2:
            w = w.unsqueeze(1).expand(-1, self.n_latent, -1)
        if w.ndim != 3 or w.shape[1:] != (self.n_latent, self.style_dim):
            raise ValueError(f"w must be [N, {self.style_dim}] or [N, {self.n_latent}, "
                             f"{self.style_dim}], got {tuple(w.shape)}")
        maps = self._noise_list(w.shape[0], noise, generator)
        out = self.conv1(self.input(w.shape[0]), w[:, 0], maps[0])
        skip = self.to_rgb1(out, w[:, 1])
        for j, to_rgb in enumerate(self.to_rgbs):
            i = 2 * j + 1
            out = self.convs[2 * j](out, w[:, i], maps[i])
            out = self.convs[2 * j + 1](out, w[:, i + 1], maps[i + 1])
            skip = to_rgb(out, w[:, i + 2], skip)
        return skip

    def forward(self, z: torch.Tensor, noise: NoiseSpec = "none",
                generator: torch.Generator | None = None) -> torch.Tensor:
        """z [N, style_dim] → images [N, 3, S, S] (mapping then synthesis)."""
        return self.synthesis(self.mapping(z), noise=noise, generator=generator)


def load_stylegan2(path: str | os.PathLike, size: int, channel_multiplier: int = 2, *,
                   style_dim: int = 512, n_mlp: int = 8, key: str = "g_ema",
                   channels: int | Mapping[int, int] | None = None,
                   max_channels: int | None = None, frozen: bool = True) -> StyleGAN2Generator:
    """Read a rosinality-layout checkpoint (``{key: state_dict}``, key ``g_ema``) strictly.

    The file is read with ``weights_only=True`` and loaded with ``strict=True``; a mismatch
    raises :class:`vidbench.errors.BadInputError` naming the file and the missing, unexpected
    or wrongly shaped keys. With ``frozen`` (the default) the generator is returned in eval
    mode with ``requires_grad=False`` everywhere (MoCoGAN-HD's G_I is frozen).
    """
    state = read_state_dict(path, key=key)
    g = StyleGAN2Generator(size, style_dim, n_mlp, channel_multiplier, channels=channels,
                           max_channels=max_channels)
    load_strict(g, state, path, f"StyleGAN2 (rosinality layout) size {size}, channel "
                                f"multiplier {channel_multiplier}, style_dim {style_dim}, "
                                f"n_mlp {n_mlp}")
    if frozen:
        g.eval().requires_grad_(False)
    return g
