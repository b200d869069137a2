"""`vidbench demo`: the whole pipeline on the built-in shapes set (train, sample, score, show)."""
from __future__ import annotations

import argparse

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias, int_at_least


def _run(args: argparse.Namespace) -> int:
    from vidbench.experiments.demo.output import format_summary
    from vidbench.experiments.demo.pipeline import run_demo

    summary = run_demo(args.out, quick=args.quick, seed=args.seed,
                       progress=not args.no_progress, workers=args.processes)
    print(format_summary(summary))
    return 0


def register(subparsers) -> None:
    p = add_command(
        subparsers, "demo",
        help="train, sample and score MoCoGAN-HD on the built-in shapes set (CPU, minutes)",
        description="Make the `shapes` data set; train a small StyleGAN2 image generator, its "
                    "PCA, and the motion generator in the Full setting and the ablations (w/o "
                    "Eqn. 2, w/o D_I, w/o D_V) at the `tiny` preset; sample; score FVD with "
                    "the real I3D (and every other metric whose weights are present) beside "
                    "real vs real, an untrained motion generator and a random walk in W; print "
                    "the table and write grid.png, samples.gif, table.txt, results.jsonl, "
                    "summary.json and an HTML report into --out. About 15 minutes on 2 CPU "
                    "cores; --quick: about 3.",
        example="vidbench demo --out results/demo --quick",
    )
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="a reduced run (short training, 16 clips per row) for a smoke test")
    p.add_argument("--seed", type=int_at_least(0, "seed"), default=0,
                   help="data and training seed (>= 0)")
    p.add_argument("--processes", type=int_at_least(1, "processes"), default=2,
                   help="worker processes, one torch thread each (default 2)")
    # `--workers` means DataLoader workers elsewhere (eval, train motion)
    add_deprecated_alias(p, "--workers", "--processes", dest="processes",
                         type=int_at_least(1, "workers"))
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
