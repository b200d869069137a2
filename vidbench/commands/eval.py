"""`vidbench eval METRIC`: the group every metric command joins.

A metric command lives in its own module with ``register(eval_subparsers)``; adding a metric
is one new module and one line in :data:`EVAL_COMMANDS`. Shared options and output go through
:func:`vidbench.commands._args.add_common_args` and
:func:`vidbench.commands._args.print_result` so every metric behaves alike: a readable
line by default, exactly one JSON object on stdout with ``--json``, warnings on stderr.
In JSON, non-finite floats (an infinite PSNR) are written as the strings ``"inf"``,
``"-inf"``, ``"nan"``, so the output is strict JSON that any parser reads.
"""
from __future__ import annotations

import importlib

from vidbench.cli import add_command

# Order here is the order in `vidbench eval --help`.
EVAL_COMMANDS = [
    "vidbench.commands.eval_fvd",
    "vidbench.commands.eval_is",
    "vidbench.commands.eval_acd",
    "vidbench.commands.eval_psnr_ssim",
    "vidbench.commands.eval_all",
]


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "eval", help="evaluate generated videos with a metric under a named protocol",
        description="Score generated clips against real clips. Each metric is a subcommand; "
                    "`--help` of a metric lists its protocols and options.",
        example="vidbench eval fvd --fake samples/ --real data/ucf101 --protocol mocogan-hd")
    sub = parser.add_subparsers(dest="metric", metavar="METRIC")
    sub.required = True
    for name in EVAL_COMMANDS:
        importlib.import_module(name).register(sub)


__all__ = ["EVAL_COMMANDS", "register"]
