"""GAN inversion: recovers a rendered frame, records its settings, perceptual term against an
independent VGG16 computation, batching invariance, noise and W+ options, errors."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from _vggfile import FILENAME, manual_vgg16, write_random_vgg16
from vidbench.models.generator_api import StyleGAN2Adapter
from vidbench.models.stylegan2 import StyleGAN2Generator
from vidbench.data.convert import to_uint8
from vidbench.utils.errors import MissingWeightsError, VidbenchError
from vidbench.sample.inversion import InversionSettings, invert, mean_latent
from _weights import one_thread  # noqa: F401

FAST = dict(perceptual="none", mean_samples=2000)




def tiny_generator(seed: int = 0) -> StyleGAN2Generator:
    """A random 32x32 StyleGAN2 whose images stay roughly in [-1, 1]."""
    g = StyleGAN2Generator(32, style_dim=32, n_mlp=2, channels=16,
                           generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for name, p in g.named_parameters():
            if "to_rgb" in name and name.endswith("conv.weight"):
                p.mul_(0.25)
    return g.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def g():
    return tiny_generator()


def targets(g, n=3, seed=1, pull=0.5):
    """uint8 frames [n, 32, 32, 3] rendered from known codes w* between the mean w and
    mapped z (pull = 1: the mapped z itself)."""
    w_mean = mean_latent(StyleGAN2Adapter(g), 2000, 0)
    z = torch.randn(n, 32, generator=torch.Generator().manual_seed(seed))
    w_star = w_mean + pull * (g.mapping(z) - w_mean)
    with torch.no_grad():
        return to_uint8(g.synthesis(w_star).permute(0, 2, 3, 1)).numpy(), w_star


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return 10 * np.log10(255.0 ** 2 / mse)


def test_inverts_a_rendered_frame_above_30_db(g):
    x, w_star = targets(g)
    res = invert(g, x, steps=200, lr=0.1, progress=False, **FAST)
    assert res.latents.shape == (3, 32) and res.reconstructions.shape == (3, 3, 32, 32)
    recon = to_uint8(res.reconstructions.permute(0, 2, 3, 1)).numpy()
    start = 10 * np.log10(4.0 / res.pixel_losses[0])            # MSE of [-1, 1] images
    assert (start < 25).all()                                   # the mean w is far off
    assert (psnr_uint8(recon, x) >= 30).all()
    assert res.losses.shape == (201, 3) and (res.losses[-1] < res.losses[0] / 50).all()
    np.testing.assert_allclose(res.losses, res.pixel_losses)    # no perceptual term
    assert (res.perceptual_losses == 0).all()
    s = res.settings
    assert s["steps"] == 200 and s["lr"] == 0.1 and s["optimizer"] == "Adam"
    assert s["space"] == "w" and s["perceptual"] == "none"
    assert s["perceptual_loss"].startswith("none") and "mean of mapping(z)" in s["init"]
    assert "Image2StyleGAN" in s["reference"]


def test_defaults_are_image2stylegan_recipe():
    s = InversionSettings()
    assert (s.steps, s.lr, s.betas, s.lambda_vgg, s.space) == (5000, 0.01, (0.9, 0.999), 1.0, "w")
    assert s.vgg_layers == ("relu1_1", "relu1_2", "relu3_2", "relu4_2")


def test_mean_latent_matches_one_big_draw(g):
    z = torch.randn(5000, 32, generator=torch.Generator().manual_seed(7))
    expected = g.mapping(z).double().mean(0).float()
    torch.testing.assert_close(mean_latent(StyleGAN2Adapter(g), 5000, 7), expected)


def test_batching_does_not_change_the_codes(g):
    x, _ = targets(g, n=3, seed=2)
    one = invert(g, x, steps=15, lr=0.05, batch_size=1, progress=False, **FAST)
    all3 = invert(g, x, steps=15, lr=0.05, batch_size=3, progress=False, **FAST)
    torch.testing.assert_close(one.latents, all3.latents, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(one.losses, all3.losses, rtol=1e-4, atol=1e-7)


@pytest.fixture
def home_with_vgg(vidbench_home, tmp_path):
    dest = vidbench_home / "weights" / FILENAME
    return write_random_vgg16(dest, seed=5)


def test_perceptual_term_matches_an_independent_vgg16(g, home_with_vgg):
    x, _ = targets(g, n=2, seed=3)
    lam = 2.5
    res = invert(g, x, steps=0, perceptual="vgg16", lambda_vgg=lam, mean_samples=2000,
                 progress=False)
    state = torch.load(home_with_vgg, weights_only=True)
    target = torch.from_numpy(x).permute(0, 3, 1, 2).double() / 127.5 - 1
    fr = manual_vgg16(state, res.reconstructions.float(), "relu4_2")
    ft = manual_vgg16(state, target.float(), "relu4_2")
    layers = ("relu1_1", "relu1_2", "relu3_2", "relu4_2")
    perc = sum(((fr[n] - ft[n]) ** 2).mean(dim=(1, 2, 3)) for n in layers).numpy()
    pixel = ((res.reconstructions.double() - target) ** 2).mean(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(res.perceptual_losses[0], perc, rtol=1e-4)
    np.testing.assert_allclose(res.pixel_losses[0], pixel, rtol=1e-5)
    np.testing.assert_allclose(res.losses[0], pixel + lam * perc, rtol=1e-4)
    assert res.settings["lambda_vgg"] == lam and "VGG16" in res.settings["perceptual_loss"]
    moved = invert(g, x, steps=5, lr=0.05, perceptual="vgg16", lambda_vgg=lam,
                   mean_samples=2000, progress=False)
    plain = invert(g, x, steps=5, lr=0.05, progress=False, **FAST)
    assert not torch.allclose(moved.latents, plain.latents)     # the term reaches the gradient
    assert (moved.losses[-1] < moved.losses[0]).all()


def test_missing_vgg_file_says_where_and_how_to_skip(g, vidbench_home):
    dest = vidbench_home / "weights" / FILENAME
    if dest.is_symlink() or dest.exists():
        os.unlink(dest)
    x, _ = targets(g, n=1)
    with pytest.raises(MissingWeightsError) as err:
        invert(g, x, steps=1, progress=False)
    message = str(err.value)
    assert str(dest) in message and "perceptual=none" in message
    invert(g, x, steps=1, progress=False, perceptual="none", mean_samples=10)  # runs without it


def test_fixed_noise_and_w_plus(g):
    x, _ = targets(g, n=2, seed=4)
    with pytest.raises(VidbenchError, match="generator_rng"):
        invert(g, x, steps=1, noise="fixed", progress=False, **FAST)
    res = invert(g, x, steps=3, noise="fixed", generator_rng=torch.Generator().manual_seed(0),
                 progress=False, **FAST)
    assert [tuple(m.shape) for m in res.noise] == [(2, 1, s, s) for s in g.noise_sides()]
    with torch.no_grad():
        again = g.synthesis(res.latents, noise=res.noise)
    torch.testing.assert_close(res.reconstructions, again)
    plus = invert(g, x, space="w+", steps=20, lr=0.05, progress=False, **FAST)
    assert plus.latents.shape == (2, g.n_latent, 32)
    assert (plus.losses[-1] < plus.losses[0]).all()


def test_bad_inputs(g):
    with pytest.raises(VidbenchError, match="resize"):
        invert(g, np.zeros((1, 16, 16, 3), np.uint8), progress=False, **FAST)
    with pytest.raises(VidbenchError, match="valid settings"):
        invert(g, np.zeros((1, 32, 32, 3), np.uint8), iterations=3, progress=False)
    with pytest.raises(VidbenchError, match=r"\[-1, 1\]"):
        invert(g, torch.full((1, 3, 32, 32), 2.0), progress=False, **FAST)
    with pytest.raises(VidbenchError, match="space"):
        InversionSettings(space="z")
