"""Seeded stand-in weight files in the published formats, for the regression panel.

The C3D (TGANv2's Chainer ``conv3d_deepnetA_ucf.npz`` and its ``mean2.npz``), the VGGFace2
``InceptionResnetV1`` state_dict and a small StyleGAN2 (rosinality layout) cannot be shipped or
downloaded; their stand-ins are filled from fixed seeds (NumPy ``Generator`` / torch CPU
``Generator``), in exactly the layout the readers of :mod:`models` check, so every code path
from file to number runs as with the real files. The numbers they give mean nothing about
video quality; they only pin the computation (``vidbench regress``).

Convolution and linear weights are He-scaled normals (``std = sqrt(2 / fan_in)``), biases
small normals; C3D's last layer is scaled by 0.02 so its softmax is not saturated.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

C3D_SEED, MEAN_SEED, FACE_SEED, STYLEGAN2_SEED, V1_MEAN_SEED = 11, 12, 13, 14, 15
TINY_STYLEGAN2 = dict(size=32, style_dim=64, n_mlp=2, channels=32)
MEAN_SHAPE = (3, 16, 128, 128)
V1_MEAN_SHAPE = (3, 1, 16, 128, 171)   # TGAN v1's mean2.npz


def c3d_arrays(seed: int = C3D_SEED, only: tuple[str, ...] | None = None
               ) -> dict[str, np.ndarray]:
    """``{"conv1a/W": ..., "fc8/b": ...}`` in the Chainer layout of :func:`vidbench.models.c3d.c3d_layout`
    (or just the keys ``only``); array k is drawn from its own stream ``[seed, k]``."""
    from vidbench.models.c3d import C3D, c3d_layout

    arrays = {}
    for k, (key, (_, shape)) in enumerate(c3d_layout(C3D()).items()):
        if only is not None and key not in only:
            continue
        rng = np.random.default_rng([seed, k])
        if key.endswith("/W"):
            std = math.sqrt(2.0 / np.prod(shape[1:])) * (0.02 if key.startswith("fc8") else 1.0)
        else:
            std = 0.01
        arrays[key] = (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))
    return arrays


def write_c3d(path: str | Path, seed: int = C3D_SEED) -> Path:
    path = Path(path)
    with open(path, "wb") as fh:
        np.savez(fh, **c3d_arrays(seed))
    return path


def _write_mean(path: str | Path, seed: int, shape: tuple[int, ...]) -> Path:
    """A ``mean2.npz`` with one float32 ``mean`` array of ``shape``, values around 100."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    with open(path, "wb") as fh:
        np.savez(fh, mean=(100 + 20 * rng.standard_normal(shape)).astype(np.float32))
    return path


def write_c3d_mean(path: str | Path, seed: int = MEAN_SEED) -> Path:
    """A ``mean2.npz`` with one float32 ``mean`` array (3, 16, 128, 128) around 100."""
    return _write_mean(path, seed, MEAN_SHAPE)


def write_c3d_mean_tgan_v1(path: str | Path, seed: int = V1_MEAN_SEED) -> Path:
    """TGAN v1's ``mean2.npz``: one float32 ``mean`` array (3, 1, 16, 128, 171) around 100."""
    return _write_mean(path, seed, V1_MEAN_SHAPE)


def vggface2_state(seed: int = FACE_SEED) -> dict[str, torch.Tensor]:
    """A state_dict of ``InceptionResnetV1(classify=True, num_classes=8631)`` (the published
    file's keys and shapes, batch-norm statistics included)."""
    from facenet_pytorch import InceptionResnetV1

    gen = torch.Generator().manual_seed(seed)
    template = InceptionResnetV1(pretrained=None, classify=True, num_classes=8631).state_dict()
    out = {}
    for key, t in template.items():
        if not t.is_floating_point():
            out[key] = torch.zeros_like(t)
        elif key.endswith("running_var"):
            out[key] = 0.5 + torch.rand(t.shape, generator=gen)
        elif key.endswith(("running_mean", "bias")):
            out[key] = 0.1 * torch.randn(t.shape, generator=gen)
        elif t.ndim == 1:                                 # batch-norm scale
            out[key] = 1 + 0.1 * torch.randn(t.shape, generator=gen)
        else:
            out[key] = torch.randn(t.shape, generator=gen) * math.sqrt(2.0 / t[0].numel())
    return out


def write_vggface2(path: str | Path, seed: int = FACE_SEED) -> Path:
    path = Path(path)
    torch.save(vggface2_state(seed), path)
    return path


def write_stylegan2(path: str | Path, seed: int = STYLEGAN2_SEED, **shape: int) -> Path:
    """A small random StyleGAN2 (:data:`TINY_STYLEGAN2`, or ``shape``'s size, style_dim,
    n_mlp, channels; noise strengths 0.1) as ``{"g_ema": state_dict}``."""
    from vidbench.models.stylegan2 import StyleGAN2Generator

    unknown = set(shape) - set(TINY_STYLEGAN2)
    if unknown:
        raise TypeError(f"write_stylegan2: unknown shape key(s) {sorted(unknown)}")
    c = {**TINY_STYLEGAN2, **shape}
    g = StyleGAN2Generator(c["size"], c["style_dim"], c["n_mlp"], channels=c["channels"],
                           generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():   # a trained generator uses its noise inputs; init leaves them at 0
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.1)
    path = Path(path)
    torch.save({"g_ema": g.state_dict()}, path)
    return path


def write_stylegan2_with_pca(root: str | Path, num_samples: int = 2000, seed: int = 0,
                             **shape: int) -> tuple[Path, Path]:
    """:func:`write_stylegan2` at ``root/g.pt`` and its PCA (``vidbench pca`` of
    ``num_samples`` latents) in ``root/g_pca``; returns both paths."""
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import compute_pca, save_pca

    root = Path(root)
    gen = write_stylegan2(root / "g.pt", seed, **shape)
    loaded = load_image_generator(gen)
    result = compute_pca(loaded.adapter, num_samples, seed=0, batch_size=1000, progress=False)
    save_pca(result, root / "g_pca", {"generator": loaded.describe(), "seed": 0})
    return gen, root / "g_pca"


WRITERS = {"c3d": write_c3d, "c3d-mean": write_c3d_mean,
           "c3d-mean-tgan-v1": write_c3d_mean_tgan_v1, "vggface2": write_vggface2}


def write_standin_weights(folder: str | Path, names: tuple[str, ...] = tuple(WRITERS)
                          ) -> dict[str, Path]:
    """The stand-in files ``names`` (registry names: c3d, c3d-mean, c3d-mean-tgan-v1,
    vggface2) under their
    registry file names in ``folder`` (a weights folder)."""
    from vidbench.models.weights import get_spec

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {name: WRITERS[name](folder / get_spec(name).filename) for name in names}
