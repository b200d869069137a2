"""MoCoGAN-HD's multiscale PatchGAN discriminators; the video discriminator D_3d.

Reference: snap-research/MoCoGAN-HD ``models/D_3d.py`` (3-D) and ``models/D.py`` (2-D), both
pix2pixHD-style ``MultiscaleDiscriminator``/``NLayerDiscriminator`` with intermediate features,
reimplemented (the paper's Tab. 6). Layers, initialisation and module names match, so
official checkpoints (``module.`` prefix stripped) load with ``strict=True``.

InstanceNorm is ``affine=False, track_running_stats=True``: keep the module in training mode,
as the official training does (in eval mode the running statistics would be used instead of
each instance's). Layer table and module names: docs/official-code.md, *Video discriminator*
and *In-domain image discriminator*.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class MultiscalePatchGAN(nn.Module):
    """Two-scale (by default) PatchGAN over 2-D images or 3-D clips (``dims`` 2 or 3).

    Input [B, C, H, W] or [B, C, T, H, W]. ``forward`` returns each scale's last output,
    full resolution first; with ``return_features=True`` every layer's output per scale.
    ``n_frames`` > 16 makes the 3-D scale pooling stride 2 in time as well.
    """

    def __init__(self, in_channels: int, dims: int = 3, ndf: int = 64, ndf_max: int = 64,
                 n_layers: int = 3, num_scales: int = 2, n_frames: int = 16,
                 generator: torch.Generator | None = None):
        super().__init__()
        if dims not in (2, 3):
            raise ValueError(f"dims must be 2 or 3, got {dims}")
        self.in_channels, self.dims = in_channels, dims
        self.n_layers, self.num_scales = n_layers, num_scales
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        norm = nn.InstanceNorm3d if dims == 3 else nn.InstanceNorm2d
        for i in range(num_scales):
            nf = min(ndf_max, ndf * 2 ** (num_scales - 1 - i))
            layers = [[conv(in_channels, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True)]]
            for _ in range(1, n_layers):
                nf_prev, nf = nf, min(2 * nf, 512)
                layers.append([conv(nf_prev, nf, 4, stride=2, padding=2),
                               norm(nf, affine=False, track_running_stats=True),
                               nn.LeakyReLU(0.2, True)])
            nf_prev, nf = nf, min(2 * nf, 512)
            layers.append([conv(nf_prev, nf, 4, stride=1, padding=2),
                           norm(nf, affine=False, track_running_stats=True),
                           nn.LeakyReLU(0.2, True)])
            layers.append([conv(nf, 1, 4, stride=1, padding=2)])
            for j, layer in enumerate(layers):
                setattr(self, f"scale{i}_layer{j}", nn.Sequential(*layer))
        if dims == 3:
            stride = 2 if n_frames > 16 else (1, 2, 2)
            self.downsample = nn.AvgPool3d(3, stride=stride, padding=1, count_include_pad=False)
        else:
            self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Conv weights N(0, 0.02²); biases U(±1/√fan_in) (PyTorch's default law)."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                    nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
                    bound = 1.0 / math.sqrt(m.weight[0].numel())
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)

    def scale_layers(self, scale: int) -> list[nn.Module]:
        """Layers of scale ``scale`` (0 = most pooled, num_scales−1 = full resolution)."""
        return [getattr(self, f"scale{scale}_layer{j}") for j in range(self.n_layers + 2)]

    def forward(self, x: torch.Tensor, return_features: bool = False):
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            layout = "[B, C, T, H, W]" if self.dims == 3 else "[B, C, H, W]"
            raise ValueError(f"input must be {layout} with C = {self.in_channels}, "
                             f"got {tuple(x.shape)}")
        results = []
        for i in range(self.num_scales):
            feats, h = [], x
            for layer in self.scale_layers(self.num_scales - 1 - i):
                h = layer(h)
                feats.append(h)
            results.append(feats)
            if i != self.num_scales - 1:
                x = self.downsample(x)
        return results if return_features else [feats[-1] for feats in results]


class VideoDiscriminator(nn.Module):
    """D_3d: a 3-D :class:`MultiscalePatchGAN` held as ``netD`` (official key layout).

    In-domain: ``in_channels=6``, ``n_frames=15`` (inputs from :func:`d3d_input` with
    ``conditioned=True``); cross-domain: ``in_channels=3``, ``n_frames=16``. Output maps for
    T = 15 or 16 at 128²: (B, 1, 5, 19, 19) and (B, 1, 5, 11, 11).
    """

    def __init__(self, in_channels: int = 3, n_frames: int = 16, *, ndf: int = 64,
                 ndf_max: int = 64, n_layers: int = 3, num_scales: int = 2,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.netD = MultiscalePatchGAN(in_channels, 3, ndf, ndf_max, n_layers, num_scales,
                                       n_frames, generator)

    @classmethod
    def for_mode(cls, cross_domain: bool, n_frames_g: int = 16, **kwargs) -> VideoDiscriminator:
        """The official configuration: 6 channels / n_frames_g − 1 frames in-domain,
        3 channels / n_frames_g frames cross-domain."""
        if cross_domain:
            return cls(3, n_frames_g, **kwargs)
        return cls(6, n_frames_g - 1, **kwargs)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """x [B, C, T, H, W] → per-scale last outputs (or all features), full resolution first."""
        return self.netD(x, return_features=return_features)


def first_frame_pairs(video: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] → [B, T−1, 2C, H, W]: entry t−2 is [x_1 ; x_t] for t = 2..T."""
    if video.ndim != 5:
        raise ValueError(f"video must be [B, T, C, H, W], got {tuple(video.shape)}")
    first = video[:, :1].expand(-1, video.shape[1] - 1, -1, -1, -1)
    return torch.cat([first, video[:, 1:]], dim=2)


def d3d_input(video: torch.Tensor, conditioned: bool) -> torch.Tensor:
    """[B, T, C, H, W] frames → D_3d layout [B, C', T', H, W].

    ``conditioned`` (in-domain): C' = 2C, T' = T − 1 from :func:`first_frame_pairs`;
    otherwise (cross-domain) C' = C, T' = T.
    """
    if video.ndim != 5:
        raise ValueError(f"video must be [B, T, C, H, W], got {tuple(video.shape)}")
    x = first_frame_pairs(video) if conditioned else video
    return x.transpose(1, 2)
