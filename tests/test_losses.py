"""Losses (docs/official-code.md, *Losses*) on hand-worked cases and against independent
computations."""
from __future__ import annotations

import math

import pytest
import torch

from vidbench.models.losses import (contrastive_loss, feature_matching_loss, gradient_penalty,
                                    hinge_d_loss, hinge_g_loss, info_nce, pair_cosine, rals,
                                    rals_d_loss, rals_g_loss)


def test_rals_hand_worked():
    pred, other = torch.tensor([1.0, 3.0]), torch.tensor([[0.0, 2.0], [1.0, 1.0]])  # mean 1
    # target 1: ((1-1-1)² + (3-1-1)²)/2 = 1 ; target 0: ((0)² + (2)²)/2 = 2
    assert rals(pred, other, 1.0).item() == pytest.approx(1.0)
    assert rals(pred, other, 0.0).item() == pytest.approx(2.0)
    # two scales are summed
    assert rals([pred, pred], [other, other], 1.0).item() == pytest.approx(2.0)
    real, fake = torch.tensor([2.0, 2.0]), torch.tensor([0.0, 1.0])      # means 2 and 0.5
    # D: 0.5·[mean((2-0.5-1)²) + mean(((0-2)-0)², ((1-2)-0)²)] = 0.5·[0.25 + 2.5] = 1.375
    assert rals_d_loss(real, fake).item() == pytest.approx(1.375)
    # G: 0.5·[mean((-2-1)², (-1-1)²) + mean((1.5)², (1.5)²)] = 0.5·[6.5 + 2.25] = 4.375
    assert rals_g_loss(fake, real).item() == pytest.approx(4.375)
    with pytest.raises(ValueError):
        rals([pred], [other, other], 1.0)


def test_hinge_and_feature_matching_hand_worked():
    loss_real, loss_fake = hinge_d_loss(torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.0]))
    assert (loss_real.item(), loss_fake.item()) == (pytest.approx(0.25), pytest.approx(0.5))
    assert hinge_g_loss(torch.tensor([1.0, -3.0])).item() == pytest.approx(1.0)
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[2.0, 0.0], [-1.0, 0.0]])          # cos 1 and −1/√2
    assert feature_matching_loss(a, b).item() == pytest.approx(-(1 - 2 ** -0.5) / 2)


def test_gradient_penalty_of_a_linear_critic_is_analytic():
    a = torch.tensor([3.0, 4.0, 0.0])                    # ‖a‖ = 5 over channels
    b = torch.tensor([0.6, 0.0, 0.8])                    # ‖b‖ = 1

    def disc(x):                                         # per-voxel linear maps, two "scales"
        return [(x * a.view(1, 3, 1, 1, 1)).sum(1, keepdim=True),
                (x * b.view(1, 3, 1, 1, 1)).sum(1, keepdim=True)[:, :, ::2]]
    real, fake = torch.randn(2, 3, 4, 5, 5), torch.randn(2, 3, 4, 5, 5)
    gp = gradient_penalty(disc, real, fake, torch.Generator().manual_seed(0))
    # scale 1: (5-1)² = 16 everywhere; scale 2 is subsampled in time: half the voxels get a
    # gradient of norm 1 (penalty 0), the others none (penalty (0-1)² = 1) → 0.5
    assert gp.item() == pytest.approx(10 * (16 + 0.5) / 2)


def test_gradient_penalty_matches_independent_autograd():
    torch.manual_seed(0)
    conv1, conv2 = torch.nn.Conv3d(3, 2, 3, padding=1), torch.nn.Conv3d(3, 1, 2, stride=2)

    def disc(x):
        return [torch.tanh(conv1(x)) ** 2, conv2(x) ** 3]
    real, fake = torch.randn(3, 3, 4, 6, 6), torch.randn(3, 3, 4, 6, 6)
    gp = gradient_penalty(disc, real, fake, torch.Generator().manual_seed(11), weight=10.0)
    alpha = torch.rand((3, 1, 1, 1, 1), generator=torch.Generator().manual_seed(11))
    x = alpha * real + (1 - alpha) * fake
    total = 0.0
    for s in range(2):
        jac = torch.autograd.functional.jacobian(lambda v: disc(v)[s].sum(), x)
        norms = torch.sqrt((jac ** 2).sum(dim=1))         # per voxel over channels
        total += ((norms - 1) ** 2).mean().item()
    assert gp.item() == pytest.approx(10 * total / 2, rel=1e-5)
    gp.backward()                                          # create_graph: trainable
    assert conv1.weight.grad is not None and conv1.weight.grad.abs().sum() > 0


def _info_nce_loop(p1, p2, queue, tau):
    """The official recipe with Python loops and math.exp/log."""
    rows = [list(map(float, r)) for r in torch.cat([p1, p2])]
    cols = [list(map(float, r)) for r in torch.cat([p1, p2, queue])]

    def cos(u, v):
        nu = max(math.sqrt(sum(x * x for x in u)), 1e-8)
        nv = max(math.sqrt(sum(x * x for x in v)), 1e-8)
        return sum(x * y for x, y in zip(u, v)) / (nu * nv)
    b = p1.shape[0]
    loss = 0.0
    for i, r in enumerate(rows):
        logits = [0.0 if i == j else cos(r, c) / tau for j, c in enumerate(cols)]
        denom = sum(math.exp(v) for v in logits)
        pos = i + b if i < b else i - b
        loss += -math.log(math.exp(logits[pos]) / denom)
    return loss / (2 * b)


def test_info_nce_matches_plain_loop():
    g = torch.Generator().manual_seed(0)
    p1, p2, q = (torch.randn(s, 5, generator=g, dtype=torch.float64) for s in (3, 3, 7))
    got = info_nce(p1, p2, q, tau=0.07).item()
    assert got == pytest.approx(_info_nce_loop(p1, p2, q, 0.07), rel=1e-9)
    f1, f2, qf = (torch.randn(s, 5, generator=g, dtype=torch.float64) for s in (3, 3, 7))
    both = contrastive_loss(p1, p2, q, f1, f2, qf, tau=0.5).item()
    assert both == pytest.approx(_info_nce_loop(p1, p2, q, 0.5) + _info_nce_loop(f1, f2, qf, 0.5),
                                 rel=1e-9)
    # identical views and an empty-ish queue: the positive dominates, loss is small
    assert info_nce(p1, p1.clone(), q[:0], tau=0.07).item() < 0.05
    q.requires_grad_(True)
    p1.requires_grad_(True)
    info_nce(p1, p2, q).backward()
    assert q.grad is None and p1.grad is not None          # the queue is a constant


def test_pair_cosine_clamps_zero_rows():
    a = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    b = torch.tensor([[4.0, 3.0]])
    sim = pair_cosine(a, b)
    assert sim[0, 0].item() == 0.0 and sim[1, 0].item() == pytest.approx(24 / 25)
