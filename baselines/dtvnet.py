"""DTVNet outputs (``zhangzjn/DTVNet`` 9cdf259) as vidbench clips.

``trainer/sky_timelapse_trainer.py`` ``_test_networks`` writes, for every test clip,
``results/<epoch>_f/<clip>/0000.png … 0031.png`` (generated) and ``results/<epoch>_r/<clip>/``
(ground truth), 32 frames at 128², each frame through
``torchvision.utils.save_image(frame, normalize=True)``: **per-frame min–max normalisation**,
real frames included (docs/datasets.md, *DTVNet outputs*). The PNGs are read losslessly; the
normalisation cannot be undone, so it is recorded in ``meta`` and other clips compared with
these (e.g. ground truth or another model's predictions) should go through
:func:`normalise_clip` / :func:`normalised_source`, the same per-frame min–max
(``torchvision-0.6`` convention of :mod:`vidbench.baselines.minmax`, DTVNet's pinned version). The
``<epoch>_f_v``/``<epoch>_r_v`` mp4s are lossy copies and are not read.
"""
from __future__ import annotations

import os
import re

import numpy as np

from vidbench.baselines._common import label_source
from vidbench.baselines.minmax import minmax_uint8_frames
from vidbench.data.base import ClipSource, fingerprint_of
from vidbench.utils.errors import BadInputError, VidbenchError

NAME = "dtvnet"
REFERENCE = "zhangzjn/DTVNet 9cdf259: trainer/sky_timelapse_trainer.py _test_networks"
NORMALISATION = "torchvision-0.6"
FRAMES = 32
SIZE = 128
WHICH = {"fake": "f", "real": "r"}
_RUN_DIR = re.compile(r"^(?P<epoch>.+)_(?P<side>[fr])$")


def find_results_dir(path: str, which: str = "fake", epoch: str | int | None = None) -> str:
    """The ``<epoch>_f`` (fake) or ``<epoch>_r`` (real) folder: ``path`` itself when it is one,
    else the one inside ``path`` (a ``results/`` folder); ``epoch`` picks among several."""
    if which not in WHICH:
        raise VidbenchError(f"which must be one of {', '.join(WHICH)}, got {which!r}")
    if not os.path.isdir(path):
        raise BadInputError(path, "not a folder (expected DTVNet's results/ or <epoch>_f/)")
    m = _RUN_DIR.match(os.path.basename(os.path.normpath(path)))
    if m and epoch is None:
        if m["side"] != WHICH[which]:
            raise BadInputError(path, f"holds {'real' if m['side'] == 'r' else 'fake'} clips but "
                                      f"which={which}")
        return path
    side = WHICH[which]
    found = sorted(d for d in os.listdir(path)
                   if os.path.isdir(os.path.join(path, d)) and (mm := _RUN_DIR.match(d))
                   and mm["side"] == side)
    if epoch is not None:
        want = f"{epoch}_{side}"
        if want not in found:
            raise BadInputError(path, f"has no {want}/ folder; found: {', '.join(found) or 'none'}")
        return os.path.join(path, want)
    if len(found) != 1:
        raise BadInputError(path, f"expected one <epoch>_{side}/ folder, found "
                                  f"{', '.join(found) or 'none'}; choose with epoch=")
    return os.path.join(path, found[0])


def _check_layout(video, frames: int, size: int) -> str | None:
    """Why a clip folder is not DTVNet's ``0000.png … 0031.png`` at ``size``² (None if it is)."""
    if video.kind != "frames":
        return f"expected a folder of PNG frames, found a {video.kind} video"
    want = [f"{i:04d}.png" for i in range(frames)]
    names = [os.path.basename(m) for m in video.members]
    if names != want:
        return (f"expected frames 0000.png … {frames - 1:04d}.png, found {len(names)} frames "
                f"({', '.join(names[:3])}{' …' if len(names) > 3 else ''})")
    if (video.height, video.width) != (size, size):
        return f"expected {size}x{size} frames, found {video.width}x{video.height}"
    return None


def open_baseline(path: str, *, which: str = "fake", epoch: str | int | None = None,
                  frames: int = FRAMES, size: int = SIZE, skip_bad: bool = False) -> ClipSource:
    """DTVNet's generated (``which="fake"``) or ground-truth (``"real"``) clips (module
    docstring). Every clip folder must hold ``frames`` PNGs named ``0000.png`` … at
    ``size``²; others are an error, or listed in ``skipped`` with ``skip_bad``."""
    from vidbench.data.clips import VideoClipSource
    from vidbench.data.readers import FrameReader
    from vidbench.data.scan import scan_directory

    run_dir = find_results_dir(path, which, epoch)
    scan = scan_directory(run_dir, skip_bad=skip_bad)
    kept, skipped = [], list(scan.skipped)
    for video in scan.videos:
        reason = _check_layout(video, frames, size)
        if reason is None:
            kept.append(video)
        elif skip_bad:
            skipped.append((video.where(), reason))
        else:
            raise BadInputError(video.where(), reason + " (skip_bad lists and skips it)")
    if not kept:
        raise BadInputError(run_dir, "no DTVNet clip folders found")
    source = VideoClipSource(kept, name=NAME, reader=FrameReader(), skipped=skipped,
                             meta={"kind": "directory", **scan.info})
    label_source(source, NAME, run_dir, {"baseline_layout": "clip-folders", "which": which,
                                         "reference": REFERENCE})
    source.meta["conversions"].append({
        "step": "normalisation", "kind": "per-frame min-max",
        "by": "torchvision save_image(normalize=True)", "convention": NORMALISATION,
        "invertible": False,
        "note": "applied by DTVNet to fake and real frames; put other clips through "
                "vidbench.baselines.dtvnet.normalise_clip to compare like with like"})
    return source


def normalise_clip(clip: np.ndarray) -> np.ndarray:
    """DTVNet's per-frame min–max applied to a uint8 clip ``[T, H, W, 3]`` (e.g. ground truth
    already resized to 128²), as its test loop writes frames."""
    return minmax_uint8_frames(clip, NORMALISATION)


class NormalisedSource(ClipSource):
    """Another source's clips through :func:`normalise_clip` (computed on access)."""

    def __init__(self, base: ClipSource):
        super().__init__()
        self.base = base
        self.name = f"{base.name}+dtvnet-minmax"
        self.fingerprint = fingerprint_of({"format": "dtvnet-minmax-v1", "base": base.fingerprint,
                                           "convention": NORMALISATION})
        self.meta = {**base.meta, "normalised_from": base.fingerprint,
                     "conversions": list(base.meta.get("conversions", [])) + [{
                         "step": "normalisation", "kind": "per-frame min-max",
                         "by": "vidbench.baselines.dtvnet.normalise_clip", "convention": NORMALISATION,
                         "invertible": False}]}
        self.skipped = list(base.skipped)

    def __len__(self) -> int:
        return len(self.base)

    def get_clip(self, index: int) -> np.ndarray:
        return normalise_clip(self.base[index])


def normalised_source(source: ClipSource) -> ClipSource:
    """``source`` put through DTVNet's per-frame min–max (lazy; a new fingerprint)."""
    return NormalisedSource(source)
