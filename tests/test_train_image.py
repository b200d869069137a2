"""StyleGAN2 image trainer: losses, R1, EMA, data order, checkpoints, resume, CLI."""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from vidbench.models.stylegan2 import load_stylegan2
from vidbench.models.stylegan2_disc import StyleGAN2Discriminator
from vidbench.models.stylegan2_losses import (d_logistic_loss, ema_beta, ema_update,
                                              g_nonsaturating_loss, r1_penalty)
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.train.image_data import batch_indices, make_batch
from vidbench.train.image_config import ImageTrainConfig, config_from_dict, preset
from vidbench.train.image import load_generator_from_run, train_image
from _weights import one_thread  # noqa: F401

SMALL = dict(dataset="shapes:num_videos=4,length=4,resolution=32", size=16, style_dim=16,
             n_mlp=2, channels=8, batch=4, steps=5, lr=0.002, r1_gamma=1.0, r1_every=2,
             ema_half_life=100.0, ema_rampup=0.05, checkpoint_every=5, log_every=1,
             sample_grid=2, seed=3)




def test_nonsaturating_losses_hand_worked():
    ln3 = math.log(3.0)
    real, fake = torch.tensor([[0.0], [ln3]]), torch.tensor([[0.0], [-ln3]])
    # softplus(0) = ln 2, softplus(-ln 3) = ln(4/3): D loss = ln 2 + ln(4/3) = ln(8/3)
    assert d_logistic_loss(real, fake).item() == pytest.approx(math.log(8 / 3), rel=1e-6)
    # G loss: mean(softplus(0), softplus(ln 3)) = (ln 2 + ln 4) / 2 = 1.5 ln 2
    assert g_nonsaturating_loss(fake).item() == pytest.approx(1.5 * math.log(2), rel=1e-6)


def test_r1_closed_form():
    """D(x) = Σ a·x² per image: ∇ = 2a·x, R1 = mean_i Σ (2a·x_i)²."""
    x = torch.randn(3, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = 0.7
    x.requires_grad_(True)
    pred = (a * x.pow(2)).sum(dim=[1, 2, 3])[:, None]
    got = r1_penalty(pred, x).item()
    expected = ((2 * a * x.detach()) ** 2).sum(dim=[1, 2, 3]).mean().item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_r1_matches_jacobian_of_discriminator():
    """Against the full Jacobian of the real discriminator (minibatch stddev couples images)."""
    d = StyleGAN2Discriminator(8, channels=4, generator=torch.Generator().manual_seed(1)).double()
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: d(v).sum(), x)  # d Σ D / d x
    expected = jac.pow(2).reshape(4, -1).sum(1).mean()
    xr = x.clone().requires_grad_(True)
    got = r1_penalty(d(xr), xr)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=0)
    got.backward()  # the penalty itself is differentiable w.r.t. D's weights
    assert d.final_conv[0].weight.grad is not None


def test_ema_update_and_beta():
    model, ema = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    with torch.no_grad():
        ema.weight.fill_(1.0), ema.bias.fill_(-1.0)
        model.weight.fill_(3.0), model.bias.fill_(1.0)
    ema_update(ema, model, beta=0.25)
    assert torch.allclose(ema.weight, torch.full((1, 2), 2.5))   # 0.25·1 + 0.75·3
    assert torch.allclose(ema.bias, torch.tensor([0.5]))         # 0.25·(−1) + 0.75·1
    assert ema_beta(32, 10_000) == pytest.approx(0.5 ** (32 / 10_000))  # rosinality's accum
    assert ema_beta(16, 2_000, images_seen=800, rampup=0.05) == pytest.approx(0.5 ** (16 / 40))
    late = ema_beta(16, 2_000, images_seen=10 ** 6, rampup=0.05)
    assert late == pytest.approx(0.5 ** (16 / 2000))


def test_data_order_is_epoch_permutations_and_flip():
    n, b = 10, 4
    seen = np.concatenate([batch_indices(n, b, s, seed=0) for s in range(5)])  # 20 = 2 epochs
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert not np.array_equal(seen[:10], seen[10:])
    np.testing.assert_array_equal(batch_indices(n, b, 3, seed=0), seen[12:16])
    images = np.random.default_rng(0).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    x = make_batch(images, np.arange(4), hflip=False, step=0, seed=0)
    assert x.shape == (4, 3, 4, 4)
    expected = torch.from_numpy(images[1]).permute(2, 0, 1).float() / 127.5 - 1
    torch.testing.assert_close(x[1], expected)
    flipped = make_batch(images, np.arange(n), hflip=True, step=7, seed=0)
    plain = make_batch(images, np.arange(n), hflip=False, step=7, seed=0)
    same = [torch.equal(flipped[i], plain[i]) for i in range(n)]
    mirrored = [torch.equal(flipped[i], plain[i].flip(-1)) for i in range(n)]
    assert all(s or m for s, m in zip(same, mirrored)) and any(mirrored) and any(same)


def test_config_validation_and_presets():
    assert preset("tiny").size == 32
    assert preset("tiny", steps=7).steps == 7
    with pytest.raises(VidbenchError, match="unknown config key"):
        config_from_dict({"stpes": 3})
    with pytest.raises(VidbenchError, match="divisible"):
        ImageTrainConfig(batch=6)
    with pytest.raises(VidbenchError, match="power of two"):
        ImageTrainConfig(size=48)
    with pytest.raises(VidbenchError, match="unknown preset"):
        preset("huge")


def _conv_outputs(net: torch.nn.Module) -> set[int]:
    return {m.weight.shape[-4] for m in net.modules()
            if isinstance(getattr(m, "weight", None), torch.Tensor) and m.weight.ndim >= 4}


def test_discriminator_channels_apart_from_the_generators():
    from vidbench.train.image import build_networks
    g, d = build_networks(ImageTrainConfig(**{**SMALL, "d_channels": 24}))
    assert _conv_outputs(d) == {24} and _conv_outputs(g) == {8, 3}    # 3: to_rgb
    g, d = build_networks(ImageTrainConfig(**SMALL))
    assert _conv_outputs(d) == {8} and _conv_outputs(g) == {8, 3}    # 3: to_rgb
    with pytest.raises(VidbenchError, match="d_channels"):
        ImageTrainConfig(d_channels=0)


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_short_run_writes_loadable_checkpoint(tmp_path):
    cfg = ImageTrainConfig(**SMALL)
    out = train_image(cfg, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert out == run / "generator.pt"
    g = load_stylegan2(out, 16, channels=8, style_dim=16, n_mlp=2)  # strict load
    meta = json.loads((run / "generator.json").read_text())
    assert meta["kwargs"] == {"size": 16, "style_dim": 16, "n_mlp": 2, "channel_multiplier": 2,
                              "channels": 8, "max_channels": None, "lr_mlp": 0.01}
    assert meta["step"] == 5
    g2 = load_generator_from_run(run)
    assert _states_equal(g.state_dict(), g2.state_dict())
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert {"g", "d", "g_ema", "g_optim", "d_optim", "args"} <= set(ckpt)
    json.dumps(ckpt["args"])  # plain JSON data, not a Namespace
    assert ckpt["args"]["size"] == 16 and ckpt["step"] == 5
    assert _states_equal(ckpt["g_ema"], g.state_dict())
    d = StyleGAN2Discriminator(16, channels=8)
    d.load_state_dict(ckpt["d"], strict=True)
    lines = [json.loads(ln) for ln in (run / "log.jsonl").read_text().splitlines()]
    assert [ln["step"] for ln in lines] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(ln["d_loss"]) and np.isfinite(ln["g_loss"]) for ln in lines)
    grid = np.asarray(Image.open(run / "samples" / "step_000005.png"))
    assert grid.shape == (2 * 17 + 1, 2 * 17 + 1, 3)
    with pytest.raises(VidbenchError, match="already holds a run"):
        train_image(cfg, run, progress=False)
    with pytest.raises(BadInputError, match="changed: lr"):
        train_image(config_from_dict({"lr": 0.001, "steps": 6}, cfg), run, resume=True,
                    progress=False)
    # a tampered weight file is refused
    (run / "generator.pt").write_bytes((run / "generator.pt").read_bytes() + b"x")
    with pytest.raises(BadInputError, match="sha256"):
        load_generator_from_run(run / "generator.json")


def test_resume_equals_uninterrupted_run(tmp_path):
    full_cfg = ImageTrainConfig(**{**SMALL, "steps": 6, "checkpoint_every": 3})
    train_image(full_cfg, tmp_path / "full", progress=False)
    half_cfg = config_from_dict({"steps": 3}, full_cfg)
    train_image(half_cfg, tmp_path / "split", progress=False)
    train_image(full_cfg, tmp_path / "split", resume=True, progress=False)
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    for key in ("g", "d", "g_ema"):
        assert _states_equal(a[key], b[key]), key
    assert torch.equal(a["train_rng"], b["train_rng"]) and a["step"] == b["step"] == 6
    assert a["g_optim"]["state"][0]["exp_avg"].equal(b["g_optim"]["state"][0]["exp_avg"])

    def losses(run):
        return [{k: v for k, v in json.loads(ln).items() if "sec" not in k}
                for ln in (run / "log.jsonl").read_text().splitlines()]

    assert losses(tmp_path / "full") == losses(tmp_path / "split")


def test_cli_trains_and_resumes(tmp_path, capsys):
    from vidbench.commands import train_image as cmd

    parser = argparse.ArgumentParser(prog="vidbench")
    cmd.register(parser.add_subparsers())
    run = tmp_path / "cli"
    common = ["image", "--out", str(run), "--no-progress"]
    args = parser.parse_args(common + ["--dataset", SMALL["dataset"], "--size", "16",
                                       "--channels", "8", "--batch", "4", "--steps", "2",
                                       "--seed", "1"])
    assert args.func(args) == 0
    assert "generator:" in capsys.readouterr().out
    args = parser.parse_args(common + ["--resume", "--steps", "3"])
    assert args.func(args) == 0
    meta = json.loads((run / "generator.json").read_text())
    assert meta["step"] == 3 and meta["config"]["seed"] == 1 and meta["config"]["size"] == 16
    with pytest.raises(SystemExit):
        parser.parse_args(["image", "--resize", "cubicish"])
