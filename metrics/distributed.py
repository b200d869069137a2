"""Process and device helpers of the feature engine; all work without torch.distributed.

Ideas from ``NVlabs/edm2: torch_utils/distributed.py`` (ideas only): rank and world size
default to (0, 1) outside a process group, so the same code runs in one process and under
``torchrun``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch


def dist_info() -> tuple[int, int]:
    """(rank, world size); (0, 1) when torch.distributed is not initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """Contiguous shard [lo, hi) of ``n`` items for ``rank``; concatenating shards in rank
    order gives 0..n-1."""
    return n * rank // world, n * (rank + 1) // world


def broadcast_decision(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (a picklable object); identity without DDP."""
    _, world = dist_info()
    if world == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


@contextlib.contextmanager
def tf32_disabled(disable: bool = True) -> Iterator[None]:
    """Turn TF32 off for CUDA matmuls and cuDNN convs inside the block, then restore the
    previous settings (no global state is left changed)."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        if disable:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
