"""Data-parallel utilities for training; every function is a no-op in a single process.

Gradients are averaged over ranks explicitly after each backward (what DistributedDataParallel
does, without its hooks): MoCoGAN-HD's losses take a second-order gradient (the D_3d gradient
penalty), run the discriminators frozen inside generator steps and leave some parameters
without gradients under ablations, which DDP's reducer handles only with care
(``find_unused_parameters``, no ``autograd.grad``). An explicit all-reduce of the gradients
that exist keeps every rank's parameters bit-identical, and a parameter without a gradient on
every rank (an ablated head) stays untouched by the optimiser, as in one process.
Buffers (InstanceNorm running statistics, spectral-norm vectors) are broadcast from rank 0
before use, as DDP's ``broadcast_buffers`` does.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from metrics.distributed import dist_info

__all__ = ["dist_info", "is_main", "broadcast_module", "sync_buffers", "allreduce_grads",
           "all_gather_rows", "gather_objects", "all_mean", "barrier"]


def _world() -> int:
    return dist_info()[1]


def is_main() -> bool:
    return dist_info()[0] == 0


def barrier() -> None:
    if _world() > 1:
        torch.distributed.barrier()


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank."""
    if _world() == 1:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(t.data, src)


def sync_buffers(module: nn.Module, exclude: Iterable[str] = (), src: int = 0) -> None:
    """Broadcast rank ``src``'s buffers (names in ``exclude`` are left alone)."""
    if _world() == 1:
        return
    skip = set(exclude)
    with torch.no_grad():
        for name, buf in module.named_buffers():
            if name.rsplit(".", 1)[-1] not in skip:
                torch.distributed.broadcast(buf.data, src)


def allreduce_grads(params: Iterable[nn.Parameter]) -> None:
    """Average the existing gradients of ``params`` over ranks (one flat all-reduce)."""
    world = _world()
    if world == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


@torch.no_grad()
def all_gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` [N, ...] of every rank along dim 0, in rank order (no gradient)."""
    world = _world()
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    torch.distributed.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order."""
    world = _world()
    if world == 1:
        return [obj]
    out: list[Any] = [None] * world
    torch.distributed.all_gather_object(out, obj)
    return out


def all_mean(values: dict[str, float], device: torch.device | str = "cpu") -> dict[str, float]:
    """Mean of each scalar over ranks (same keys on every rank)."""
    world = _world()
    if world == 1 or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return {k: float(v) / world for k, v in zip(keys, t.tolist())}
