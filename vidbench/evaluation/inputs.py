"""What the Python API accepts as videos, turned into what metrics consume.

The Python functions (:mod:`vidbench.api`) and the torchmetrics classes
(:mod:`vidbench.torchmetrics`) take videos in any of these forms:

* a uint8 numpy array or torch tensor ``[N, T, H, W, 3]`` (RGB), used as it is;
* a float array or tensor, with an explicit ``layout=`` (``NTHWC``, ``NTCHW`` or ``NCTHW``)
  and ``value_range=`` (``(0, 1)``, ``(-1, 1)`` or ``(0, 255)``): nothing is guessed. Floats
  become uint8 through the one ``to_uint8`` (convention ``round``) after mapping the range to
  [-1, 1];
* a path, a source spec string (``shapes:...``, ``baselines:NAME:PATH``,
  ``checkpoint:RUN_DIR``) or a :class:`~vidbench.data.base.ClipSource`;
* any iterable of such array batches (concatenated in order).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from vidbench.data.base import ArraySource, ClipSource
from vidbench.data.convert import to_uint8
from vidbench.utils.errors import VidbenchError

LAYOUTS = ("NTHWC", "NTCHW", "NCTHW")
VALUE_RANGES = ((0, 1), (-1, 1), (0, 255))
_TO_NTHWC = {"NTHWC": (0, 1, 2, 3, 4), "NTCHW": (0, 1, 3, 4, 2), "NCTHW": (0, 2, 3, 4, 1)}


def _check_layout(layout: str | None, arg: str) -> str | None:
    if layout is None:
        return None
    if layout not in LAYOUTS:
        raise VidbenchError(f"{arg}: layout={layout!r} is not one of {', '.join(LAYOUTS)} "
                            "(N clips, T frames, C=3 channels, H, W)")
    return layout


def _check_range(value_range: Any, arg: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        lo = hi = None
    if (lo, hi) not in VALUE_RANGES:
        raise VidbenchError(f"{arg}: value_range={value_range!r} is not one of "
                            f"{', '.join(str(r) for r in VALUE_RANGES)}")
    return lo, hi


def batch_to_uint8(batch: Any, *, layout: str | None = None, value_range: Any = None,
                   arg: str = "videos") -> np.ndarray:
    """One array or tensor of clips as uint8 ``[N, T, H, W, 3]`` (a numpy array)."""
    layout = _check_layout(layout, arg)
    if isinstance(batch, torch.Tensor):
        x: Any = batch.detach().cpu()
        is_float, is_uint8 = x.is_floating_point(), x.dtype == torch.uint8
    elif isinstance(batch, np.ndarray):
        x = batch
        is_float, is_uint8 = np.issubdtype(x.dtype, np.floating), x.dtype == np.uint8
    else:
        raise VidbenchError(f"{arg}: expected a numpy array or torch tensor of clips, got "
                            f"{type(batch).__name__}")
    if x.ndim != 5:
        raise VidbenchError(f"{arg}: expected 5 dimensions [N, T, H, W, 3], got shape "
                            f"{list(x.shape)} (stack single clips with x[None])")
    if is_float:
        if layout is None or value_range is None:
            raise VidbenchError(
                f"{arg}: a float {'tensor' if isinstance(x, torch.Tensor) else 'array'} needs "
                f"layout= and value_range=, e.g. layout='NTHWC', value_range=(0, 1) "
                f"(layouts {', '.join(LAYOUTS)}; ranges "
                f"{', '.join(str(r) for r in VALUE_RANGES)}); nothing is guessed")
        lo, hi = _check_range(value_range, arg)
        x = to_uint8((x - lo) / (hi - lo) * 2.0 - 1.0, "round")
    elif not is_uint8:
        raise VidbenchError(f"{arg}: expected uint8 or float values, got {x.dtype} "
                            "(cast to uint8, or to float with value_range=)")
    elif value_range is not None and _check_range(value_range, arg) != (0, 255):
        raise VidbenchError(f"{arg}: uint8 clips are in (0, 255); value_range={value_range!r} "
                            "does not fit them (leave it out)")
    if layout is None and x.shape[-1] != 3:
        raise VidbenchError(f"{arg}: shape {list(x.shape)} is not [N, T, H, W, 3]; pass layout= "
                            f"({', '.join(LAYOUTS)})")
    x = x.permute(*_TO_NTHWC[layout or "NTHWC"]) if isinstance(x, torch.Tensor) \
        else np.transpose(x, _TO_NTHWC[layout or "NTHWC"])
    x = x.numpy() if isinstance(x, torch.Tensor) else x
    if x.shape[-1] != 3:
        raise VidbenchError(f"{arg}: with layout={layout or 'NTHWC'!r} the clips have "
                            f"{x.shape[-1]} channels, not 3 (check layout=)")
    return np.ascontiguousarray(x)


def as_source(videos: Any, *, layout: str | None = None, value_range: Any = None,
              arg: str = "videos") -> ClipSource | str:
    """``videos`` as a :class:`ClipSource`, or as the spec string the sources layer opens."""
    if isinstance(videos, ClipSource):
        return videos
    if isinstance(videos, os.PathLike):
        return os.fspath(videos)
    if isinstance(videos, str):
        return videos
    if isinstance(videos, (np.ndarray, torch.Tensor)):
        return ArraySource(batch_to_uint8(videos, layout=layout, value_range=value_range,
                                          arg=arg), name=arg)
    try:
        batches = iter(videos)
    except TypeError:
        raise VidbenchError(f"{arg}: {type(videos).__name__} is not videos; give a uint8 array "
                            "[N, T, H, W, 3], a float array with layout= and value_range=, a "
                            "path or source spec, or an iterable of array batches") from None
    parts = [batch_to_uint8(b, layout=layout, value_range=value_range, arg=f"{arg}[{i}]")
             for i, b in enumerate(batches)]
    if not parts:
        raise VidbenchError(f"{arg}: the iterable gave no batches")
    return ArraySource(np.concatenate(parts), name=arg)
