"""`vidbench eval METRIC`: the group every metric command joins.

A metric command lives in its own module with ``register(eval_subparsers)``; adding a metric
is one new module and one line in :data:`EVAL_COMMANDS`. Shared options and output go through
:func:`add_common_args` and :func:`print_result` so every metric behaves alike: a readable
line by default, exactly one JSON object on stdout with ``--json``, warnings on stderr.
In JSON, non-finite floats (an infinite PSNR) are written as the strings ``"inf"``,
``"-inf"``, ``"nan"``, so the output is strict JSON that any parser reads.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from typing import Any, Iterator

from vidbench.cli import add_command

# Order here is the order in `vidbench eval --help`.
EVAL_COMMANDS = [
    "vidbench.commands.eval_fvd",
    "vidbench.commands.eval_is",
    "vidbench.commands.eval_acd",
    "vidbench.commands.eval_psnr_ssim",
    "vidbench.commands.eval_all",
]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def protocol_name(metric: str):
    """An argparse ``type`` accepting the protocol names of ``metric`` (checked when parsed,
    so building the parser loads no metric module)."""
    def check(text: str) -> str:
        from vidbench.metrics.protocols import metric_protocol_names

        names = metric_protocol_names(metric)
        if text not in names:
            raise argparse.ArgumentTypeError(f"unknown {metric} protocol {text!r}; known: "
                                             f"{', '.join(names)}")
        return text
    check.__name__ = f"{metric} protocol"
    return check


def add_list_protocols(parser: argparse.ArgumentParser, metric: str) -> None:
    parser.add_argument("--list-protocols", action="store_true",
                        help=f"print every {metric} protocol and what it fixes, then exit")


def context_kwargs(args: argparse.Namespace, device: str | None = None) -> dict[str, Any]:
    """The shared engine options of :func:`add_common_args` as library keyword arguments
    (:class:`vidbench.evaluation.passes.EvalContext` fields)."""
    return {"seed": args.seed, "root": args.root, "skip_bad": args.skip_bad,
            "batch_size": args.batch_size, "num_workers": args.workers,
            "device": device or args.device, "progress": not args.no_progress}


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every `eval` metric shares: data location, seed, engine, output."""
    parser.add_argument("--root", help="data set root folder (for data set names such as ucf101)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of random clip starts and seeded subsets")
    parser.add_argument("--batch-size", type=positive_int, default=16,
                        help="clips per network call (does not change the value)")
    parser.add_argument("--workers", type=non_negative_int, default=0,
                        help="DataLoader worker processes decoding clips")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    parser.add_argument("--skip-bad", action="store_true",
                        help="list and skip unreadable or too-short videos instead of stopping")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON object on stdout")


def is_main_process() -> bool:
    """Rank 0 of a process group, or of a ``torchrun`` launch (``RANK``), or a lone process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def distributed_from_env(device: str) -> Iterator[str]:
    """Under ``torchrun`` (WORLD_SIZE > 1) join the process group for the duration of a
    command (NCCL with one GPU per local rank for CUDA devices, gloo on CPU) and yield this
    rank's device; otherwise yield ``device`` unchanged."""
    import torch

    dist = torch.distributed
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        yield device
        return
    if torch.device(device).type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device, backend = f"cuda:{local}", "nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend)
    try:
        yield device
    finally:
        dist.destroy_process_group()


def print_result(result: dict[str, Any], as_json: bool, line: str) -> None:
    """The result as one JSON object (``--json``) or a readable ``line``; warnings to stderr.
    Under DDP only rank 0 prints."""
    if not is_main_process():
        return
    for msg in result.get("warnings", []):
        print(f"vidbench: warning: {msg}", file=sys.stderr)
    if as_json:
        from vidbench.metrics.psnr_ssim import json_safe

        print(json.dumps(json_safe(result), default=str, allow_nan=False))
    else:
        print(line)


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


__all__ = ["EVAL_COMMANDS", "add_common_args", "print_result", "distributed_from_env",
           "is_main_process", "positive_int", "non_negative_int", "protocol_name",
           "add_list_protocols", "context_kwargs", "register"]
