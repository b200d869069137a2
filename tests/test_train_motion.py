"""Motion training: config, the wiring of every loss term with the official weights
(docs/official-code.md, *Losses*), ablations, and short runs on `shapes` (in-domain,
cross-domain, paper-contrastive)."""
from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F

from _motion_fixtures import make_tiny_setup, one_thread  # noqa: F401 (autouse fixture)
from vidbench.models.augment import flip_time, warp
from vidbench.models.losses import info_nce
from vidbench.models.motion import MotionOutput
from vidbench.models.rng import randint
from vidbench.models.video_disc import d3d_input
from vidbench.train.checkpoint import load_training_state, read_export
from vidbench.cli import main
from vidbench.train.motion_config import (MotionTrainConfig, load_config, resolve_config,
                                          with_overrides)
from vidbench.utils.errors import VidbenchError
from vidbench.train.losses import LossSetup, g_losses, image_d_loss, video_d_loss
from vidbench.train.motion import build_discriminators, train_motion

SMALL = {"batch_size": 2, "data.n_frames": 8, "log_every": 1}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_setup(tmp_path_factory.mktemp("tiny"), num_samples=1000)


# --------------------------------------------------------------------------- config
def test_config_json_round_trip_and_unknown_keys(tmp_path):
    cfg = resolve_config("tiny", ablations=("no-mi",), overrides={"loss.w_match": 5.0})
    assert MotionTrainConfig.from_dict(json.loads(cfg.to_json())) == cfg
    (tmp_path / "c.json").write_text(cfg.to_json())
    assert load_config(tmp_path / "c.json") == cfg
    data = cfg.to_dict()
    with pytest.raises(VidbenchError, match="unknown config key.*bogus"):
        MotionTrainConfig.from_dict({**data, "bogus": 1})
    with pytest.raises(VidbenchError, match="unknown config key.*n_pcaa"):
        MotionTrainConfig.from_dict({**data, "motion": {**data["motion"], "n_pcaa": 3}})
    with pytest.raises(VidbenchError, match="expected an integer"):
        MotionTrainConfig.from_dict({**data, "batch_size": "4"})
    with pytest.raises(VidbenchError, match="unknown config key"):
        with_overrides(cfg, {"loss.w_nothing": 1.0})


def test_presets_ablations_and_defaults():
    code = MotionTrainConfig()
    assert (code.motion.hidden_dim, code.motion.n_pca, code.motion.residual_scale) == (384, 384, 0.2)
    assert (code.loss.w_contrastive, code.loss.gp_weight, code.g_steps, code.optim.lr) == \
        (2.0, 10.0, 5, 1e-4)
    sky = resolve_config("paper", overrides={"data.dataset": "sky"})
    assert (sky.batch_size, sky.epochs, sky.mode) == (32, 200, "in-domain")
    ffhq = resolve_config("paper-ffhq256-voxceleb")
    assert (ffhq.mode, ffhq.loss.w_match, ffhq.optim.image_betas, ffhq.optim.image_eps) == \
        ("cross-domain", 5.0, (0.0, 0.999), 1e-6)
    assert resolve_config("tiny").optim.image_betas == (0.5, 0.999)
    for name, key in (("no-residual", "residual"), ("no-mi", "mi"), ("no-video-disc", "video_disc"),
                      ("no-image-disc", "image_disc")):
        cfg = resolve_config("tiny", ablations=(name,))
        section = cfg.motion if key == "residual" else cfg.loss
        assert getattr(section, key) is False
        assert cfg == with_overrides(resolve_config("tiny"), {
            ("motion." if key == "residual" else "loss.") + key: False})
    with pytest.raises(VidbenchError, match="no contrastive term"):
        resolve_config("tiny", ablations=("no-contrastive",))
    assert not resolve_config("tiny", ablations=("no-contrastive",),
                              overrides={"mode": "cross-domain"}).loss.contrastive
    with pytest.raises(VidbenchError, match="at least one discriminator"):
        resolve_config("tiny", ablations=("no-video-disc", "no-image-disc"))


def test_cli_dry_run_prints_the_resolved_config(capsys):
    assert main(["train", "motion", "--out", "unused", "--preset", "tiny", "--steps", "7",
                 "--no-mi", "--set", "loss.w_match=3", "--mode", "cross-domain",
                 "--dry-run"]) == 0
    cfg = MotionTrainConfig.from_dict(json.loads(capsys.readouterr().out))
    assert (cfg.steps, cfg.epochs, cfg.loss.mi, cfg.loss.w_match, cfg.mode) == \
        (7, None, False, 3.0, "cross-domain")
    assert main(["train", "motion", "--out", "x", "--set", "nope=1", "--dry-run"]) == 2


def test_cli_threads_sets_torch_threads_for_the_run(monkeypatch, tmp_path):
    import vidbench.train.motion as TM

    seen = []

    def fake_train(cfg, out, resume, progress):
        seen.append(torch.get_num_threads())
        return {"step": 0, "checkpoint": "c", "export": "e"}

    monkeypatch.setattr(TM, "train_motion", fake_train)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert main(["train", "motion", "--out", str(tmp_path), "--preset", "tiny",
                     "--threads", "1", "--no-progress"]) == 0
        assert main(["train", "motion", "--out", str(tmp_path), "--preset", "tiny",
                     "--no-progress"]) == 0
    finally:
        torch.set_num_threads(old)
    assert seen == [1, 1]          # 0 (the default) leaves the thread count as it is
    with pytest.raises(SystemExit):
        main(["train", "motion", "--out", str(tmp_path), "--threads", "-1"])


# --------------------------------------------------------------------------- loss wiring
def _rals(a, b, y):
    return sum(((p - o.mean() - y) ** 2).mean() for p, o in zip(a, b))


def _batch(cross: bool, seed: int = 0):
    cfg = resolve_config("tiny", overrides={"mode": "cross-domain" if cross else "in-domain",
                                            "loss.w_match": 5.0, "loss.w_mi": 1.0})
    g = torch.Generator().manual_seed(seed)
    video, image = build_discriminators(cfg, g)
    real = torch.rand(2, 8, 3, 32, 32, generator=g) * 2 - 1
    fake = (torch.rand(2, 8, 3, 32, 32, generator=g) * 2 - 1).requires_grad_(True)
    out = MotionOutput(None, torch.randn(2, 7, 64, generator=g), torch.randn(2, 7, 64, generator=g))
    return cfg, video, image, real, fake, out


def _snapshot(*modules):
    return [copy.deepcopy(m.state_dict()) for m in modules]


def _restore(modules, states):
    for m, s in zip(modules, states):
        m.load_state_dict(s)


def test_in_domain_generator_loss_is_the_weighted_sum_of_its_terms():
    cfg, video, image, real, fake, out = _batch(cross=False)
    states = _snapshot(video, image)
    res = g_losses(LossSetup(cfg.mode, cfg.image_disc_variant, cfg.loss), video, image, real,
                   fake, out, torch.Generator().manual_seed(7))
    res.total.backward(retain_graph=True)
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    _restore((video, image), states)
    g = torch.Generator().manual_seed(7)
    d_real = video(flip_time(d3d_input(real, True), g))
    d_fake = video(flip_time(d3d_input(fake, True), g))
    l3d = 0.5 * (_rals(d_fake, d_real, 1.0) + _rals(d_real, d_fake, 0.0))
    t = 1 + randint(7, g)
    p_fake = image(torch.cat([fake[:, 0], fake[:, t]], 1))
    p_real = image(torch.cat([real[:, 0], real[:, t]], 1))
    l2d = 0.5 * (_rals(p_fake, p_real, 1.0) + _rals(p_real, p_fake, 0.0))
    lmi = -F.cosine_similarity(out.eps_hat, out.eps, dim=-1).mean()
    assert set(res.terms) == {"video", "image", "mi", "total"}
    for name, ref in (("video", l3d), ("image", l2d), ("mi", lmi)):
        torch.testing.assert_close(res.terms[name], ref)
    torch.testing.assert_close(res.total, 1.0 * l3d + 1.0 * l2d + 1.0 * lmi)
    assert res.push is None


def test_cross_domain_generator_loss_terms_weights_and_queue_push():
    cfg, video, image, real, fake, out = _batch(cross=True)
    states = _snapshot(video, image)
    res = g_losses(LossSetup(cfg.mode, cfg.image_disc_variant, cfg.loss), video, image, real,
                   fake, out, torch.Generator().manual_seed(3))
    _restore((video, image), states)
    g = torch.Generator().manual_seed(3)
    d_real = video(flip_time(d3d_input(real, False), g))
    d_fake = video(flip_time(d3d_input(fake, False), g))
    l3d = 0.5 * (_rals(d_fake, d_real, 1.0) + _rals(d_real, d_fake, 0.0))
    t = 1 + randint(7, g)
    aug_t, aug_1 = warp(fake[:, t], g), warp(fake[:, 0], g)
    with torch.no_grad():
        ema_1 = image(aug_1, ema=True, proj_only=True)
        ema_t = image(aug_t, ema=True, proj_only=True)
    logit_t, proj_t = image(aug_t)
    _, proj_1 = image(aug_1)
    limg = -logit_t.mean()
    lfm = -F.cosine_similarity(proj_t, proj_1, dim=-1).mean()
    lmi = -F.cosine_similarity(out.eps_hat, out.eps, dim=-1).mean()
    assert set(res.terms) == {"video", "image", "match", "mi", "total"}
    for name, ref in (("video", l3d), ("image", limg), ("match", lfm), ("mi", lmi)):
        torch.testing.assert_close(res.terms[name], ref)
    torch.testing.assert_close(res.total, l3d + limg + 5.0 * lfm + lmi)   # w_match = 5
    torch.testing.assert_close(res.push[0], ema_1)
    torch.testing.assert_close(res.push[1], ema_t)


@pytest.mark.parametrize("ablation,removed", [("no-mi", {"mi"}), ("no-video-disc", {"video"}),
                                              ("no-image-disc", {"image", "match"})])
def test_each_ablation_removes_exactly_its_generator_term(ablation, removed):
    cfg, video, image, real, fake, out = _batch(cross=True)
    full = g_losses(LossSetup(cfg.mode, "official", cfg.loss), video, image, real, fake, out,
                    torch.Generator().manual_seed(1))
    abl = resolve_config("tiny", ablations=(ablation,), overrides={"mode": "cross-domain",
                                                                   "loss.w_match": 5.0})
    res = g_losses(LossSetup(abl.mode, "official", abl.loss), video, image, real, fake, out,
                   torch.Generator().manual_seed(1))
    assert set(full.terms) - set(res.terms) == removed
    weights = {"video": 1.0, "image": 1.0, "match": 5.0, "mi": 1.0}
    expected = sum(weights[k] * v for k, v in res.terms.items() if k != "total")
    torch.testing.assert_close(res.total, expected)
    if "video" not in removed:   # same draws for D_3d: the kept term is unchanged
        torch.testing.assert_close(res.terms["video"], full.terms["video"], rtol=1e-4, atol=1e-5)


def test_discriminator_losses_and_the_contrastive_ablation():
    cfg, video, image, real, fake, out = _batch(cross=True)
    setup = LossSetup(cfg.mode, "official", cfg.loss)
    states = _snapshot(video, image)
    dv = video_d_loss(setup, video, real, fake, torch.Generator().manual_seed(2))
    di = image_d_loss(setup, image, real, fake, torch.Generator().manual_seed(4))
    assert set(di.terms) == {"image_real", "image_fake", "contrastive"}
    torch.testing.assert_close(di.total, di.terms["image_real"] + di.terms["image_fake"]
                               + 2.0 * di.terms["contrastive"])
    _restore((video, image), states)
    g = torch.Generator().manual_seed(4)
    t = 1 + randint(7, g)
    views = [warp(fake[:, 0], g), warp(fake[:, 0], g), warp(fake[:, t], g), warp(fake[:, t], g)]
    (lr, _), _, (lf, _), _ = [image(v) for v in views]
    torch.testing.assert_close(di.terms["image_real"], F.relu(1 - lr).mean())
    torch.testing.assert_close(di.terms["image_fake"], F.relu(1 + lf).mean())
    assert set(dv.terms) == {"video", "gp"} and dv.terms["gp"] > 0
    torch.testing.assert_close(dv.total, dv.terms["video"] + dv.terms["gp"])
    off = resolve_config("tiny", ablations=("no-contrastive",), overrides={"mode": "cross-domain"})
    _restore((video, image), states)
    di_off = image_d_loss(LossSetup(off.mode, "official", off.loss), image, real, fake,
                          torch.Generator().manual_seed(4))
    assert set(di_off.terms) == {"image_real", "image_fake"}
    torch.testing.assert_close(di_off.total, di.terms["image_real"] + di.terms["image_fake"])


# --------------------------------------------------------------------------- short runs
def _cfg(tiny, steps, **extra):
    gen, pca = tiny
    return resolve_config("tiny", overrides={"generator": str(gen), "pca": str(pca),
                                             "steps": steps, **SMALL, **extra})


def test_short_in_domain_run_is_finite_discriminators_learn_and_round_trips(tiny, tmp_path):
    cfg = _cfg(tiny, 20, checkpoint_every=10)
    summary = train_motion(cfg, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert summary["step"] == 20
    assert load_config(run / "config.json") == cfg
    lines = [json.loads(s) for s in (run / "log.jsonl").read_text().splitlines()]
    losses = [r for r in lines if "step_time" in r]
    assert [r["step"] for r in losses] == list(range(1, 21))
    assert all(torch.isfinite(torch.tensor(v)) for r in losses for k, v in r.items()
               if k.startswith(("g/", "d/")))
    assert {"g/video", "g/image", "g/mi", "d/video", "d/gp", "d/image"} <= set(losses[-1])
    for key in ("d/video", "d/image"):     # the discriminators learn: first vs last 5 steps
        first = sum(r[key] for r in losses[:5]) / 5
        last = sum(r[key] for r in losses[-5:]) / 5
        assert last < first, (key, first, last)
    assert [r["step"] for r in lines if r.get("event") == "checkpoint"] == [10, 20]
    state = load_training_state(run / "checkpoint-latest.pt")
    assert state["step"] == 20 and set(state["optimizers"]) == {"motion", "video_disc", "image_disc"}
    sd, meta = read_export(run / "modelR_latest.pth")
    assert all(torch.equal(sd[k], state["models"]["motion"][k]) for k in sd)
    assert meta["constructor"] == {"latent_dim": 64, "hidden_dim": 64, "n_pca": 16,
                                   "residual_scale": 0.2, "residual": True}
    assert meta["image_generator"]["sha256"] == json.loads(
        (tiny[1] / "pca.json").read_text())["generator"]["sha256"]
    with pytest.raises(VidbenchError, match="already holds a run"):
        train_motion(cfg, run, progress=False)
    with pytest.raises(VidbenchError, match="different config"):
        train_motion(with_overrides(cfg, {"seed": 5}), run, resume=True, progress=False)


@pytest.mark.parametrize("mode,variant,pushes_per_step", [
    ("cross-domain", "official", 5),          # 5 G steps push one batch each
    ("in-domain", "paper-contrastive", 1),    # the paper variant pushes in D steps
])
def test_contrastive_runs_fill_the_queues(tiny, tmp_path, mode, variant, pushes_per_step):
    cfg = _cfg(tiny, 2, mode=mode, image_disc_variant=variant, **{"motion.residual": False})
    train_motion(cfg, tmp_path / "run", progress=False)
    state = load_training_state(tmp_path / "run" / "checkpoint-latest.pt")
    image = state["models"]["image_disc"]
    assert int(image["q_ptr"]) == 2 * pushes_per_step * cfg.batch_size % 64
    assert {"modelD_ema.proj2.weight_orig", "q_real", "q_fake"} <= set(image)
    log = [json.loads(s) for s in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert "d/contrastive" in log[-2] and "g/match" in log[-2]
    sd, meta = read_export(tmp_path / "run" / "modelR_latest.pth")
    assert meta["constructor"]["residual"] is False


def test_paper_switches_video_response_and_memory_bank():
    cfg, video, image, real, fake, out = _batch(cross=True)
    avg = with_overrides(cfg, {"loss.video_response": "averaged",
                               "loss.memory_bank": "fake-frames"}).loss
    states = _snapshot(video, image)
    res = g_losses(LossSetup(cfg.mode, "official", avg), video, image, real, fake, out,
                   torch.Generator().manual_seed(9))
    _restore((video, image), states)
    g = torch.Generator().manual_seed(9)
    d_real = [o.mean(dim=(1, 2, 3, 4)) for o in video(flip_time(d3d_input(real, False), g))]
    d_fake = [o.mean(dim=(1, 2, 3, 4)) for o in video(flip_time(d3d_input(fake, False), g))]
    assert d_real[0].shape == (2,)
    torch.testing.assert_close(res.terms["video"], 0.5 * (_rals(d_fake, d_real, 1.0)
                                                          + _rals(d_real, d_fake, 0.0)))
    _restore((video, image), states)
    di = image_d_loss(LossSetup(cfg.mode, "official", avg), image, real, fake,
                      torch.Generator().manual_seed(4))
    _restore((video, image), states)
    g = torch.Generator().manual_seed(4)
    t = 1 + randint(7, g)
    views = [warp(fake[:, 0], g), warp(fake[:, 0], g), warp(fake[:, t], g), warp(fake[:, t], g)]
    (_, p1), (_, p2), (_, f1), (_, f2) = [image(v) for v in views]
    bank = image.q_fake[:image.q_len]
    torch.testing.assert_close(di.terms["contrastive"],
                               info_nce(p1, p2, bank, 0.07) + info_nce(f1, f2, bank, 0.07))


def test_start_from_official_files(tiny, tmp_path):
    from vidbench.models.motion import MotionGenerator
    from vidbench.train.checkpoint import load_official_weights
    from vidbench.utils.errors import BadInputError

    cfg = _cfg(tiny, 1)
    video, image = build_discriminators(cfg, torch.Generator().manual_seed(1))
    motion = MotionGenerator(64, 64, 16, generator=torch.Generator().manual_seed(1))
    torch.save(motion.state_dict(), tmp_path / "modelR_epoch_3.pth")
    for name, net in (("modelD_3d", video), ("modelD_img", image)):   # DDP-prefixed, as shipped
        torch.save({f"module.{k}": v for k, v in net.state_dict().items()},
                   tmp_path / f"{name}_epoch_3.pth")
    fresh_video, fresh_image = build_discriminators(cfg, torch.Generator().manual_seed(2))
    fresh_motion = MotionGenerator(64, 64, 16, generator=torch.Generator().manual_seed(2))
    nets = {"motion": fresh_motion, "video_disc": fresh_video, "image_disc": fresh_image}
    assert len(load_official_weights(nets, tmp_path, "epoch_3")) == 3
    for a, b in ((motion, fresh_motion), (video, fresh_video), (image, fresh_image)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                       b.state_dict().values()))
    cross_video, _ = build_discriminators(with_overrides(cfg, {"mode": "cross-domain"}),
                                          torch.Generator())
    with pytest.raises(BadInputError, match="shape mismatches"):
        load_official_weights({"video_disc": cross_video}, tmp_path, "epoch_3")
    train_motion(with_overrides(cfg, {"init_from": str(tmp_path), "init_tag": "epoch_3"}),
                 tmp_path / "run", progress=False)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert len(run["initialised_from"]) == 3
