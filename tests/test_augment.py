"""Cross-domain augmentation ``warp`` (docs/official-code.md, *Cross-domain augmentation*) and
the D_3d time flip."""
from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from vidbench.models.augment import (affine, color_shift, cutout, cutout_pixels, draw_cutout,
                                     flip_time, warp)


def test_cutout_pixels_hand_worked_rounding():
    # side = round(128·r − 0.5): r = 17/128 → round(16.5) = 16 (half to even), not 17
    assert cutout_pixels(128, 128, 17 / 128, 0.0, 0.0) == (0, 0, 16)     # round(-0.5) = 0
    assert cutout_pixels(128, 128, 0.125, 0.0, 0.0)[2] == 16             # round(15.5) = 16
    assert cutout_pixels(128, 128, 0.25, 0.75, 0.5) == (95, 63, 32)      # 94.75, 63.0, 31.5
    assert cutout_pixels(128, 128, 18 / 128, 0.0, 0.0)[2] == 18          # round(17.5) = 18


def test_cutout_boxes_follow_the_band_rules():
    g = torch.Generator().manual_seed(0)
    boxes = [draw_cutout(128, 128, g) for _ in range(3000)]
    bands = Counter()
    for top, left, side in boxes:
        assert 16 <= side <= 32
        assert 0 <= top and top + side <= 128 and 0 <= left and left + side <= 128
        in_band = {"top": top + side <= 32 and left <= 95, "bottom": top >= 95 and left <= 95,
                   "left": left + side <= 32 and top <= 95, "right": left >= 95 and top <= 95}
        assert any(in_band.values()), (top, left, side)
        bands.update(k for k, v in in_band.items() if v)
    assert all(bands[k] > 0.2 * len(boxes) for k in ("top", "bottom", "left", "right")), bands
    sides = torch.tensor([b[2] for b in boxes], dtype=torch.float64)
    assert sides.mean().item() == pytest.approx(128 * 0.1875 - 0.5, abs=0.5)


def test_cutout_zeroes_exactly_the_square():
    x = torch.rand(3, 10, 12) + 1.0
    out = cutout(x, 2, 5, 4)
    assert (out == 0).sum().item() == 3 * 16
    assert torch.equal(out[:, 2:6, 5:9], torch.zeros(3, 4, 4))
    out[:, 2:6, 5:9] = x[:, 2:6, 5:9]
    assert torch.equal(out, x)


def test_colour_shift_and_affine_special_cases():
    x = torch.randn(3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(color_shift(x, 0.3, None), x + 0.3)
    shifted = color_shift(x, -0.2, 1)
    torch.testing.assert_close(shifted[1], x[1] - 0.2)
    assert torch.equal(shifted[0], x[0]) and torch.equal(shifted[2], x[2])
    torch.testing.assert_close(affine(x, 0.0, 0.0, 0.0, 1.0), x)                 # identity
    torch.testing.assert_close(affine(x, math.pi, 0.0, 0.0, 1.0), torch.flip(x, [-2, -1]))
    torch.testing.assert_close(affine(x, math.pi / 2, 0.0, 0.0, 1.0), torch.rot90(x, 1, (-2, -1)))
    moved = affine(x, 0.0, 2 / 8, 0.0, 1.0)                                       # one pixel
    torch.testing.assert_close(moved[:, :, :-1], x[:, :, 1:])
    torch.testing.assert_close(moved[:, :, -1], x[:, :, -1])                      # reflection
    zoom = affine(x, 0.0, 0.0, 0.0, 1.05)
    assert not torch.allclose(zoom, x)


def _classify(out: torch.Tensor, cut: torch.Tensor) -> str:
    if torch.equal(out, cut):
        return "flip-kept"
    if torch.equal(out, torch.flip(cut, [-1])):
        return "flip-done"
    diff = out - cut
    const = diff.flatten(1)[:, :1]
    if torch.allclose(diff.flatten(1), const.expand_as(diff.flatten(1)), atol=1e-6):
        shifts = const.flatten()
        assert shifts.abs().max() < 0.5
        if torch.allclose(shifts, shifts[:1].expand(3), atol=1e-6):
            return "colour-all"
        assert (shifts.abs() > 1e-6).sum() == 1
        return "colour-one"
    return "affine"


def test_warp_applies_cutout_then_one_of_three():
    x = torch.rand(600, 3, 32, 32) * 2 - 1
    gen = torch.Generator().manual_seed(5)
    replay = torch.Generator()
    replay.set_state(gen.get_state())
    out = warp(x, gen)
    # the cutouts of all samples are drawn first, so replaying them gives each sample's hole
    cuts = [cutout(x[i], *draw_cutout(32, 32, replay)) for i in range(600)]
    kinds = Counter(_classify(out[i], cuts[i]) for i in range(600))
    flips = kinds["flip-kept"] + kinds["flip-done"]
    colours = kinds["colour-all"] + kinds["colour-one"]
    assert all(150 < n < 250 for n in (flips, colours, kinds["affine"])), kinds
    assert 50 < kinds["flip-done"] < 150 and 20 < kinds["colour-all"] < 90, kinds
    torch.testing.assert_close(warp(x[:8], torch.Generator().manual_seed(1)),
                               warp(x[:8], torch.Generator().manual_seed(1)))
    leaf = x[:4].clone().requires_grad_(True)
    warp(leaf, torch.Generator().manual_seed(2)).sum().backward()
    assert leaf.grad is not None and leaf.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        warp(x[0], gen)


def test_flip_time_is_a_fair_whole_batch_flip():
    v = torch.randn(2, 3, 5, 4, 4)
    gen = torch.Generator().manual_seed(0)
    flipped = 0
    for _ in range(400):
        out = flip_time(v, gen)
        if torch.equal(out, v):
            continue
        assert torch.equal(out, torch.flip(v, [2]))
        flipped += 1
    assert 160 < flipped < 240
