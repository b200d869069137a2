"""MoCoGAN-HD image discriminators: the in-domain pair PatchGAN and the cross-domain
contrastive BigGAN discriminator with its EMA copy and memory-bank queues.

Reference: snap-research/MoCoGAN-HD ``models/D.py`` (in-domain), ``models/D_img.py`` and
``models/BigGAN/BigGAN_D.py`` (cross-domain), reimplemented (docs/official-code.md,
*In-domain image discriminator*, *Cross-domain image discriminator*, *Losses*). Module and
buffer names follow the official state dicts (``module.`` prefix stripped):
``netD.scale{i}_layer{j}.*`` for the pair D; ``modelD.*``, ``modelD_ema.*``, ``q_real``,
``q_fake``, ``q_ptr`` for the contrastive D, whose spectral-norm layers store ``weight_orig``,
``weight_u``, ``weight_v`` (``torch.nn.utils.spectral_norm``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from vidbench.models.losses import contrastive_loss
from vidbench.models.video_disc import MultiscalePatchGAN


class PairDiscriminator(nn.Module):
    """In-domain image D: a 2-D :class:`MultiscalePatchGAN` on [x_1 ; x_t] (6 channels), held
    as ``netD``. Outputs per scale, full resolution first: 19² and 11² at 128²."""

    def __init__(self, in_channels: int = 6, *, ndf: int = 64, ndf_max: int = 64,
                 n_layers: int = 3, num_scales: int = 2, generator: torch.Generator | None = None):
        super().__init__()
        self.netD = MultiscalePatchGAN(in_channels, 2, ndf, ndf_max, n_layers, num_scales,
                                       generator=generator)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        return self.netD(x, return_features=return_features)


def image_pair(video: torch.Tensor, t: int) -> torch.Tensor:
    """[B, T, C, H, W] → [B, 2C, H, W] = [x_1 ; x_t], ``t`` a 0-based frame index (1..T−1)."""
    if video.ndim != 5 or not 0 < t < video.shape[1]:
        raise ValueError(f"need video [B, T, C, H, W] and 0 < t < T, got {tuple(video.shape)}, t={t}")
    return torch.cat([video[:, 0], video[:, t]], dim=1)


def biggan_d_arch(resolution: int, ch: int) -> dict[str, list]:
    """MoCoGAN-HD's ``D_arch`` (BigGAN D without attention) for ``resolution``."""
    table = {
        256: ([1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False]),
        128: ([1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 16], [True] * 5 + [False]),
        64: ([1, 2, 4, 8], [1, 2, 4, 8, 16], [True] * 4 + [False]),
        32: ([4, 4, 4], [4, 4, 4, 4], [True, True, False, False]),
    }
    if resolution not in table:
        raise ValueError(f"BigGAN D resolution must be one of {sorted(table)}, got {resolution}")
    ins, outs, down = table[resolution]
    return {"in_channels": [3] + [ch * m for m in ins], "out_channels": [ch * m for m in outs],
            "downsample": down}


class DBlock(nn.Module):
    """BigGAN D block: [ReLU] → SN conv3x3 → ReLU → SN conv3x3 → [AvgPool 2], + shortcut
    (SN 1x1 conv when channels change or the block pools; before the pool in
    pre-activation blocks, after it otherwise)."""

    def __init__(self, in_channels: int, out_channels: int, wide: bool, preactivation: bool,
                 downsample: bool):
        super().__init__()
        hidden = out_channels if wide else in_channels
        self.preactivation = preactivation
        self.conv1 = spectral_norm(nn.Conv2d(in_channels, hidden, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(hidden, out_channels, 3, padding=1))
        self.learnable_sc = in_channels != out_channels or downsample
        if self.learnable_sc:
            self.conv_sc = spectral_norm(nn.Conv2d(in_channels, out_channels, 1))
        self.downsample = nn.AvgPool2d(2) if downsample else None

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.preactivation:
            x = self.conv_sc(x) if self.learnable_sc else x
            return self.downsample(x) if self.downsample is not None else x
        x = self.downsample(x) if self.downsample is not None else x
        return self.conv_sc(x) if self.learnable_sc else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample is not None:
            h = self.downsample(h)
        return h + self._shortcut(x)


class BigGANDiscriminator(nn.Module):
    """Cross-domain image D: BigGAN D, no attention or class projection, SN everywhere.

    ``forward(x)`` → (logit [B, 1], proj [B, proj_dim]); ``proj_only=True`` → proj. With
    f0 = Σ_HW ReLU(h), f = ReLU(proj0(f0)): logit = linear(f), proj = proj2(ReLU(proj1(f))).
    """

    def __init__(self, resolution: int = 128, ch: int = 96, *, wide: bool = True,
                 proj_dim: int = 256, output_dim: int = 1,
                 generator: torch.Generator | None = None):
        super().__init__()
        arch = biggan_d_arch(resolution, ch)
        self.resolution = resolution
        self.blocks = nn.ModuleList(
            nn.ModuleList([DBlock(cin, cout, wide, index > 0, down)])
            for index, (cin, cout, down) in enumerate(
                zip(arch["in_channels"], arch["out_channels"], arch["downsample"])))
        c_last = arch["out_channels"][-1]
        self.proj0 = spectral_norm(nn.Linear(c_last, proj_dim))
        self.proj1 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.proj2 = spectral_norm(nn.Linear(proj_dim, proj_dim))
        self.linear = spectral_norm(nn.Linear(proj_dim, output_dim))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Orthogonal conv/linear weights (``weight_orig``); biases from PyTorch's default law
        U(±1/√fan_in); SN vectors u, v redrawn as normalised N(0, I) (torch's own law)."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.orthogonal_(m.weight_orig, generator=generator)
                    bound = m.weight_orig[0].numel() ** -0.5
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                    for name in ("weight_u", "weight_v"):
                        buf = getattr(m, name)
                        buf.copy_(F.normalize(torch.randn(buf.shape, generator=generator), dim=0))

    def forward(self, x: torch.Tensor, proj_only: bool = False):
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"input must be [B, 3, H, W], got {tuple(x.shape)}")
        h = x
        for blocklist in self.blocks:
            for block in blocklist:
                h = block(h)
        f = F.relu(self.proj0(F.relu(h).sum(dim=(2, 3))))
        proj = self.proj2(F.relu(self.proj1(f)))
        return proj if proj_only else (self.linear(f), proj)


class ContrastiveImageDiscriminator(nn.Module):
    """Cross-domain image D with EMA copy and two FIFO queues.

    Keyword arguments::

        resolution, ch   BigGAN D size (128, 96)
        proj_dim         projection size l_len (256)
        queue_size       rows of q_real / q_fake (4096)
        global_batch     all-rank batch; q_len = queue_size rounded down to a multiple of it
        momentum         EMA momentum (0.999)
        tau              InfoNCE temperature (0.07)
        generator        torch.Generator for weights and initial queues (None: global RNG)
    """

    def __init__(self, resolution: int = 128, ch: int = 96, *, proj_dim: int = 256,
                 queue_size: int = 4096, global_batch: int | None = None,
                 momentum: float = 0.999, tau: float = 0.07,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.modelD = BigGANDiscriminator(resolution, ch, proj_dim=proj_dim, generator=generator)
        self.modelD_ema = BigGANDiscriminator(resolution, ch, proj_dim=proj_dim,
                                              generator=generator)
        with torch.no_grad():
            for p, p_ema in zip(self.modelD.parameters(), self.modelD_ema.parameters()):
                p_ema.copy_(p)
        self.modelD_ema.requires_grad_(False)
        # As the official code: normalised along dim 0 (columns), not rows as MoCo does
        # (docs/official-code.md, *Queue initialisation*).
        for name in ("q_real", "q_fake"):
            q = torch.randn(queue_size, proj_dim, generator=generator)
            self.register_buffer(name, F.normalize(q, dim=0))
        self.register_buffer("q_ptr", torch.zeros(1, dtype=torch.long))
        self.q_len = queue_size if global_batch is None else queue_size // global_batch * global_batch
        if self.q_len < 1:
            raise ValueError(f"queue_size {queue_size} is smaller than the batch {global_batch}")
        self.momentum, self.tau = momentum, tau

    def forward(self, x: torch.Tensor, ema: bool = False, proj_only: bool = False):
        """(logit, proj) from the online D, or from the EMA copy with ``ema=True``."""
        return (self.modelD_ema if ema else self.modelD)(x, proj_only=proj_only)

    @torch.no_grad()
    def update_ema(self) -> None:
        """p_ema ← m·p_ema + (1 − m)·p over parameters only (SN u/v buffers are not averaged,
        as in the official code)."""
        for p, p_ema in zip(self.modelD.parameters(), self.modelD_ema.parameters()):
            p_ema.mul_(self.momentum).add_(p.detach(), alpha=1.0 - self.momentum)

    @torch.no_grad()
    def push(self, proj_real: torch.Tensor, proj_fake: torch.Tensor) -> None:
        """FIFO-write projections [N, proj_dim] (already gathered from all ranks) into the
        first q_len rows of q_real / q_fake at q_ptr; q_ptr advances by N modulo q_len."""
        n = proj_real.shape[0]
        if proj_fake.shape != proj_real.shape or n > self.q_len:
            raise ValueError(f"push needs two [N <= {self.q_len}, {self.q_real.shape[1]}] "
                             f"tensors, got {tuple(proj_real.shape)}, {tuple(proj_fake.shape)}")
        ptr = int(self.q_ptr)
        rows = (ptr + torch.arange(n, device=self.q_real.device)) % self.q_len
        self.q_real[rows] = proj_real.to(self.q_real.dtype)
        self.q_fake[rows] = proj_fake.to(self.q_fake.dtype)
        self.q_ptr[0] = (ptr + n) % self.q_len

    def contrastive_loss(self, real1: torch.Tensor, real2: torch.Tensor, fake1: torch.Tensor,
                         fake2: torch.Tensor) -> torch.Tensor:
        """L_contr from the projections of two augmentations of x_1 and of x_t."""
        return contrastive_loss(real1, real2, self.q_real[:self.q_len], fake1, fake2,
                                self.q_fake[:self.q_len], self.tau)
