"""`vidbench eval fvd`: Fréchet Video Distance under a named protocol."""
from __future__ import annotations

import warnings

from vidbench.metrics.protocols import PROTOCOLS
from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, positive_int, print_plan, print_protocols,
                                     print_result)
from vidbench.utils.distributed import distributed_from_env
from vidbench.utils.errors import VidbenchError


def run(args) -> int:
    if args.list_protocols:
        print_protocols("fvd", args.json)
        return 0
    if not args.fake or not args.real:
        raise VidbenchError("eval fvd needs --fake SRC and --real SRC (or --list-protocols)")
    kwargs = dict(protocol=args.protocol, num_fake=args.num_fake, num_real=args.num_real,
                  seed=args.seed, root=args.root, skip_bad=args.skip_bad)
    if args.dry_run:
        from vidbench.evaluation.fvd import plan_fvd

        plan = plan_fvd(args.fake, args.real, **kwargs)
        print_plan(plan, args.json)
        return 0
    from vidbench.metrics.cache import DamagedEntryWarning
    from vidbench.metrics.frechet import few_samples_expected
    from vidbench.evaluation.fvd import evaluate_fvd

    # few samples and damaged cache entries: reported via result["warnings"]
    with few_samples_expected(), warnings.catch_warnings(), \
            distributed_from_env(args.device) as device:
        warnings.simplefilter("ignore", DamagedEntryWarning)
        result = evaluate_fvd(args.fake, args.real, batch_size=args.batch_size,
                              num_workers=args.workers, device=device,
                              use_cache=not args.no_cache, progress=not args.no_progress,
                              **kwargs)
    cached = " (real statistics from cache)" if result["real"].get("cached") else ""
    line = (f"FVD[{result['protocol']}] = {result['value']:.4f}  ({result['num_fake']} fake vs "
            f"{result['num_real']} real clips, seed {result['seed']}, "
            f"{result['seconds']:.1f} s){cached}")
    print_result(result, args.json, line)
    return 0


def register(eval_subparsers) -> None:
    p = add_command(
        eval_subparsers, "fvd", help="Fréchet Video Distance (I3D) under a named protocol",
        description="FVD between fake and real clips. The protocol fixes the I3D weights, "
                    "resizes, clip length/stride, how clips are drawn, sample counts, covariance "
                    "and square-root form (--list-protocols shows them). Real statistics are "
                    "cached by content. If --fake and --real are the same source, two disjoint "
                    "seeded sets of real clips are compared (a ground-truth row). --real may "
                    "also be a statistics file from `vidbench ref export`.",
        example="vidbench eval fvd --fake samples.npz --real shapes:motion=circular "
                "--protocol tf-reference --num-fake 64 --num-real 64 --json")
    p.add_argument("--fake", metavar="SRC", help="generated clips (any vidbench data source)")
    p.add_argument("--real", metavar="SRC", help="real clips, or an exported statistics .npz")
    p.add_argument("--protocol", default="mocogan-hd", choices=list(PROTOCOLS),
                   help="named FVD protocol")
    p.add_argument("--num-fake", type=positive_int,
                   help="fake clips (default: the protocol's count)")
    p.add_argument("--num-real", type=positive_int,
                   help="real clips (default: the protocol's count)")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write cached real statistics")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved protocol, the drawn sources and the cache key; "
                        "compute nothing")
    p.add_argument("--list-protocols", action="store_true",
                   help="print every FVD protocol and what it fixes, then exit")
    add_common_args(p)
    p.set_defaults(func=run)
