"""StyleGAN2 generator in the rosinality ``stylegan2-pytorch`` layout, plain PyTorch.

Reference: Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020),
as implemented by rosinality/stylegan2-pytorch ``model.py`` (the copy MoCoGAN-HD ships in
``models/stylegan2/``). Scope of the match (docs/official-code.md, *StyleGAN2 image generator*):
the generator's architecture, parameter names and shapes, so that ``g_ema`` state dicts of
published checkpoints load with ``strict=True``; the forward computation (mapping,
modulated/demodulated convs, transposed-conv upsampling + [1,3,3,1] blur, noise injection, skip
ToRGBs). The CUDA ops are replaced by their native equivalents
(:mod:`vidbench.models.stylegan2_ops`); the blocks are in
:mod:`vidbench.models.stylegan2_layers`. Not included: the discriminator, style mixing,
truncation (MoCoGAN-HD uses neither).

Differences from the reference, by design: every random draw (initial weights, noise maps)
takes a ``torch.Generator``; channel counts can be overridden (``channels``, ``max_channels``)
so that tiny models run on a CPU; resolution is any power of two >= 8.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from vidbench.models.rng import randn, require_generator
from vidbench.models.state_io import load_strict, read_state_dict
from vidbench.models.stylegan2_layers import (ConstantInput, EqualLinear, PixelNorm, StyledConv,
                                              ToRGB, normal_weights)

NoiseSpec = str | Sequence[torch.Tensor | None]
"""``"none"`` (no noise term), ``"random"`` (fresh maps per image), ``"const"`` (the stored
``noises.noise_i`` buffers) or one tensor [N or 1, 1, h, w] (or None = no noise) per layer."""


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
                buf.copy_(normal_weights(buf.shape, generator))

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
    raises :class:`vidbench.utils.errors.BadInputError` naming the file and the missing, unexpected
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
