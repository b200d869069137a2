"""Seeded random draws for the networks.

Every random draw in ``models/`` goes through a caller's ``torch.Generator``; none touches the
global RNG. Draws are made on the generator's own device and then moved, so a CPU generator
gives the same numbers whether the network runs on a CPU or a GPU.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch


def require_generator(generator: torch.Generator | None, what: str) -> torch.Generator:
    """Return ``generator`` or raise: random draws in vidbench are always seeded."""
    if generator is None:
        raise ValueError(f"{what} draws random numbers: pass a seeded torch.Generator")
    return generator


def randn(shape: Sequence[int], generator: torch.Generator, device: torch.device | str,
          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal draws of ``shape`` from ``generator``, placed on ``device``."""
    out = torch.randn(tuple(shape), generator=generator, device=generator.device, dtype=dtype)
    return out.to(device)


def rand(shape: Sequence[int], generator: torch.Generator, device: torch.device | str,
         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uniform [0, 1) draws of ``shape`` from ``generator``, placed on ``device``."""
    out = torch.rand(tuple(shape), generator=generator, device=generator.device, dtype=dtype)
    return out.to(device)


def uniform(low: float, high: float, generator: torch.Generator) -> float:
    """One float drawn uniformly from [low, high) (float64 on the generator's device)."""
    u = torch.rand((), generator=generator, device=generator.device, dtype=torch.float64)
    return float(low + (high - low) * u)


def randint(high: int, generator: torch.Generator) -> int:
    """One integer drawn uniformly from {0, ..., high - 1}."""
    return int(torch.randint(high, (), generator=generator, device=generator.device))
