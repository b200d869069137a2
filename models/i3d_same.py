"""TF "SAME" padding for 3-D convolution and max-pooling, as the TF-Hub I3D graph computes it.

TF works the padding out from the actual input size: total = max(k - s, 0) when s divides n,
else max(k - n mod s, 0), with the smaller half in front (so it can differ front to back, which
torch's symmetric ``padding`` cannot express). Convolutions pad with zeros, max-pools with -inf
(padded cells never win). Where the padding is symmetric, or torch's ``ceil_mode`` gives the
same windows, the ops call torch directly (no padded copy of the input). Used by
:mod:`vidbench.models.i3d`; see docs/protocols.md, *The I3D network*.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """TF "SAME" padding of one dimension of size ``n`` for kernel ``k``, stride ``s``:
    (front, back), the smaller half in front. The output size is then ceil(n / s)."""
    total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
    return total // 2, total - total // 2


def _same_pads(x: torch.Tensor, kernel: Sequence[int], stride: Sequence[int]):
    return [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], kernel, stride)]


def _flat_pad(pads) -> list[int]:
    return [p for front_back in reversed(pads) for p in front_back]  # F.pad: last dim first


def conv3d_same(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                stride: Sequence[int]) -> torch.Tensor:
    """3-D convolution with TF "SAME" zero padding for the size of ``x``."""
    pads = _same_pads(x, weight.shape[2:], stride)
    if all(f == b for f, b in pads):
        return F.conv3d(x, weight, bias, tuple(stride), tuple(f for f, _ in pads))
    return F.conv3d(F.pad(x, _flat_pad(pads)), weight, bias, tuple(stride))


def _ceil_mode_matches(n: int, k: int, s: int, front: int, back: int) -> bool:
    """Whether torch's ceil-mode pool with ``front`` padding on both sides gives TF's SAME
    windows: same starts (i*s - front), same count ceil(n/s), at most one cell more at the
    back (cells outside the input never win a max, in torch as in TF)."""
    if back - front not in (0, 1) or 2 * front > k:
        return False
    out = -(-(n + 2 * front - k) // s) + 1
    if (out - 1) * s >= n + front:  # torch drops a last window starting in the right pad
        out -= 1
    return out == -(-n // s)


def max_pool3d_same(x: torch.Tensor, kernel: Sequence[int], stride: Sequence[int]) -> torch.Tensor:
    """3-D max-pool with TF "SAME" padding (padded cells never win: they hold -inf)."""
    pads = _same_pads(x, kernel, stride)
    fronts = tuple(f for f, _ in pads)
    if all(f == b for f, b in pads):
        return F.max_pool3d(x, tuple(kernel), tuple(stride), fronts)
    if all(_ceil_mode_matches(n, k, s, f, b)
           for n, k, s, (f, b) in zip(x.shape[2:], kernel, stride, pads)):
        return F.max_pool3d(x, tuple(kernel), tuple(stride), fronts, ceil_mode=True)
    return F.max_pool3d(F.pad(x, _flat_pad(pads), value=float("-inf")), tuple(kernel),
                        tuple(stride))
