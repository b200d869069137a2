"""The float32 GEMM limit of the benchmarks: C = A @ B with A, B of 2048 x 2048.

Two ways torch computes it on the CPU: ``torch.matmul`` (the BLAS torch is built with, MKL
on x86) and oneDNN, the library behind torch's CPU convolutions, reached as a 1x1x1
``conv3d``: A's rows are 2048 voxels (32 x 64) of 2048 channels in channels-last memory and
B^T holds the 2048 filters. On some CPUs (e.g. AMD EPYC) oneDNN's GEMM is about twice as
fast as MKL's, so a network's fraction of "the GEMM rate" uses the faster of the two.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from benchmarks._common import Peer


@dataclass(frozen=True)
class Gemm:
    a: torch.Tensor   # [n, n] float32
    b: torch.Tensor   # [n, n] float32

    @classmethod
    def seeded(cls, n: int = 2048, seed: int = 0) -> Gemm:
        if n % 32:
            raise ValueError(f"n must be a multiple of 32, got {n}")
        gen = torch.Generator().manual_seed(seed)
        return cls(torch.rand(n, n, generator=gen) * 2 - 1,
                   torch.rand(n, n, generator=gen) * 2 - 1)

    @property
    def n(self) -> int:
        return self.a.shape[0]

    @property
    def flops(self) -> int:
        return 2 * self.n ** 3

    def matmul(self) -> torch.Tensor:
        return torch.matmul(self.a, self.b)

    def conv_operands(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(input [1, n, 1, 32, n/32] channels-last viewing A, weight [n, n, 1, 1, 1] = B^T)."""
        n = self.n
        x = self.a.view(1, 1, 32, n // 32, n).permute(0, 4, 1, 2, 3)
        w = self.b.t().contiguous().view(n, n, 1, 1, 1).contiguous(
            memory_format=torch.channels_last_3d)
        assert x.is_contiguous(memory_format=torch.channels_last_3d)
        return x, w

    def onednn(self, operands: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """A @ B through oneDNN, returned as [n, n]."""
        x, w = operands if operands is not None else self.conv_operands()
        with torch.inference_mode():
            y = F.conv3d(x, w)
        return y.permute(0, 2, 3, 4, 1).reshape(self.n, self.n)

    def peers(self) -> dict[str, Peer]:
        """Both ways as peers (``gemm.matmul``, ``gemm.onednn``), one product per round."""
        operands = self.conv_operands()
        return {"gemm.matmul": Peer(self.matmul, "products", 1, self.flops),
                "gemm.onednn": Peer(lambda: self.onednn(operands), "products", 1, self.flops)}
