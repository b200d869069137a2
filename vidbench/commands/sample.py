"""`vidbench sample`: videos from a trained MoCoGAN-HD motion generator."""
from __future__ import annotations


from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias, non_negative_int, positive_int, print_result

FORMATS = ("npy", "png", "mp4")
CONVENTIONS = ("round", "truncate-01")


def run(args) -> int:
    from vidbench.sample.generate import load_video_model
    from vidbench.sample.outputs import write_grids, write_samples

    model = load_video_model(args.checkpoint, generator=args.generator, pca=args.pca,
                             generator_config=args.generator_config,
                             residual_scale=args.residual_scale, device=args.device)
    result = write_samples(model, args.out, args.num_videos, seed=args.seed, fmt=args.format,
                           noise=args.noise, n_frames=args.frames, long=args.long,
                           batch_size=args.batch_size, convention=args.convention, fps=args.fps,
                           progress=not args.no_progress)
    if args.grid:
        result["grids"] = write_grids(model, args.out, args.grid_size, seed=args.seed,
                                      n_frames=args.frames, noise=args.noise,
                                      convention=args.convention, fps=args.fps)
    print_result(result, args.json, f"{args.num_videos} videos ({args.format}, noise "
                                    f"{args.noise}, seed {args.seed}) written to {args.out}")
    return 0


def register(subparsers) -> None:
    p = add_command(
        subparsers, "sample", help="generate videos from a trained motion generator",
        description="Sample videos from a `train motion` run folder, a checkpoint, a "
                    "modelR_*.pth export, or an official modelR file (with --generator and "
                    "--pca). The image generator (StyleGAN2 or BigGAN) is the one recorded with "
                    "the motion generator. Sample i is drawn from its own seed (seed, i), so samples do not "
                    "depend on the batch size, and the noise/no-noise variants (--noise both) "
                    "share z and the motion noise. --num-frames sets the motion-generator steps n: "
                    "--long unroll renders n frames, --long interpolate inserts midpoints (2n-1 "
                    "frames). --grid adds the disentanglement grids (one content x several "
                    "motions, one motion x several contents) as PNG and GIF. Use npy or png for "
                    "metrics; mp4 is lossy.",
        example="vidbench sample --checkpoint runs/motion-tiny --num-videos 64 --out samples/ "
                "--format npy --grid")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="run folder, checkpoint-*.pt or modelR_*.pth")
    p.add_argument("--num-videos", type=positive_int, required=True, help="videos to generate")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--format", choices=FORMATS, default="npy", help="file layout")
    p.add_argument("--seed", type=non_negative_int, default=0, help="run seed of the samples")
    p.add_argument("--noise", choices=("per_video", "none", "both"), default="per_video",
                   help="StyleGAN2 noise maps: one set per video, none, or both variants "
                        "(BigGAN has none)")
    p.add_argument("--num-frames", dest="frames", type=positive_int,
                   help="motion-generator steps (default: the training clip length)")
    add_deprecated_alias(p, "--frames", "--num-frames", dest="frames", type=positive_int)
    p.add_argument("--long", choices=("unroll", "interpolate"), default="unroll",
                   help="how --num-frames makes a video: LSTM steps, or midpoints between them")
    p.add_argument("--grid", action="store_true", help="also write the disentanglement grids")
    p.add_argument("--grid-size", type=positive_int, default=4, help="videos per grid")
    p.add_argument("--convention", choices=CONVENTIONS, default="round",
                   help="float->uint8 (truncate-01 reproduces the official evaluate.py)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="videos per forward pass")
    p.add_argument("--fps", type=float, default=10.0, help="frame rate of mp4/gif files")
    p.add_argument("--generator", metavar="G.pt",
                   help="image generator, StyleGAN2 or BigGAN-PyTorch G.pth / G_ema.pth "
                        "(overrides the recorded one; its sha256 must match)")
    p.add_argument("--generator-config", metavar="FILE.json",
                   help="BigGAN only: its settings (default: the ones recorded with the motion "
                        "generator, else biggan.json beside the generator; docs/biggan.md)")
    p.add_argument("--pca", metavar="DIR", help="PCA folder (overrides the recorded one)")
    p.add_argument("--residual-scale", type=float, default=0.2,
                   help="λ for an official modelR file (exports record their own)")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the manifest as one JSON object")
    p.set_defaults(func=run)
