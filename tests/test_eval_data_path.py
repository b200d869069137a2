"""The eval data path's fast forms compute exactly what the reference forms do: the TF1
bilinear resize in both of its orders (rows first when downsampling rows, columns first
otherwise), the I3D preprocessing handing the network channels-last memory, and
``resize_frames`` skipping the work at the input's own size."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidbench.metrics.extractors import I3DExtractor
from vidbench.data.resize import (RESIZE_METHODS, resize_frames, resize_tf1_bilinear,
                                  round_to_uint8, tf1_legacy_indices)


def tf1_reference(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """TF1 legacy bilinear of one float32 frame [H, W, C] in the order TF writes it: for
    each output row, top and bottom interpolated along x, then along y (float32 throughout)."""
    y0, y1, fy = tf1_legacy_indices(img.shape[0], out_h)
    x0, x1, fx = tf1_legacy_indices(img.shape[1], out_w)
    a = img.astype(np.float32)
    top = a[y0][:, x0] + (a[y0][:, x1] - a[y0][:, x0]) * fx[None, :, None]
    bottom = a[y1][:, x0] + (a[y1][:, x1] - a[y1][:, x0]) * fx[None, :, None]
    return top + (bottom - top) * fy[:, None, None]


@pytest.mark.parametrize("in_hw,out_hw", [
    ((17, 23), (40, 11)),      # rows upsampled: columns first, on every input row
    ((64, 64), (224, 224)),
    ((64, 48), (20, 30)),      # rows downsampled 3.2x: the picked rows first
    ((44, 45), (22, 60)),      # exactly 2x: the picked rows first
    ((43, 9), (22, 9)),        # just under 2x: columns first
])
def test_tf1_resize_equals_the_reference_order(in_hw, out_hw):
    rng = np.random.default_rng(sum(in_hw) + sum(out_hw))
    frames = rng.uniform(0, 255, (3, *in_hw, 3)).astype(np.float32)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2)
    before = x.clone()
    got = resize_tf1_bilinear(x, out_hw)
    assert torch.equal(x, before)                      # the input is left as it was
    assert got.shape == (3, 3, *out_hw) and got.dtype == torch.float32
    assert got.is_contiguous(memory_format=torch.channels_last)
    expected = np.stack([tf1_reference(f, *out_hw) for f in frames])
    np.testing.assert_array_equal(got.permute(0, 2, 3, 1).numpy(), expected)


def test_i3d_preprocessing_hands_the_network_channels_last_memory():
    rng = np.random.default_rng(3)
    clips = torch.from_numpy(rng.integers(0, 256, (2, 9, 40, 56, 3), dtype=np.uint8))
    x = I3DExtractor().preprocess(clips)
    assert x.shape == (2, 3, 9, 224, 224)
    # I3D asks for channels_last_3d: no copy is made
    assert x.contiguous(memory_format=torch.channels_last_3d).data_ptr() == x.data_ptr()
    frames = clips.reshape(18, 40, 56, 3).numpy()
    ref = np.stack([2.0 * tf1_reference(f, 224, 224) / np.float32(255.0) - np.float32(1.0)
                    for f in frames]).astype(np.float32)
    got = x.permute(0, 2, 3, 4, 1).reshape(18, 224, 224, 3).numpy()
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("method", list(RESIZE_METHODS))
def test_resize_frames_at_the_same_size_is_the_identity_computed(method):
    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, (2, 13, 21, 3), dtype=np.uint8)
    floats = rng.uniform(-2, 2, (2, 13, 21, 3)).astype(np.float32)
    computed = RESIZE_METHODS[method](frames, (13, 21))
    computed = computed if computed.dtype == np.uint8 else round_to_uint8(computed)
    got = resize_frames(frames, (13, 21), method)
    assert got.dtype == np.uint8 and np.array_equal(got, computed) and np.array_equal(got, frames)
    assert got is not frames                           # a copy, as a resize gives
    computed_f = RESIZE_METHODS[method](floats, (13, 21)).astype(np.float32)
    got_f = resize_frames(floats, (13, 21), method)
    assert got_f.dtype == np.float32 and np.array_equal(got_f, computed_f)
    if method not in ("bicubic", "lanczos"):           # Pillow's uint8 result is uint8 only
        as_float = resize_frames(frames, (13, 21), method, out_dtype=np.float32)
        assert as_float.dtype == np.float32
        np.testing.assert_array_equal(as_float, RESIZE_METHODS[method](frames, (13, 21)))
