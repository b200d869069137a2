"""A random-weights VGG16 file in torchvision's state-dict format, and an independent
layer-by-layer VGG16 forward written with ``torch.nn.functional`` from the state dict alone."""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

FILENAME = "vgg16-397923af.pth"
CONVS_PER_BLOCK = (2, 2, 3, 3, 3)
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)   # in torchvision's features


def torchvision_shapes() -> dict[str, tuple[int, ...]]:
    """Key -> shape of torchvision's VGG16 state dict, written out by hand."""
    shapes, cin = {}, 3
    widths = (64, 128, 256, 512, 512)
    k = 0
    for convs, width in zip(CONVS_PER_BLOCK, widths):
        for _ in range(convs):
            idx = CONV_INDICES[k]
            shapes[f"features.{idx}.weight"] = (width, cin, 3, 3)
            shapes[f"features.{idx}.bias"] = (width,)
            cin, k = width, k + 1
    for idx, (o, i) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        shapes[f"classifier.{idx}.weight"] = (o, i)
        shapes[f"classifier.{idx}.bias"] = (o,)
    return shapes


def write_random_vgg16(path: Path, seed: int = 0, random_convs: int = 9) -> Path:
    """Save a torchvision-format VGG16 state dict: the first ``random_convs`` convolutions
    He-normal random (biases small random), every other tensor a stride-0 expanded scalar
    (right shape, a few bytes on disk). A symlink at ``path`` is replaced, never written
    through."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    random_keys = {f"features.{i}.{p}" for i in CONV_INDICES[:random_convs]
                   for p in ("weight", "bias")}
    for key, shape in torchvision_shapes().items():
        if key in random_keys and key.endswith("weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
        elif key in random_keys:
            state[key] = torch.randn(shape, generator=gen) * 0.1
        else:
            state[key] = torch.full((), 0.01).expand(shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        os.unlink(path)
    torch.save(state, path)
    return path


def manual_vgg16(state: dict[str, torch.Tensor], images: torch.Tensor,
                 upto: str | None = None) -> dict[str, torch.Tensor]:
    """Every named activation (conv*_*, relu*_*, pool*) of [-1, 1] images, by hand, up to
    the layer ``upto`` (default: all)."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = ((images + 1) / 2 - mean) / std
    out, k = {}, 0
    for block, convs in enumerate(CONVS_PER_BLOCK, start=1):
        for j in range(1, convs + 1):
            idx = CONV_INDICES[k]
            x = F.conv2d(x, state[f"features.{idx}.weight"], state[f"features.{idx}.bias"],
                         padding=1)
            out[f"conv{block}_{j}"] = x
            x = torch.clamp(x, min=0)
            out[f"relu{block}_{j}"] = x
            k += 1
            if upto in out:
                return out
        if x.shape[-1] < 2:
            break
        x = F.max_pool2d(x, 2)
        out[f"pool{block}"] = x
    return out
