"""`vidbench predict`: video prediction from the first frame (MoCoGAN-HD Tab. 3, Sky)."""
from __future__ import annotations

import argparse
import json

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias, non_negative_int, positive_int


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def config_from_args(args):
    from vidbench.sample.inversion import InversionSettings
    from vidbench.sample.predict import PredictConfig

    layers = tuple(s.strip() for s in args.vgg_layers.split(",")) if args.vgg_layers else None
    inv = InversionSettings(steps=args.steps, lr=args.lr, perceptual=args.perceptual,
                            lambda_vgg=args.lambda_vgg, noise=args.inversion_noise,
                            mean_samples=args.mean_samples, batch_size=args.batch_size,
                            **({"vgg_layers": layers} if layers else {}))
    return PredictConfig(num_frames=args.num_frames, num_latents=args.latents,
                         interp=args.interp, crop=args.crop, resize=args.resize, seed=args.seed,
                         batch_size=args.batch_size, limit=args.limit,
                         presets=tuple(args.presets.split(",")), inversion=inv)


def run(args) -> int:
    from pathlib import Path

    from vidbench.metrics.psnr_ssim import json_safe
    from vidbench.sample.predict import predict_from_checkpoint

    if not args.data:
        from vidbench.utils.errors import VidbenchError

        raise VidbenchError("predict needs --dataset SRC (the real clips whose first frames "
                            "it starts from)")
    config = config_from_args(args)
    manifest = predict_from_checkpoint(
        args.checkpoint, args.data, args.out, config, root=args.root, generator=args.generator,
        pca=args.pca, device=args.device, skip_bad=args.skip_bad, overwrite=args.overwrite,
        progress=not args.no_progress)
    if args.dtvnet_gt:
        from vidbench.evaluation.sources import open_any_source
        from vidbench.sample.predict import ground_truth_for_baseline, write_clips

        out = Path(args.out)
        gt = ground_truth_for_baseline("dtvnet", real=open_any_source(str(out / "real")))
        write_clips(gt, out / "real_dtvnet", overwrite=True)
    if args.json:
        print(json.dumps(json_safe(manifest)))
        return 0
    n = manifest["data"]["num_predicted"]
    print(f"predicted {n} clips x {config.num_frames} frames at {manifest['resolution']}^2 "
          f"from {manifest['data']['name']} in {manifest['seconds']:.1f} s -> {args.out}")
    for preset in config.presets:
        up, pred = manifest["scores"]["up_b"][preset], manifest["scores"]["prediction"][preset]
        print(f"  [{preset}] prediction PSNR {pred['psnr_capped']:.3f} dB, SSIM "
              f"{pred['ssim']:.4f}; Up-B (inverted first frame) PSNR {up['psnr_capped']:.3f} "
              f"dB, SSIM {up['ssim']:.4f}")
    print(f"  manifest: {Path(args.out) / 'manifest.json'}")
    return 0


def register(subparsers) -> None:
    p = add_command(
        subparsers, "predict", help="predict videos from their first frame (GAN inversion + "
                                    "motion generator) and score PSNR/SSIM",
        description="For every clip: invert its first frame into w_1 (Adam on pixel MSE + "
                    "lambda_vgg x VGG16 perceptual loss, Image2StyleGAN's recipe by default), "
                    "run the motion generator from w_1 for --latents codes, interpolate the "
                    "trajectory to --num-frames (linear: exactly that many frames; midpoint: "
                    "2n-1, MoCoGAN-HD's --interpolation), render, and write pred/, real/, "
                    "inverted/, first_frames/ (PNG folders), latents.npz and manifest.json "
                    "with PSNR/SSIM of the predictions and of the inverted first frames "
                    "(Up-B). For Sky Time-lapse, --dataset sky means "
                    "sky:split=test,sky_first32=true (MDGAN/DTVNet's test split: first 32 "
                    "frames of each short test clip). The VGG16 weights "
                    "(vgg16-397923af.pth) are read from $VIDBENCH_HOME/weights; "
                    "--perceptual none inverts with the pixel loss only.",
        example="vidbench predict --checkpoint runs/sky-motion --dataset sky --root data/sky "
                "--out results/sky-predict --num-frames 32 --latents 16\n"
                "vidbench eval psnr-ssim --pred results/sky-predict/inverted "
                "--real results/sky-predict/first_frames   # Up-B")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="motion run folder, checkpoint, vidbench export or official modelR file")
    p.add_argument("--dataset", dest="data", metavar="SRC",
                   help="real clips (required): any vidbench source (sky, shapes, a folder, ...)")
    add_deprecated_alias(p, "--data", "--dataset", dest="data")
    p.add_argument("--root", help="data set root folder (for data set names such as sky)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--num-frames", type=positive_int, default=32, help="frames per prediction")
    p.add_argument("--latents", type=positive_int, default=16,
                   help="codes the motion generator produces (n)")
    p.add_argument("--interp", choices=("linear", "midpoint"), default="linear",
                   help="trajectory to --num-frames: linear resampling, or midpoints (2n-1)")
    p.add_argument("--limit", type=positive_int, help="predict the first N clips only")
    p.add_argument("--perceptual", choices=("vgg16", "none"), default="vgg16",
                   help="perceptual term of the inversion loss")
    p.add_argument("--lambda-vgg", type=_non_negative_float, default=1.0,
                   help="weight of the perceptual term (paper Eqn. 8)")
    p.add_argument("--vgg-layers", metavar="L1,L2,...",
                   help="VGG16 layers (default relu1_1,relu1_2,relu3_2,relu4_2: "
                        "Image2StyleGAN's conv1_1, conv1_2, conv3_2, conv4_2 outputs)")
    p.add_argument("--steps", type=non_negative_int, default=5000, help="inversion iterations")
    p.add_argument("--lr", type=_positive_float, default=0.01, help="inversion Adam lr")
    p.add_argument("--mean-samples", type=positive_int, default=10000,
                   help="z samples whose mean w starts the inversion")
    p.add_argument("--inversion-noise", choices=("none", "fixed"), default="none",
                   help="StyleGAN noise: none, or maps fixed per clip (kept for its video)")
    p.add_argument("--crop", choices=("centre", "none"), default="centre",
                   help="real frames: centre square crop (MoCoGAN-HD's loader) or squash")
    p.add_argument("--resize", default="lanczos",
                   help="resize of real frames to the generator's size (vidbench.data.resize)")
    p.add_argument("--presets", default="wang",
                   help="comma-separated PSNR/SSIM presets for the manifest")
    p.add_argument("--dtvnet-gt", action="store_true",
                   help="also write real_dtvnet/: the real clips through DTVNet's per-frame "
                        "min-max, to score DTVNet's outputs against (DTVNet squashes frames "
                        "to 128x128: use --crop none)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the motion noise")
    p.add_argument("--batch-size", type=positive_int, default=8, help="clips per batch")
    p.add_argument("--generator", metavar="G.pt",
                   help="image generator (overrides the recorded one)")
    p.add_argument("--pca", metavar="DIR", help="PCA folder (overrides the recorded one)")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--skip-bad", action="store_true", help="list and skip unreadable videos")
    p.add_argument("--overwrite", action="store_true", help="replace earlier outputs in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the manifest as one JSON object")
    p.set_defaults(func=run)
