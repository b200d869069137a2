"""Float -> uint8 conversion: the one ``to_uint8`` of vidbench.

How a float sample becomes uint8 is part of every metric protocol, because projects differ.
Conventions: ``round`` (StyleGAN-V fakes; the default), ``truncate-01`` (MoCoGAN-HD
``evaluate.py``), ``truncate-255`` (TATS, VideoGPT, DIGAN fakes; x in [0, 1]) and ``tgan``
(TGANv2 ``visualizers.py``). Like the references, :func:`to_uint8` computes in the sample's
float type and truncates; unlike them it saturates out-of-range values. A NumPy array in gives
an array out, a torch tensor a tensor.

Formulas and arithmetic: docs/protocols.md, *Float to uint8 conversion*.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vidbench.utils.errors import VidbenchError

CONVENTIONS = ("round", "truncate-01", "truncate-255", "tgan")


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise VidbenchError(f"unknown float->uint8 convention {convention!r}; "
                            f"valid: {', '.join(CONVENTIONS)}")


def _scaled(x: Any, convention: str, clip: Any) -> Any:
    """The float value before truncation, in the order each reference computes it."""
    if convention == "round":
        return clip(x * 127.5 + 128.0, 0.0, 255.0)
    if convention == "truncate-01":
        return (clip(x, -1.0, 1.0) + 1.0) / 2.0 * 255.0
    if convention == "truncate-255":
        return clip(x * 255.0, 0.0, 255.0)
    return clip(x * 128.0 + 128.0, 0.0, 255.0)  # tgan


def _non_finite(nan: int, inf: int) -> str:
    return f"to_uint8: the samples contain {nan} NaN and {inf} inf values"


def to_uint8(x: np.ndarray | torch.Tensor, convention: str = "round") -> np.ndarray | torch.Tensor:
    """Convert float samples to uint8 under a named convention (module docstring).

    ``x`` is any-shaped float data: in [-1, 1] for ``round``, ``truncate-01`` and ``tgan``,
    in [0, 1] for ``truncate-255``. Returns uint8 of the same shape and kind (NumPy or torch).
    NaN and ±inf are errors (a NaN's cast is undefined; an inf would pass as a saturated pixel).
    """
    _check_convention(convention)
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise VidbenchError(f"to_uint8 expects float samples, got {x.dtype}")
        xf = x if x.dtype == torch.float64 else x.to(torch.float32)
        if not torch.isfinite(xf).all():
            raise VidbenchError(_non_finite(int(torch.isnan(xf).sum()),
                                            int(torch.isinf(xf).sum())))
        y = _scaled(xf, convention, lambda v, lo, hi: v.clamp(lo, hi))
        return y.floor().to(torch.uint8)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise VidbenchError(f"to_uint8 expects float samples, got {x.dtype}")
    dt = np.float64 if x.dtype == np.float64 else np.float32
    xf = x.astype(dt, copy=False)
    if not np.isfinite(xf).all():
        raise VidbenchError(_non_finite(int(np.isnan(xf).sum()), int(np.isinf(xf).sum())))
    # Python float constants combine with a float32 array in float32 (NEP 50).
    y = _scaled(xf, convention, np.clip)
    return np.floor(y).astype(np.uint8)
