"""VGG16 feature extractor for the perceptual term of GAN inversion.

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015), as built by ``torchvision.models.vgg16`` and trained on ImageNet
(the published file ``vgg16-397923af.pth``; docs/protocols.md, *Weight files*). The
perceptual loss follows Abdal et al., "Image2StyleGAN" (ICCV 2019): features of conv1_1,
conv1_2, conv3_2 and conv4_2, each compared by the mean squared difference over its elements
and summed over layers
(L_percept = sum_j 1/N_j ||F_j(a) - F_j(b)||^2). Image2StyleGAN took its VGG16 from Keras, whose
``blockK_convJ`` layers include their ReLU, so its layers are our ``reluK_J`` outputs
(:data:`IMAGE2STYLEGAN_LAYERS`); the pre-activation outputs are available as ``convK_J``.

Scope of the match: torchvision's architecture and parameter names, so that the published
state dict (``features.*`` and ``classifier.*``) is checked key by key and shape by shape and
the ``features`` part is loaded with ``strict=True``; ImageNet input normalisation
(mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225 on [0, 1] RGB). Only the convolutional
layers up to the deepest one requested are kept. Input images are [-1, 1] RGB, fed at their
own size (no resize). The network is built on the meta device and materialised without the
classifier, so the 400 MB fully connected part is never allocated.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.state_io import load_strict, read_state_dict
from vidbench.utils.errors import BadInputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE2STYLEGAN_LAYERS = ("relu1_1", "relu1_2", "relu3_2", "relu4_2")
WEIGHTS_NAME = "vgg16"   # vidbench.models.weights registry entry (torchvision's vgg16-397923af.pth)
_CONFIG = (2, 2, 3, 3, 3)  # convolutions per block of VGG16


def layer_names() -> list[str]:
    """Names of ``torchvision.models.vgg16().features[i]`` in order: conv1_1, relu1_1, …,
    pool1, conv2_1, …, pool5 (31 names)."""
    names = []
    for block, convs in enumerate(_CONFIG, start=1):
        for j in range(1, convs + 1):
            names += [f"conv{block}_{j}", f"relu{block}_{j}"]
        names.append(f"pool{block}")
    return names


def _torchvision_vgg16_on_meta() -> nn.Module:
    import torchvision

    with torch.device("meta"):
        return torchvision.models.vgg16(weights=None)


def check_vgg16_state(state: Mapping[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Raise :class:`BadInputError` unless ``state`` has exactly torchvision VGG16's keys
    and shapes (``features.*`` and ``classifier.*``)."""
    reference = _torchvision_vgg16_on_meta().state_dict()
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    shapes = sorted(f"{k} {tuple(state[k].shape)} != {tuple(reference[k].shape)}"
                    for k in set(reference) & set(state) if state[k].shape != reference[k].shape)
    if missing or unexpected or shapes:
        parts = [f"{len(v)} {what}: {', '.join(v[:8])}{' …' if len(v) > 8 else ''}"
                 for what, v in (("missing keys", missing), ("unexpected keys", unexpected),
                                 ("shape mismatches (file != torchvision)", shapes)) if v]
        raise BadInputError(path, "not a torchvision VGG16 state dict: " + "; ".join(parts))


class VGG16Features(nn.Module):
    """Named VGG16 activations of [-1, 1] images.

    Weights: drawn from ``generator`` (He normal, as torchvision initialises) when one is
    given, zeros otherwise (placeholders for :func:`load_vgg16` /
    :meth:`load_torchvision_state`, which load the published ones).

    ``layers``: names from :func:`layer_names` (default Image2StyleGAN's). The module is
    frozen (eval mode, no parameter gradients); gradients flow to the input.
    """

    def __init__(self, layers: Sequence[str] = IMAGE2STYLEGAN_LAYERS, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        names = layer_names()
        layers = tuple(layers)
        unknown = [n for n in layers if n not in names]
        if not layers or unknown or len(set(layers)) != len(layers):
            raise ValueError(f"layers must be distinct names among {', '.join(names)}; "
                             f"got {list(layers)}")
        self.layers = layers
        self.weights_file: dict[str, str] | None = None   # set by load_vgg16: path, sha256
        self.index = {n: names.index(n) for n in layers}
        depth = max(self.index.values()) + 1
        self.features = _torchvision_vgg16_on_meta().features[:depth].to_empty(device="cpu")
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # a captured conv output must not be overwritten
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)
        self.reset_parameters(generator)
        self.eval().requires_grad_(False)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """torchvision's initialisation, conv weights N(0, 2 / fan_out) and biases 0, drawn
        from ``generator``; without one, every parameter is set to 0."""
        with torch.no_grad():
            for m in self.features:
                if isinstance(m, nn.Conv2d):
                    m.bias.zero_()
                    if generator is None:
                        m.weight.zero_()
                        continue
                    fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                    m.weight.copy_(torch.randn(m.weight.shape, generator=generator)
                                   * (2.0 / fan_out) ** 0.5)

    def load_torchvision_state(self, state: Mapping[str, torch.Tensor],
                               path: str | os.PathLike) -> None:
        """Check a full torchvision VGG16 state dict and load the kept ``features`` layers
        strictly."""
        check_vgg16_state(state, path)
        own = {f"features.{k}" for k in self.features.state_dict()}
        sub = {k[len("features."):]: v for k, v in state.items() if k in own}
        load_strict(self.features, sub, path, f"torchvision VGG16 features[:{len(self.features)}]")

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] RGB → ImageNet-normalised input."""
        return ((images + 1.0) / 2.0 - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``images`` float [N, 3, H, W] in [-1, 1] → {layer name: activation [N, C, h, w]}."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be [N, 3, H, W], got {tuple(images.shape)}")
        x = self.normalise(images)
        wanted = {i: n for n, i in self.index.items()}
        out = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
        return {n: out[n] for n in self.layers}

    def distance(self, a: torch.Tensor | Mapping[str, torch.Tensor],
                 b: torch.Tensor | Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Image2StyleGAN's perceptual loss per image, [N]: the sum over layers of the mean
        squared feature difference. ``a``/``b`` are images or feature dicts from ``forward``."""
        fa = a if isinstance(a, Mapping) else self(a)
        fb = b if isinstance(b, Mapping) else self(b)
        return sum(F.mse_loss(fa[n], fb[n], reduction="none").flatten(1).mean(1)
                   for n in self.layers)


def load_vgg16(layers: Sequence[str] = IMAGE2STYLEGAN_LAYERS,
               path: str | os.PathLike | None = None) -> VGG16Features:
    """The published torchvision VGG16 (``vgg16-397923af.pth``) as a :class:`VGG16Features`.

    ``path`` defaults to the registry file in ``$VIDBENCH_HOME/weights``; a missing file raises
    :class:`vidbench.utils.errors.MissingWeightsError` naming the file and how to install it. The file
    is read with ``torch.load(weights_only=True)``; every key and shape is checked. The file's
    path and sha256 are kept in ``weights_file`` (the registry has no published hash for it;
    torchvision's name carries the first 8 hex digits of its sha256, ``397923af``).
    """
    if path is None:
        from vidbench.models.weights import weight_path

        path = weight_path(WEIGHTS_NAME)
    from vidbench.utils.hashing import sha256_file

    state = read_state_dict(path)
    net = VGG16Features(layers)
    net.load_torchvision_state(state, path)
    net.weights_file = {"path": str(path), "sha256": sha256_file(path)}
    return net


__all__ = ["VGG16Features", "load_vgg16", "layer_names", "check_vgg16_state",
           "IMAGE2STYLEGAN_LAYERS", "IMAGENET_MEAN", "IMAGENET_STD", "WEIGHTS_NAME"]
