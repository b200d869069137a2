"""What the benchmarks share: peers timed in a benchmark's rounds, a figure's numbers,
seeded inputs, and the I3D batch every other figure is put next to.

A figure compared with a peer timed in another benchmark minutes earlier compares two loads
as much as two programs when the machine is shared. So each benchmark that has a ratio runs
its peers (the other implementation, the GEMM limit, one SVD, ...) once per round (or a
few times, before a single long round) in pytest-benchmark's untimed ``setup``, i.e.
interleaved with its own timed rounds, and keeps the fastest time of each peer next to its
own fastest round (``extra_info["nearby"]``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

# I3D at 16x224x224, batch 4: the network every other figure is put next to.
I3D_BATCH, I3D_FRAMES, I3D_SIZE = 4, 16, 224


@dataclass(frozen=True)
class Peer:
    """Work timed once per round next to a benchmark."""

    run: Callable[[], Any]              # the work; its result is dropped
    unit: str                           # what one round yields: "clips", "frames", ...
    items_per_round: int                # how many of them
    flops_per_item: float | None = None   # counted FLOPs per item, if any


def figure_numbers(seconds: float, unit: str, items_per_round: int,
                   flops_per_item: float | None = None) -> dict[str, Any]:
    """The numbers every figure and peer records: seconds, rate and (with FLOPs) GFLOP/s."""
    if seconds <= 0:
        raise ValueError(f"a round must take some time, got {seconds} s")
    out: dict[str, Any] = {"unit": unit, "items_per_round": int(items_per_round),
                           "seconds_min": float(seconds),
                           f"{unit}_per_s": items_per_round / seconds}
    if flops_per_item is not None:
        out["flops_per_item"] = float(flops_per_item)
        out["gflop_per_s"] = flops_per_item * items_per_round / seconds / 1e9
    return out


def seeded_uniform(shape: tuple[int, ...], seed: int, low: float = -1.0,
                   high: float = 1.0) -> torch.Tensor:
    """float32 uniform in [low, high) from a seeded generator (never the global RNG)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen) * (high - low) + low


def run_network(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One forward pass without autograd."""
    with torch.inference_mode():
        return model(x)
