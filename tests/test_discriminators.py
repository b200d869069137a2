"""Discriminators (docs/official-code.md; the paper's Tab. 6): patch grids, official key
layouts, scale order, conditioning helpers, the contrastive D's EMA and queues."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vidbench.models.image_disc import (BigGANDiscriminator, ContrastiveImageDiscriminator,
                                        PairDiscriminator, image_pair)
from vidbench.models.losses import contrastive_loss
from vidbench.models.state_io import load_strict, strip_prefix
from vidbench.models.video_disc import VideoDiscriminator, d3d_input, first_frame_pairs


def expected_patchgan_keys(in_ch: int, ndf: int = 64, k: tuple = (4, 4, 4)) -> dict[str, tuple]:
    """``netD.scale{i}_layer{j}.{k}.*`` of the official D_3d / in-domain D (both scales ndf)."""
    chans = [in_ch, ndf, 2 * ndf, 4 * ndf, 8 * ndf, 1]
    keys: dict[str, tuple] = {}
    for i in range(2):
        for j in range(5):
            p = f"netD.scale{i}_layer{j}."
            keys[p + "0.weight"] = (chans[j + 1], chans[j], *k)
            keys[p + "0.bias"] = (chans[j + 1],)
            if j in (1, 2, 3):
                keys[p + "1.running_mean"] = keys[p + "1.running_var"] = (chans[j + 1],)
                keys[p + "1.num_batches_tracked"] = ()
    return keys


def test_d3d_real_size_keys_and_patch_grids():
    with torch.device("meta"):                              # ndf 64 shapes at no cost
        for cross, (c, t) in ((True, (3, 16)), (False, (6, 15))):
            d = VideoDiscriminator.for_mode(cross_domain=cross)
            got = {k: tuple(v.shape) for k, v in d.state_dict().items()}
            assert got == expected_patchgan_keys(c)
            outs = d(torch.empty(2, c, t, 128, 128))
            assert [tuple(o.shape) for o in outs] == [(2, 1, 5, 19, 19), (2, 1, 5, 11, 11)]
        pair = PairDiscriminator()
        got = {k: tuple(v.shape) for k, v in pair.state_dict().items()}
        assert got == expected_patchgan_keys(6, k=(4, 4))


@pytest.mark.parametrize("conditioned", [False, True])
def test_d3d_grids_at_128_with_small_ndf(conditioned):
    video = torch.randn(1, 16, 3, 128, 128)
    x = d3d_input(video, conditioned)
    assert x.shape == ((1, 6, 15, 128, 128) if conditioned else (1, 3, 16, 128, 128))
    d = VideoDiscriminator(x.shape[1], x.shape[2], ndf=8, ndf_max=8,
                           generator=torch.Generator().manual_seed(0))
    feats = d(x, return_features=True)
    assert [tuple(f[-1].shape) for f in feats] == [(1, 1, 5, 19, 19), (1, 1, 5, 11, 11)]
    assert [f.shape[1] for f in feats[0]] == [8, 16, 32, 64, 1]


def test_official_checkpoint_layout_loads_after_stripping_module(tmp_path):
    d = VideoDiscriminator(3, 16, ndf=4, ndf_max=4)
    state = {"module." + k: torch.randn(s) if s else torch.tensor(3)
             for k, s in expected_patchgan_keys(3, ndf=4).items()}
    load_strict(d, strip_prefix(state, "module."), tmp_path / "modelD_3d_latest.pth", "D_3d")
    assert torch.equal(d.netD.scale1_layer4[0].weight, state["module.netD.scale1_layer4.0.weight"])


def test_scale1_modules_see_full_resolution_and_scale0_the_pooled_input():
    d = VideoDiscriminator(3, 16, ndf=4, ndf_max=4, generator=torch.Generator().manual_seed(1))
    x = torch.randn(2, 3, 16, 32, 32)
    outs = d(x)

    def run(layers, h):
        for layer in layers:
            h = layer(h)
        return h
    torch.testing.assert_close(outs[0], run(d.netD.scale_layers(1), x))
    pooled = F.avg_pool3d(x, 3, stride=(1, 2, 2), padding=1, count_include_pad=False)
    assert pooled.shape == (2, 3, 16, 16, 16)
    torch.testing.assert_close(outs[1], run(d.netD.scale_layers(0), pooled))
    long = VideoDiscriminator(3, 32, ndf=4, ndf_max=4)
    assert long.netD.downsample.stride == 2                  # > 16 frames: pooled in time too
    inorm = d.netD.scale1_layer2[1]
    assert isinstance(inorm, torch.nn.InstanceNorm3d) and not inorm.affine
    assert inorm.track_running_stats
    assert d.netD.scale1_layer0[0].weight.std().item() == pytest.approx(0.02, rel=0.1)


def test_first_frame_conditioning():
    video = torch.arange(4 * 16.0).view(2, 16, 2, 1, 1).expand(2, 16, 2, 3, 3)
    pairs = first_frame_pairs(video)
    assert pairs.shape == (2, 15, 4, 3, 3)
    for t in range(2, 17):                                   # 1-based frames 2..16
        assert torch.equal(pairs[:, t - 2, :2], video[:, 0])
        assert torch.equal(pairs[:, t - 2, 2:], video[:, t - 1])
    assert torch.equal(d3d_input(video, True), pairs.transpose(1, 2))
    assert torch.equal(image_pair(video, 5), torch.cat([video[:, 0], video[:, 5]], 1))
    with pytest.raises(ValueError):
        image_pair(video, 0)


def test_pair_discriminator_grids():
    d = PairDiscriminator(ndf=8, ndf_max=8, generator=torch.Generator().manual_seed(0))
    outs = d(torch.randn(2, 6, 128, 128))
    assert [tuple(o.shape) for o in outs] == [(2, 1, 19, 19), (2, 1, 11, 11)]
    with pytest.raises(ValueError):
        d(torch.randn(2, 3, 128, 128))


def test_biggan_discriminator_layout_and_outputs():
    with torch.device("meta"):
        sd = BigGANDiscriminator(128, 96).state_dict()
    chans = [3, 96, 192, 384, 768, 1536, 1536]
    for i in range(6):
        assert sd[f"blocks.{i}.0.conv1.weight_orig"].shape == (chans[i + 1], chans[i], 3, 3)
        assert (f"blocks.{i}.0.conv_sc.weight_orig" in sd) == (i < 5)  # block 6: same ch, no pool
    assert sd["proj0.weight_orig"].shape == (256, 1536) and sd["linear.weight_orig"].shape == (1, 256)
    assert {"proj1.weight_u", "proj2.weight_v", "linear.bias"} <= set(sd)
    d = BigGANDiscriminator(128, 4, proj_dim=16, generator=torch.Generator().manual_seed(0))
    logit, proj = d(torch.randn(3, 3, 128, 128))
    assert logit.shape == (3, 1) and proj.shape == (3, 16)
    d.eval()
    x = torch.randn(2, 3, 128, 128)
    torch.testing.assert_close(d(x, proj_only=True), d(x)[1])


@pytest.fixture
def cd() -> ContrastiveImageDiscriminator:
    return ContrastiveImageDiscriminator(32, 2, proj_dim=8, queue_size=10, global_batch=4,
                                         generator=torch.Generator().manual_seed(0))


def test_contrastive_d_keys_ema_and_buffers(cd):
    keys = set(cd.state_dict())
    assert {"q_real", "q_fake", "q_ptr"} <= keys
    assert all(k.startswith(("modelD.", "modelD_ema.", "q_")) for k in keys)
    for p, pe in zip(cd.modelD.parameters(), cd.modelD_ema.parameters()):
        assert torch.equal(p, pe) and not pe.requires_grad
    online = dict(cd.modelD.named_parameters())
    before = {k: v.clone() for k, v in cd.modelD_ema.named_parameters()}
    u_before = cd.modelD_ema.proj0.weight_u.clone()
    with torch.no_grad():
        for p in online.values():
            p.add_(1.0)
        cd.modelD.proj0.weight_u.mul_(-1)
    cd.update_ema()
    for k, pe in cd.modelD_ema.named_parameters():
        torch.testing.assert_close(pe, 0.999 * before[k] + 0.001 * online[k])
    assert torch.equal(cd.modelD_ema.proj0.weight_u, u_before)       # buffers not averaged
    logit, proj = cd(torch.randn(2, 3, 32, 32), ema=True)
    assert logit.shape == (2, 1) and proj.shape == (2, 8)


def test_queues_init_fifo_and_loss(cd):
    assert cd.q_real.shape == (10, 8) and cd.q_len == 8          # 10 // 4 * 4
    torch.testing.assert_close(cd.q_real.norm(dim=0), torch.ones(8))    # official: dim 0
    assert not torch.allclose(cd.q_real, cd.q_fake)
    tail = cd.q_real[8:].clone()
    for step in range(3):
        cd.push(torch.full((4, 8), float(step)), torch.full((4, 8), -float(step)))
    # rows 0-3 hold step 2 (wrapped), rows 4-7 step 1; rows beyond q_len untouched
    assert torch.equal(cd.q_real[:4], torch.full((4, 8), 2.0))
    assert torch.equal(cd.q_real[4:8], torch.full((4, 8), 1.0))
    assert torch.equal(cd.q_fake[4:8], torch.full((4, 8), -1.0))
    assert torch.equal(cd.q_real[8:], tail) and int(cd.q_ptr) == 4
    g = torch.Generator().manual_seed(1)
    r1, r2, f1, f2 = (torch.randn(4, 8, generator=g) for _ in range(4))
    expected = contrastive_loss(r1, r2, cd.q_real[:8], f1, f2, cd.q_fake[:8], 0.07)
    torch.testing.assert_close(cd.contrastive_loss(r1, r2, f1, f2), expected)
    with pytest.raises(ValueError):
        cd.push(torch.zeros(9, 8), torch.zeros(9, 8))
