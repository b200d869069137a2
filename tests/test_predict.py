"""Video prediction: trajectory interpolation, real-frame preparation, the end-to-end run on
`shapes` with tiny random networks (objects and CLI), Up-B, and baselines' ground truth."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vidbench.metrics.psnr_ssim import json_safe
from vidbench.models.generator_api import StyleGAN2Adapter
from vidbench.models.motion import MotionGenerator
from test_inversion import tiny_generator
from vidbench.data.shapes import make_shapes
from vidbench.data.sources import open_source
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim
from vidbench.sample.inversion import InversionSettings
from vidbench.sample.predict import (PredictConfig, clip_inputs, ground_truth_for_baseline,
                                     interpolate_trajectory, prepare_clip, resolve_data_spec,
                                     run_prediction)
from vidbench.sample.generate import interpolate_midpoints
from _weights import one_thread  # noqa: F401




def read_clips(folder: Path) -> np.ndarray:
    return np.stack([np.stack([np.asarray(Image.open(f)) for f in sorted(d.iterdir())])
                     for d in sorted(folder.iterdir())])


def assert_same_frames(a: np.ndarray, b: np.ndarray) -> None:
    """Equal up to a float rounding that flips one uint8 level here and there (the same
    codes rendered in batches of another size)."""
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999


def psnr_np(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over videos of the mean over frames of 10 log10(255^2 / MSE)."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(2, 3, 4))
    return float((10 * np.log10(255.0 ** 2 / mse)).mean(axis=1).mean())


def test_linear_interpolation_against_numpy_interp():
    codes = torch.randn(2, 16, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = interpolate_trajectory(codes, 32, "linear")
    assert out.shape == (2, 32, 5)
    t = np.linspace(0, 15, 32)
    for b in range(2):
        for d in range(5):
            np.testing.assert_allclose(out[b, :, d].numpy(), np.interp(t, np.arange(16),
                                                                       codes[b, :, d].numpy()),
                                       rtol=1e-12, atol=1e-12)
    assert torch.equal(out[:, 0], codes[:, 0]) and torch.equal(out[:, -1], codes[:, -1])
    assert torch.equal(interpolate_trajectory(codes, 16), codes)          # T = n: the codes
    mid = interpolate_trajectory(codes, 31, "midpoint")
    assert torch.equal(mid, interpolate_midpoints(codes)) and torch.equal(mid[:, ::2], codes)
    with pytest.raises(ValueError):
        interpolate_trajectory(codes, 32, "midpoint")
    with pytest.raises(VidbenchError, match="2n - 1 = 31"):
        PredictConfig(num_frames=32, num_latents=16, interp="midpoint")
    with pytest.raises(VidbenchError, match="W"):
        PredictConfig(inversion=InversionSettings(space="w+"))


def test_prepare_clip_crops_centre_and_resizes_with_lanczos():
    clip = np.random.default_rng(0).integers(0, 256, (5, 40, 60, 3), dtype=np.uint8)
    out = prepare_clip(clip, 16, 4, "centre", "lanczos", "x")
    expected = np.stack([np.asarray(Image.fromarray(f[:, 10:50]).resize((16, 16),
                                                                       Image.LANCZOS))
                         for f in clip[:4]])
    np.testing.assert_array_equal(out, expected)
    squash = prepare_clip(clip, 16, 4, "none", "lanczos", "x")
    np.testing.assert_array_equal(squash[0], np.asarray(Image.fromarray(clip[0]).resize(
        (16, 16), Image.LANCZOS)))
    with pytest.raises(BadInputError, match="has 5 frames; prediction compares 6"):
        prepare_clip(clip, 16, 6, "centre", "lanczos", "clip 3")
    assert resolve_data_spec("sky") == "sky:split=test,sky_first32=true"
    assert resolve_data_spec("shapes:seed=2") == "shapes:seed=2"


def tiny_motion(latent_dim: int = 32) -> MotionGenerator:
    basis = torch.linalg.qr(torch.randn(latent_dim, latent_dim,
                                        generator=torch.Generator().manual_seed(9)))[0].T
    m = MotionGenerator(latent_dim, 16, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        m.w.mul_(50)                        # visible motion from a random network
    m.set_pca(basis, torch.linspace(2.0, 0.5, latent_dim))
    return m.eval()


CFG = PredictConfig(num_frames=6, num_latents=4, batch_size=2, presets=("wang", "valid-crop"),
                    inversion=InversionSettings(steps=8, lr=0.05, perceptual="none",
                                                mean_samples=500))


def test_end_to_end_on_shapes_with_objects(tmp_path):
    g, motion = StyleGAN2Adapter(tiny_generator()), tiny_motion()
    source = make_shapes(num_videos=3, length=8, resolution=40)
    out = tmp_path / "run"
    man = run_prediction(g, motion, source, out, CFG, data_spec="shapes", progress=False)
    pred, real = read_clips(out / "pred"), read_clips(out / "real")
    inverted, first = read_clips(out / "inverted"), read_clips(out / "first_frames")
    assert pred.shape == real.shape == (3, 6, 32, 32, 3) and inverted.shape == (3, 1, 32, 32, 3)
    for i in range(3):
        np.testing.assert_array_equal(real[i], prepare_clip(source[i], 32, 6, "centre",
                                                            "lanczos", ""))
    np.testing.assert_array_equal(first[:, 0], real[:, 0])
    assert_same_frames(pred[:, 0], inverted[:, 0])              # frame 1 is G_I(w_1)
    assert not np.array_equal(pred[:, 0], pred[:, -1])          # and then it moves
    lat = np.load(out / "latents.npz")
    w1, codes = torch.from_numpy(lat["w1"]), torch.from_numpy(lat["codes"])
    assert w1.shape == (3, 32) and codes.shape == (3, 4, 32)
    eps = torch.cat([clip_inputs(motion, g, CFG.seed, i, 4, False)[0] for i in range(3)])
    with torch.no_grad():
        again = motion(w1, 4, eps=eps).latents
    torch.testing.assert_close(codes, again, rtol=1e-5, atol=1e-5)

    saved = json.loads((out / "manifest.json").read_text())
    assert saved == json.loads(json.dumps(json_safe(man)))     # returned = written
    assert saved["format"] == "vidbench-prediction/1" and saved["data"]["num_predicted"] == 3
    assert saved["settings"]["inversion"]["steps"] == 8
    assert saved["settings"]["inversion"]["perceptual_loss"].startswith("none")
    assert saved["settings"]["interp"] == "linear" and saved["data"]["spec"] == "shapes"
    up_b = saved["scores"]["up_b"]["wang"]
    assert up_b["psnr"] == pytest.approx(psnr_np(inverted, first), rel=1e-10)
    assert saved["scores"]["prediction"]["wang"]["psnr"] == pytest.approx(psnr_np(pred, real),
                                                                          rel=1e-10)
    assert len(saved["scores"]["prediction"]["wang"]["per_frame_mean"]["ssim"]) == 6
    rescored = evaluate_psnr_ssim(str(out / "inverted"), str(out / "first_frames"), "wang",
                                  progress=False)
    assert rescored["psnr"] == pytest.approx(up_b["psnr"], rel=1e-12)
    assert rescored["ssim"] == pytest.approx(up_b["ssim"], rel=1e-12)

    with pytest.raises(VidbenchError, match="overwrite"):
        run_prediction(g, motion, source, out, CFG, progress=False)
    other = tmp_path / "batch1"
    run_prediction(g, motion, source, other, dataclasses.replace(CFG, batch_size=1),
                   progress=False)
    assert_same_frames(read_clips(other / "pred"), pred)         # batching changes nothing


def fake_dtvnet(root: Path, clips: np.ndarray, epoch: int = 200) -> Path:
    """DTVNet's results/<epoch>_f/<clip>/0000.png ... layout, frames min-max normalised."""
    from vidbench.baselines.dtvnet import normalise_clip

    for i, clip in enumerate(clips):
        d = root / f"{epoch}_f" / f"clip{i:03d}"
        d.mkdir(parents=True)
        for t, frame in enumerate(normalise_clip(clip)):
            Image.fromarray(frame).save(d / f"{t:04d}.png")
    return root


def minmax_by_hand(frame: np.ndarray) -> np.ndarray:
    x = (frame.astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    y = (x - x.min()) / (x.max() - x.min() + np.float32(1e-5)) * np.float32(255) + np.float32(0.5)
    return np.clip(np.trunc(y), 0, 255).astype(np.uint8)


def test_dtvnet_outputs_scored_against_normalised_ground_truth(tmp_path):
    from vidbench.sample.predict import write_clips

    real = np.stack([make_shapes(num_videos=2, length=8, resolution=32)[i] for i in range(2)])
    real_dir = write_clips(open_source("shapes:num_videos=2,length=8,resolution=32"),
                           tmp_path / "real")
    noisy = np.clip(real.astype(int) + np.random.default_rng(0).integers(-20, 21, real.shape),
                    0, 255).astype(np.uint8)
    results = fake_dtvnet(tmp_path / "results", noisy)
    gt = ground_truth_for_baseline("dtvnet", real=open_source(str(real_dir)))
    spec = f"baselines:dtvnet:{results}:size=32,frames=8"
    res = evaluate_psnr_ssim(spec, gt, "wang", progress=False)
    fake_norm = np.stack([[minmax_by_hand(f) for f in c] for c in noisy])
    real_norm = np.stack([[minmax_by_hand(f) for f in c] for c in real])
    assert res["psnr"] == pytest.approx(psnr_np(fake_norm, real_norm), rel=1e-10)
    assert 15 < res["psnr"] < 60
    with pytest.raises(VidbenchError, match="shuffled"):
        ground_truth_for_baseline("mdgan", real=gt)
    (results / "200_r").mkdir()
    with pytest.raises(BadInputError):
        ground_truth_for_baseline("dtvnet", outputs=str(results))   # empty <epoch>_r


@pytest.mark.slow
def test_cli_with_an_exported_checkpoint(tmp_path):
    from _motion_fixtures import make_tiny_setup
    from vidbench.train.checkpoint import export_motion_generator
    from vidbench.train.image_generator import load_image_generator
    from vidbench.train.pca import load_pca

    gen_path, pca_dir = make_tiny_setup(tmp_path, num_samples=1000)
    basis = load_pca(pca_dir)
    motion = MotionGenerator(basis.components.shape[1], 16, 8,
                             generator=torch.Generator().manual_seed(2))
    export, _ = export_motion_generator(
        motion, tmp_path / "modelR_latest.pth", pca={"dir": str(pca_dir), "files": basis.hashes},
        image_generator=load_image_generator(gen_path).describe(), n_frames=4, step=0)
    out = tmp_path / "pred"
    cmd = [sys.executable, "-m", "vidbench", "predict", "--checkpoint", str(export),
           "--data", "shapes:num_videos=2,length=6,resolution=32", "--out", str(out),
           "--latents", "3", "--num-frames", "5", "--interp", "midpoint", "--steps", "3",
           "--lr", "0.05", "--perceptual", "none", "--mean-samples", "200", "--dtvnet-gt",
           "--no-progress", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    man = json.loads(proc.stdout)
    assert man["model"]["motion"]["sha256"] and man["model"]["image_generator"]["sha256"]
    assert man["settings"]["interp"] == "midpoint" and man["settings"]["num_frames"] == 5
    assert read_clips(out / "pred").shape == (2, 5, 32, 32, 3)
    assert read_clips(out / "real_dtvnet").shape == (2, 5, 32, 32, 3)
    bad = subprocess.run(cmd[:-2] + ["--num-frames", "6"], capture_output=True, text=True)
    assert bad.returncode == 2 and "2n - 1" in bad.stderr and "Traceback" not in bad.stderr


def test_perceptual_inversion_records_the_vgg_file(tmp_path, vidbench_home):
    import hashlib

    from _vggfile import FILENAME, write_random_vgg16

    vgg_path = write_random_vgg16(vidbench_home / "weights" / FILENAME, seed=1)
    cfg = dataclasses.replace(CFG, presets=("wang",), inversion=InversionSettings(
        steps=2, lr=0.05, mean_samples=200, lambda_vgg=0.5))
    man = run_prediction(StyleGAN2Adapter(tiny_generator()), tiny_motion(),
                         make_shapes(num_videos=1, length=6, resolution=32), tmp_path / "p", cfg,
                         progress=False)
    inv = man["settings"]["inversion"]
    assert inv["perceptual"] == "vgg16" and inv["lambda_vgg"] == 0.5
    assert inv["vgg_weights"]["sha256"] == hashlib.sha256(vgg_path.read_bytes()).hexdigest()
    assert man["inversion"]["final_perceptual_mean"] > 0


def test_sky_test_split_first32_through_predict(tmp_path):
    """`sky` means MDGAN/DTVNet's test protocol: first 32 frames of each short test clip with
    at least 32 (frame numbers may skip), 640x360-like frames centre-cropped and resized."""
    from _datafiles import rand_clip, write_frames

    root = tmp_path / "sky_timelapse"
    for split, long_id, k, numbers in (("test", "aa1", 1, [1, 2, 4] + list(range(6, 40))),
                                       ("test", "aa1", 2, list(range(20))),
                                       ("train", "bb2", 1, list(range(40)))):
        write_frames(root / f"sky_{split}" / long_id / f"{long_id}_{k}",
                     rand_clip(len(numbers), 36, 64, seed=k), f"{long_id}_frames_{{i:08d}}.jpg",
                     numbers=numbers)
    spec = resolve_data_spec("sky")
    source = open_source(spec, root=str(root))
    assert len(source) == 1 and len(source.skipped) == 1
    cfg = dataclasses.replace(CFG, num_frames=32, num_latents=16, presets=("wang",))
    man = run_prediction(StyleGAN2Adapter(tiny_generator()), tiny_motion(), source,
                         tmp_path / "out", cfg, data_spec=spec, progress=False)
    assert man["data"]["clip_names"] == ["sky_test/aa1/aa1_1"]
    assert man["data"]["spec"] == "sky:split=test,sky_first32=true"
    real = read_clips(tmp_path / "out" / "real")
    assert real.shape == (1, 32, 32, 32, 3)
    np.testing.assert_array_equal(real[0], prepare_clip(source[0], 32, 32, "centre", "lanczos",
                                                        ""))
