"""Metric math and the other feature networks: Fréchet distance, C3D and InceptionResnetV1.

Figures (ratios built in ``benchmarks/ratios.py``):

- ``frechet.svd.{400,2048}``: seconds of ``vidbench.metrics.frechet.frechet_distance(method="svd")``
  (TF-GAN's form, the FVD reference) between two dense D x D covariances. Timed in its
  rounds (``benchmarks/_common.py``): the eigenvalue form of the same function
  (``frechet.eig.D``, torch-fidelity's form) and one float64 D x D SVD with vectors
  (``linalg.svd.D``; the SVD form takes two), its peer and its limit. The covariances share
  random eigenvectors with known eigenvalues, so the exact distance
  |mu1 - mu2|^2 + sum (sqrt(l1) - sqrt(l2))^2 checks both forms.
- ``c3d.random``: clips/s of ``vidbench.models.c3d.C3D`` (the IS network, random weights) on batches
  of 4 preprocessed 16x112x112 clips;
- ``irv1.random``: clips/s of facenet-pytorch's ``InceptionResnetV1`` (the ACD embedder,
  random weights) on 4 clips of 16 frames at 128x128 (the ``mocogan-hd`` ACD preset; one
  forward of 64 frames, the face extractor's batch).

Both networks' FLOPs are counted (``torch.utils.flop_counter``); our I3D (batch 4 at
16x224x224) and the float32 GEMM (``benchmarks/_gemm.py``) run in their rounds, so they are
reported next to I3D's clips/s and as fractions of the GEMM rate under the same load.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks._common import Peer, run_network
from vidbench.metrics.frechet import frechet_distance

DIMS = (400, 2048)
FRECHET_ROUNDS = {400: 10, 2048: 2}   # OpenBLAS SVDs slow down most under load
BATCH, FRAMES = 4, 16
C3D_SIZE, FACE_SIZE = 112, 128
NET_ROUNDS = 3


@pytest.fixture(scope="module", params=DIMS, ids=lambda d: f"d{d}")
def gaussians(request) -> tuple[int, tuple[np.ndarray, ...], float]:
    """(D, (mu1, sigma1, mu2, sigma2), exact Fréchet distance): covariances Q diag(l) Q^T
    with one seeded random orthogonal Q, so they commute and the distance is closed-form."""
    d = request.param
    rng = np.random.default_rng(d)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    l1, l2 = rng.uniform(0.05, 2.0, d), rng.uniform(0.05, 2.0, d)
    s1, s2 = (q * l1) @ q.T, (q * l2) @ q.T
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    exact = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(l1) - np.sqrt(l2)) ** 2).sum())
    return d, (mu1, s1, mu2, s2), exact


def test_frechet_svd(pedantic_with_peers, record_figure, gaussians):
    d, stats, exact = gaussians
    eig_values: list[float] = []
    peers = {f"frechet.eig.{d}": Peer(lambda: eig_values.append(
                 frechet_distance(*stats, method="eig")), "distances", 1),
             f"linalg.svd.{d}": Peer(lambda: np.linalg.svd(stats[1]), "svds", 1)}
    value, nearby = pedantic_with_peers(frechet_distance, stats, FRECHET_ROUNDS[d], peers)
    assert value == pytest.approx(exact, rel=1e-8)
    assert eig_values and all(v == pytest.approx(exact, rel=1e-8) for v in eig_values)
    record_figure(f"frechet.svd.{d}", unit="distances", items_per_round=1, nearby=nearby,
                  dims=d, method="svd")


def seeded_module(build, seed: int) -> torch.nn.Module:
    """A network with torch's default initialisation drawn under a fixed seed (the global
    RNG's state is restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build().eval().requires_grad_(False)


def test_c3d(pedantic_with_peers, record_figure, uniform_clips, count_flops, i3d_peer,
             gemm_peers):
    from vidbench.models.c3d import C3D, NUM_CLASSES

    net = seeded_module(C3D, seed=3)
    # preprocessed input: BGR on the 0-255 scale minus the mean clip, about [-128, 128]
    x = uniform_clips((BATCH, 3, FRAMES, C3D_SIZE, C3D_SIZE), seed=3, low=-128.0, high=128.0)
    flops_per_clip = count_flops(net, x[:1])
    logits, nearby = pedantic_with_peers(run_network, (net, x), NET_ROUNDS,
                                         {**i3d_peer, **gemm_peers})
    assert logits.shape == (BATCH, NUM_CLASSES) and torch.isfinite(logits).all()
    assert torch.allclose(logits[:1], run_network(net, x[:1]), rtol=1e-4, atol=1e-4)
    record_figure("c3d.random", unit="clips", items_per_round=BATCH,
                  flops_per_item=flops_per_clip, nearby=nearby,
                  clip=[FRAMES, C3D_SIZE, C3D_SIZE], weights="random (seeded)")


def test_inception_resnet_v1(pedantic_with_peers, record_figure, uniform_clips, count_flops,
                             i3d_peer, gemm_peers):
    from vidbench.models.facenet import EMBED_DIM, build_embedder

    net = seeded_module(build_embedder, seed=4)
    frames = uniform_clips((BATCH * FRAMES, 3, FACE_SIZE, FACE_SIZE), seed=4)
    flops_per_clip = count_flops(net, frames[:FRAMES])
    emb, nearby = pedantic_with_peers(run_network, (net, frames), NET_ROUNDS,
                                      {**i3d_peer, **gemm_peers})
    assert emb.shape == (BATCH * FRAMES, EMBED_DIM)
    # L2-normalised embeddings
    assert torch.allclose(emb.norm(dim=1), torch.ones(BATCH * FRAMES), atol=1e-4)
    record_figure("irv1.random", unit="clips", items_per_round=BATCH,
                  flops_per_item=flops_per_clip, nearby=nearby,
                  clip=[FRAMES, FACE_SIZE, FACE_SIZE], weights="random (seeded)",
                  frames_per_forward=BATCH * FRAMES)
