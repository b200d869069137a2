"""The image-generator interface: adapters, per-video noise, chunking, pooling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidbench.models.biggan import BigGANGenerator
from vidbench.models.generator_api import (BigGANAdapter, ImageGenerator, StyleGAN2Adapter, adapt,
                                           pool_frames, render_video)
from vidbench.models.stylegan2 import StyleGAN2Generator


@pytest.fixture(scope="module")
def sg() -> StyleGAN2Adapter:
    g = StyleGAN2Generator(16, style_dim=16, n_mlp=1, channels=8,
                           generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(1.0)
    return StyleGAN2Adapter(g)


def test_adapters_satisfy_the_protocol(sg):
    big = BigGANGenerator(32, ch=2, dim_z=20)
    assert isinstance(sg, ImageGenerator) and isinstance(adapt(big), ImageGenerator)
    assert isinstance(adapt(big), BigGANAdapter) and adapt(sg) is sg
    assert isinstance(adapt(sg.g), StyleGAN2Adapter)
    with pytest.raises(TypeError):
        adapt(torch.nn.Linear(2, 2))
    gen = torch.Generator().manual_seed(1)
    z = sg.sample_z(3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(sg.sample_latents(3, gen), sg.g.mapping(z))


def test_per_video_noise_is_constant_in_time_and_differs_between_videos(sg):
    w = sg.sample_latents(1, torch.Generator().manual_seed(2))
    traj = w[:, None].expand(2, 4, -1).contiguous()          # 2 videos, 4 identical frames
    vid = render_video(sg, traj, "per_video", torch.Generator().manual_seed(3))
    assert vid.shape == (2, 4, 3, 16, 16)
    for t in range(1, 4):
        assert torch.equal(vid[:, t], vid[:, 0])
    assert not torch.allclose(vid[0, 0], vid[1, 0])           # same w, other noise
    frames = render_video(sg, traj, "per_frame", torch.Generator().manual_seed(3))
    assert not torch.allclose(frames[0, 0], frames[0, 1])
    clean = render_video(sg, traj, "none")
    torch.testing.assert_close(clean[1, 3], sg.render(w)[0])
    with pytest.raises(ValueError, match="Generator"):
        render_video(sg, traj, "per_video")
    with pytest.raises(ValueError):
        render_video(sg, traj, "sometimes", torch.Generator())


def test_render_video_matches_manual_repeat_and_ignores_chunking(sg):
    traj = torch.randn(3, 5, 16)
    full = render_video(sg, traj, "per_video", torch.Generator().manual_seed(7))
    maps = sg.sample_noise(3, torch.Generator().manual_seed(7))
    manual = sg.render(traj.reshape(15, 16), noise=[m.repeat_interleave(5, 0) for m in maps])
    torch.testing.assert_close(full, manual.view(3, 5, 3, 16, 16))
    chunked = render_video(sg, traj, "per_video", torch.Generator().manual_seed(7), chunk=4)
    torch.testing.assert_close(chunked, full)


def test_biggan_videos_have_no_noise():
    ad = BigGANAdapter(BigGANGenerator(32, ch=2, dim_z=20).eval())
    traj = torch.randn(2, 3, 20)
    a = render_video(ad, traj, "per_video", torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, render_video(ad, traj, "none"))
    with pytest.raises(ValueError):
        ad.render(traj[0], noise=[torch.zeros(1)])


def test_pool_frames_is_a_box_filter():
    x = torch.randn(2, 3, 3, 8, 8, dtype=torch.float64)
    ref = x.numpy().reshape(2, 3, 3, 4, 2, 4, 2).mean(axis=(4, 6))
    np.testing.assert_allclose(pool_frames(x, 4).numpy(), ref, rtol=1e-12)
    assert pool_frames(x, 8) is x
    with pytest.raises(ValueError):
        pool_frames(x, 3)
