"""Argument types, option groups and output helpers that several subcommands share."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from vidbench.utils.distributed import distributed_from_env, is_main
from vidbench.utils.errors import VidbenchError

DEFAULT_RESULTS = "results"
MAX_PROBLEMS_SHOWN = 10


def int_at_least(minimum: int, what: str = ""):
    """An argparse type: an integer >= ``minimum`` (``what`` names it in the error)."""
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what + ' ' if what else ''}must be >= "
                                             f"{minimum}, got {value}")
        return value

    parse.__name__ = "int"      # argparse names the type in "invalid int value" errors
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def parse_setting(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` as ``(key, value)``, both stripped; the value is read as JSON when it
    parses (numbers, true, null, lists), else kept as text."""
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value.strip()


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


def deprecated(command: str, old: str, instead: str) -> None:
    """Say on stderr that ``old`` is deprecated (it still works for this release)."""
    print(f"vidbench {command}: warning: {old} is deprecated and goes in the next release; "
          f"{instead}", file=sys.stderr)


def add_deprecated_alias(parser: argparse.ArgumentParser, old: str, new: str, *, dest: str,
                         flag: bool = False, type: Any = None) -> None:
    """``old``, the former spelling of ``new``: it still sets ``dest`` (hidden from the help)
    and says on stderr that it is deprecated."""
    class Alias(argparse.Action):
        def __call__(self, parser_, namespace, values, option_string=None):
            print(f"{parser_.prog}: warning: {old} is deprecated and goes in the next release; "
                  f"use {new}", file=sys.stderr)
            setattr(namespace, self.dest, True if flag else values)

    parser.add_argument(old, dest=dest, action=Alias, nargs=0 if flag else None, type=type,
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_deprecated_positional(parser: argparse.ArgumentParser, metavar: str, new: str, *,
                              dest: str) -> None:
    """A positional argument that ``new`` (an option setting ``dest``) replaces: still accepted
    (hidden from the help), it sets ``dest`` and says on stderr that it is deprecated; given
    together with ``new``, it is an error."""
    class Positional(argparse.Action):
        def __call__(self, parser_, namespace, values, option_string=None):
            if getattr(namespace, dest, None) is not None:
                parser_.error(f"give the source once, as {new} {getattr(namespace, dest)} (the "
                              "positional form is deprecated)")
            print(f"{parser_.prog}: warning: the positional {metavar} is deprecated and goes in "
                  f"the next release; use {new} {values}", file=sys.stderr)
            setattr(namespace, dest, values)
            setattr(namespace, f"deprecated_{dest}", (values, new))  # see require_option

    parser.add_argument(f"deprecated_{dest}", metavar=metavar, nargs="?", action=Positional,
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def require_option(args: argparse.Namespace, dest: str, command: str, flag: str,
                   what: str) -> Any:
    """The value of a required option that a deprecated positional may also set (argparse
    cannot require either): a user error naming ``flag`` when neither was given."""
    from vidbench.utils.errors import VidbenchError

    value = getattr(args, dest, None)
    if value is None:
        raise VidbenchError(f"vidbench {command} needs {flag} ({what})")
    old = getattr(args, f"deprecated_{dest}", None)
    if old is not None and old[0] != value:       # the positional, then the option
        raise VidbenchError(f"vidbench {command}: give the source once, as {old[1]} {value} "
                            "(the positional form is deprecated)")
    return value


def protocols_as_json(metric: str) -> dict[str, Any]:
    """Every protocol of a CLI metric (``fvd``, ``is``, ``acd``, ``psnr-ssim``) as JSON-able
    fields, by name."""
    from vidbench.metrics.protocols import (PROTOCOLS, PSNR_SSIM_DESCRIPTIONS,
                                            metric_protocol_names)

    if metric == "fvd":
        return {name: p.to_dict() for name, p in PROTOCOLS.items()}
    if metric == "is":
        from vidbench.metrics.isv import IS_PROTOCOLS
        return {name: p.to_dict() for name, p in IS_PROTOCOLS.items()}
    if metric == "acd":
        from vidbench.metrics.acd import ACD_PROTOCOLS
        return {name: p.to_dict() for name, p in ACD_PROTOCOLS.items()}
    return {name: {"name": name, "description": PSNR_SSIM_DESCRIPTIONS.get(name, "")}
            for name in metric_protocol_names(metric)}


def print_protocols(metric: str, as_json: bool) -> None:
    """``--list-protocols``: readable text, or one JSON object (``--json``); ``all`` lists
    every metric's protocols and the protocol sets."""
    from vidbench.metrics.protocols import (METRIC_NAMES, PROTOCOL_SETS,
                                            describe_metric_protocols)

    if not as_json:
        print(describe_metric_protocols(metric))
    elif metric == "all":
        print(json.dumps({"protocol_sets": PROTOCOL_SETS,
                          **{m: protocols_as_json(m) for m in METRIC_NAMES}}, indent=2,
                         default=str))
    else:
        print(json.dumps(protocols_as_json(metric), indent=2, default=str))


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


def print_result(result: dict[str, Any], as_json: bool, line: str) -> None:
    """The result as one JSON object (``--json``) or a readable ``line``; warnings to stderr.
    Under DDP only rank 0 prints."""
    if not is_main():
        return
    for msg in result.get("warnings", []):
        print(f"vidbench: warning: {msg}", file=sys.stderr)
    if as_json:
        from vidbench.metrics.psnr_ssim import json_safe

        print(json.dumps(json_safe(result), default=str, allow_nan=False))
    else:
        print(line)


def print_plan(plan: dict[str, Any], as_json: bool) -> None:
    """A plan (``--dry-run``) or report as JSON: one line with ``--json``, else indented."""
    print(json.dumps(plan, indent=None if as_json else 2, default=str))


def results_paths(given: list[str] | None) -> list[str]:
    """The result files and folders to read: ``given``, else ``results/`` when it exists."""
    if given is None:
        return [DEFAULT_RESULTS] if os.path.isdir(DEFAULT_RESULTS) else []
    return given


def read_results(paths: list[str], command: str) -> list[dict[str, Any]]:
    """The result records of ``paths``; lines that cannot be read are warned about on stderr
    (the first :data:`MAX_PROBLEMS_SHOWN`, then a count) as ``vidbench COMMAND: warning``."""
    from vidbench.evaluation.records import read_many

    records, problems = read_many(paths)
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"vidbench {command}: warning: {p}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"vidbench {command}: warning: {len(problems) - MAX_PROBLEMS_SHOWN} more line(s) "
              "not read", file=sys.stderr)
    return records


__all__ = ["DEFAULT_RESULTS", "MAX_PROBLEMS_SHOWN", "positive_int", "non_negative_int",
           "parse_setting", "protocol_name", "add_list_protocols", "print_protocols",
           "deprecated", "add_deprecated_alias", "add_deprecated_positional", "require_option",
           "context_kwargs",
           "add_common_args", "is_main", "distributed_from_env", "print_result",
           "print_plan", "results_paths", "read_results"]


def evaluate_job_command(args: argparse.Namespace, metric: str, job_class: Any,
                         evaluate: Any, **counts: Any) -> dict[str, Any] | None:
    """The shared body of `eval is` and `eval acd`: ``--list-protocols``, the required
    ``--fake``, ``--dry-run`` (the job's plan) or the evaluation itself (one process group
    under torchrun). Returns the result record, or None when the command printed something
    else."""
    if args.list_protocols:
        print_protocols(metric, args.json)
        return None
    if not args.fake:
        raise VidbenchError(f"eval {metric} needs --fake SRC (or --list-protocols)")
    if args.dry_run:
        from vidbench.evaluation.passes import EvalContext

        job = job_class(args.fake, args.protocol, EvalContext(**context_kwargs(args)), **counts)
        print_plan(job.plan(), args.json)
        return None
    with distributed_from_env(args.device) as device:
        return evaluate(args.fake, args.protocol, **counts, **context_kwargs(args, device))
