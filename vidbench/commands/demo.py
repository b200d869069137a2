"""`vidbench demo`: the whole pipeline on the built-in shapes set (train, sample, score, show)."""
from __future__ import annotations

import argparse

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias, int_at_least


def _run(args: argparse.Namespace) -> int:
    from vidbench.experiments.demo.output import format_summary
    from vidbench.experiments.demo.pipeline import run_demo

    summary = run_demo(args.out, quick=args.quick, seed=args.seed,
                       progress=not args.no_progress, workers=args.processes,
                       train_image=args.train_image, motion_steps=args.motion_steps)
    print(format_summary(summary))
    return 0


def register(subparsers) -> None:
    p = add_command(
        subparsers, "demo",
        help="MoCoGAN-HD on the built-in shapes set from the shipped pre-trained image "
             "generator: train, sample, score (CPU, minutes)",
        description="Start from the pre-trained 64² StyleGAN2 image generator that ships with "
                    "vidbench (stylegan2-shapes64, as the paper starts from a fixed, "
                    "pre-trained StyleGAN2); compute its PCA; train the motion generator in "
                    "the Full setting and the ablations (w/o Eqn. 2, w/o D_I, w/o D_V, w/o "
                    "L_mi) at the `tiny` preset; score FVD with the real I3D at three sampling "
                    "seeds (and every other metric whose weights are present) beside real vs "
                    "real, an untrained motion generator and a random walk in W; measure the "
                    "motion diversity (App. D) and how every row's clips move; print the table "
                    "and write grid.png, samples.gif, table.txt, results.jsonl, summary.json "
                    "and an HTML report into --out. About 8 minutes on 2 CPU cores; --quick: "
                    "about 2; --train-image trains the image generator from scratch first.",
        example="vidbench demo --out results/demo --quick",
    )
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="a reduced run (short training, 16 clips per row) for a smoke test")
    p.add_argument("--seed", type=int_at_least(0, "seed"), default=0,
                   help="training seed of the motion generators and seed of the real data "
                        "(>= 0); the sampling seeds are 0, 1, 2 whatever it is")
    p.add_argument("--train-image", action="store_true",
                   help="train the image generator from scratch (the shipped one's settings, "
                        "2500 steps; --quick: 100) instead of starting from stylegan2-shapes64")
    p.add_argument("--motion-steps", type=int_at_least(1, "motion-steps"), default=None,
                   help="iterations of every motion generator, Full and ablations alike "
                        "(default 150; --quick: 3); the demo's 10 minutes hold the default "
                        "(docs/demo-notes.md, *Longer training, more clips*)")
    p.add_argument("--processes", type=int_at_least(1, "processes"), default=2,
                   help="worker processes, one torch thread each (default 2)")
    # `--workers` means DataLoader workers elsewhere (eval, train motion)
    add_deprecated_alias(p, "--workers", "--processes", dest="processes",
                         type=int_at_least(1, "workers"))
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
