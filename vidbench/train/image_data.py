"""Training images for the StyleGAN2 trainer: frames of any vidbench source, held in memory.

Every ``frame_step``-th frame of each video, in source order, is centre-cropped to a square
(the shorter side) and resized to the training size with a named resize method
(:mod:`vidbench.data.resize`: ``area`` or ``lanczos`` are the sensible ones), until
``max_images`` frames are collected. The bank is uint8 ``[N, S, S, 3]``; batches are float
``[B, 3, S, S]`` in [-1, 1] (x / 127.5 − 1).

Batch order depends only on (seed, step): the images are visited epoch by epoch, epoch ``e`` in
the order of a permutation drawn from a generator seeded by ``(seed, e)``, so a resumed run
sees exactly the batches an uninterrupted run sees, whatever the batch history.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vidbench.data.resize import center_crop, resize_frames
from vidbench.data.sources import open_source
from vidbench.utils.errors import VidbenchError
from vidbench.utils.seeding import derive_seed

_DATA_STREAM, _FLIP_STREAM = 1, 2


def load_image_bank(dataset: str, *, root: str | None, size: int, resize: str,
                    frame_step: int = 1, max_images: int | None = None,
                    progress: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Collect training frames from the source ``dataset`` (module docstring).

    Returns ``(images uint8 [N, size, size, 3], description)``; the description carries the
    source's own description and fingerprint plus the frames kept.
    """
    source = open_source(dataset, root=root)
    if len(source) == 0:
        raise VidbenchError(f"{dataset}: the source holds no videos")
    chunks: list[np.ndarray] = []
    total = 0
    bar = tqdm(range(len(source)), desc="frames", unit="video", disable=not progress, leave=False)
    for i in bar:
        frames = source[i][::frame_step]
        side = min(frames.shape[1], frames.shape[2])
        frames = np.ascontiguousarray(center_crop(frames, side))
        if side != size:
            frames = resize_frames(frames, size, resize)
        if max_images is not None:
            frames = frames[:max_images - total]
        chunks.append(frames)
        total += len(frames)
        if max_images is not None and total >= max_images:
            break
    bar.close()
    images = np.concatenate(chunks)
    desc = {"source": source.describe(), "videos_read": len(chunks), "num_images": len(images),
            "frame_step": frame_step, "max_images": max_images, "size": size, "resize": resize}
    return images, desc


def batch_indices(num_images: int, batch: int, step: int, seed: int) -> np.ndarray:
    """Indices of the ``batch`` images of training step ``step`` (0-based)."""
    start = step * batch
    out = np.empty(batch, dtype=np.int64)
    filled = 0
    while filled < batch:
        epoch, offset = divmod(start + filled, num_images)
        rng = np.random.default_rng(derive_seed(seed, _DATA_STREAM, epoch))
        perm = rng.permutation(num_images)
        take = min(batch - filled, num_images - offset)
        out[filled:filled + take] = perm[offset:offset + take]
        filled += take
    return out


def make_batch(images: np.ndarray, indices: np.ndarray, *, hflip: bool, step: int, seed: int,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """Images ``indices`` as float [B, 3, S, S] in [-1, 1]; with ``hflip`` each is mirrored
    left-right with probability 1/2 (draws seeded by (seed, step))."""
    x = images[indices]
    if hflip:
        rng = np.random.default_rng(derive_seed(seed, _FLIP_STREAM, step))
        flip = rng.random(len(x)) < 0.5
        x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float()
    return (t / 127.5 - 1.0).to(device)
