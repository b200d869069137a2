"""Video prediction from the first frame: MoCoGAN-HD's Sky Time-lapse experiment (Tab. 3).

Reference: Tian et al., ICLR 2021, §4.1 (no code released). For every test clip: invert its
first frame x_1 into w_1 (:mod:`vidbench.sample.inversion`), run the motion generator from
w_1, bring the trajectory to the target length, render it with the frozen image generator
and compare with the real clip (PSNR/SSIM). "Up-B" is PSNR/SSIM of G_I(w_1) against x_1.

The settings the paper leaves open (length, real-frame preparation, seeds) are recorded in
the manifest; results do not depend on the batch size. Settings and the output folder:
docs/official-code.md, *vidbench's prediction settings and outputs*.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from vidbench.models.motion import MotionGenerator
from vidbench.models.rng import randn
from vidbench.data.base import ClipSource
from vidbench.data.resize import RESIZE_METHODS, center_crop, resize_frames
from vidbench.data.writers import write_frames
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.fileio import atomic_path, atomic_write_text
from vidbench.sample.inversion import InversionSettings, invert, load_perceptual
from vidbench.sample.predict_outputs import (OUTPUT_DIRS, ScoreAccumulator, clip_names,
                                             ground_truth_for_baseline, prepare_out_dir,
                                             write_clips)
from vidbench.utils.provenance import provenance
from vidbench.sample.generate import interpolate_midpoints, render_frames, to_clips
from vidbench.utils.seeding import derive_seed

INTERPOLATIONS = ("linear", "midpoint")
CROPS = ("centre", "none")
FORMAT = "vidbench-prediction/1"


@dataclass(frozen=True)
class PredictConfig:
    """Everything that decides a prediction run (the inversion's settings included)."""

    num_frames: int = 32                  # frames predicted and compared per clip
    num_latents: int = 16                 # codes w_1 … w_n the motion generator produces
    interp: str = "linear"                # "linear" (exactly num_frames) | "midpoint" (2n − 1)
    crop: str = "centre"                  # real frames: "centre" square crop | "none" (squash)
    resize: str = "lanczos"               # vidbench.data.resize method to the generator size
    seed: int = 0                         # per-clip motion noise: derive_seed(seed, clip)
    batch_size: int = 8                   # clips inverted and rendered together
    limit: int | None = None              # first N clips only
    presets: tuple[str, ...] = ("wang",)  # PSNR/SSIM presets written into the manifest
    convention: str = "round"             # float → uint8 (vidbench.data.convert)
    inversion: InversionSettings = field(default_factory=InversionSettings)

    def __post_init__(self) -> None:
        from vidbench.metrics.psnr_ssim import PRESETS

        object.__setattr__(self, "presets", tuple(self.presets))
        if self.interp not in INTERPOLATIONS or self.crop not in CROPS:
            raise VidbenchError(f"interp must be one of {INTERPOLATIONS} and crop one of {CROPS}")
        if self.resize not in RESIZE_METHODS:
            raise VidbenchError(f"unknown resize {self.resize!r}; valid: "
                                f"{', '.join(RESIZE_METHODS)}")
        if min(self.num_frames, self.num_latents, self.batch_size) < 1 or \
                (self.limit is not None and self.limit < 1):
            raise VidbenchError("num_frames, num_latents, batch_size and limit must be >= 1")
        if self.interp == "midpoint" and self.num_frames != 2 * self.num_latents - 1:
            raise VidbenchError(f"midpoint interpolation gives 2n - 1 = {2 * self.num_latents - 1} "
                                f"frames from n = {self.num_latents} codes, not {self.num_frames}; "
                                f"set num_frames to {2 * self.num_latents - 1} or use linear")
        if self.inversion.space != "w":
            raise VidbenchError("prediction inverts into W (the motion generator starts from one "
                                "w_1); space='w+' is for inversion alone")
        unknown = [p for p in self.presets if p not in PRESETS]
        if unknown:
            raise VidbenchError(f"unknown PSNR/SSIM preset(s) {unknown}; valid: "
                                f"{', '.join(PRESETS)}")

    def describe(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["inversion"] = self.inversion.describe()
        d["interpolation"] = (
            f"linear: frame j at time j*(n-1)/(T-1) on the piecewise-linear path through the "
            f"{self.num_latents} codes" if self.interp == "linear" else
            "midpoint: (w_t + w_t+1)/2 inserted between consecutive codes (2n - 1 frames)")
        d["real_frames"] = (f"first {self.num_frames} frames; "
                            + ("centre square crop, then " if self.crop == "centre" else "")
                            + f"{self.resize} resize to the generator's resolution")
        d["motion_noise"] = "eps of clip i from torch.Generator seeded sample_seed(seed, i)"
        return d


def interpolate_trajectory(latents: torch.Tensor, num_frames: int,
                           method: str = "linear") -> torch.Tensor:
    """Codes [B, n, D] → [B, T, D]. ``linear`` samples the piecewise-linear trajectory through
    the n codes at T evenly spaced times, frame j at time j·(n − 1)/(T − 1), computed with
    exact integer positions; ``midpoint`` inserts midpoints and needs T = 2n − 1."""
    if latents.ndim != 3:
        raise ValueError(f"latents must be [B, n, D], got {tuple(latents.shape)}")
    n = latents.shape[1]
    if method == "midpoint":
        if num_frames != 2 * n - 1:
            raise ValueError(f"midpoint gives {2 * n - 1} frames, not {num_frames}")
        return interpolate_midpoints(latents)
    if method != "linear":
        raise ValueError(f"method must be one of {INTERPOLATIONS}, got {method!r}")
    if n == 1 or num_frames == 1:
        return latents[:, :1].expand(-1, num_frames, -1).clone()
    num = torch.arange(num_frames, dtype=torch.int64) * (n - 1)
    i0 = torch.div(num, num_frames - 1, rounding_mode="floor")
    frac = (num - i0 * (num_frames - 1)).to(latents.dtype) / (num_frames - 1)
    i1 = torch.clamp(i0 + 1, max=n - 1)
    frac = frac.to(latents.device)[None, :, None]
    return latents[:, i0] * (1 - frac) + latents[:, i1] * frac


def prepare_clip(clip: np.ndarray, size: int, num_frames: int, crop: str, resize: str,
                 where: str) -> np.ndarray:
    """The first ``num_frames`` frames of a uint8 clip, cropped and resized to ``size``²."""
    if clip.shape[0] < num_frames:
        raise BadInputError(where, f"has {clip.shape[0]} frames; prediction compares "
                                   f"{num_frames}")
    frames = clip[:num_frames]
    if crop == "centre":
        side = min(frames.shape[1:3])
        frames = center_crop(frames, side)
    if frames.shape[1:3] != (size, size):
        frames = resize_frames(np.ascontiguousarray(frames), size, resize)
    return np.ascontiguousarray(frames)


def clip_inputs(motion: MotionGenerator, gen, seed: int, index: int, n_codes: int,
                noise: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(ε [1, n_codes − 1, D], noise maps [[1, 1, h, w], ...] or []) of clip ``index``."""
    g = torch.Generator().manual_seed(derive_seed(seed, index))
    eps = randn((1, n_codes - 1, motion.latent_dim), g, "cpu")
    return eps, (gen.sample_noise(1, g) if noise else [])


@torch.no_grad()
def _predict_batch(image, motion: MotionGenerator, first: np.ndarray, indices: list[int],
                   cfg: PredictConfig, vgg, progress: bool) -> dict[str, Any]:
    fixed = cfg.inversion.noise == "fixed"
    drawn = [clip_inputs(motion, image, cfg.seed, i, cfg.num_latents, fixed) for i in indices]
    maps = [torch.cat(layer) for layer in zip(*(d[1] for d in drawn))] if fixed else None
    with torch.enable_grad():
        inv = invert(image, first, settings=cfg.inversion, vgg=vgg, noise_maps=maps,
                     progress=progress)
    device = next(image.parameters()).device
    w1 = inv.latents.to(device)
    eps = torch.cat([d[0] for d in drawn]).to(device)
    codes = motion(w1, cfg.num_latents, eps=eps).latents
    traj = interpolate_trajectory(codes, cfg.num_frames, cfg.interp)
    maps_dev = None if maps is None else [m.to(device) for m in maps]
    video = render_frames(image, traj, maps_dev)
    return {"pred": to_clips(video, cfg.convention),
            "inverted": to_clips(inv.reconstructions[:, None], cfg.convention)[:, 0],
            "w1": inv.latents.numpy(), "codes": codes.cpu().numpy(),
            "loss": inv.losses[-1], "pixel": inv.pixel_losses[-1],
            "perceptual": inv.perceptual_losses[-1], "curve": inv.losses.sum(1),
            "settings": inv.settings}


def run_prediction(image, motion: MotionGenerator, source: ClipSource, out_dir: str | Path,
                   config: PredictConfig | None = None, *, vgg=None,
                   model_info: dict[str, Any] | None = None, data_spec: str | None = None,
                   overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """Predict every clip of ``source`` (or the first ``config.limit``) from its first frame
    with ``image`` (an ImageGenerator such as ``StyleGAN2Adapter``) and ``motion``, write the
    outputs (docs/official-code.md, *vidbench's prediction settings and outputs*) and return
    the manifest."""
    from vidbench.models.generator_api import adapt

    cfg = config or PredictConfig()
    image = adapt(image)
    vgg = load_perceptual(cfg.inversion, vgg)   # once, before anything is written
    out = prepare_out_dir(out_dir, overwrite)
    t0 = time.time()
    n = len(source) if cfg.limit is None else min(cfg.limit, len(source))
    if n < 1:
        raise VidbenchError(f"{source.name}: no clips to predict")
    size = image.resolution
    scores = ScoreAccumulator(cfg.presets)
    keep: dict[str, list] = {k: [] for k in ("w1", "codes", "loss", "pixel", "perceptual")}
    curve, inv_settings = None, None
    bar = tqdm(total=n, desc="predict", unit="clip", disable=not progress)
    for start in range(0, n, cfg.batch_size):
        idx = list(range(start, min(start + cfg.batch_size, n)))
        real = np.stack([prepare_clip(source[i], size, cfg.num_frames, cfg.crop, cfg.resize,
                                      f"{source.name}[{i}]") for i in idx])
        res = _predict_batch(image, motion, real[:, 0], idx, cfg, vgg, progress)
        for j, i in enumerate(idx):
            name = f"{i:05d}"
            for sub, clip in (("pred", res["pred"][j]), ("real", real[j]),
                              ("inverted", res["inverted"][j][None]),
                              ("first_frames", real[j, :1])):
                write_frames(out / sub / name, clip)
        scores.add(res["pred"], real, res["inverted"], real[:, 0])
        for k in keep:
            keep[k].append(res[k])
        curve = res["curve"] if curve is None else curve + res["curve"]
        inv_settings = res["settings"]
        bar.update(len(idx))
    bar.close()
    arrays = {k: np.concatenate(v).astype(np.float32) for k, v in keep.items()}
    with atomic_path(out / "latents.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, w1=arrays["w1"], codes=arrays["codes"], inversion_loss=arrays["loss"],
                 inversion_pixel_loss=arrays["pixel"],
                 inversion_perceptual_loss=arrays["perceptual"],
                 inversion_loss_curve_mean=(curve / n).astype(np.float32))
    settings = cfg.describe()
    settings["inversion"] = inv_settings
    manifest = {
        "format": FORMAT, "task": "video prediction from the first frame (MoCoGAN-HD §4.1, "
                                  "Tab. 3); Up-B = PSNR/SSIM of G_I(w_1) vs x_1",
        "model": model_info or {"kind": "objects", "image_resolution": size,
                                "motion": {"latent_dim": motion.latent_dim,
                                           "n_pca": motion.n_pca}},
        "data": {"spec": data_spec, **source.describe(), "num_predicted": n,
                 "clip_names": clip_names(source, n)},
        "settings": settings, "resolution": size,
        "outputs": {**OUTPUT_DIRS, "latents": "latents.npz",
                    "layout": "one folder of PNG frames per clip (00000.png, ...), folders "
                              "named by position 00000, 00001, ... in source order"},
        "scores": scores.summary(),
        "inversion": {"final_loss_mean": float(arrays["loss"].mean()),
                      "final_pixel_mse_mean": float(arrays["pixel"].mean()),
                      "final_perceptual_mean": float(arrays["perceptual"].mean()),
                      "initial_loss_mean": float(curve[0] / n)},
        "eval_commands": [f"vidbench eval psnr-ssim --pred {out / 'pred'} --real {out / 'real'}",
                          f"vidbench eval psnr-ssim --pred {out / 'inverted'} "
                          f"--real {out / 'first_frames'}"],
        "seconds": round(time.time() - t0, 3),
        "provenance": provenance(next(image.parameters()).device),
    }
    from vidbench.metrics.psnr_ssim import json_safe

    atomic_write_text(out / "manifest.json", json.dumps(json_safe(manifest), indent=2) + "\n")
    return manifest


def resolve_data_spec(spec: str) -> str:
    """``sky`` without a split means the prediction test protocol of MDGAN and DTVNet:
    ``sky:split=test,sky_first32=true``; every other spec is returned unchanged."""
    from vidbench.data.sources import format_spec, parse_spec

    head, options = parse_spec(spec)
    if head == "sky" and "split" not in options:
        return format_spec("sky", {"split": "test", "sky_first32": True, **options})
    return spec


def predict_from_checkpoint(checkpoint: str | Path, data: str, out_dir: str | Path,
                            config: PredictConfig | None = None, *, root: str | None = None,
                            generator: str | None = None, pca: str | None = None,
                            device: str = "cpu", skip_bad: bool = False,
                            overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """Load a trained model (:func:`vidbench.sample.generate.load_video_model`: a motion run folder, a
    checkpoint, a vidbench export, or an official ``modelR`` with ``generator`` and ``pca``),
    open ``data`` (any source spec; see :func:`resolve_data_spec`) and run
    :func:`run_prediction`."""
    from vidbench.data.sources import open_source
    from vidbench.sample.generate import load_video_model

    model = load_video_model(checkpoint, generator=generator, pca=pca, device=device)
    spec = resolve_data_spec(data)
    source = open_source(spec, root=root, skip_bad=skip_bad)
    info = {"checkpoint": str(checkpoint), **model.info, "fingerprint": model.fingerprint}
    return run_prediction(model.image, model.motion, source, out_dir, config, model_info=info,
                          data_spec=spec, overwrite=overwrite, progress=progress)


__all__ = ["PredictConfig", "run_prediction", "predict_from_checkpoint", "interpolate_trajectory",
           "prepare_clip", "clip_inputs", "resolve_data_spec", "ground_truth_for_baseline",
           "write_clips", "INTERPOLATIONS", "CROPS", "FORMAT"]
