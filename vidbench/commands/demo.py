"""`vidbench demo`: the built-in shapes data set, inspected, with sample files."""
from __future__ import annotations

import argparse

from vidbench.cli import add_command


def _run(args: argparse.Namespace) -> int:
    from vidbench.demo import format_summary, run_demo

    summary = run_demo(args.out, quick=args.quick, seed=args.seed, progress=not args.no_progress)
    print(format_summary(summary))
    return 0


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be >= 0, got {value}")
    return value


def register(subparsers) -> None:
    p = add_command(
        subparsers, "demo",
        help="make the built-in shapes data set and write sample animations and a grid",
        description="Build the procedural `shapes` data set (7 motion classes, 6 shapes), "
                    "check every clip, and write samples.gif (tiled animation, one column per "
                    "motion class), grid.png (rows = videos, columns = frames) and "
                    "summary.json into --out. Takes seconds on a CPU.",
        example="vidbench demo --out results/demo --quick --seed 1",
    )
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="a smaller set (28 videos of 8 frames instead of 256 of 16)")
    p.add_argument("--seed", type=_seed, default=0, help="data set seed (>= 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
