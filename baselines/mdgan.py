"""MDGAN outputs (``weixiong-ur/mdgan`` 809f6e7) as vidbench clips.

``test.py`` runs one shuffled batch of 48 Sky Time-lapse test clips and writes, for each of
the 32 frames ``t``, one grid PNG per set: ``samples_s1_frame_%03d.png`` (stage 1),
``samples_s2_frame_%03d.png`` (stage 2, the final prediction) and
``samples_real_frame_%03d.png`` (ground truth), through
``torchvision.utils.save_image(x[t], normalize=True, nrow=8)``: 8 clips per row, 2-px padding
(value 0), and **min–max normalisation over the whole grid** of that frame (all 48 clips
together), at 128² (docs/datasets.md, *MDGAN outputs*). The adapter reassembles clip ``n`` from
tile
``n`` (row-major) of every frame's grid; the padding is checked to be uniform, which catches a
wrong geometry. The normalisation cannot be undone; it is recorded in ``meta``, and
:func:`normalise_clips` applies the same grid-wide min–max to other clips (``torchvision-0.2``
convention of :mod:`vidbench.baselines.minmax`, the PyTorch 0.3 era [inferred]). The
``{s1,s2,real}_video.mp4`` files are lossy copies and are not read.
"""
from __future__ import annotations

import os
import re

import numpy as np

from vidbench.baselines._common import label_source, padding_mask, read_png_rgb, split_tiles
from vidbench.baselines.minmax import minmax_uint8_grid
from vidbench.data.base import ArraySource, ClipSource, fingerprint_of
from vidbench.utils.errors import BadInputError, VidbenchError

NAME = "mdgan"
REFERENCE = "weixiong-ur/mdgan 809f6e7: test.py"
NORMALISATION = "torchvision-0.2"
SETS = ("s1", "s2", "real")
PER_ROW = 8
PADDING = 2
PAD_VALUE = 0


def grid_files(folder: str, which: str = "s2") -> list[str]:
    """The per-frame grid PNGs of one set, in frame order; frames must run 0 … T−1."""
    if which not in SETS:
        raise VidbenchError(f"which must be one of {', '.join(SETS)}, got {which!r}")
    if not os.path.isdir(folder):
        raise BadInputError(folder, "not a folder (expected MDGAN's output folder with "
                                    "samples_*_frame_NNN.png)")
    pattern = re.compile(rf"^samples_{which}_frame_(\d+)\.png$")
    numbered = sorted((int(m[1]), name) for name in os.listdir(folder)
                      if (m := pattern.match(name)))
    if not numbered:
        raise BadInputError(folder, f"no samples_{which}_frame_NNN.png files")
    numbers = [n for n, _ in numbered]
    if numbers != list(range(len(numbers))):
        missing = sorted(set(range(max(numbers) + 1)) - set(numbers))
        raise BadInputError(folder, f"frames of set {which} must be numbered 0 … T-1 without "
                                    f"gaps; missing {missing[:5]}")
    return [os.path.join(folder, name) for _, name in numbered]


def open_baseline(path: str, *, which: str = "s2", per_row: int = PER_ROW,
                  padding: int = PADDING, size: int | None = None,
                  num_clips: int | None = None, skip_bad: bool = False) -> ClipSource:
    """One MDGAN set (``which``: ``s2`` final prediction, ``s1`` stage 1, ``real`` ground
    truth) as clips ``[T, size, size, 3]``. ``size`` defaults to the tile size implied by
    ``per_row`` tiles across; ``num_clips`` (default: every tile) drops empty tiles of a last
    row that is not full. ``skip_bad`` is accepted for a uniform call and changes nothing: a
    grid set is read whole or not at all."""
    from vidbench.data.video import file_fingerprint

    files = grid_files(path, which)
    grids = []
    for f in files:
        image = read_png_rgb(f)
        if grids and image.shape != grids[0].shape:
            raise BadInputError(f, f"grid is {image.shape[1]}x{image.shape[0]} but frame 0 is "
                                   f"{grids[0].shape[1]}x{grids[0].shape[0]}")
        grids.append(image)
    frames = np.stack(grids)
    height, width = frames.shape[1:3]
    if size is None:
        size = (width - padding) // per_row - padding
    step = size + padding
    if size < 1 or (width - padding) % step or (height - padding) % step:
        raise BadInputError(files[0], f"a {width}x{height} grid is not made of {size}² tiles "
                                      f"with {padding}-px padding; check per_row, padding, size")
    rows, cols = (height - padding) // step, (width - padding) // step
    clips = split_tiles(frames, rows, cols, padding, files[0], size, size)
    pad = padding_mask(height, width, size, size, padding)
    if padding and not (frames[:, pad] == PAD_VALUE).all():
        raise BadInputError(files[0], f"the {padding}-px padding of a {cols}x{rows} grid of "
                                      f"{size}² tiles is not all {PAD_VALUE}: wrong per_row, "
                                      f"padding or size")
    total = rows * cols
    n = total if num_clips is None else int(num_clips)
    if not total - cols < n <= total:
        raise VidbenchError(f"num_clips={n} does not fit a grid of {rows} rows x {cols} columns "
                            f"(the last row holds 1 … {cols} clips)")
    clips = np.ascontiguousarray(clips[:n])
    fp = fingerprint_of({"format": "mdgan-grid-v1", "which": which, "num_clips": n,
                         "geometry": [rows, cols, size, padding],
                         "files": [file_fingerprint(f, os.path.basename(f)) for f in files]})
    source = ArraySource(clips, name=NAME, fingerprint=fp)
    label_source(source, NAME, path, {"baseline_layout": "per-frame-grids", "which": which,
                                      "reference": REFERENCE,
                                      "grid": {"rows": rows, "cols": cols, "padding": padding,
                                               "tile": size, "frames": len(files)}})
    source.meta["conversions"] += [
        {"step": "normalisation", "kind": "min-max over the whole grid of each frame (all "
                                          "clips together)",
         "by": "torchvision save_image(normalize=True)", "convention": NORMALISATION,
         "invertible": False,
         "note": "applied by MDGAN to every set, real included; put other clips through "
                 "vidbench.baselines.mdgan.normalise_clips to compare like with like"},
        {"step": "split-grid", "rows": rows, "cols": cols, "padding": padding,
         "order": "row-major", "tile": [size, size], "num_clips": n}]
    if n != 48 or len(files) != 32:
        source.meta["caveats"].append(f"{n} clips of {len(files)} frames; MDGAN's test.py "
                                      "writes 48 clips of 32 frames")
    return source


def normalise_clips(clips: np.ndarray) -> np.ndarray:
    """MDGAN's grid-wide min–max applied to uint8 clips ``[N, T, H, W, 3]`` (frame ``t`` of
    all N clips normalised together), e.g. ground truth to compare with its predictions."""
    return minmax_uint8_grid(clips, NORMALISATION)
