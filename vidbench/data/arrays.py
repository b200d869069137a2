"""NumPy array files (.npy/.npz) as videos, with an explicit layout, value range and conversion.

A uint8 ``[N, T, H, W, 3]`` array (what TATS saves) is read as is. Anything else (another
layout, a float range such as TGANv2's float32 ``(N, 3, T, H, W)`` in [-1, 1]) must be declared
in the source spec, e.g. ``samples.npy:layout=NCTHW,range=-1:1,conv=tgan``; it is never guessed.
Floats become uint8 through :func:`vidbench.data.convert.to_uint8`; values outside the declared
range (beyond a 0.1 % tolerance), NaN or inf are an error.

Ranges, their conventions and the reading rules: docs/datasets.md, *Array files*.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from vidbench.data.video import Scan, Video, file_fingerprint, sha256_hex
from vidbench.data.videofiles import check_regular_file
from vidbench.utils.errors import BadInputError, VidbenchError

ARRAY_OPTIONS = ("layout", "range", "conv", "key")
RANGE_CONVS = {(-1.0, 1.0): ("round", "truncate-01", "tgan"),
               (0.0, 1.0): ("truncate-255",),
               (0.0, 255.0): ("round",)}
RANGE_TOLERANCE = 1e-3   # fraction of the half-width of the declared range


def _parse_range(text: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(p) for p in str(text).split(":"))
    except ValueError:
        raise VidbenchError(f"range must look like LO:HI (e.g. -1:1, 0:1, 0:255), got {text!r}") from None
    if (lo, hi) not in RANGE_CONVS:
        raise VidbenchError(f"range {text!r} unsupported; valid: -1:1, 0:1, 0:255")
    return lo, hi


@dataclass(frozen=True)
class ArraySpec:
    """How to read an array file: axis ``layout``, declared ``value_range``, ``conv`` name,
    and the ``key`` of the array inside an .npz."""

    layout: str = "NTHWC"
    value_range: tuple[float, float] | None = None
    conv: str = "none"
    key: str | None = None
    explicit: bool = False   # layout or range was declared by the user

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "ArraySpec":
        unknown = sorted(set(options) - set(ARRAY_OPTIONS))
        if unknown:
            raise VidbenchError(f"unknown array option(s) {', '.join(unknown)}; valid: "
                                f"{', '.join(ARRAY_OPTIONS)}")
        layout = str(options.get("layout", "NTHWC")).upper()
        if sorted(layout) not in (sorted("NTHWC"), sorted("THWC")):
            raise VidbenchError(f"layout {layout!r} must be an ordering of the axes N, T, H, W, C "
                                "(e.g. NTHWC, NCTHW) or T, H, W, C for a single video")
        vr = _parse_range(options["range"]) if "range" in options else None
        valid = RANGE_CONVS.get(vr, ())
        conv = str(options.get("conv", valid[0] if valid else "none"))
        if vr is None and "conv" in options:
            raise VidbenchError("conv= needs a declared range= (e.g. range=-1:1)")
        if vr is not None and conv not in valid:
            raise VidbenchError(f"conv={conv} is not defined for range={vr[0]:g}:{vr[1]:g}; "
                                f"valid: {', '.join(valid)}")
        key = options.get("key")
        return cls(layout, vr, conv, None if key is None else str(key),
                   explicit="layout" in options or "range" in options)

    def describe(self) -> dict[str, Any]:
        return {"layout": self.layout, "range": list(self.value_range) if self.value_range else None,
                "conv": self.conv,
                "key": self.key}

    def _view(self, arr: np.ndarray) -> np.ndarray:
        """``arr`` as [N, T, H, W, C] (a view, no copy)."""
        if len(self.layout) == 4:
            arr = arr[None]
            layout = "N" + self.layout
        else:
            layout = self.layout
        return arr.transpose([layout.index(c) for c in "NTHWC"])

    def video_frames(self, arr: np.ndarray, item: int, idx: Sequence[int], where: str,
                     convert_rgb: bool = False) -> np.ndarray:
        """Frames ``idx`` of video ``item`` as uint8 [len(idx), H, W, 3]."""
        x = np.asarray(self._view(arr)[item][list(idx)])
        if x.shape[-1] == 1 and convert_rgb:
            x = np.repeat(x, 3, axis=-1)
        if x.dtype == np.uint8:
            return x
        lo, hi = self.value_range
        check_values(x, lo, hi, where)
        return float_to_uint8(x, lo, hi, self.conv)


def float_to_uint8(x: np.ndarray, lo: float, hi: float, conv: str) -> np.ndarray:
    """Map values in [lo, hi] to uint8 by the named convention (module docstring)."""
    if (lo, hi) == (0.0, 255.0):
        if x.dtype.kind in "iu":
            return np.clip(x, 0, 255).astype(np.uint8)
        return np.floor(np.clip(x, 0, 255) + 0.5).astype(np.uint8)
    from vidbench.data.convert import to_uint8
    return to_uint8(x if x.dtype.kind == "f" else x.astype(np.float64), conv)


def check_values(x: np.ndarray, lo: float, hi: float, where: str) -> None:
    """NaN, inf, or values outside [lo, hi] (with tolerance) are a BadInputError."""
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = "NaN" if np.isnan(x).any() else "inf"
        raise BadInputError(where, f"contains {bad} values")
    tol = RANGE_TOLERANCE * (hi - lo) / 2
    xmin, xmax = float(x.min()), float(x.max())
    if xmin < lo - tol or xmax > hi + tol:
        raise BadInputError(where, f"values outside the declared range {lo:g}:{hi:g} "
                                   f"(min {xmin:g}, max {xmax:g}); declare the right range= option")


def open_array(path: str, spec: ArraySpec) -> np.ndarray:
    """The array in an .npy (memory-mapped) or .npz (member ``spec.key``) file."""
    try:
        if path.lower().endswith(".npz"):
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.files)
                key = spec.key
                if key is None:
                    if len(keys) != 1:
                        raise BadInputError(path, f"holds arrays {keys}; choose one with :key=NAME")
                    key = keys[0]
                elif key not in keys:
                    raise BadInputError(path, f"has no array {key!r}; it holds {keys}")
                return npz[key]
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except BadInputError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise BadInputError(path, f"not a readable NumPy file: {exc}") from None


def _layout_hint(arr: np.ndarray, name: str) -> str:
    s = arr.shape
    layout = ("NCTHW" if arr.ndim == 5 and s[1] in (1, 3) else
              "NTCHW" if arr.ndim == 5 and s[2] in (1, 3) else
              "NTHWC" if arr.ndim == 5 else "THWC" if arr.ndim == 4 else "NTHWC")
    rng = "" if arr.dtype == np.uint8 else ",range=-1:1"
    return (f"the layout and value range of an array are never guessed; declare them in the "
            f"source spec, e.g. '{name}:layout={layout}{rng}' (range=LO:HI for floats, "
            f"conv=round|truncate-01|tgan for -1:1, default round)")


def scan_array(path: str, spec: ArraySpec, *, skip_bad: bool = False,
               convert_rgb: bool = False):
    """Describe every video in an array file; value checks run over the whole array once."""
    path = os.path.abspath(path)
    name = os.path.basename(path)
    if check_regular_file(path) == 0:
        raise BadInputError(path, "empty file (0 bytes)")
    arr = open_array(path, spec)
    desc = f"{arr.dtype} array of shape {list(arr.shape)}"
    if arr.dtype.kind not in "uif" or arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
        raise BadInputError(path, f"{desc}: only unsigned/signed integer or float arrays are videos")
    if not spec.explicit and not (arr.dtype == np.uint8 and arr.ndim == 5 and arr.shape[-1] == 3):
        raise BadInputError(path, f"{desc} is not uint8 [N, T, H, W, 3]: {_layout_hint(arr, name)}")
    if arr.ndim != len(spec.layout):
        raise BadInputError(path, f"{desc} does not match layout {spec.layout}")
    if arr.dtype != np.uint8 and spec.value_range is None:
        raise BadInputError(path, f"{desc} needs a declared value range: {_layout_hint(arr, name)}")
    if arr.dtype == np.uint8 and spec.value_range not in (None, (0.0, 255.0)):
        raise BadInputError(path, f"{desc} is uint8; its range can only be 0:255")
    view = spec._view(arr)
    n, t, h, w, c = view.shape
    if c != 3 and not (c == 1 and convert_rgb):
        raise BadInputError(path, f"{desc}: the channel axis (C in layout {spec.layout}) has "
                                  f"{c} channels, expected 3" + (" (or 1 with convert_rgb=True)" if c == 1 else ""))
    if t == 0 or h == 0 or w == 0:
        raise BadInputError(path, f"{desc} has an empty axis")
    scan = Scan()
    scan.info["conversion"] = {**spec.describe(), "dtype": str(arr.dtype), "shape": list(arr.shape),
                               **({"conv": "none"} if arr.dtype == np.uint8 else {})}
    base_fp = sha256_hex("array-v1", file_fingerprint(path, name), spec.key or "")
    for i in tqdm(range(n), desc="checking array", disable=None if n > 64 else True, leave=False):
        def make(i=i) -> Video:
            if arr.dtype != np.uint8:
                check_values(np.asarray(view[i]), *spec.value_range, f"{path}[{i}]")
            return Video(f"{name}[{i}]", path, "array", t, h, w, None,
                         sha256_hex(base_fp, str(i)), item=i)
        scan.attempt(skip_bad, make)
    return scan
