"""Sampling (docs/official-code.md, *Sampling and long videos*): per-sample seeds, batch-size
independence, noise variants sharing ε, unrolling and midpoint interpolation (2n − 1 frames),
disentanglement grids, writers, the checkpoint as a clip source."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from _motion_fixtures import make_tiny_setup, one_thread  # noqa: F401 (autouse fixture)
from vidbench.cli import main
from vidbench.data.convert import to_uint8
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.sample.generate import (GeneratorSource, generate_videos, interpolate_midpoints,
                                      is_checkpoint_path, load_video_model, open_checkpoint_source,
                                      to_clips)
from vidbench.sample.outputs import disentanglement_clips, write_samples


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from vidbench.train.motion_config import resolve_config
    from vidbench.train.motion import train_motion

    root = tmp_path_factory.mktemp("sample")
    gen, pca = make_tiny_setup(root, num_samples=1000)
    cfg = resolve_config("tiny", overrides={"generator": str(gen), "pca": str(pca), "steps": 2,
                                            "batch_size": 2, "data.n_frames": 8})
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_motion(cfg, root / "run", progress=False)
    finally:
        torch.set_num_threads(old)
    return root / "run"


@pytest.fixture(scope="module")
def model(run_dir):
    return load_video_model(run_dir)


def test_every_checkpoint_form_loads_the_same_model(run_dir, model):
    assert is_checkpoint_path(run_dir) and is_checkpoint_path(f"checkpoint:{run_dir}")
    from_ckpt = load_video_model(run_dir / "checkpoint-latest.pt")
    from_export = load_video_model(run_dir / "modelR_latest.pth")
    assert model.info["motion"]["sha256"] == from_ckpt.info["motion"]["sha256"] \
        == from_export.info["motion"]["sha256"]
    assert model.n_frames == 8 and model.motion.n_pca == 16
    a = generate_videos(from_ckpt, [0], seed=3)
    assert torch.equal(a, generate_videos(from_export, [0], seed=3))


def test_export_from_checkpoint_equals_the_run_export(run_dir, tmp_path):
    from vidbench.train.checkpoint import export_from_checkpoint, read_export

    path, sidecar = export_from_checkpoint(run_dir / "checkpoint-latest.pt",
                                           tmp_path / "modelR_epoch_2.pth")
    a, meta = read_export(path)
    b, meta_b = read_export(run_dir / "modelR_latest.pth")
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert meta["pca"] == meta_b["pca"] and meta["step"] == meta_b["step"] == 2
    assert load_video_model(path).info["motion"]["sha256"] == \
        load_video_model(run_dir).info["motion"]["sha256"]


def test_official_modelR_needs_generator_and_pca(run_dir, tmp_path):
    state = torch.load(run_dir / "modelR_latest.pth", weights_only=True)
    torch.save(state, tmp_path / "modelR_epoch_0.pth")          # no sidecar, as published
    with pytest.raises(BadInputError, match="official modelR"):
        load_video_model(tmp_path / "modelR_epoch_0.pth")
    meta = json.loads((run_dir / "modelR_latest.json").read_text())
    m = load_video_model(tmp_path / "modelR_epoch_0.pth",
                         generator=meta["image_generator"]["path"], pca=meta["pca"]["dir"])
    assert m.n_frames == 16 and m.motion.residual_scale == 0.2


def test_samples_are_independent_of_batch_size_and_seeded(model):
    together = generate_videos(model, [0, 1, 2, 3], seed=1)
    alone = torch.cat([generate_videos(model, [i], seed=1) for i in (0, 1, 2, 3)])
    assert torch.equal(together, alone)
    shuffled = generate_videos(model, [3, 1], seed=1)
    assert torch.equal(shuffled, together[[3, 1]])
    assert not torch.equal(generate_videos(model, [0], seed=2), together[:1])
    assert together.shape == (4, 8, 3, 32, 32)


def test_noise_variants_share_the_latent_trajectory(model):
    with_noise, lat_a = generate_videos(model, [0, 1], seed=0, noise="per_video",
                                        return_latents=True)
    without, lat_b = generate_videos(model, [0, 1], seed=0, noise="none", return_latents=True)
    assert torch.equal(lat_a, lat_b)                 # same z and same ε
    assert not torch.equal(with_noise, without)
    assert (lat_a[:, 1:] != lat_a[:, :-1]).any()     # the trajectory moves


def test_interpolation_gives_2n_minus_1_frames_with_midpoints(model):
    lat = torch.randn(2, 5, 4)
    mid = interpolate_midpoints(lat)
    assert mid.shape == (2, 9, 4)
    assert torch.equal(mid[:, 0::2], lat)
    torch.testing.assert_close(mid[:, 1::2], (lat[:, :-1] + lat[:, 1:]) / 2)
    plain, lat_u = generate_videos(model, [0], seed=0, n_frames=6, return_latents=True)
    inter, lat_i = generate_videos(model, [0], seed=0, n_frames=6, long="interpolate",
                                   return_latents=True)
    assert plain.shape[1] == 6 and inter.shape[1] == 11
    assert torch.equal(lat_i[:, 0::2], lat_u)
    torch.testing.assert_close(inter[:, 0::2], plain, atol=1e-5, rtol=1e-5)
    long = generate_videos(model, [0], seed=0, n_frames=20)    # unrolled past the training 8
    assert long.shape[1] == 20


def test_disentanglement_grids(model):
    content, motion = disentanglement_clips(model, 3, seed=0)
    assert content.shape == motion.shape == (3, 8, 32, 32, 3)
    assert all(np.array_equal(content[0, 0], content[k, 0]) for k in range(3))  # one content
    assert not np.array_equal(content[0, -1], content[1, -1])                  # motions differ
    assert not np.array_equal(motion[0, 0], motion[1, 0])                      # contents differ
    ref = to_clips(generate_videos(model, [0], [2], seed=0))
    assert np.array_equal(content[2], ref[0])


def test_write_samples_npy_batches_and_manifest(model, tmp_path):
    a = write_samples(model, tmp_path / "a", 5, seed=4, batch_size=2, progress=False)
    b = write_samples(model, tmp_path / "b", 5, seed=4, batch_size=5, progress=False)
    x, y = np.load(tmp_path / "a" / "samples.npy"), np.load(tmp_path / "b" / "samples.npy")
    assert x.dtype == np.uint8 and x.shape == (5, 8, 32, 32, 3) and np.array_equal(x, y)
    frames = generate_videos(model, [3], seed=4)
    assert np.array_equal(x[3], to_uint8(frames[0].permute(0, 2, 3, 1), "round").numpy())
    trunc = write_samples(model, tmp_path / "t", 1, seed=4, convention="truncate-01",
                          progress=False)
    assert trunc["convention"] == "truncate-01"
    first = generate_videos(model, [0], seed=4)[0].permute(0, 2, 3, 1)
    assert np.array_equal(np.load(tmp_path / "t" / "samples.npy")[0],
                          to_uint8(first, "truncate-01").numpy())
    assert json.loads((tmp_path / "a" / "samples.json").read_text())["seed"] == 4
    assert a["outputs"] == {"per_video": str(tmp_path / "a")} and b["num_videos"] == 5


def test_sample_command_png_both_variants_and_grids(run_dir, tmp_path):
    out = tmp_path / "s"
    assert main(["sample", "--checkpoint", str(run_dir), "--num-videos", "2", "--out", str(out),
                 "--format", "png", "--noise", "both", "--grid", "--grid-size", "2",
                 "--frames", "4", "--long", "interpolate", "--no-progress"]) == 0
    for variant in ("noise", "no_noise"):
        frames = sorted((out / variant / "video_00001").iterdir())
        assert len(frames) == 7                                     # 2·4 − 1
    for name in ("grid_content.png", "grid_content.gif", "grid_motion.png", "grid_motion.gif"):
        assert (out / name).stat().st_size > 0
    from vidbench.data.sources import open_source

    noisy = open_source(str(out / "noise"))
    assert len(noisy) == 2 and noisy[0].shape == (7, 32, 32, 3)
    assert main(["sample", "--checkpoint", str(tmp_path / "nothing"), "--num-videos", "1",
                 "--out", str(out)]) == 2


def test_checkpoint_as_a_clip_source(run_dir, model):
    src = open_checkpoint_source(f"checkpoint:{run_dir}", num_videos=3, seed=2)
    assert isinstance(src, GeneratorSource) and len(src) == 3
    clip = src[1]
    assert clip.dtype == np.uint8 and clip.shape == (8, 32, 32, 3)
    assert np.array_equal(clip, to_clips(generate_videos(model, [1], seed=2))[0])
    again = open_checkpoint_source(run_dir, num_videos=3, seed=2)
    other = open_checkpoint_source(run_dir, num_videos=3, seed=3)
    assert src.fingerprint == again.fingerprint != other.fingerprint
    assert src.describe()["num_clips"] == 3
    with pytest.raises(VidbenchError, match="unknown option"):
        open_checkpoint_source(run_dir, colour=1)
