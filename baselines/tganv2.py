"""TGANv2 outputs (``pfnet-research/tgan2`` f892bc4) as vidbench clips.

TGANv2 has no per-sample export (docs/datasets.md, *TGANv2 outputs*). What a user can have:

* **sample arrays** (``.npy``/``.npz``): ``make_samples``' float32 ``(N, 3, T, H, W)`` in
  [−1, 1], saved with ``np.save``; converted to uint8 with TGANv2's own rule
  ``floor(clip(x·128 + 128, 0, 255))`` (``tgan2/visualizers.py`` ``generate_video``;
  :func:`vidbench.data.convert.to_uint8` convention ``tgan``). An array that is already uint8
  (``generate_video``'s output saved) is taken as is. Another axis order: ``layout=``.
* **grid videos** (``.mp4``/``.gif``) from ``scripts/make_video.py`` / ``save_video``:
  ``rows x cols`` tiles (default 6 x 6), no padding, sample ``n`` at row ``n // cols``,
  column ``n % cols``; 16 frames at 15 fps. The mp4 is H.264 (lossy, 4:2:0 chroma bleeds across
  tile borders), the gif palette-quantised: clips cut from them are usable for FVD/IS only
  with that caveat, which is recorded in the source's ``meta["caveats"]``.
* **training previews** (``preview/image*.png``, ``save_image``): one row of ``T`` frames per
  sample, no padding; lossless PNG, the tile width is the image width over ``frames``
  (tiles are square).
"""
from __future__ import annotations

import os

import numpy as np

from vidbench.baselines._common import label_source, read_png_rgb, split_tiles
from vidbench.data.base import ArraySource, ClipSource, fingerprint_of
from vidbench.utils.errors import BadInputError, VidbenchError

NAME = "tganv2"
REFERENCE = "pfnet-research/tgan2 f892bc4: tgan2/visualizers.py, scripts/make_video.py"
ARRAY_EXTS = (".npy", ".npz")
GRID_EXTS = (".mp4", ".gif")
TGAN_FORMULA = "floor(clip(x*128 + 128, 0, 255))"
_WRITER_STEP = {"step": "float-to-uint8", "convention": "tgan", "formula": TGAN_FORMULA,
                "applied_by": "TGANv2 generate_video, before writing"}
GRID_CAVEAT = ("clips cut from a TGANv2 grid video ({codec}): lossy, neighbouring tiles bleed "
               "into each other; FVD/IS from it are not comparable with per-sample exports")


def open_baseline(path: str, *, layout: str = "NCTHW", key: str | None = None, rows: int = 6,
                  cols: int = 6, frames: int = 16, skip_bad: bool = False) -> ClipSource:
    """TGANv2 samples at ``path`` as a :class:`ClipSource` (module docstring).

    ``layout``/``key``: axis order and ``.npz`` member of a sample array; ``rows``/``cols``:
    grid of a ``.mp4``/``.gif``; ``frames``: frames per sample of a preview ``.png``.
    """
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise BadInputError(path, "no such file (TGANv2 outputs are one array, grid video or "
                                  "preview png)")
    if ext in ARRAY_EXTS:
        return open_samples(path, layout=layout, key=key, skip_bad=skip_bad)
    if ext in GRID_EXTS:
        return open_grid_video(path, rows=rows, cols=cols)
    if ext == ".png":
        return open_preview_png(path, frames=frames)
    raise BadInputError(path, f"unsupported TGANv2 output {ext!r}; expected "
                              f"{', '.join(ARRAY_EXTS + GRID_EXTS)} or .png")


def open_samples(path: str, *, layout: str = "NCTHW", key: str | None = None,
                 skip_bad: bool = False) -> ClipSource:
    """A sample array: float [−1, 1] through TGANv2's ``x·128 + 128`` rule, uint8 as is."""
    from vidbench.data.arrays import ArraySpec, open_array
    from vidbench.data.sources import open_source

    dtype = open_array(path, ArraySpec(key=key)).dtype
    options = [f"layout={layout}"] + ([f"key={key}"] if key is not None else [])
    if dtype == np.uint8:
        step = {"step": "float-to-uint8", "convention": "none",
                "note": "uint8 array taken as is (generate_video applies x*128 + 128 before "
                        "saving)"}
    elif dtype.kind == "f":
        options += ["range=-1:1", "conv=tgan"]
        step = {"step": "float-to-uint8", "convention": "tgan", "formula": TGAN_FORMULA,
                "reference": "tgan2/visualizers.py generate_video"}
    else:
        raise BadInputError(path, f"TGANv2 samples are float32 in [-1, 1] (or uint8), got {dtype}")
    source = open_source(f"{path}:{','.join(options)}", skip_bad=skip_bad)
    label_source(source, NAME, path, {"baseline_layout": "sample-array", "reference": REFERENCE})
    source.meta["conversions"] += [{"step": "layout", "from": layout.upper(), "to": "NTHWC"}, step]
    return source


def _decode(path: str) -> np.ndarray:
    from vidbench.data.sources import open_source

    src = open_source(path)
    if len(src) != 1:
        raise BadInputError(path, f"expected one grid video, found {len(src)}")
    return src[0]


def open_grid_video(path: str, *, rows: int = 6, cols: int = 6) -> ClipSource:
    """Clips cut from a ``save_video`` grid (``rows x cols`` tiles, no padding)."""
    if rows < 1 or cols < 1:
        raise VidbenchError(f"rows and cols must be >= 1, got {rows}x{cols}")
    from vidbench.data.video import file_fingerprint

    frames = _decode(path)
    clips = split_tiles(frames, rows, cols, 0, path)
    codec = "H.264 mp4" if path.lower().endswith(".mp4") else "palette gif"
    fp = fingerprint_of({"format": "tganv2-grid-v1", "rows": rows, "cols": cols,
                         "file": file_fingerprint(path, os.path.basename(path))})
    source = ArraySource(clips, name=NAME, fingerprint=fp)
    label_source(source, NAME, path, {"baseline_layout": "grid-video", "reference": REFERENCE,
                                      "grid": {"rows": rows, "cols": cols, "padding": 0}})
    source.meta["conversions"] += [
        dict(_WRITER_STEP), {"step": "decode", "codec": codec},
        {"step": "split-grid", "rows": rows, "cols": cols, "padding": 0, "order": "row-major",
         "tile": list(clips.shape[2:4])}]
    source.meta["caveats"].append(GRID_CAVEAT.format(codec=codec))
    return source


def open_preview_png(path: str, *, frames: int = 16) -> ClipSource:
    """Clips from a training preview image: one row of ``frames`` square tiles per sample."""
    if frames < 1:
        raise VidbenchError(f"frames must be >= 1, got {frames}")
    from vidbench.data.video import file_fingerprint

    image = read_png_rgb(path)
    height, width, _ = image.shape
    w = width // frames
    if w < 1 or w * frames != width or height % w:
        raise BadInputError(path, f"a {width}x{height} preview is not rows of {frames} square "
                                  f"frames; check the frames option")
    n = height // w
    # rows = samples, columns = frames: split as an n x frames grid of single-frame tiles
    tiles = split_tiles(image[None], n, frames, 0, path)          # [n * frames, 1, w, w, 3]
    clips = np.ascontiguousarray(tiles[:, 0].reshape(n, frames, w, w, 3))
    fp = fingerprint_of({"format": "tganv2-preview-v1", "frames": frames,
                         "file": file_fingerprint(path, os.path.basename(path))})
    source = ArraySource(clips, name=NAME, fingerprint=fp)
    label_source(source, NAME, path, {"baseline_layout": "preview-png", "reference": REFERENCE})
    source.meta["conversions"] += [
        dict(_WRITER_STEP), {"step": "split-grid", "rows": n, "cols": frames, "padding": 0,
                             "order": "row = sample, column = frame"}]
    return source
