"""Unconditional BigGAN generator in the BigGAN-PyTorch state-dict layout.

Reference: Brock et al., "Large Scale GAN Training for High Fidelity Natural Image Synthesis"
(ICLR 2019), as implemented by ajbrock/BigGAN-PyTorch (``BigGAN.py`` ``Generator``,
``layers.py``). MoCoGAN-HD's paper (App. B) uses a BigGAN image generator for some FFHQ
videos; its released code has none.

The class embedding is removed (no ``shared``; each conditional batch-norm takes only its z
chunk). Spectral norm is BigGAN-PyTorch's own (stored ``u{i}``/``sv{i}`` buffers, one power
iteration per forward), not ``torch.nn.utils.spectral_norm``. Configuration and state-dict
keys: docs/official-code.md, *BigGAN image generator*.
"""
from __future__ import annotations

import os
import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.state_io import load_strict, read_state_dict


def biggan_g_arch(resolution: int, ch: int) -> dict[str, list[int]]:
    """BigGAN-PyTorch ``G_arch`` channels for ``resolution`` (attention omitted)."""
    mult = {32: ([4, 4, 4], [4, 4, 4]),
            64: ([16, 16, 8, 4], [16, 8, 4, 2]),
            128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1]),
            256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1]),
            512: ([16, 16, 8, 8, 4, 2, 1], [16, 8, 8, 4, 2, 1, 1])}
    if resolution not in mult:
        raise ValueError(f"BigGAN resolution must be one of {sorted(mult)}, got {resolution}")
    ins, outs = mult[resolution]
    return {"in_channels": [ch * m for m in ins], "out_channels": [ch * m for m in outs]}


class _SpectralNorm:
    """Mixin: BigGAN-PyTorch spectral norm with buffers ``u{i}`` and ``sv{i}``."""

    weight: torch.Tensor

    def _init_sn(self, num_svs: int, num_itrs: int, num_outputs: int, eps: float) -> None:
        self.num_svs, self.num_itrs, self.sn_eps = num_svs, num_itrs, eps
        for i in range(num_svs):
            self.register_buffer(f"u{i}", torch.randn(1, num_outputs))
            self.register_buffer(f"sv{i}", torch.ones(1))

    def normalized_weight(self) -> torch.Tensor:
        w_mat = self.weight.view(self.weight.shape[0], -1)
        us_stored = [getattr(self, f"u{i}") for i in range(self.num_svs)]
        for _ in range(self.num_itrs):
            us, vs, svs = [], [], []
            for i, u in enumerate(us_stored):
                with torch.no_grad():
                    v = u @ w_mat
                    for prev in vs:        # Gram-Schmidt against earlier singular vectors
                        v = v - (prev @ v.t()) * prev / (prev @ prev.t())
                    v = F.normalize(v, eps=self.sn_eps)
                    vs.append(v)
                    u = v @ w_mat.t()
                    for prev in us:
                        u = u - (prev @ u.t()) * prev / (prev @ prev.t())
                    u = F.normalize(u, eps=self.sn_eps)
                    us.append(u)
                    if self.training:
                        us_stored[i].copy_(u)
                svs.append(torch.squeeze((v @ w_mat.t()) @ u.t()))
        if self.training:
            with torch.no_grad():
                for i, sv in enumerate(svs):
                    getattr(self, f"sv{i}").fill_(sv.item())
        return self.weight / svs[0]


class SNConv2d(nn.Conv2d, _SpectralNorm):
    """Conv2d with BigGAN-PyTorch spectral norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 padding: int = 1, num_svs: int = 1, num_itrs: int = 1, eps: float = 1e-12):
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, padding=padding)
        self._init_sn(num_svs, num_itrs, out_channels, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.normalized_weight(), self.bias, self.stride, self.padding)


class SNLinear(nn.Linear, _SpectralNorm):
    """Linear with BigGAN-PyTorch spectral norm."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 num_svs: int = 1, num_itrs: int = 1, eps: float = 1e-12):
        nn.Linear.__init__(self, in_features, out_features, bias)
        self._init_sn(num_svs, num_itrs, out_features, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


class ConditionalBN(nn.Module):
    """``ccbn``: batch norm without affine, then ``x·(1 + gain(y)) + bias(y)``."""

    def __init__(self, channels: int, cond_dim: int, eps: float = 1e-5, momentum: float = 0.1,
                 sn: dict | None = None):
        super().__init__()
        self.gain = SNLinear(cond_dim, channels, bias=False, **(sn or {}))
        self.bias = SNLinear(cond_dim, channels, bias=False, **(sn or {}))
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))
        self.eps, self.momentum = eps, momentum

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        gain = (1 + self.gain(y)).view(y.shape[0], -1, 1, 1)
        bias = self.bias(y).view(y.shape[0], -1, 1, 1)
        out = F.batch_norm(x, self.stored_mean, self.stored_var, None, None, self.training,
                           self.momentum, self.eps)
        return out * gain + bias


class PlainBN(nn.Module):
    """``bn``: batch norm with learned ``gain``/``bias`` and ``stored_mean``/``stored_var``."""

    def __init__(self, channels: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))
        self.eps, self.momentum = eps, momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.stored_mean, self.stored_var, self.gain, self.bias,
                            self.training, self.momentum, self.eps)


class GBlock(nn.Module):
    """Residual up-block: ccbn→ReLU→2x nearest up→conv1→ccbn→ReLU→conv2, + 1x1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, bn_eps: float, sn: dict):
        super().__init__()
        self.conv1 = SNConv2d(in_channels, out_channels, **sn)
        self.conv2 = SNConv2d(out_channels, out_channels, **sn)
        self.conv_sc = SNConv2d(in_channels, out_channels, kernel_size=1, padding=0, **sn)
        self.bn1 = ConditionalBN(in_channels, cond_dim, eps=bn_eps, sn=sn)
        self.bn2 = ConditionalBN(out_channels, cond_dim, eps=bn_eps, sn=sn)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.conv_sc(F.interpolate(x, scale_factor=2))


class BigGANGenerator(nn.Module):
    """Unconditional hierarchical-z BigGAN generator: z [N, dim_z] → images [N, 3, R, R] in [-1, 1].

    Keyword arguments (BigGAN-PyTorch names in brackets)::

        resolution    output side R, one of 32, 64, 128, 256, 512
        ch            channel width [G_ch] (96 in the paper's 128² config)
        dim_z         latent size [dim_z]; rounded down to a multiple of the number of
                      slots (blocks + 1), as BigGAN-PyTorch does with hier=True
        bottom_width  side of the first feature map [bottom_width] (4)
        bn_eps        batch-norm epsilon [BN_eps] (1e-5)
        sn_eps        spectral-norm epsilon [SN_eps] (1e-6, as every published launch script
                      passes; the constructor's own default is 1e-12)
        num_svs, num_itrs  singular values and power iterations [num_G_SVs, num_G_SV_itrs]
        generator     torch.Generator for the orthogonal initial weights (None: global RNG)
    """

    def __init__(self, resolution: int = 128, ch: int = 96, dim_z: int = 120, *,
                 bottom_width: int = 4, bn_eps: float = 1e-5, sn_eps: float = 1e-6,
                 num_svs: int = 1, num_itrs: int = 1, generator: torch.Generator | None = None):
        super().__init__()
        arch = biggan_g_arch(resolution, ch)
        self.resolution, self.bottom_width = resolution, bottom_width
        self.num_slots = len(arch["in_channels"]) + 1
        self.z_chunk = dim_z // self.num_slots
        if self.z_chunk < 1:
            raise ValueError(f"dim_z {dim_z} is smaller than the {self.num_slots} latent slots")
        self.dim_z = self.z_chunk * self.num_slots
        sn = {"num_svs": num_svs, "num_itrs": num_itrs, "eps": sn_eps}
        self.linear = SNLinear(self.z_chunk, arch["in_channels"][0] * bottom_width ** 2, **sn)
        self.blocks = nn.ModuleList(
            nn.ModuleList([GBlock(cin, cout, self.z_chunk, bn_eps, sn)])
            for cin, cout in zip(arch["in_channels"], arch["out_channels"]))
        c_last = arch["out_channels"][-1]
        self.output_layer = nn.Sequential(PlainBN(c_last, eps=bn_eps), nn.ReLU(),
                                          SNConv2d(c_last, 3, **sn))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Orthogonal init of every conv/linear weight [G_init='ortho']; biases drawn from
        PyTorch's default law U(±1/√fan_in); SN vectors redrawn from N(0, 1)."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.orthogonal_(m.weight, generator=generator)
                    if m.bias is not None:
                        bound = m.weight[0].numel() ** -0.5
                        nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                if isinstance(m, _SpectralNorm):
                    for i in range(m.num_svs):
                        u = getattr(m, f"u{i}")
                        u.copy_(torch.randn(u.shape, generator=generator))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.dim_z:
            raise ValueError(f"z must be [N, {self.dim_z}], got {tuple(z.shape)}")
        chunks = torch.split(z, self.z_chunk, dim=1)
        h = self.linear(chunks[0]).view(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for blocklist, y in zip(self.blocks, chunks[1:]):
            for block in blocklist:
                h = block(h, y)
        return torch.tanh(self.output_layer(h))


def load_biggan(path: str | os.PathLike, resolution: int, ch: int = 96, dim_z: int = 120, *,
                key: str | None = None, frozen: bool = True, **kwargs) -> BigGANGenerator:
    """Read a BigGAN-PyTorch ``G.pth`` / ``G_ema.pth`` (a plain state dict, or ``{key: ...}``).

    Loaded with ``weights_only=True`` and ``strict=True``; a mismatch raises
    :class:`vidbench.utils.errors.BadInputError` listing the keys. ``frozen`` returns the model in
    eval mode (batch norm uses ``stored_mean``/``stored_var``) without gradients.
    """
    state = read_state_dict(path, key=key)
    g = BigGANGenerator(resolution, ch, dim_z, **kwargs)
    load_strict(g, state, path, f"unconditional BigGAN (BigGAN-PyTorch layout) resolution "
                                f"{resolution}, G_ch {ch}, dim_z {dim_z}")
    if frozen:
        g.eval().requires_grad_(False)
    return g

