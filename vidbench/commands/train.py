"""`vidbench train KIND`: the group every trainer joins.

A trainer command lives in its own module with ``register(train_subparsers)``; adding one is
a new module and one line in :data:`TRAIN_COMMANDS`.
"""
from __future__ import annotations

import importlib

from vidbench.cli import add_command

# Order here is the order in `vidbench train --help`.
TRAIN_COMMANDS = [
    "vidbench.commands.train_image",
    "vidbench.commands.train_motion",
]


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "train", help="train a model (MoCoGAN-HD's motion generator, ...)",
        description="Train a model into a run folder (config.json, log.jsonl, checkpoints). "
                    "Each kind of model is a subcommand; `--help` of one lists its options.",
        example="vidbench train motion --generator G.pt --pca G_pca --dataset shapes "
                "--preset tiny --out runs/motion")
    sub = parser.add_subparsers(dest="train_kind", metavar="KIND")
    sub.required = True
    for name in TRAIN_COMMANDS:
        importlib.import_module(name).register(sub)


__all__ = ["TRAIN_COMMANDS", "register"]
