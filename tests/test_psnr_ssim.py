"""PSNR / SSIM presets against closed forms, scikit-image, scipy and torchvision."""
import json
import math

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d
from skimage.metrics import structural_similarity

from vidbench.metrics.psnr_ssim import JUNYAOHU_C1, compute_psnr_ssim, json_safe
from vidbench.metrics.psnr_ssim_ffmpeg import minmax_uint8
from vidbench.utils.errors import VidbenchError


def smooth_videos(n=2, t=4, h=48, w=48):
    """Smooth colourful frames (survive video coding) with pure black and white pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.empty((n, t, h, w, 3), np.uint8)
    for i in range(n):
        for j in range(t):
            base = 128 + 90 * np.sin(xx / 9 + j * 0.3 + i) * np.cos(yy / 11)
            out[i, j] = np.stack([base, base * 0.8 + 20, 255 - base], -1).clip(0, 255).round()
    out[:, :, 0, 0], out[:, :, -1, -1] = 0, 255
    return out


def test_identical_videos_give_inf_psnr_and_ssim_one():
    v = smooth_videos()
    r = compute_psnr_ssim(v, v.copy(), "wang")
    assert r["psnr"] == math.inf and r["psnr_capped"] == 100.0 and r["psnr_finite"] is None
    assert r["num_capped_frames"] == 2 * 4
    assert r["ssim"] == pytest.approx(1.0, abs=1e-12)
    assert json.loads(json.dumps(json_safe(r)))["psnr"] == "inf"


def test_fixed_noise_gives_closed_form_psnr():
    real = np.random.default_rng(0).integers(10, 246, (2, 3, 16, 16, 3), dtype=np.uint8)
    signs = np.where(np.indices(real.shape).sum(0) % 2 == 0, 3, -3)   # |error| = 3 everywhere
    r = compute_psnr_ssim((real + signs).astype(np.uint8), real, "wang")
    assert r["psnr"] == pytest.approx(38.58837851428586, abs=1e-10)  # 10 log10(255^2 / 9)
    assert r["psnr"] == r["psnr_capped"] == r["psnr_finite"] and r["num_capped_frames"] == 0


def test_gaussian_noise_psnr_per_frame_and_one_identical_frame():
    rng = np.random.default_rng(1)
    real = rng.integers(40, 216, (2, 3, 20, 24, 3)).astype(np.uint8)
    noise = np.clip(np.round(rng.normal(0, 5, real.shape)), -30, 30)
    pred = (real + noise).astype(np.uint8)
    pred[1, 2] = real[1, 2]                                           # one identical frame
    r = compute_psnr_ssim(pred, real, "wang")
    mse = (noise ** 2).mean(axis=(2, 3, 4))
    expected = 10 * np.log10(255.0 ** 2 / mse)
    assert np.allclose(r["per_frame"]["psnr"][0], expected[0], rtol=1e-12)
    assert r["per_frame"]["psnr"][1][2] == math.inf and r["psnr"] == math.inf
    capped = expected.copy()
    capped[1, 2] = 100.0
    assert r["psnr_capped"] == pytest.approx(capped.mean(axis=1).mean(), rel=1e-12)
    finite = (expected[0].mean() + expected[1, :2].mean()) / 2
    assert r["psnr_finite"] == pytest.approx(finite, rel=1e-12) and r["num_capped_frames"] == 1


def gaussian_ssim_by_hand(a, b, peak):
    """Wang et al.'s SSIM of two frames [H, W, C], written out: an 11x11 Gaussian window
    (sigma 1.5, normalised to sum 1) slid over the frame where it fits ("valid"), population
    (co)variances, C1 = (0.01 peak)^2, C2 = (0.03 peak)^2, mean of the map, mean over channels."""
    x_ = np.arange(11) - 5.0
    g = np.exp(-x_ ** 2 / (2 * 1.5 ** 2))
    win = np.outer(g, g) / g.sum() ** 2
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2

    def one(p, q):
        f = lambda z: convolve2d(z, win, mode="valid")  # noqa: E731
        mp, mq = f(p), f(q)
        vp, vq, cpq = f(p * p) - mp ** 2, f(q * q) - mq ** 2, f(p * q) - mp * mq
        return (((2 * mp * mq + c1) * (2 * cpq + c2))
                / ((mp ** 2 + mq ** 2 + c1) * (vp + vq + c2))).mean()

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.mean([one(a[..., c], b[..., c]) for c in range(a.shape[-1])]))


def test_wang_ssim_equals_a_gaussian_ssim_written_by_hand():
    rng = np.random.default_rng(2)
    real = smooth_videos(2, 3, 32, 40)
    pred = np.clip(real + rng.normal(0, 12, real.shape), 0, 255).astype(np.uint8)
    r = compute_psnr_ssim(pred, real, "wang")
    ref = np.array([[gaussian_ssim_by_hand(pred[i, j], real[i, j], 255.0) for j in range(3)]
                     for i in range(2)])
    assert np.allclose(r["per_frame"]["ssim"], ref, rtol=0, atol=1e-12)
    assert r["ssim"] == pytest.approx(ref.mean(axis=1).mean(), abs=1e-12)
    assert 0.3 < r["ssim"] < 0.95   # a case where the window and constants matter
    assert r["settings"]["ssim"]["sigma"] == 1.5 and r["settings"]["ssim"]["data_range"] == 255


def test_a_7x7_window_gives_other_numbers():
    """The hand-written reference is sensitive to the window: 7x7 (skimage's default without
    Gaussian weights) differs from the protocol's value by far more than the tolerance."""
    rng = np.random.default_rng(2)
    real = smooth_videos(1, 1, 32, 40)
    pred = np.clip(real + rng.normal(0, 12, real.shape), 0, 255).astype(np.uint8)
    wang = compute_psnr_ssim(pred, real, "wang")["ssim"]
    seven = structural_similarity(pred[0, 0], real[0, 0], win_size=7, data_range=255,
                                  channel_axis=-1)
    assert abs(wang - seven) > 1e-3


def test_valid_crop_is_an_alias_of_wang():
    rng = np.random.default_rng(4)
    real = smooth_videos(2, 3, 40, 36)
    pred = np.clip(real + rng.normal(0, 9, real.shape), 0, 255).astype(np.uint8)
    pred[1, 0] = real[1, 0]
    pred[0, 2] = real[0, 2]
    wang = compute_psnr_ssim(pred, real, "wang")
    alias = compute_psnr_ssim(pred, real, "valid-crop")
    for k in ("psnr", "psnr_capped", "psnr_finite", "ssim", "num_capped_frames"):
        assert alias[k] == wang[k]
    assert alias["protocol"] == "valid-crop" and alias["settings"]["alias_of"] == "wang"
    assert wang["num_capped_frames"] == 2


def test_valid_crop_black_vs_white_reference_values():
    zeros = np.zeros((1, 2, 64, 64, 3), np.uint8)
    r = compute_psnr_ssim(zeros, zeros + 255, "valid-crop")
    assert r["psnr"] == pytest.approx(0.0, abs=1e-12)
    assert r["ssim"] == pytest.approx(9.999000099990664e-05, rel=1e-9)
    assert r["ssim"] == pytest.approx(JUNYAOHU_C1 / (1 + JUNYAOHU_C1), rel=1e-9)
    same = compute_psnr_ssim(zeros, zeros, "valid-crop")
    assert same["psnr_capped"] == 100.0 and same["psnr"] == math.inf


def test_valid_crop_ssim_equals_direct_2d_valid_convolution():
    rng = np.random.default_rng(3)
    real = rng.integers(0, 256, (1, 2, 30, 26, 3), dtype=np.uint8)
    pred = np.clip(real + rng.normal(0, 20, real.shape), 0, 255).astype(np.uint8)
    r = compute_psnr_ssim(pred, real, "valid-crop")
    for j in range(2):
        a, b = pred[0, j] / 255.0, real[0, j] / 255.0
        ref = gaussian_ssim_by_hand(a, b, peak=1.0)
        assert r["per_frame"]["ssim"][0][j] == pytest.approx(ref, abs=1e-12)
        mse = ((a - b) ** 2).mean()
        assert r["per_frame"]["psnr"][0][j] == pytest.approx(20 * math.log10(1 / math.sqrt(mse)),
                                                             rel=1e-12)


def test_minmax_matches_torchvision_0_6_save_image_arithmetic():
    """DTVNet pins torchvision 0.6.1: norm_ip divides by (max - min + 1e-5) and save_image
    writes uint8(clamp(x * 255 + 0.5)); replayed here with torch float32 ops."""
    rng = np.random.default_rng(4)
    for frame in (rng.integers(30, 200, (12, 10, 3), dtype=np.uint8),
                  np.full((8, 8, 3), 77, np.uint8), rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)):
        t = torch.from_numpy(frame.astype(np.float32)).permute(2, 0, 1).clone()
        low, high = float(t.min()), float(t.max())
        t.clamp_(min=low, max=high)
        t.add_(-low).div_(high - low + 1e-5)
        ref = t.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
        assert np.array_equal(minmax_uint8(frame), ref)
    assert not minmax_uint8(np.full((4, 4, 3), 9, np.uint8)).any()    # a flat frame -> black


def test_dtvnet_ffmpeg_identical_and_smooth_distortions(ffmpeg_exe):
    real = smooth_videos(1, 3)
    same = compute_psnr_ssim(real, real.copy(), "dtvnet-ffmpeg", ffmpeg=ffmpeg_exe)
    assert same["ssim"] == pytest.approx(1.0, abs=1e-6) and same["psnr"] == math.inf
    assert same["psnr_capped"] == 100.0 and same["settings"]["encoded_streams"]
    yy, xx = np.mgrid[0:48, 0:48]
    shape = np.stack([np.sin(yy / 5 + 1), np.cos(xx / 6), np.sin((xx + yy) / 7)], -1)
    results = []
    for amp in (5, 16):
        pred = np.clip(real + amp * shape, 0, 255).round().astype(np.uint8)
        pred[:, :, 0, 0], pred[:, :, -1, -1] = 0, 255   # keep min-max normalisation neutral
        wang = compute_psnr_ssim(pred, real, "wang")
        dtv = compute_psnr_ssim(pred, real, "dtvnet-ffmpeg", ffmpeg=ffmpeg_exe)
        assert abs(dtv["psnr"] - wang["psnr"]) < 6 and abs(dtv["ssim"] - wang["ssim"]) < 0.05
        results.append((wang["psnr"], dtv["psnr"], dtv["ssim"]))
    assert results[0][1] > results[1][1] and results[0][2] > results[1][2]


def test_dtvnet_uses_first_32_frames(ffmpeg_exe):
    v = smooth_videos(1, 34, 16, 16)
    r = compute_psnr_ssim(v, v.copy(), "dtvnet-ffmpeg", ffmpeg=ffmpeg_exe)
    assert r["num_frames"] == 32


@pytest.mark.parametrize("pred,real,match", [
    (np.zeros((1, 2, 16, 16, 3), np.uint8), np.zeros((1, 3, 16, 16, 3), np.uint8), "differ"),
    (np.zeros((1, 2, 16, 16, 3), np.float32), np.zeros((1, 2, 16, 16, 3), np.float32), "uint8"),
    (np.zeros((1, 2, 8, 8, 3), np.uint8), np.zeros((1, 2, 8, 8, 3), np.uint8), ">= 11"),
])
def test_bad_inputs_are_user_errors(pred, real, match):
    with pytest.raises(VidbenchError, match=match):
        compute_psnr_ssim(pred, real, "wang")
    with pytest.raises(VidbenchError, match="unknown PSNR/SSIM preset"):
        compute_psnr_ssim(pred, real, "psnr-hvs")


def test_the_hand_written_window_is_opencvs():
    """The valid-crop reference builds its window with cv2.getGaussianKernel(11, 1.5)."""
    import cv2

    x_ = np.arange(11) - 5.0
    g = np.exp(-x_ ** 2 / (2 * 1.5 ** 2))
    assert np.allclose(g / g.sum(), cv2.getGaussianKernel(11, 1.5).ravel(), rtol=0, atol=1e-15)


def test_batched_frame_values_summarize_like_one_call():
    from vidbench.metrics.psnr_ssim import frame_values, summarize

    rng = np.random.default_rng(6)
    real = smooth_videos(3, 2, 24, 24)
    pred = np.clip(real + rng.normal(0, 6, real.shape), 0, 255).astype(np.uint8)
    pred[2, 1] = real[2, 1]
    whole = compute_psnr_ssim(pred, real, "valid-crop")
    parts = [frame_values(pred[a:b], real[a:b], "valid-crop") for a, b in ((0, 1), (1, 3))]
    merged = summarize(*(np.concatenate([p[k] for p in parts]) for k in range(3)),
                       "valid-crop", parts[0][3])
    assert json.dumps(json_safe(merged), sort_keys=True) == json.dumps(json_safe(whole), sort_keys=True)
