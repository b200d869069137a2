"""Helpers shared by the baseline adapters: labelling a source and reading grid images."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from vidbench.data.base import ClipSource
from vidbench.utils.errors import BadInputError


def label_source(source: ClipSource, baseline: str, path: str, meta: dict[str, Any]) -> ClipSource:
    """Name ``source`` after the baseline and record how its clips were made in ``meta``
    (``baseline``, ``path``, ``conversions``, ``caveats``, ``reference``)."""
    source.name = f"{baseline}:{os.path.basename(os.path.normpath(path))}"
    source.meta = {**source.meta, "baseline": baseline, "baseline_path": os.path.abspath(path),
                   "conversions": [], "caveats": [], **meta}
    return source


def read_png_rgb(path: str) -> np.ndarray:
    """A PNG as uint8 ``[H, W, 3]``; greyscale/palette/alpha images are an error (the
    references write RGB)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode != "RGB":
                raise BadInputError(path, f"expected an RGB image, got mode {im.mode}")
            return np.asarray(im, dtype=np.uint8)
    except BadInputError:
        raise
    except (OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable image ({exc})") from None


def split_tiles(frames: np.ndarray, rows: int, cols: int, padding: int, where: str,
                tile_h: int | None = None, tile_w: int | None = None) -> np.ndarray:
    """Cut grid frames ``[T, H, W, 3]`` into clips ``[rows * cols, T, h, w, 3]`` (row-major
    tile order), with ``padding`` pixels before every tile and after the last one."""
    t, height, width, _ = frames.shape
    h = tile_h if tile_h is not None else (height - padding) // rows - padding
    w = tile_w if tile_w is not None else (width - padding) // cols - padding
    if (h < 1 or w < 1 or rows * (h + padding) + padding != height
            or cols * (w + padding) + padding != width):
        raise BadInputError(where, f"a {width}x{height} grid is not {rows} rows x {cols} columns "
                                   f"of equal tiles with {padding}-px padding; check the "
                                   f"rows/cols/padding options")
    out = np.empty((rows * cols, t, h, w, 3), np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = padding + r * (h + padding), padding + c * (w + padding)
            out[r * cols + c] = frames[:, y:y + h, x:x + w]
    return out


def padding_mask(height: int, width: int, h: int, w: int, padding: int) -> np.ndarray:
    """True on the padding pixels of a grid of ``h x w`` tiles (see :func:`split_tiles`)."""
    mask = np.ones((height, width), bool)
    for y in range(padding, height - h + 1, h + padding):
        for x in range(padding, width - w + 1, w + padding):
            mask[y:y + h, x:x + w] = False
    return mask
