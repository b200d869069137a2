"""``vidbench.acd``, ``vidbench.psnr_ssim`` and ``vidbench.torchmetrics.AverageContentDistance``
against independent computations on the raw arrays.

PSNR is the formula written out per frame (mean over frames, then videos); SSIM is
scikit-image's ``structural_similarity`` with Wang et al.'s settings called frame by frame. ACD
uses stand-in VGGFace2 weights written by the test in the published file's layout; the
reference value comes from facenet-pytorch's ``InceptionResnetV1`` loaded here with that
state_dict, the ``mocogan-hd`` input mapping written out (``x / 127.5 - 1``, 128x128 frames fed
whole) and SciPy's pairwise distances; none of it goes through vidbench's face extractor.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist
from skimage.metrics import structural_similarity

import vidbench
from vidbench.torchmetrics import AverageContentDistance
from vidbench.utils.errors import VidbenchError

from test_acd import random_vggface2_state

FACE_FILE = "20180402-114759-vggface2.pt"


# --- PSNR / SSIM ------------------------------------------------------------------------------

def noisy_pair(seed=0, shape=(2, 3, 24, 20, 3)):
    """(pred, real): smooth-ish real videos and a noisy copy, uint8, no identical frame."""
    rng = np.random.default_rng(seed)
    real = rng.integers(40, 216, shape).astype(np.uint8)
    noise = rng.normal(0, 12, shape)
    pred = np.clip(real + noise, 0, 255).round().astype(np.uint8)
    return pred, real


def hand_psnr_ssim(pred, real):
    psnr, ssim = [], []
    for pv, rv in zip(pred, real):
        fp, fs = [], []
        for p, r in zip(pv, rv):
            mse = np.mean((p.astype(np.float64) - r.astype(np.float64)) ** 2)
            fp.append(10 * math.log10(255.0 ** 2 / mse))
            fs.append(structural_similarity(r, p, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=255,
                                            channel_axis=-1))
        psnr.append(np.mean(fp))
        ssim.append(np.mean(fs))
    return float(np.mean(psnr)), float(np.mean(ssim))


def test_psnr_ssim_of_arrays_equals_the_formula_and_scikit_image():
    pred, real = noisy_pair()
    res = vidbench.psnr_ssim(pred, real, progress=False)
    want_psnr, want_ssim = hand_psnr_ssim(pred, real)
    assert res.metric == "psnr_ssim" and res.protocol == "wang"
    assert res.value["psnr"] == pytest.approx(want_psnr, rel=1e-10)
    assert res.value["ssim"] == pytest.approx(want_ssim, rel=1e-9)
    assert 20 < want_psnr < 40 and 0 < want_ssim < 1          # a real distortion, not a no-op
    d = res.to_dict()
    assert d["num_fake"] == 2 and d["num_capped_frames"] == 0
    # the first frames only, and the first video only
    psnr2, ssim2 = hand_psnr_ssim(pred[:1, :2], real[:1, :2])
    two = vidbench.psnr_ssim(pred, real, num_videos=1, num_frames=2, progress=False)
    assert two.value["psnr"] == pytest.approx(psnr2, rel=1e-10)
    assert two.value["ssim"] == pytest.approx(ssim2, rel=1e-9)


def test_psnr_ssim_of_float_tensors_with_layout_and_range():
    pred, real = noisy_pair(seed=1)
    want_psnr, want_ssim = hand_psnr_ssim(pred, real)
    # NTCHW in [0, 1] as torch tensors: the same uint8 values after the API's conversion
    p = torch.from_numpy(pred).permute(0, 1, 4, 2, 3).double() / 255
    r = torch.from_numpy(real).permute(0, 1, 4, 2, 3).double() / 255
    res = vidbench.psnr_ssim(p, r, layout="NTCHW", value_range=(0, 1), progress=False)
    assert res.value["psnr"] == pytest.approx(want_psnr, rel=1e-10)
    assert res.value["ssim"] == pytest.approx(want_ssim, rel=1e-9)
    with pytest.raises(VidbenchError, match="^pred: .*needs layout= and value_range="):
        vidbench.psnr_ssim(p, r, progress=False)


def test_psnr_of_identical_videos_is_infinite_and_capped():
    _, real = noisy_pair(seed=2)
    res = vidbench.psnr_ssim(real, real.copy(), progress=False)
    assert res.value["psnr"] == float("inf") and res.value["ssim"] == 1.0
    assert res.record["psnr_capped"] == 100.0 and res.record["num_capped_frames"] == 6


# --- ACD --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def face_state():
    return random_vggface2_state(seed=4)


@pytest.fixture
def face_home(vidbench_home, face_state):
    path = vidbench_home / "weights" / FACE_FILE
    if path.is_symlink():          # the real home's file, if any: this test uses its own
        os.unlink(path)
    torch.save(face_state, path)
    return vidbench_home


@pytest.fixture(scope="module")
def face_clips():
    """Three 16-frame 128x128 videos: a drifting pattern, so consecutive frames differ."""
    rng = np.random.default_rng(9)
    base = rng.integers(0, 256, (3, 1, 128, 128, 3)).astype(np.float64)
    drift = rng.normal(0, 6, (3, 16, 128, 128, 3)).cumsum(axis=1)
    return np.clip(base + drift, 0, 255).round().astype(np.uint8)


def hand_embeddings(clips, state):
    """Unit embeddings ``[N, T, 512]`` written out: facenet-pytorch's network with the
    stand-in state and MoCoGAN-HD's mapping of 128x128 frames."""
    from facenet_pytorch import InceptionResnetV1

    net = InceptionResnetV1(pretrained=None, classify=False, num_classes=8631)
    net.load_state_dict(state, strict=False)
    net.eval()
    out = []
    for video in clips:
        x = torch.from_numpy(video.astype(np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        with torch.no_grad():
            e = net(x.clamp(-1, 1)).double().numpy()
        out.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    return np.stack(out)


def hand_acd(emb, pairs):
    """Mean over videos of the mean L2 distance over frame pairs (SciPy for all pairs)."""
    if pairs == "all":
        return float(np.mean([pdist(e).mean() for e in emb]))
    return float(np.mean([np.mean([np.linalg.norm(e[t + 1] - e[t]) for t in range(len(e) - 1)])
                          for e in emb]))


@pytest.fixture(scope="module")
def embeddings(face_clips, face_state):
    torch.set_num_threads(1)
    return hand_embeddings(face_clips, face_state)


@pytest.fixture(scope="module")
def hand_values(embeddings):
    return {p: hand_acd(embeddings, p) for p in ("all", "consecutive")}


def test_acd_of_arrays_equals_a_hand_computation(face_home, face_clips, embeddings, hand_values):
    # the real videos: each one's first 8 frames twice over (the same frames, so the hand
    # computation reuses their embeddings; a different ACD from the fake side)
    real = np.concatenate([face_clips[:, :8], face_clips[:, :8]], axis=1)
    res = vidbench.acd(face_clips, "mocogan-hd-all", real=real, num_videos=3, progress=False)
    assert res.metric == "acd" and res.protocol == "mocogan-hd-all"
    assert res.value == pytest.approx(hand_values["all"], rel=1e-5)
    assert res.record["by_pairs"]["consecutive"] == pytest.approx(hand_values["consecutive"],
                                                                   rel=1e-5)
    assert 0 < hand_values["consecutive"] < hand_values["all"] < 2     # unit vectors, drifting
    assert res.record["num_fake"] == 3 and res.record["face_found_fraction"] == 1.0
    real_emb = np.concatenate([embeddings[:, :8], embeddings[:, :8]], axis=1)
    want_real = hand_acd(real_emb, "all")
    assert abs(want_real - hand_values["all"]) > 1e-3
    assert res.record["real"]["value"] == pytest.approx(want_real, rel=1e-5)


def test_torchmetrics_acd_equals_a_hand_computation(face_home, face_clips, hand_values):
    metric = AverageContentDistance("mocogan-hd-consecutive", batch_size=2)
    metric.update(face_clips[:1])
    metric.update(torch.from_numpy(face_clips[1:]))
    assert float(metric.compute()) == pytest.approx(hand_values["consecutive"], rel=1e-5)
    metric.reset()
    with pytest.raises(VidbenchError, match="no videos were given"), warnings.catch_warnings():
        warnings.simplefilter("ignore")       # torchmetrics: compute() before update()
        metric.compute()
    with pytest.raises(VidbenchError, match="a second metric object scores the real ones"):
        metric.update(face_clips, real=True)
