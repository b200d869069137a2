"""BigGAN generator in the BigGAN-PyTorch state-dict layout.

Reference: Brock et al., "Large Scale GAN Training for High Fidelity Natural Image Synthesis"
(ICLR 2019), as implemented by ajbrock/BigGAN-PyTorch (``BigGAN.py`` ``Generator``,
``layers.py``). MoCoGAN-HD's paper (§3, App. B) uses a BigGAN image generator, trained with
that code, for some FFHQ videos; its released code has none.

Two families of layout:

* BigGAN-PyTorch's own (``n_classes >= 1``): the class embedding ``shared`` (with
  ``G_shared``) or per-layer class embeddings (without), optional hierarchical z and
  self-attention blocks. :class:`BigGANConfig` holds its settings under BigGAN-PyTorch's names
  and :func:`load_biggan_pytorch` reads its ``G.pth`` / ``G_ema.pth`` strictly.
* vidbench's class-free variant (``n_classes = 0``, the constructor's default): no ``shared``;
  each conditional batch-norm takes only its z chunk. BigGAN-PyTorch never writes it.

Spectral norm is BigGAN-PyTorch's own (stored ``u{i}``/``sv{i}`` buffers, one power
iteration per forward), not ``torch.nn.utils.spectral_norm``. Configuration and state-dict
keys: docs/official-code.md, *BigGAN image generator*; how to give a file: docs/biggan.md.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.state_io import load_strict, read_state_dict
from vidbench.utils.errors import BadInputError


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
                 padding: int = 1, bias: bool = True, num_svs: int = 1, num_itrs: int = 1,
                 eps: float = 1e-12):
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, padding=padding,
                           bias=bias)
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
    """``ccbn``: batch norm without affine, then ``x·(1 + gain(y)) + bias(y)``.

    ``gain``/``bias`` are spectral-normed linears without bias over a vector ``y`` of size
    ``cond_dim`` (BigGAN-PyTorch with ``G_shared``), or with ``embedding=True`` class
    embeddings ``nn.Embedding(cond_dim = n_classes, channels)`` over class indices ``y``
    (BigGAN-PyTorch without ``G_shared``).
    """

    def __init__(self, channels: int, cond_dim: int, eps: float = 1e-5, momentum: float = 0.1,
                 sn: dict | None = None, embedding: bool = False):
        super().__init__()
        if embedding:
            self.gain: nn.Module = nn.Embedding(cond_dim, channels)
            self.bias: nn.Module = nn.Embedding(cond_dim, channels)
        else:
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

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, bn_eps: float, sn: dict,
                 embedding: bool = False):
        super().__init__()
        self.conv1 = SNConv2d(in_channels, out_channels, **sn)
        self.conv2 = SNConv2d(out_channels, out_channels, **sn)
        self.conv_sc = SNConv2d(in_channels, out_channels, kernel_size=1, padding=0, **sn)
        self.bn1 = ConditionalBN(in_channels, cond_dim, eps=bn_eps, sn=sn, embedding=embedding)
        self.bn2 = ConditionalBN(out_channels, cond_dim, eps=bn_eps, sn=sn, embedding=embedding)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.conv_sc(F.interpolate(x, scale_factor=2))


class Attention(nn.Module):
    """SAGAN self-attention block of BigGAN-PyTorch (``layers.Attention``): 1x1 SN convs
    ``theta``/``phi`` (C/8), ``g`` (C/2) and ``o`` (back to C), all without bias; ``phi`` and
    ``g`` are 2x2 max-pooled; output ``gamma·o + x`` (``gamma`` starts at 0)."""

    def __init__(self, channels: int, sn: dict):
        super().__init__()
        self.ch = channels
        self.theta = SNConv2d(channels, channels // 8, kernel_size=1, padding=0, bias=False, **sn)
        self.phi = SNConv2d(channels, channels // 8, kernel_size=1, padding=0, bias=False, **sn)
        self.g = SNConv2d(channels, channels // 2, kernel_size=1, padding=0, bias=False, **sn)
        self.o = SNConv2d(channels // 2, channels, kernel_size=1, padding=0, bias=False, **sn)
        self.gamma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        n, _, h, w = x.shape
        theta = self.theta(x).view(n, self.ch // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).view(n, self.ch // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), 2).view(n, self.ch // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)       # [n, hw, hw/4]
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(n, self.ch // 2, h, w))
        return self.gamma * o + x


class BigGANGenerator(nn.Module):
    """BigGAN generator: z [N, dim_z] (and a class input y) → images [N, 3, R, R] in [-1, 1].

    Keyword arguments (BigGAN-PyTorch names in brackets)::

        resolution    output side R, one of 32, 64, 128, 256, 512
        ch            channel width [G_ch] (96 in the paper's 128² config)
        dim_z         latent size [dim_z]; with hier rounded down to a multiple of the number
                      of slots (blocks + 1), as BigGAN-PyTorch does
        n_classes     classes [n_classes]; 0: vidbench's class-free variant (no embedding;
                      needs hier)
        shared        one shared class embedding [G_shared]; False: per-layer embeddings
                      (BigGAN-PyTorch then cannot use hier)
        shared_dim    size of the shared embedding [shared_dim]; 0: dim_z
        hier          hierarchical z: one chunk to the first linear, one per block [hier]
        attention     resolutions that get a self-attention block after their GBlock
                      [G_attn '64' → (64,); '0' → ()]
        bottom_width  side of the first feature map [bottom_width] (4)
        bn_eps        conditional batch-norm epsilon [BN_eps] (1e-5); the output batch norm
                      always uses 1e-5, as BigGAN-PyTorch (it does not pass BN_eps there)
        sn_eps        spectral-norm epsilon [SN_eps] (1e-6, as every published launch script
                      passes; train.py's default is 1e-8, the constructor's 1e-12)
        num_svs, num_itrs  singular values and power iterations [num_G_SVs, num_G_SV_itrs]
        generator     torch.Generator for the orthogonal initial weights (None: global RNG)

    ``forward(z, y)``: ``y`` is what BigGAN-PyTorch's ``forward`` takes, i.e. already embedded
    (``G.shared(classes)`` [N, shared_dim]) with ``shared``, class indices [N] without, None
    for the class-free variant; :meth:`class_input` makes it from class indices.
    """

    def __init__(self, resolution: int = 128, ch: int = 96, dim_z: int = 120, *,
                 n_classes: int = 0, shared: bool = True, shared_dim: int = 0,
                 hier: bool = True, attention: tuple[int, ...] = (), bottom_width: int = 4,
                 bn_eps: float = 1e-5, sn_eps: float = 1e-6, num_svs: int = 1,
                 num_itrs: int = 1, generator: torch.Generator | None = None):
        super().__init__()
        arch = biggan_g_arch(resolution, ch)
        if n_classes < 0:
            raise ValueError(f"n_classes must be >= 0, got {n_classes}")
        if n_classes == 0 and not hier:
            raise ValueError("the class-free variant (n_classes 0) needs hier: every block's "
                             "batch norm is conditioned on its z chunk only")
        if n_classes and not shared and hier:
            raise ValueError("hier needs a shared embedding (BigGAN-PyTorch concatenates the "
                             "z chunks to the shared class vector)")
        out_res = [bottom_width * 2 ** (i + 1) for i in range(len(arch["out_channels"]))]
        bad_attn = sorted(set(attention) - set(out_res))
        if bad_attn:
            raise ValueError(f"attention at {bad_attn}: blocks output {out_res}")
        self.resolution, self.bottom_width = resolution, bottom_width
        self.n_classes, self.hier = n_classes, hier
        self.use_shared = bool(n_classes) and shared
        self.num_slots = len(arch["in_channels"]) + 1 if hier else 1
        self.z_chunk = dim_z // self.num_slots
        if self.z_chunk < 1:
            raise ValueError(f"dim_z {dim_z} is smaller than the {self.num_slots} latent slots")
        self.dim_z = self.z_chunk * self.num_slots
        self.shared_dim = (shared_dim or dim_z) if self.use_shared else 0
        sn = {"num_svs": num_svs, "num_itrs": num_itrs, "eps": sn_eps}
        if self.use_shared:
            self.shared = nn.Embedding(n_classes, self.shared_dim)
        if not n_classes:
            cond_dim = self.z_chunk                        # class-free: the z chunk alone
        elif self.use_shared:
            cond_dim = self.shared_dim + (self.z_chunk if hier else 0)
        else:
            cond_dim = n_classes                           # per-layer class embeddings
        embedding = bool(n_classes) and not self.use_shared
        self.linear = SNLinear(self.z_chunk, arch["in_channels"][0] * bottom_width ** 2, **sn)
        blocks = []
        for cin, cout, res in zip(arch["in_channels"], arch["out_channels"], out_res):
            block: list[nn.Module] = [GBlock(cin, cout, cond_dim, bn_eps, sn, embedding)]
            if res in attention:
                block.append(Attention(cout, sn))
            blocks.append(nn.ModuleList(block))
        self.blocks = nn.ModuleList(blocks)
        c_last = arch["out_channels"][-1]
        self.output_layer = nn.Sequential(PlainBN(c_last, eps=1e-5), nn.ReLU(),
                                          SNConv2d(c_last, 3, **sn))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Orthogonal init of every conv/linear/embedding weight [G_init='ortho']; biases
        drawn from PyTorch's default law U(±1/√fan_in); SN vectors redrawn from N(0, 1)."""
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    nn.init.orthogonal_(m.weight, generator=generator)
                    if getattr(m, "bias", None) is not None:
                        bound = m.weight[0].numel() ** -0.5
                        nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                if isinstance(m, _SpectralNorm):
                    for i in range(m.num_svs):
                        u = getattr(m, f"u{i}")
                        u.copy_(torch.randn(u.shape, generator=generator))

    def class_input(self, classes: torch.Tensor) -> torch.Tensor | None:
        """The ``y`` that :meth:`forward` takes for class indices ``classes`` [N] (long):
        ``shared(classes)`` with a shared embedding, the indices themselves without, None
        for the class-free variant."""
        if not self.n_classes:
            return None
        if classes.ndim != 1 or ((classes < 0) | (classes >= self.n_classes)).any():
            raise ValueError(f"classes must be indices [N] in 0..{self.n_classes - 1}")
        return self.shared(classes) if self.use_shared else classes

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.dim_z:
            raise ValueError(f"z must be [N, {self.dim_z}], got {tuple(z.shape)}")
        if (y is None) != (self.n_classes == 0) or (y is not None and y.shape[0] != z.shape[0]):
            raise ValueError("y must be None for the class-free variant and one class input "
                             "per z otherwise (see class_input)")
        if self.hier:
            chunks = torch.split(z, self.z_chunk, dim=1)
            first = chunks[0]
            ys = [c if y is None else torch.cat([y, c], 1) for c in chunks[1:]]
        else:
            first, ys = z, [y] * len(self.blocks)
        h = self.linear(first).view(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for blocklist, yi in zip(self.blocks, ys):
            for block in blocklist:
                h = block(h, yi)
        return torch.tanh(self.output_layer(h))


@dataclass(frozen=True)
class BigGANConfig:
    """The settings of a BigGAN-PyTorch ``train.py`` run that shape its generator, under
    BigGAN-PyTorch's own names, plus ``class_index`` (vidbench: the class every frame is
    rendered with). :meth:`from_mapping` reads them from JSON (docs/biggan.md)."""

    resolution: int                  # set by train.py from the data set (imsize_dict)
    n_classes: int                   # set by train.py from the data set (nclass_dict); 1 for
                                     # a one-folder ImageFolder such as FFHQ
    G_ch: int = 64                   # channel width
    dim_z: int = 128                 # latent size (rounded to the slots with hier)
    G_shared: bool = False           # one shared class embedding (launch scripts pass it)
    shared_dim: int = 0              # its size (0: dim_z)
    hier: bool = False               # hierarchical z
    G_attn: str = "64"               # self-attention resolutions, "_"-joined; "0": none
    BN_eps: float = 1e-5             # conditional batch-norm epsilon
    SN_eps: float = 1e-8             # spectral-norm epsilon (launch scripts pass 1e-6)
    num_G_SVs: int = 1               # singular vectors per SN layer
    num_G_SV_itrs: int = 1           # power iterations per forward
    class_index: int = 0             # vidbench: the class rendered (fixed for every video)

    # BigGAN-PyTorch options that change the network or its keys; vidbench reads only these
    # values and refuses others by name.
    FIXED = {"G_param": "SN", "norm_style": "bn", "G_nl": "relu", "G_init": "ortho",
             "cross_replica": False, "mybn": False, "model": "BigGAN", "G_kernel_size": 3,
             "bottom_width": 4}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> BigGANConfig:
        """Strict: every key must be a field or one of :attr:`FIXED` at its supported value;
        ``resolution`` and ``n_classes`` are required; types are checked."""
        if not isinstance(data, Mapping):
            raise BadInputError(where, "a BigGAN config must be one JSON object")
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(names) - set(cls.FIXED))
        if unknown:
            raise BadInputError(where, f"unknown BigGAN config key(s) {', '.join(unknown)}; "
                                       f"valid: {', '.join(list(names) + list(cls.FIXED))}")
        for key, supported in cls.FIXED.items():
            if key in data and data[key] != supported:
                raise BadInputError(where, f"{key} {data[key]!r} is not supported (vidbench "
                                           f"reads BigGAN-PyTorch generators with {key} "
                                           f"{supported!r})")
        missing = [k for k in ("resolution", "n_classes") if k not in data]
        if missing:
            raise BadInputError(where, f"missing BigGAN config key(s) {', '.join(missing)} "
                                       "(train.py sets them from the data set)")
        kwargs = {}
        for key, value in data.items():
            if key in cls.FIXED:
                continue
            kind = {"int": int, "bool": bool, "float": float, "str": str}[names[key].type]
            ok = (isinstance(value, kind) and not (kind is int and isinstance(value, bool))) or \
                 (kind is float and isinstance(value, int) and not isinstance(value, bool))
            if not ok:
                raise BadInputError(where, f"{key} must be a JSON {kind.__name__}, got "
                                           f"{value!r}")
            kwargs[key] = float(value) if kind is float else value
        cfg = cls(**kwargs)
        try:
            cfg.attention()
        except ValueError:
            raise BadInputError(where, f"G_attn {cfg.G_attn!r} is not '0' or resolutions "
                                       "joined by '_' (e.g. '64' or '32_64')") from None
        if cfg.n_classes < 1:
            raise BadInputError(where, f"n_classes must be >= 1, got {cfg.n_classes}")
        if not 0 <= cfg.class_index < cfg.n_classes:
            raise BadInputError(where, f"class_index {cfg.class_index} is not in "
                                       f"0..{cfg.n_classes - 1}")
        if cfg.hier and not cfg.G_shared:
            raise BadInputError(where, "hier without G_shared: BigGAN-PyTorch cannot build "
                                       "(or train) this generator")
        return cfg

    def attention(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.G_attn.split("_") if int(r) != 0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (f"BigGAN-PyTorch generator resolution {self.resolution}, G_ch {self.G_ch}, "
                f"dim_z {self.dim_z}, n_classes {self.n_classes}, G_shared {self.G_shared}, "
                f"shared_dim {self.shared_dim}, hier {self.hier}, G_attn {self.G_attn!r}, "
                f"num_G_SVs {self.num_G_SVs}")

    def build(self, generator: torch.Generator | None = None) -> BigGANGenerator:
        return BigGANGenerator(self.resolution, self.G_ch, self.dim_z, n_classes=self.n_classes,
                               shared=self.G_shared, shared_dim=self.shared_dim, hier=self.hier,
                               attention=self.attention(), bn_eps=self.BN_eps,
                               sn_eps=self.SN_eps, num_svs=self.num_G_SVs,
                               num_itrs=self.num_G_SV_itrs, generator=generator)


BIGGAN_FILES_HINT = ("give the G.pth or G_ema.pth that BigGAN-PyTorch's train.py wrote with "
                     "these settings (not D.pth, state_dict.pth or *_optim.pth), or correct "
                     "the config (docs/biggan.md)")


def load_biggan_pytorch(path: str | os.PathLike, config: BigGANConfig, *,
                        state: Mapping[str, torch.Tensor] | None = None) -> BigGANGenerator:
    """Read a BigGAN-PyTorch ``G.pth`` / ``G_ema.pth`` (``torch.save(G.state_dict())``) into
    the network ``config`` builds, frozen (eval mode, no gradients).

    Read with ``weights_only=True`` (or take the already read ``state``); every key and shape
    must match: a mismatch raises :class:`BadInputError` naming the keys and saying what to
    give instead.
    """
    if state is None:
        state = read_state_dict(path)
    if config.resolution not in (32, 64, 128, 256, 512):
        raise BadInputError(path, f"BigGAN resolution must be one of 32, 64, 128, 256, 512, "
                                  f"got {config.resolution}")
    g = config.build()
    load_strict(g, state, path, config.describe(), hint=BIGGAN_FILES_HINT)
    return g.eval().requires_grad_(False)


def load_biggan(path: str | os.PathLike, resolution: int, ch: int = 96, dim_z: int = 120, *,
                key: str | None = None, frozen: bool = True, **kwargs) -> BigGANGenerator:
    """Read a state dict of vidbench's class-free variant (or, with ``n_classes`` etc. in
    ``kwargs``, any :class:`BigGANGenerator`), a plain state dict or ``{key: ...}``.

    Loaded with ``weights_only=True`` and ``strict=True``; a mismatch raises
    :class:`vidbench.utils.errors.BadInputError` listing the keys. ``frozen`` returns the model in
    eval mode (batch norm uses ``stored_mean``/``stored_var``) without gradients.
    """
    state = read_state_dict(path, key=key)
    g = BigGANGenerator(resolution, ch, dim_z, **kwargs)
    load_strict(g, state, path, f"BigGAN resolution {resolution}, G_ch {ch}, dim_z {dim_z}"
                                + ("" if kwargs.get("n_classes") else " (class-free variant)"))
    if frozen:
        g.eval().requires_grad_(False)
    return g
