"""Min–max normalisation as torchvision's ``save_image(normalize=True)`` applies it.

MDGAN (``weixiong-ur/mdgan`` ``test.py``) and DTVNet (``zhangzjn/DTVNet``
``trainer/sky_timelapse_trainer.py``) write every frame this way: per frame for DTVNet, over
the whole 48-clip grid for MDGAN. The original values cannot be recovered from the PNGs, so
ground truth must go through the same function (:func:`save_image_minmax` on frames in
[−1, 1], or :func:`minmax_uint8_frames`). The torchvision version matters
(:data:`SAVE_IMAGE_CONVENTIONS`); arithmetic is float32.

Conventions and their sources: docs/datasets.md, *Min–max normalisation of save_image*.
"""
from __future__ import annotations

import numpy as np

from vidbench.utils.errors import VidbenchError

SAVE_IMAGE_CONVENTIONS = {
    "torchvision-0.2": {"eps": "add", "round": False},
    "torchvision-0.6": {"eps": "add", "round": True},
    "torchvision-current": {"eps": "floor", "round": True},
}
EPS = 1e-5


def _convention(name: str) -> dict:
    if name not in SAVE_IMAGE_CONVENTIONS:
        raise VidbenchError(f"unknown save_image convention {name!r}; valid: "
                            f"{', '.join(SAVE_IMAGE_CONVENTIONS)}")
    return SAVE_IMAGE_CONVENTIONS[name]


def save_image_minmax(x: np.ndarray, convention: str = "torchvision-0.6") -> np.ndarray:
    """``x`` (float, any shape) normalised by its own min and max and cast to uint8, as
    ``save_image(x, normalize=True)`` writes it (module docstring); same shape as ``x``."""
    conv = _convention(convention)
    x = np.asarray(x, dtype=np.float32)
    if x.size == 0:
        raise VidbenchError("save_image_minmax: empty input")
    if not np.isfinite(x).all():
        raise VidbenchError("save_image_minmax: input contains NaN or inf")
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo + EPS if conv["eps"] == "add" else max(hi - lo, EPS)
    y = (x - np.float32(lo)) / np.float32(span)
    y = y * np.float32(255.0)
    if conv["round"]:
        y = y + np.float32(0.5)
    return np.clip(y, 0.0, 255.0).astype(np.uint8)


def uint8_to_unit_range(frames: np.ndarray) -> np.ndarray:
    """uint8 frames as the references' loaders give them to the network: ``ToTensor`` then
    ``Normalize(0.5, 0.5)``, i.e. ``(v / 255 − 0.5) / 0.5`` in float32."""
    v = np.asarray(frames)
    if v.dtype != np.uint8:
        raise VidbenchError(f"expected uint8 frames, got {v.dtype}")
    return (v.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)


def minmax_uint8_frames(frames: np.ndarray, convention: str = "torchvision-0.6") -> np.ndarray:
    """Per-frame min–max of uint8 frames ``[T, H, W, 3]`` (each frame normalised alone over
    all its pixels and channels), through the loader's [−1, 1] values as the reference does."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise VidbenchError(f"expected frames [T, H, W, 3], got {list(frames.shape)}")
    x = uint8_to_unit_range(frames)
    return np.stack([save_image_minmax(f, convention) for f in x])


def minmax_uint8_grid(clips: np.ndarray, convention: str = "torchvision-0.2") -> np.ndarray:
    """MDGAN's normalisation of uint8 clips ``[N, T, H, W, 3]``: frame ``t`` of all N clips
    normalised together (one grid image per frame)."""
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise VidbenchError(f"expected clips [N, T, H, W, 3], got {list(clips.shape)}")
    x = uint8_to_unit_range(clips)
    out = np.empty(clips.shape, np.uint8)
    for t in range(clips.shape[1]):
        out[:, t] = save_image_minmax(x[:, t], convention)
    return out
