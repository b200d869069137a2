"""Real training clips, drawn as MoCoGAN-HD's loader draws them.

See docs/official-code.md, *Real training clips*, and the sections named in italics below.

Reference: snap-research/MoCoGAN-HD ``data/video_dataset.py`` with a ``DistributedSampler``,
reimplemented. Rules kept: a video needs **more than** ``n_frames·time_step`` frames (shorter
ones are dropped and listed, *Short videos dropped, never silently*); one clip per video per
epoch, its start drawn uniformly from {0, …, L − 1 − n_frames·time_step}, frames
``start, start + time_step, …``; centre square crop from the first frame's size (offset
``(long − short) // 2``); Pillow Lanczos resize to the discriminator size (the ``ANTIALIAS``
filter, *Lanczos instead of ANTIALIAS*; fakes are box-pooled instead,
*Real clips resized, fakes pooled*); ``x / 255 · 2 − 1`` in float32; frames converted to RGB
(*Frames converted to RGB*). An epoch is a permutation of the videos, truncated to a multiple of
the world size, rank ``r`` taking every ``world``-th entry from ``r`` (DistributedSampler), in
batches of ``batch_size / world``, the last partial batch dropped.

Determinism: the permutation and the clip starts of an epoch are drawn from one CPU
``torch.Generator`` whose state at the start of the epoch is part of :meth:`state_dict`, with
the epoch and the position in it, so a resumed run reads exactly the batches it would have.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from vidbench.data.clips import ClipSpec, ResampledSource, VideoClipSource
from vidbench.data.resize import center_crop, resize_frames
from vidbench.data.sources import open_source
from vidbench.utils.errors import VidbenchError


def frames_to_tensor(frames: np.ndarray, size: int) -> torch.Tensor:
    """uint8 [T, H, W, 3] → float32 [T, 3, size, size] in [−1, 1] (square crop, Lanczos)."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [T, H, W, 3], got {frames.shape}")
    side = min(frames.shape[1], frames.shape[2])
    frames = center_crop(frames, side)
    if side != size:
        frames = resize_frames(np.ascontiguousarray(frames), size, "lanczos")
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    return x / 255.0 * 2.0 - 1.0


class _ClipReader(Dataset):
    """Map (video index, start) → one preprocessed clip; picklable for DataLoader workers."""

    def __init__(self, source: Any, n_frames: int, time_step: int, size: int):
        self.source, self.n_frames, self.time_step, self.size = source, n_frames, time_step, size

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        video, start = item
        idx = list(range(start, start + self.n_frames * self.time_step, self.time_step))
        if isinstance(self.source, VideoClipSource):
            frames = self.source.reader.read(self.source.videos[video], idx)
        else:
            frames = self.source.base[video][idx]
        return frames_to_tensor(frames, self.size)


class TrainClips:
    """Endless batches ``float32 [batch_size / world, n_frames, 3, size, size]`` for one rank.

    Keyword arguments::

        spec, root       vidbench source spec and data set root (open_source)
        n_frames         frames per clip (16)
        time_step        stride between clip frames (2)
        size             discriminator frame side (128)
        batch_size       global batch; must be a multiple of ``world``
        seed             seeds the epoch permutations and clip starts (same on every rank)
        rank, world      this process and the number of processes
        num_workers      DataLoader workers (0: read in this process)
    """

    def __init__(self, spec: str, *, root: str | None = None, n_frames: int = 16,
                 time_step: int = 2, size: int = 128, batch_size: int = 16, seed: int = 0,
                 rank: int = 0, world: int = 1, num_workers: int = 0):
        self.span = n_frames * time_step
        clip = ClipSpec(length=n_frames, stride=time_step, start="first", min_frames=self.span + 1)
        source = open_source(spec, root=root, clip=clip, skip_bad=True, convert_rgb=True)
        if isinstance(source, VideoClipSource):
            lengths = [v.num_frames for v in source.videos]
        elif isinstance(source, ResampledSource):
            lengths = [source.num_frames] * len(source.base)
        else:  # pragma: no cover - open_source with a clip spec returns one of the two
            raise VidbenchError(f"{spec}: cannot draw training clips from {type(source).__name__}")
        self.source, self.lengths = source, torch.tensor(lengths, dtype=torch.float64)
        self.skipped = list(source.skipped)
        if batch_size % world:
            raise VidbenchError(f"the global batch {batch_size} is not a multiple of the "
                                f"{world} processes")
        self.local_batch, self.rank, self.world = batch_size // world, rank, world
        self.num_videos = len(lengths)
        self.iters_per_epoch = (self.num_videos // world) // self.local_batch
        if self.iters_per_epoch < 1:
            raise VidbenchError(f"{spec}: {self.num_videos} usable videos (more than {self.span} "
                                f"frames each; {len(self.skipped)} skipped) is fewer than one "
                                f"global batch of {batch_size}")
        self.reader = _ClipReader(source, n_frames, time_step, size)
        self.num_workers = num_workers
        self.rng = torch.Generator().manual_seed(seed)
        self.epoch, self.pos = 0, 0
        self.epoch_rng = self.rng.get_state()

    def describe(self) -> dict[str, Any]:
        return {"source": self.source.describe(), "num_videos": self.num_videos,
                "num_skipped": len(self.skipped), "iters_per_epoch": self.iters_per_epoch,
                "skipped": [list(s) for s in self.skipped]}

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "pos": self.pos, "epoch_rng": self.epoch_rng.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        self.epoch_rng = state["epoch_rng"].clone()

    def epoch_batches(self) -> list[list[tuple[int, int]]]:
        """This rank's batches of the current epoch: lists of (video, start)."""
        self.rng.set_state(self.epoch_rng)
        perm = torch.randperm(self.num_videos, generator=self.rng)
        u = torch.rand(self.num_videos, generator=self.rng, dtype=torch.float64)
        starts = torch.floor(u * (self.lengths - self.span)).long()
        keep = perm[:(self.num_videos // self.world) * self.world][self.rank::self.world]
        items = [(int(v), int(starts[v])) for v in keep]
        b = self.local_batch
        return [items[i * b:(i + 1) * b] for i in range(self.iters_per_epoch)]

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            batches = self.epoch_batches()[self.pos:]
            if self.num_workers > 0:
                loader = DataLoader(self.reader, batch_sampler=batches,
                                    num_workers=self.num_workers)
                stream: Any = iter(loader)
            else:
                stream = (torch.stack([self.reader[item] for item in batch]) for batch in batches)
            for batch in stream:
                self.pos += 1
                yield batch
            self.epoch, self.pos = self.epoch + 1, 0
            self.epoch_rng = self.rng.get_state()
