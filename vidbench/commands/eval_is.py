"""`vidbench eval is`: the video Inception Score (C3D, UCF-101) under a named protocol."""
from __future__ import annotations

from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, add_list_protocols, evaluate_job_command,
                                     positive_int, print_result, protocol_name)


def run(args) -> int:
    from vidbench.evaluation.is_acd import ISJob, evaluate_is

    result = evaluate_job_command(args, "is", ISJob, evaluate_is,
                                  num_samples=args.num_samples, num_runs=args.num_runs)
    if result is None:
        return 0
    line = (f"IS[{result['protocol']}] = {result['value']:.4f} +- {result['std']:.4f} "
            f"(std over {result['std_over']}; {result['num_fake']} clips = "
            f"{result['num_runs']} run(s) x {result['num_samples']}, seed {result['seed']}, "
            f"{result['seconds']:.1f} s)")
    print_result(result, args.json, line)
    return 0


def register(eval_subparsers) -> None:
    p = add_command(
        eval_subparsers, "is", help="video Inception Score (C3D, UCF-101) under a named protocol",
        description="Video IS of generated clips: the first 16 frames of the first "
                    "num_samples x num_runs clips through TGANv2's UCF-101 C3D. The protocol "
                    "fixes the C3D input (resize, crop, mean clip), the counts, runs, splits "
                    "and epsilon (--list-protocols shows them). Protocols that repeat "
                    "(tganv2: 10 runs) report mean +- std over runs and each run's value. "
                    "Needs the C3D files in $VIDBENCH_HOME/weights (`vidbench weights list`).",
        example="vidbench eval is --fake samples.npz --protocol tganv2 --num-samples 256 "
                "--num-runs 2 --json")
    p.add_argument("--fake", metavar="SRC", help="generated clips (any vidbench data source)")
    p.add_argument("--protocol", default="mocogan-hd", type=protocol_name("is"),
                   help="named IS protocol")
    p.add_argument("--num-samples", type=positive_int,
                   help="clips per run (default: the protocol's; recorded as an override)")
    p.add_argument("--num-runs", type=positive_int,
                   help="independent runs (default: the protocol's; recorded as an override)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved protocol, the drawn clips and the C3D contract; "
                        "compute nothing")
    add_list_protocols(p, "IS")
    add_common_args(p)
    p.set_defaults(func=run)
