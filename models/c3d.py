"""C3D v1.0 "deepnetA" fine-tuned on UCF-101: the classifier of the video Inception Score.

Matches ``pfnet-research/tgan2: tgan2/models/c3d/c3d_ucf101.py`` (``C3DVersion1UCF101``) and
``pfnet-research/tgan: evaluation/c3d_ft.py`` + ``evaluation/calc_inception.py``, reading
TGANv2's published Chainer files ``conv3d_deepnetA_ucf.npz`` and ``mean2.npz``.

Input: RGB clips on the 0-255 scale, float ``[B, 3, 16, H, W]``; the input mode
(:data:`INPUT_MODES`) says how frames reach 112x112 and which mean clip is subtracted.
:func:`c3d_state_dict` is strict: every key used, every shape checked. Layers, weight layout
and input modes: docs/protocols.md, *The C3D classifier*.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.safe_pickle import read_npz
from vidbench.models.weights import weight_path
from vidbench.utils.errors import BadInputError, VidbenchError

NUM_CLASSES = 101
NUM_FRAMES = 16
SIZE = 112
PRE_SIZE = 128
CROP = 8
# (name, in channels, out channels, pool after it or None)
CONVS = (
    ("conv1a", 3, 64, (1, 2, 2)), ("conv2a", 64, 128, (2, 2, 2)),
    ("conv3a", 128, 256, None), ("conv3b", 256, 256, (2, 2, 2)),
    ("conv4a", 256, 512, None), ("conv4b", 512, 512, (2, 2, 2)),
    ("conv5a", 512, 512, None), ("conv5b", 512, 512, (2, 2, 2)),
)
FCS = (("fc6", 512 * 4 * 4, 4096), ("fc7", 4096, 4096), ("fc8", 4096, NUM_CLASSES))
INPUT_MODES = ("tganv2", "mocogan-hd", "mocogan-hd-v1crop", "tgan-v1")
V1_MEAN_SHAPE = (3, 1, 16, 128, 171)
V1_MEAN_COLUMNS = (21, 21 + 128)


class C3D(nn.Module):
    """C3D deepnetA on preprocessed clips ``[B, 3, T, 112, 112]`` (BGR minus the mean clip);
    ``forward`` returns the fc8 logits, :meth:`probabilities` their softmax."""

    def __init__(self, num_classes: int = NUM_CLASSES, dropout: float = 0.5):
        super().__init__()
        for name, c_in, c_out, _ in CONVS:
            setattr(self, name, nn.Conv3d(c_in, c_out, 3, stride=1, padding=1))
        self.pools = {name: pool for name, _, _, pool in CONVS if pool is not None}
        for name, d_in, d_out in FCS:
            setattr(self, name, nn.Linear(d_in, num_classes if name == "fc8" else d_out))
        self.dropout = nn.Dropout(dropout)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """pool5 output ``[B, 512, T', 4, 4]`` (before the flatten)."""
        for name, _, _, _ in CONVS:
            x = F.relu(getattr(self, name)(x))
            if name in self.pools:
                x = F.max_pool3d(x, self.pools[name], ceil_mode=True)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_network_input(x)
        x = self.dropout(self.forward_features(x)).flatten(1)
        x = self.dropout(F.relu(self.fc6(x)))
        x = self.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.forward(x), dim=1)

    def dropout_probabilities(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``[B, R, 101]`` with the fc6 and fc7 dropout of TGAN v1's
        ``evaluation/c3d_ft.py`` active, once per mask: ``keep`` is a bool ``[B, R, 2, 4096]``
        (fc6, fc7); kept units are scaled by 1 / (1 - ratio) as Chainer's ``F.dropout`` does.
        The convolutions run once; only the fully connected head runs ``R`` times. (TGAN v1's
        C3D has no dropout after pool5.)"""
        check_network_input(x)
        runs = keep.shape[1]
        if keep.shape != (x.shape[0], runs, 2, self.fc6.out_features) or keep.dtype != torch.bool:
            raise VidbenchError(f"dropout masks must be bool [{x.shape[0]}, R, 2, "
                                f"{self.fc6.out_features}], got {keep.dtype} {list(keep.shape)}")
        scale = 1.0 / (1.0 - self.dropout.p)
        h6 = F.relu(self.fc6(self.forward_features(x).flatten(1)))           # [B, 4096]
        keep = keep.to(h6.dtype) * scale
        h6 = h6.unsqueeze(1) * keep[:, :, 0]                                  # [B, R, 4096]
        h7 = F.relu(self.fc7(h6)) * keep[:, :, 1]
        return F.softmax(self.fc8(h7), dim=-1)


def check_network_input(x: torch.Tensor) -> None:
    if x.ndim != 5 or x.shape[1] != 3 or tuple(x.shape[3:]) != (SIZE, SIZE) \
            or not x.is_floating_point():
        raise VidbenchError(f"C3D expects float [B, 3, T, {SIZE}, {SIZE}], got "
                            f"{x.dtype} {list(x.shape)}")
    if x.shape[2] != NUM_FRAMES:  # as trained; the mean clip has 16 frames
        raise VidbenchError(f"C3D needs clips of {NUM_FRAMES} frames, got {x.shape[2]}")


# ---------------------------------------------------------------------------------------
# Input preprocessing
# ---------------------------------------------------------------------------------------

def _per_frame(x: torch.Tensor, fn) -> torch.Tensor:
    """Apply ``fn`` to the frames of ``[B, C, T, H, W]`` as a ``[B*T, C, H, W]`` batch."""
    b, c, t = x.shape[:3]
    y = fn(x.transpose(1, 2).reshape(b * t, c, *x.shape[3:]))
    return y.reshape(b, t, c, *y.shape[2:]).transpose(1, 2)


def resize_align_corners(x: torch.Tensor, size: int) -> torch.Tensor:
    """Chainer 6 ``resize_images`` (bilinear, align_corners) of every frame of ``[B,C,T,H,W]``."""
    return _per_frame(x, lambda f: F.interpolate(f, size=(size, size), mode="bilinear",
                                                 align_corners=True))


def resize_cubic(x: torch.Tensor, size: int) -> torch.Tensor:
    """OpenCV ``INTER_CUBIC`` (float) of every frame of ``[B, C, T, H, W]`` to ``size``^2."""
    return _per_frame(x, lambda f: F.interpolate(f, size=(size, size), mode="bicubic",
                                                 align_corners=False))


def mean_clip(raw: np.ndarray, mode: str, source: str = "mean2.npz") -> np.ndarray:
    """The float32 mean clip that ``mode`` subtracts, cut from the ``mean`` array of a mean file.

    tganv2 modes: ``mean[:, :, 8:120, 8:120]`` of a (3, 16 or 1, >=120, >=120) array,
    broadcast to (3, 16, 112, 112). ``tgan-v1``: reshape to (3, 1, 16, 128, 171), columns
    [21:149] -> (3, 16, 128, 128).
    """
    raw = np.asarray(raw)
    if raw.dtype.kind != "f":
        raise BadInputError(source, f"mean clip must be float, got {raw.dtype}")
    if mode == "tgan-v1":
        if raw.size != int(np.prod(V1_MEAN_SHAPE)):
            raise BadInputError(source, f"TGAN v1 mean must reshape to {V1_MEAN_SHAPE}, got "
                                        f"shape {raw.shape}")
        lo, hi = V1_MEAN_COLUMNS
        return np.ascontiguousarray(raw.reshape(V1_MEAN_SHAPE)[..., lo:hi][:, 0], np.float32)
    _check_mode(mode)
    end = CROP + SIZE
    if raw.ndim != 4 or raw.shape[0] != 3 or raw.shape[1] not in (1, NUM_FRAMES) \
            or raw.shape[2] < end or raw.shape[3] < end:
        raise BadInputError(source, f"TGANv2 mean must be (3, {NUM_FRAMES}, H >= {end}, "
                                    f"W >= {end}), got shape {raw.shape}")
    cut = raw[:, :, CROP:end, CROP:end]
    return np.ascontiguousarray(np.broadcast_to(cut, (3, NUM_FRAMES, SIZE, SIZE)), np.float32)


def _check_mode(mode: str) -> None:
    if mode not in INPUT_MODES:
        raise VidbenchError(f"unknown C3D input mode {mode!r}; known: {', '.join(INPUT_MODES)}")


def prepare_input(u: torch.Tensor, mean: torch.Tensor, mode: str) -> torch.Tensor:
    """RGB clips on the 0-255 scale, float ``[B, 3, 16, H, W]`` -> the C3D input
    ``[B, 3, 16, 112, 112]`` of ``mode`` (module docstring); ``mean`` from :func:`mean_clip`."""
    _check_mode(mode)
    if u.ndim != 5 or u.shape[1] != 3 or u.shape[2] != NUM_FRAMES or not u.is_floating_point():
        raise VidbenchError(f"C3D input must be float [B, 3, {NUM_FRAMES}, H, W], got "
                            f"{u.dtype} {list(u.shape)}")
    u = u.float()
    if mode != "tganv2":
        u = resize_cubic(u, PRE_SIZE)
    if mode == "tgan-v1":
        x = u.flip(1).double() - mean.double()
        return x[..., CROP:CROP + SIZE, CROP:CROP + SIZE].float()
    if mode == "mocogan-hd-v1crop":
        u = u[..., CROP:CROP + SIZE, CROP:CROP + SIZE]
    x = resize_align_corners((u - 128.0).flip(1), SIZE)
    return x + (128.0 - mean.double()).float()


# ---------------------------------------------------------------------------------------
# The Chainer npz files
# ---------------------------------------------------------------------------------------

def c3d_layout(model: C3D) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Chainer npz key -> (state_dict key, shape)."""
    layout = {}
    for name, param in model.named_parameters():
        link, kind = name.split(".")
        layout[f"{link}/{'W' if kind == 'weight' else 'b'}"] = (name, tuple(param.shape))
    return layout


def c3d_state_dict(arrays: dict[str, np.ndarray], model: C3D,
                   source: str = "<npz>") -> dict[str, torch.Tensor]:
    """Map Chainer's ``conv1a/W`` ... ``fc8/b`` onto ``model``, strictly."""
    layout = c3d_layout(model)
    missing = [k for k in layout if k not in arrays]
    unexpected = [k for k in arrays if k not in layout]
    bad = [f"{k}: {tuple(arrays[k].shape)} {arrays[k].dtype}, expected {shape} float"
           for k, (_, shape) in layout.items()
           if k in arrays and (tuple(arrays[k].shape) != shape or arrays[k].dtype.kind != "f")]
    if missing or unexpected or bad:
        msg = "does not match the C3D layout of conv3d_deepnetA_ucf.npz (TGANv2, Chainer)"
        for title, items in (("missing", missing), ("unexpected", unexpected),
                             ("wrong shape or dtype", bad)):
            if items:
                msg += f"\n  {title} ({len(items)}): " + ", ".join(items)
        raise BadInputError(source, msg)
    return {target: torch.from_numpy(np.ascontiguousarray(arrays[k], np.float32))
            for k, (target, _) in layout.items()}


def read_mean_clip(path: str | os.PathLike, mode: str) -> np.ndarray:
    """The mean clip of ``mode`` from a ``mean2.npz`` (one array named ``mean``)."""
    arrays = read_npz(path)
    if set(arrays) != {"mean"}:
        raise BadInputError(path, f"expected one array named 'mean', found {sorted(arrays)}")
    return mean_clip(arrays["mean"], mode, str(path))


class C3DClassifier(nn.Module):
    """RGB clips on the 0-255 scale ``[B, 3, 16, H, W]`` -> class probabilities ``[B, 101]``."""

    def __init__(self, net: C3D, mean: np.ndarray, mode: str):
        super().__init__()
        _check_mode(mode)
        self.net, self.mode = net, mode
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, np.float32)))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.net.probabilities(prepare_input(u, self.mean, self.mode))

    def dropout_forward(self, u: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``[B, R, 101]``: :meth:`C3D.dropout_probabilities` of the prepared clips."""
        return self.net.dropout_probabilities(prepare_input(u, self.mean, self.mode), keep)


def dropout_masks(seed: int, first_index: int, count: int, runs: int,
                  width: int = 4096, ratio: float = 0.5) -> torch.Tensor:
    """Keep masks ``bool [count, runs, 2, width]`` for clips ``first_index ...``: clip ``i``'s
    masks come from ``numpy.random.default_rng([seed, i])`` (uniforms >= ``ratio`` are kept, as
    in Chainer's ``F.dropout``), so they do not depend on the batch size, the device or which
    process computes the clip."""
    out = np.empty((count, runs, 2, width), bool)
    for k in range(count):
        rng = np.random.default_rng([seed, first_index + k])
        out[k] = rng.random((runs, 2, width), dtype=np.float32) >= ratio
    return torch.from_numpy(out)


def load_c3d(path: str | os.PathLike | None = None, mean_path: str | os.PathLike | None = None,
             mode: str = "tganv2", device: str | torch.device = "cpu") -> C3DClassifier:
    """The UCF-101 C3D with its mean clip, in eval mode, frozen.

    ``path=None`` reads the registered ``c3d`` file; ``mean_path=None`` the registered
    ``c3d-mean`` (TGANv2's ``mean2.npz``) or, for ``mode="tgan-v1"``, ``c3d-mean-tgan-v1``.
    """
    _check_mode(mode)
    path = weight_path("c3d") if path is None else Path(path)
    if mean_path is None:
        mean_path = weight_path("c3d-mean-tgan-v1" if mode == "tgan-v1" else "c3d-mean")
    net = C3D()
    net.load_state_dict(c3d_state_dict(read_npz(path), net, str(path)), strict=True)
    model = C3DClassifier(net, read_mean_clip(mean_path, mode), mode)
    return model.eval().requires_grad_(False).to(device)
