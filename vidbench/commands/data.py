"""``vidbench data``: look at video sources before using them."""
from __future__ import annotations

import json

from vidbench.cli import add_command


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
                    "SOURCE is a path (video file, folder of videos or frame folders, .zip of "
                    "frame folders, .npy/.npz with :layout=...,range=... options), a data set "
                    "name with --root (ucf101, faceforensics, sky, voxceleb, folder; options "
                    "as NAME:split=train,...) or shapes[:key=value,...]. Exit status 0 when no "
                    "problem was found, 1 when problems are listed, 2 on an error.",
        example="vidbench data inspect samples.npy:layout=NCTHW,range=-1:1 --json\n"
                "vidbench data inspect sky:split=test,sky_first32=true --root /data/sky_timelapse")
    p.add_argument("source", metavar="PATH_OR_DATASET", help="the source spec")
    p.add_argument("--root", default=None, help="data set root (for data set names)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--skip-bad", action="store_true",
                   help="list bad inputs as problems instead of stopping at the first")
    p.add_argument("--convert-rgb", action="store_true",
                   help="convert greyscale/RGBA/palette frames to RGB instead of rejecting them")
    p.add_argument("--verify", action="store_true",
                   help="decode every frame (slow) to find damage that headers do not show")
    p.set_defaults(func=run_inspect)


def run_inspect(args) -> int:
    from vidbench.data.inspect import format_report, inspect_source
    from vidbench.evaluation.sources import open_any_source
    source = open_any_source(args.source, root=args.root, skip_bad=args.skip_bad,
                         convert_rgb=args.convert_rgb, deep=args.verify)
    report = inspect_source(source)
    print(json.dumps(report) if args.json else format_report(report))
    return 1 if report["problems"] else 0
