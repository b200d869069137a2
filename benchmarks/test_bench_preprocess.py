"""The I3D extractor's frame preparation for 32x32 clips under the ``mocogan-hd`` protocol.

Figure ``preprocess.area_upscale``: frames/s of ``resize_frames(frames, 128, "area")`` on the
uint8 frames of 16 clips of 16 frames at 32x32 (the demo's clips; 32 -> 128 is a whole
factor, so every output pixel is one input pixel: the uint8 shortcut replicates them). Peer
timed in its rounds (``benchmarks/_common.py``): ``preprocess.area_weighted``, the same
resize through the general overlap-weighted float64 path (what the shortcut replaces),
rounded half up to uint8, as every frame went before the shortcut. Both give the same
bytes (asserted). Ratio ``preprocess.area_shortcut_vs_weighted``: frames/s of the shortcut
over the weighted path. ``preprocess.i3d_input``: the whole preparation
(``I3DExtractor.preprocess``: area to 128, TF1 bilinear to 224, scaled to [-1, 1]) on the
same clips, for scale.
"""
from __future__ import annotations

import numpy as np

from benchmarks._common import Peer
from vidbench.data.resize import resize_frames, round_to_uint8

CLIPS, FRAMES, SIZE, TARGET = 16, 16, 32, 128
ROUNDS = 5


def _frames() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (CLIPS * FRAMES, SIZE, SIZE, 3), dtype=np.uint8)


def _weighted(frames: np.ndarray) -> np.ndarray:
    return round_to_uint8(resize_frames(frames.astype(np.float64), TARGET, "area"))


def test_area_upscale_shortcut(pedantic_with_peers, record_figure):
    frames = _frames()
    n = len(frames)
    peers = {"preprocess.area_weighted": Peer(lambda: _weighted(frames), "frames", n)}
    out, nearby = pedantic_with_peers(resize_frames, (frames, TARGET, "area"), ROUNDS, peers)
    np.testing.assert_array_equal(out, _weighted(frames))
    record_figure("preprocess.area_upscale", unit="frames", items_per_round=n, nearby=nearby,
                  size=SIZE, target=TARGET)


def test_i3d_preprocess(pedantic_with_peers, record_figure):
    import torch

    from vidbench.metrics.registry import build_extractor
    from vidbench.metrics.protocols import get_protocol

    proto = get_protocol("mocogan-hd")
    extractor = build_extractor(proto.extractor, **proto.extractor_kwargs())
    clips = torch.from_numpy(_frames().reshape(CLIPS, FRAMES, SIZE, SIZE, 3))
    x, _ = pedantic_with_peers(extractor.preprocess, (clips,), ROUNDS, {})
    assert tuple(x.shape) == (CLIPS, 3, FRAMES, 224, 224)
    record_figure("preprocess.i3d_input", unit="clips", items_per_round=CLIPS, size=SIZE)
