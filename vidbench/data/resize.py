"""Exact, named frame resizes: part of every metric protocol.

Each method reproduces one named reference exactly, and the name is what a protocol stores:
``tf1-bilinear`` (TF1 ``tf.image.resize_bilinear``, no half-pixel centres: the FVD
reference's resize), ``bilinear`` and ``nearest`` (``torch.nn.functional.interpolate``),
``area`` (the exact area average, OpenCV's ``INTER_AREA`` when downscaling), ``bicubic`` and
``lanczos`` (Pillow's ``Image.resize``).

:func:`resize_frames` keeps uint8 input uint8 and gives float32 for float input; sizes are
``(height, width)``; at the input's own size every method is the identity. Formulas and
rounding of every method: docs/protocols.md, *Frame resizes*.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vidbench.utils.errors import VidbenchError

Size = tuple[int, int]


def _as_size(size: int | Size) -> Size:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    if len(size) != 2 or int(size[0]) < 1 or int(size[1]) < 1:
        raise VidbenchError(f"resize size must be (height, width) of positive ints, got {size}")
    return int(size[0]), int(size[1])


def tf1_legacy_indices(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i0, i1, f)`` of TF1 legacy bilinear sampling along one axis (float32 ``f``)."""
    scale = np.float32(in_size) / np.float32(out_size)
    s = np.arange(out_size, dtype=np.float32) * scale
    s_floor = np.floor(s)
    i0 = s_floor.astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, (s - s_floor).astype(np.float32)


def resize_tf1_bilinear(x: torch.Tensor, size: int | Size) -> torch.Tensor:
    """TF1 legacy bilinear resize of float ``[N, C, H, W]`` to ``size``; float32 out.

    Non-float input is cast to float32 first, as TF does; the result stays on ``x.device``
    and is channels-last in memory (``[N, H, W, C]`` order, shown as ``[N, C, H, W]``).

    Every output pixel gets exactly TF1's float32 operations (docs/protocols.md, *TF1 legacy
    bilinear*), in an order
    that does less work: the horizontal step ``a[r,x0] + (a[r,x1] - a[r,x0])*fx`` is computed
    once per input row ``r`` that is used (all rows when upsampling) and the rows ``y0``,
    ``y1`` are picked from it, rather than recomputed for every output row; pixels move as
    whole ``C``-vectors (channels-last gathers) and the steps run in place.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise VidbenchError(f"resize_tf1_bilinear expects a tensor [N, C, H, W], got "
                            f"{getattr(x, 'shape', type(x).__name__)}")
    out_h, out_w = _as_size(size)
    x = x.to(torch.float32)
    in_h, in_w = x.shape[-2:]
    dev = x.device
    y0, y1, fy = (torch.from_numpy(a).to(dev) for a in tf1_legacy_indices(in_h, out_h))
    x0, x1, fx = (torch.from_numpy(a).to(dev) for a in tf1_legacy_indices(in_w, out_w))
    pixels = x.permute(0, 2, 3, 1)  # [N, H, W, C] (a view)

    def horizontal(rows: torch.Tensor) -> torch.Tensor:  # [N, R, in_w, C] -> [N, R, out_w, C]
        left, right = rows[:, :, x0], rows[:, :, x1]   # fresh tensors: safe to update in place
        # Separate sub, mul and add (no lerp/addcmul) so each step rounds to float32 as in TF.
        return right.sub_(left).mul_(fx[:, None]).add_(left)

    if in_h < 2 * out_h:  # fewer input rows than picked rows: each input row once
        rows = horizontal(pixels)
        top, bottom = rows[:, y0], rows[:, y1]
    else:
        top, bottom = horizontal(pixels[:, y0]), horizontal(pixels[:, y1])
    return bottom.sub_(top).mul_(fy[:, None, None]).add_(top).permute(0, 3, 1, 2)


def area_overlaps(in_size: int, out_size: int) -> np.ndarray:
    """``[out, in]`` integer overlaps of output and input pixels, in units of ``1/out`` of an
    input pixel: output pixel ``i`` spans ``[i*in, (i+1)*in)``, input pixel ``j`` spans
    ``[j*out, (j+1)*out)``; every row sums to ``in``."""
    i = np.arange(out_size)[:, None]
    j = np.arange(in_size)[None, :]
    lo = np.maximum(i * in_size, j * out_size)
    hi = np.minimum((i + 1) * in_size, (j + 1) * out_size)
    return np.clip(hi - lo, 0, None)


def area_weights(in_size: int, out_size: int) -> np.ndarray:
    """``[out, in]`` float64 matrix of exact overlap fractions (rows sum to 1)."""
    return area_overlaps(in_size, out_size).astype(np.float64) / in_size


def _torch_resize(frames: np.ndarray, size: Size, fn: Callable[[torch.Tensor, Size], torch.Tensor]
                  ) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).permute(0, 3, 1, 2)
    return fn(x, size).permute(0, 2, 3, 1).contiguous().numpy()


def _tf1(frames: np.ndarray, size: Size) -> np.ndarray:
    return _torch_resize(frames, size, resize_tf1_bilinear)


def _bilinear(frames: np.ndarray, size: Size) -> np.ndarray:
    return _torch_resize(frames, size, lambda x, s: F.interpolate(
        x, size=s, mode="bilinear", align_corners=False, antialias=False))


def _nearest(frames: np.ndarray, size: Size) -> np.ndarray:
    return _torch_resize(frames, size, lambda x, s: F.interpolate(x, size=s, mode="nearest"))


def _area(frames: np.ndarray, size: Size, chunk: int = 32) -> np.ndarray:
    # Integer-weighted sums, one division at the end: for uint8 input every partial sum is an
    # exact integer in float64, so the mean (and a .5 tie) is correctly rounded.
    n, in_h, in_w, c = frames.shape
    out_h, out_w = size
    if frames.dtype == np.uint8 and out_h % in_h == 0 and out_w % in_w == 0:
        # Upscaling by whole factors: every output pixel lies inside one input pixel, so its
        # mean is that pixel exactly (uint8 out, nothing to round).
        return frames.repeat(out_h // in_h, axis=1).repeat(out_w // in_w, axis=2)
    out = np.empty((n, out_h, out_w, c), np.float64)  # rounded to uint8 from float64
    integer = in_h % out_h == 0 and in_w % out_w == 0
    wh = area_overlaps(in_h, out_h).astype(np.float64)
    ww = area_overlaps(in_w, out_w).astype(np.float64)
    for s in range(0, n, chunk):
        x = frames[s:s + chunk].astype(np.float64)
        if integer:
            kh, kw = in_h // out_h, in_w // out_w
            total = x.reshape(len(x), out_h, kh, out_w, kw, c).sum(axis=(2, 4))
            out[s:s + chunk] = total / (kh * kw)
        else:
            rows = np.einsum("ah,nhwc->nawc", wh, x, optimize=True)
            total = np.einsum("nawc,bw->nabc", rows, ww, optimize=True)
            out[s:s + chunk] = total / (in_h * in_w)
    return out


def _pillow(resample: int) -> Callable[[np.ndarray, Size], np.ndarray]:
    def run(frames: np.ndarray, size: Size) -> np.ndarray:
        h, w = size
        if frames.dtype == np.uint8 and frames.shape[-1] == 3:
            return np.stack([np.asarray(Image.fromarray(f).resize((w, h), resample))
                             for f in frames])
        if frames.dtype == np.uint8:
            planes = frames.transpose(0, 3, 1, 2)
            return np.stack([[np.asarray(Image.fromarray(p).resize((w, h), resample))
                              for p in f] for f in planes]).transpose(0, 2, 3, 1)
        planes = np.ascontiguousarray(frames.transpose(0, 3, 1, 2), dtype=np.float32)
        return np.stack([[np.asarray(Image.fromarray(p).resize((w, h), resample))
                          for p in f] for f in planes]).transpose(0, 2, 3, 1)
    return run


# name -> function(frames [N,H,W,C] uint8 or float, (h, w)) -> float (uint8 for Pillow on
# uint8, and for area upscaling of uint8 by whole factors)
RESIZE_METHODS: dict[str, Callable[[np.ndarray, Size], np.ndarray]] = {
    "tf1-bilinear": _tf1,
    "bilinear": _bilinear,
    "nearest": _nearest,
    "area": _area,
    "bicubic": _pillow(Image.Resampling.BICUBIC),
    "lanczos": _pillow(Image.Resampling.LANCZOS),
}


def round_to_uint8(x: np.ndarray) -> np.ndarray:
    """Round half up and clip to [0, 255]: how resized uint8 frames are stored."""
    y = np.add(x, 0.5, dtype=np.float64)   # a new float64 array, then in place
    np.floor(y, out=y)
    return np.clip(y, 0, 255, out=y).astype(np.uint8)


def resize_frames(frames: np.ndarray, size: int | Size, method: str,
                  out_dtype: type | None = None) -> np.ndarray:
    """Resize frames ``[N, H, W, C]`` to ``size = (height, width)`` with a named method.

    uint8 in -> uint8 out unless ``out_dtype=np.float32`` asks for the unrounded float result
    (not for the Pillow methods on uint8, whose reference output is uint8): the Pillow methods
    return Pillow's own uint8 result, the others round the float result half up
    (``floor(v + 0.5)``) and clip to [0, 255]. Float in -> float32 out. At the input's own size
    nothing is computed.
    """
    if method not in RESIZE_METHODS:
        raise VidbenchError(f"unknown resize method {method!r}; valid: {', '.join(RESIZE_METHODS)}")
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise VidbenchError(f"resize_frames expects frames [N, H, W, C], got {list(frames.shape)}")
    is_uint8 = frames.dtype == np.uint8
    if not is_uint8 and not np.issubdtype(frames.dtype, np.floating):
        raise VidbenchError(f"resize_frames expects uint8 or float frames, got {frames.dtype}")
    if out_dtype is not None and np.dtype(out_dtype) not in (np.uint8, np.float32):
        raise VidbenchError(f"out_dtype must be uint8 or float32, got {out_dtype}")
    want_float = not is_uint8 or (out_dtype is not None and np.dtype(out_dtype) == np.float32)
    size = _as_size(size)
    pillow = method in ("bicubic", "lanczos")
    if is_uint8 and pillow and want_float:
        raise VidbenchError(f"{method} on uint8 frames is defined by Pillow's uint8 output; "
                            "pass float frames for a float result")
    if not is_uint8 and out_dtype is not None and np.dtype(out_dtype) == np.uint8:
        raise VidbenchError("out_dtype=uint8 needs uint8 input; convert floats with to_uint8")
    if frames.shape[0] == 0:
        return np.zeros((0, *size, frames.shape[-1]), np.float32 if want_float else np.uint8)
    if frames.shape[1:3] == size:  # every method is exactly the identity at the same size
        return frames.astype(np.float32 if want_float else np.uint8)
    out = RESIZE_METHODS[method](frames, size)
    if want_float:
        return out.astype(np.float32, copy=False)
    return out if out.dtype == np.uint8 else round_to_uint8(out)


def center_crop(frames: np.ndarray, size: int | Size) -> np.ndarray:
    """Central ``(height, width)`` window of ``[..., H, W, C]`` frames (a view).

    The offsets are ``(H - h) // 2`` and ``(W - w) // 2``: an odd surplus leaves the extra
    row/column at the bottom/right.
    """
    h, w = _as_size(size)
    if frames.ndim < 3:
        raise VidbenchError(f"center_crop expects [..., H, W, C], got {list(frames.shape)}")
    in_h, in_w = frames.shape[-3], frames.shape[-2]
    if h > in_h or w > in_w:
        raise VidbenchError(f"cannot crop {h}x{w} from frames of {in_h}x{in_w}")
    top, left = (in_h - h) // 2, (in_w - w) // 2
    return frames[..., top:top + h, left:left + w, :]
