"""Each named resize against an independent computation (docs/protocols.md, *Frame resizes*)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from vidbench.data.resize import (RESIZE_METHODS, area_weights, center_crop, resize_frames,
                                  resize_tf1_bilinear, round_to_uint8)
from vidbench.utils.errors import VidbenchError


def frames_for(n, h, w, c=3, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    return rng.uniform(-1, 1, (n, h, w, c)).astype(dtype)


# ---------------------------------------------------------------- tf1-bilinear
def tf1_loop(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Plain loop over output pixels, float32 scalars, the TF1 legacy bilinear formula."""
    in_h, in_w, c = img.shape
    a = img.astype(np.float32)
    sy = np.float32(in_h) / np.float32(out_h)
    sx = np.float32(in_w) / np.float32(out_w)
    out = np.zeros((out_h, out_w, c), np.float32)
    for i in range(out_h):
        s = np.float32(i) * sy
        y0 = int(math.floor(s))
        y1 = min(y0 + 1, in_h - 1)
        fy = np.float32(s - np.float32(y0))
        for j in range(out_w):
            t = np.float32(j) * sx
            x0 = int(math.floor(t))
            x1 = min(x0 + 1, in_w - 1)
            fx = np.float32(t - np.float32(x0))
            top = a[y0, x0] + (a[y0, x1] - a[y0, x0]) * fx
            bottom = a[y1, x0] + (a[y1, x1] - a[y1, x0]) * fx
            out[i, j] = top + (bottom - top) * fy
    return out


@pytest.mark.parametrize("in_hw,out_hw", [
    ((64, 64), (224, 224)), ((128, 128), (224, 224)), ((144, 176), (224, 224)),
    ((300, 300), (224, 224)), ((37, 51), (20, 90)),
])
def test_tf1_bilinear_matches_loop(in_hw, out_hw):
    img = frames_for(1, *in_hw, c=2, seed=sum(in_hw))[0]
    expected = tf1_loop(img, *out_hw)
    got = resize_frames(img[None], out_hw, "tf1-bilinear", out_dtype=np.float32)[0]
    assert got.dtype == np.float32 and got.shape == (*out_hw, 2)
    np.testing.assert_array_equal(got, expected)


def test_tf1_bilinear_float_input_and_tensor_api():
    x = frames_for(3, 17, 23, c=3, seed=1, dtype=np.float32)
    expected = np.stack([tf1_loop(f, 40, 11) for f in x])
    got = resize_tf1_bilinear(torch.from_numpy(x).permute(0, 3, 1, 2), (40, 11))
    assert got.dtype == torch.float32 and tuple(got.shape) == (3, 3, 40, 11)
    np.testing.assert_array_equal(got.permute(0, 2, 3, 1).numpy(), expected)
    # float64 and uint8 tensors are cast to float32 first, as TF does
    got64 = resize_tf1_bilinear(torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2), (40, 11))
    assert torch.equal(got64, got)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tf1_bilinear_cuda_equals_cpu():
    x = torch.rand(4, 3, 128, 100, generator=torch.Generator().manual_seed(2)) * 255
    cpu = resize_tf1_bilinear(x, (224, 224))
    gpu = resize_tf1_bilinear(x.cuda(), (224, 224))
    assert gpu.device.type == "cuda"
    assert torch.equal(gpu.cpu(), cpu)


def test_tf1_bilinear_is_not_half_pixel():
    x = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    half_pixel = F.interpolate(x, size=(14, 14), mode="bilinear", align_corners=False)
    assert not torch.allclose(resize_tf1_bilinear(x, (14, 14)), half_pixel, atol=1e-3)


def test_tf1_bilinear_constant_image_is_unchanged():
    for value in (0.0, 37.0, 255.0):
        x = torch.full((2, 3, 64, 48), value)
        assert torch.equal(resize_tf1_bilinear(x, (224, 224)), torch.full((2, 3, 224, 224), value))


def test_tf1_bilinear_upsample_replicates_last_row_and_column():
    img = frames_for(1, 128, 128, c=1, seed=3)
    out = resize_frames(img, 224, "tf1-bilinear", out_dtype=np.float32)[0, ..., 0]
    a = img[0, ..., 0].astype(np.float32)
    assert out[-1, -1] == a[-1, -1]
    # the last output row depends on the last input row only
    changed = img.copy()
    changed[0, :-1] = 255 - changed[0, :-1]
    out2 = resize_frames(changed, 224, "tf1-bilinear", out_dtype=np.float32)[0, ..., 0]
    np.testing.assert_array_equal(out2[-1], out[-1])
    changed = img.copy()
    changed[0, :, :-1] = 255 - changed[0, :, :-1]
    out3 = resize_frames(changed, 224, "tf1-bilinear", out_dtype=np.float32)[0, ..., 0]
    np.testing.assert_array_equal(out3[:, -1], out[:, -1])


def test_tf1_bilinear_uint8_rounds_half_up():
    img = np.array([[[0], [1]]], np.uint8)[None]  # 1x2 -> 1x4: 0, 0.5, 1, 1
    f = resize_frames(img, (1, 4), "tf1-bilinear", out_dtype=np.float32)[0, 0, :, 0]
    np.testing.assert_array_equal(f, [0.0, 0.5, 1.0, 1.0])
    u = resize_frames(img, (1, 4), "tf1-bilinear")
    assert u.dtype == np.uint8
    np.testing.assert_array_equal(u[0, 0, :, 0], [0, 1, 1, 1])


# ---------------------------------------------------------------- area
def test_area_integer_factor_is_block_mean():
    x = frames_for(2, 64, 48, seed=4, dtype=np.float32)
    expected = x.reshape(2, 32, 2, 16, 3, 3).mean(axis=(2, 4), dtype=np.float64)
    np.testing.assert_allclose(resize_frames(x, (32, 16), "area"), expected, rtol=0, atol=1e-6)
    u = frames_for(2, 64, 48, seed=5)
    mean = u.reshape(2, 16, 4, 24, 2, 3).mean(axis=(2, 4), dtype=np.float64)
    np.testing.assert_array_equal(resize_frames(u, (16, 24), "area"), np.floor(mean + 0.5))
    torch_pool = F.adaptive_avg_pool2d(torch.from_numpy(x).permute(0, 3, 1, 2), (32, 16))
    np.testing.assert_allclose(resize_frames(x, (32, 16), "area"),
                               torch_pool.permute(0, 2, 3, 1).numpy(), atol=1e-6)


@pytest.mark.parametrize("in_hw,out_hw", [((15, 10), (6, 4)), ((7, 9), (3, 5)), ((5, 4), (8, 6))])
def test_area_general_factor_is_exact_area_average(in_hw, out_hw):
    # Replicating every input pixel out_n times and every output pixel then covering in_n of
    # those sub-pixels turns the area average into a plain block mean.
    x = frames_for(1, *in_hw, seed=6, dtype=np.float64)
    (ih, iw), (oh, ow) = in_hw, out_hw
    fine = x.repeat(oh, axis=1).repeat(ow, axis=2)
    expected = fine.reshape(1, oh, ih, ow, iw, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(resize_frames(x, out_hw, "area"), expected, atol=1e-6)


def test_area_uint8_is_the_exactly_rounded_mean():
    tie = np.array([[0, 0], [0, 2]], np.uint8)[None, :, :, None]
    assert resize_frames(tie, 1, "area")[0, 0, 0, 0] == 1  # 0.5 rounds up
    # non-integer factor: exact rational area means with fractions.Fraction
    from fractions import Fraction
    x = frames_for(1, 7, 5, c=1, seed=12)
    got = resize_frames(x, (3, 2), "area")[0, ..., 0]
    for i in range(3):
        for j in range(2):
            total = Fraction(0)
            for y in range(7):
                for z in range(5):
                    oy = max(0, min((i + 1) * 7, (y + 1) * 3) - max(i * 7, y * 3))
                    oz = max(0, min((j + 1) * 5, (z + 1) * 2) - max(j * 5, z * 2))
                    total += Fraction(oy * oz * int(x[0, y, z, 0]), 7 * 5)
            assert got[i, j] == int(total + Fraction(1, 2)), (i, j, total)


@pytest.mark.parametrize("in_hw,out_hw", [((32, 32), (128, 128)), ((5, 4), (10, 12)),
                                           ((3, 7), (3, 14))])
def test_area_uint8_whole_factor_upscale_equals_the_weighted_average(in_hw, out_hw):
    # uint8 upscaling by whole factors takes a shortcut (replication); it must give what the
    # general overlap-weighted average gives on the same values, rounded half up
    u = frames_for(2, *in_hw, seed=13)
    got = resize_frames(u, out_hw, "area")
    assert got.dtype == np.uint8 and got.shape == (2, *out_hw, 3)
    weighted = resize_frames(u.astype(np.float64), out_hw, "area")  # float: the general path
    np.testing.assert_array_equal(got, np.floor(weighted.astype(np.float64) + 0.5))
    np.testing.assert_array_equal(
        resize_frames(u, out_hw, "area", out_dtype=np.float32), got.astype(np.float32))


def test_round_to_uint8_rounds_half_up_and_clips():
    x = np.array([-3.0, -0.5, 0.49999997, 0.5, 1.5, 2.5, 254.5, 255.4, 300.0], np.float32)
    np.testing.assert_array_equal(round_to_uint8(x), [0, 0, 0, 1, 2, 3, 255, 255, 255])
    assert round_to_uint8(x).dtype == np.uint8
    y = np.linspace(-10, 270, 1001)                       # float64 in, not modified
    before = y.copy()
    expected = [min(255, max(0, int(np.floor(v + 0.5)))) for v in y]
    np.testing.assert_array_equal(round_to_uint8(y), expected)
    np.testing.assert_array_equal(y, before)


def test_area_weights_rows_sum_to_one():
    for n_in, n_out in [(300, 224), (7, 3), (3, 7), (128, 128)]:
        w = area_weights(n_in, n_out)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(area_weights(5, 5), np.eye(5))


# ---------------------------------------------------------------- bilinear / nearest
def half_pixel_axis(n_in, n_out):
    s = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    s = np.maximum(s, 0.0)
    i0 = np.floor(s).astype(int)
    i0 = np.minimum(i0, n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, s - i0


@pytest.mark.parametrize("in_hw,out_hw", [((16, 16), (37, 37)), ((50, 30), (21, 44))])
def test_bilinear_is_half_pixel_without_antialias(in_hw, out_hw):
    x = frames_for(2, *in_hw, seed=7, dtype=np.float64)
    y0, y1, fy = half_pixel_axis(in_hw[0], out_hw[0])
    x0, x1, fx = half_pixel_axis(in_hw[1], out_hw[1])
    fx = fx[None, None, :, None]
    fy = fy[None, :, None, None]
    top = x[:, y0][:, :, x0] * (1 - fx) + x[:, y0][:, :, x1] * fx
    bottom = x[:, y1][:, :, x0] * (1 - fx) + x[:, y1][:, :, x1] * fx
    expected = top * (1 - fy) + bottom * fy
    np.testing.assert_allclose(resize_frames(x, out_hw, "bilinear"), expected, atol=1e-5)
    torch_ref = F.interpolate(torch.from_numpy(x.astype(np.float32)).permute(0, 3, 1, 2),
                              size=out_hw, mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(resize_frames(x, out_hw, "bilinear"),
                                  torch_ref.permute(0, 2, 3, 1).numpy())


def test_nearest_picks_floor_index():
    x = frames_for(1, 12, 20, seed=8)
    out = resize_frames(x, (6, 5), "nearest")
    np.testing.assert_array_equal(out, x[:, ::2, ::4])
    out = resize_frames(x, (24, 60), "nearest")
    np.testing.assert_array_equal(out, x.repeat(2, axis=1).repeat(3, axis=2))
    oh, ow = 7, 9
    scale_h, scale_w = np.float32(12) / np.float32(oh), np.float32(20) / np.float32(ow)
    rows = np.floor(np.arange(oh, dtype=np.float32) * scale_h).astype(int)
    cols = np.floor(np.arange(ow, dtype=np.float32) * scale_w).astype(int)
    np.testing.assert_array_equal(resize_frames(x, (oh, ow), "nearest"), x[:, rows][:, :, cols])


# ---------------------------------------------------------------- Pillow methods
def pillow_filter(name):
    if name == "bicubic":
        a = -0.5

        def f(x):
            x = abs(x)
            if x < 1:
                return ((a + 2) * x - (a + 3)) * x * x + 1
            if x < 2:
                return (((x - 5) * x + 8) * x - 4) * a
            return 0.0
        return f, 2.0

    def sinc(x):
        return 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)
    return (lambda x: sinc(x) * sinc(x / 3) if -3 < x < 3 else 0.0), 3.0


def pillow_coeffs(n_in, n_out, name):
    """Pillow's resampling coefficients (separable, antialiased support), as [out, in]."""
    filt, support = pillow_filter(name)
    scale = n_in / n_out
    fscale = max(scale, 1.0)
    support *= fscale
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = (i + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = np.array([filt((j - center + 0.5) / fscale) for j in range(lo, hi)])
        m[i, lo:hi] = w / w.sum()
    return m


def pillow_8bit_pass(img, coeffs, axis):
    """One pass of Pillow's 8-bit fixed-point resampling along ``axis`` (22 fraction bits)."""
    bits = 22
    k = np.where(coeffs < 0, coeffs * (1 << bits) - 0.5, coeffs * (1 << bits) + 0.5).astype(np.int64)
    acc = np.tensordot(np.moveaxis(img.astype(np.int64), axis, -1), k.T, axes=1) + (1 << (bits - 1))
    return np.moveaxis(np.clip(acc >> bits, 0, 255), -1, axis).astype(np.uint8)


@pytest.mark.parametrize("method", ["bicubic", "lanczos"])
@pytest.mark.parametrize("in_hw,out_hw", [((64, 48), (128, 128)), ((256, 200), (128, 128)),
                                          ((30, 41), (17, 41))])
def test_pillow_methods_match_pillow_and_its_definition(method, in_hw, out_hw):
    x = frames_for(2, *in_hw, seed=9)
    got = resize_frames(x, out_hw, method)
    resample = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}[method]
    direct = np.stack([np.asarray(Image.fromarray(f).resize(out_hw[::-1], resample)) for f in x])
    np.testing.assert_array_equal(got, direct)
    # independent: Pillow's filter in NumPy, horizontal pass first, 8-bit fixed point
    expected = x
    if out_hw[1] != in_hw[1]:
        expected = pillow_8bit_pass(expected, pillow_coeffs(in_hw[1], out_hw[1], method), axis=2)
    if out_hw[0] != in_hw[0]:
        expected = pillow_8bit_pass(expected, pillow_coeffs(in_hw[0], out_hw[0], method), axis=1)
    np.testing.assert_array_equal(got, expected)
    # float frames: Pillow's float path = the same coefficients in floating point
    xf = x.astype(np.float32) / 127.5 - 1
    wh = pillow_coeffs(in_hw[0], out_hw[0], method)
    ww = pillow_coeffs(in_hw[1], out_hw[1], method)
    ref = np.einsum("ah,nhwc,bw->nabc", wh, xf.astype(np.float64), ww, optimize=True)
    gotf = resize_frames(xf, out_hw, method)
    assert gotf.dtype == np.float32
    np.testing.assert_allclose(gotf, ref, atol=2e-6)


def test_pillow_methods_single_channel_uint8():
    x = frames_for(1, 20, 20, c=1, seed=10)
    got = resize_frames(x, (10, 10), "lanczos")
    direct = np.asarray(Image.fromarray(x[0, ..., 0]).resize((10, 10), Image.LANCZOS))
    np.testing.assert_array_equal(got[0, ..., 0], direct)


# ---------------------------------------------------------------- API
def test_every_method_keeps_dtype_and_shape():
    x = frames_for(3, 20, 30, seed=11)
    for method in RESIZE_METHODS:
        out = resize_frames(x, (10, 12), method)
        assert out.dtype == np.uint8 and out.shape == (3, 10, 12, 3), method
        outf = resize_frames(x.astype(np.float64), (10, 12), method)
        assert outf.dtype == np.float32 and outf.shape == (3, 10, 12, 3), method
        # a constant image stays constant under every method
        const = np.full((1, 20, 30, 3), 77, np.uint8)
        np.testing.assert_array_equal(resize_frames(const, (33, 7), method), 77, err_msg=method)


def test_errors():
    x = frames_for(1, 8, 8)
    with pytest.raises(VidbenchError, match="valid: tf1-bilinear"):
        resize_frames(x, 4, "cubic")
    with pytest.raises(VidbenchError, match=r"\[N, H, W, C\]"):
        resize_frames(x[0], 4, "area")
    with pytest.raises(VidbenchError, match="positive"):
        resize_frames(x, (0, 4), "area")
    with pytest.raises(VidbenchError, match="Pillow"):
        resize_frames(x, 4, "lanczos", out_dtype=np.float32)


def test_center_crop():
    x = np.arange(2 * 5 * 8 * 3).reshape(2, 5, 8, 3)
    c = center_crop(x, (3, 4))
    np.testing.assert_array_equal(c, x[:, 1:4, 2:6])
    np.testing.assert_array_equal(center_crop(x, (4, 5)), x[:, 0:4, 1:6])  # extra row/col at the end
    assert center_crop(x[0], 5).shape == (5, 5, 3)
    with pytest.raises(VidbenchError, match="cannot crop"):
        center_crop(x, 6)
