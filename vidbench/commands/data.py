"""``vidbench data``: look at video sources before using them."""
from __future__ import annotations

import json

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_positional, positive_int, require_option


def register(subparsers) -> None:
    data = add_command(
        subparsers, "data", help="inspect video sources (files, folders, arrays, data sets)",
        description="Commands about video sources: anything `--source` accepts elsewhere.",
        example="vidbench data inspect ucf101 --root /data/UCF-101 --skip-bad")
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    sub.required = True
    p = add_command(
        sub, "inspect", help="count videos, frames, resolutions, fps and problems",
        description="Open a source and report its videos: count, total frames, length "
                    "min/mean/max, resolutions, fps, and every bad input with its reason. "
                    "The --dataset SRC is a path (video file, folder of videos or frame "
                    "folders, .zip of frame folders, .npy/.npz with :layout=...,range=... "
                    "options), a data set name with --root (ucf101, faceforensics, sky, "
                    "voxceleb, folder; options as NAME:split=train,...) or "
                    "shapes[:key=value,...]. Exit status 0 when no problem was found, 1 when "
                    "problems are listed, 2 on an error.",
        example="vidbench data inspect --dataset samples.npy:layout=NCTHW,range=-1:1 --json\n"
                "vidbench data inspect --dataset sky:split=test,sky_first32=true "
                "--root /data/sky_timelapse")
    p.add_argument("--dataset", metavar="SRC", help="the source spec (path or data set; required)")
    add_deprecated_positional(p, "PATH_OR_DATASET", "--dataset", dest="dataset")
    p.add_argument("--root", default=None, help="data set root (for data set names)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--skip-bad", action="store_true",
                   help="list bad inputs as problems instead of stopping at the first")
    p.add_argument("--convert-rgb", action="store_true",
                   help="convert greyscale/RGBA/palette frames to RGB instead of rejecting them")
    p.add_argument("--verify", action="store_true",
                   help="decode every frame (slow) to find damage that headers do not show")
    p.set_defaults(func=run_inspect)
    p = add_command(
        sub, "motion", help="how the bright object of each clip moves (directions, speed, area)",
        description="Track the foreground (pixels brighter than --threshold of white) of the "
                    "first --num-clips clips of the --dataset over their first --num-frames "
                    "frames and summarise: clips per direction label (horizontal, vertical, "
                    "diagonal, circular, still), a mean-speed histogram in px/frame, the share of "
                    "movement per compass heading and the fraction of clips that keep their "
                    "area (every frame within 0.5x-2x the first). For clips of one bright "
                    "object on a dark background, such as `shapes` and models trained on it; "
                    "the rules are in docs/clip-motion.md.",
        example="vidbench data motion --dataset shapes:num_videos=64,resolution=64,size=fixed "
                "--json\n"
                "vidbench data motion --dataset checkpoint:runs/motion:num_videos=64")
    p.add_argument("--dataset", metavar="SRC",
                   help="the source spec (also baselines: and checkpoint: specs; required)")
    add_deprecated_positional(p, "SOURCE", "--dataset", dest="dataset")
    p.add_argument("--root", default=None, help="data set root (for data set names)")
    p.add_argument("--num-clips", type=positive_int, default=None,
                   help="the first N clips (default: all)")
    p.add_argument("--num-frames", type=positive_int, default=16,
                   help="frames per clip, from the first")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="foreground: mean channel value above this fraction of 255")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_motion)


def run_inspect(args) -> int:
    from vidbench.data.inspect import format_report, inspect_source
    from vidbench.evaluation.sources import open_any_source
    spec = require_option(args, "dataset", "data inspect", "--dataset SRC", "the source to inspect")
    source = open_any_source(spec, root=args.root, skip_bad=args.skip_bad,
                             convert_rgb=args.convert_rgb, deep=args.verify)
    report = inspect_source(source)
    print(json.dumps(report) if args.json else format_report(report))
    return 1 if report["problems"] else 0


def run_motion(args) -> int:
    from vidbench.data.base import take_first
    from vidbench.data.clips import ClipSpec
    from vidbench.evaluation.sources import open_any_source
    from vidbench.metrics.clip_motion import motion_summary
    from vidbench.utils.errors import VidbenchError

    if not 0 < args.threshold < 1:
        raise VidbenchError(f"--threshold must lie between 0 and 1, got {args.threshold}")
    spec = require_option(args, "dataset", "data motion", "--dataset SRC", "the clips to track")
    source = open_any_source(spec, root=args.root,
                             clip=ClipSpec(length=args.num_frames, start="first"))
    if args.num_clips is not None:
        if args.num_clips > len(source):
            raise VidbenchError(f"{source.name} has {len(source)} clips; --num-clips "
                                f"{args.num_clips} asks for more (leave it out to use all)")
        source = take_first(source, args.num_clips)
    summary = {"source": spec, "num_frames": args.num_frames,
               **motion_summary(source, threshold=args.threshold)}
    if args.json:
        print(json.dumps(summary))
        return 0
    labels = ", ".join(f"{k} {v}" for k, v in summary["labels"].items())
    speed, area = summary["speed_px_per_frame"], summary["area"]
    print(f"{summary['num_clips']} clips of {args.num_frames} frames from {source.name} "
          f"({summary['no_foreground']} without foreground)")
    print(f"  directions: {labels}")
    if speed["mean"] is not None:
        print(f"  mean speed: {speed['mean']:.2f} px/frame (median {speed['median']:.2f}); "
              f"clips per bin {speed['histogram']}")
        print(f"  area kept by {area['keep_fraction']:.0%} of clips; last/first area: median "
              f"{area['ratio_median']:.2f}, min {area['ratio_min']:.2f}, "
              f"max {area['ratio_max']:.2f}")
    return 0
