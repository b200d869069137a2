"""`vidbench eval all`: every metric a protocol set asks for, one feature pass per extractor
and side; a metric that cannot run (e.g. its weight file is missing) is reported as skipped
and the others still run. Exit status 0 when at least one metric ran, 2 otherwise."""
from __future__ import annotations

import math
import warnings
from typing import Any

from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, context_kwargs, positive_int, print_plan,
                                     print_result)
from vidbench.utils.distributed import distributed_from_env
from vidbench.utils.errors import VidbenchError


def _value_text(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return "-"
    value = r["value"]
    if isinstance(value, dict):  # psnr_ssim
        psnr = "inf" if math.isinf(value["psnr"]) else f"{value['psnr']:.4f}"
        return f"PSNR {psnr} / SSIM {value['ssim']:.4f}"
    text = f"{value:.4f}"
    if r.get("std") is not None and r["metric"] == "isv":
        text += f" +- {r['std']:.4f}"
    if r["metric"] == "acd" and r.get("real"):
        text += f" (real {r['real']['value']:.4f})"
    return text


def _count_text(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return "-"
    if r["metric"] == "isv":
        return f"{r['num_runs']}x{r['num_samples']}"
    real = r.get("num_real")
    return f"{r['num_fake']}" + (f"/{real}" if real is not None else "")


def format_metric_lines(record: dict[str, Any]) -> str:
    """One line per (metric, protocol): value, clips (fake/real, or runs x samples), status."""
    rows = [("metric", "protocol", "value", "clips", "status")]
    for r in record["results"]:
        status = r["status"] if r["status"] != "skipped" else f"skipped: {r['reason']}"
        rows.append((r["metric"], r["protocol"], _value_text(r), _count_text(r), status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4]
             for row in rows]
    passes = record.get("passes", [])
    lines.append(f"({record['num_ok']} ran, {record['num_skipped']} skipped; {len(passes)} "
                 f"feature pass(es); {record['seconds']:.1f} s)")
    return "\n".join(lines)


def run(args) -> int:
    if args.list_protocols:
        from vidbench.commands._args import print_protocols

        print_protocols("all", args.json)
        return 0
    if not args.fake:
        raise VidbenchError("eval all needs --fake SRC (and --real SRC for FVD, PSNR/SSIM and "
                            "the real ACD row), or --list-protocols")
    from vidbench.metrics.cache import DamagedEntryWarning
    from vidbench.metrics.frechet import few_samples_expected
    from vidbench.evaluation.suite import evaluate_all

    counts = {k: getattr(args, k) for k in ("num_fake", "num_real", "num_samples", "num_runs",
                                            "num_videos", "num_frames")}
    # few samples and damaged cache entries: reported via the record's warnings
    with few_samples_expected(), warnings.catch_warnings(), \
            distributed_from_env(args.device) as device:
        warnings.simplefilter("ignore", DamagedEntryWarning)
        record = evaluate_all(args.fake, args.real, metrics=args.metrics,
                              protocols=args.protocols, dry_run=args.dry_run,
                              use_cache=not args.no_cache, **counts,
                              **context_kwargs(args, device))
    if args.dry_run:
        print_plan(record, args.json)
        return 0
    print_result(record, args.json, format_metric_lines(record))
    return 0 if record["num_ok"] > 0 else 2


def register(eval_subparsers) -> None:
    p = add_command(
        eval_subparsers, "all", help="several metrics at once (FVD, IS, ACD, PSNR/SSIM)",
        description="Compute every metric a protocol set asks for on one pair of sources, "
                    "with one feature pass per extractor and side (I3D on fakes and reals "
                    "for FVD, C3D on fakes for IS, the face embedder on fakes and reals for "
                    "ACD). --protocols takes a set name (--list-protocols shows the sets) "
                    "and/or metric=protocol entries that replace the set's choice for that "
                    "metric. A metric that cannot run (a missing weight file, too few clips) "
                    "is reported as skipped with the reason; the others still run. "
                    "psnr-ssim pairs fakes with reals in order and runs only when named in "
                    "--metrics. Exit status 0 if at least one metric ran.",
        example="vidbench eval all --fake samples/ --real data/faceforensics/test "
                "--metrics fvd,is,acd --protocols mocogan-hd,acd=mocogan-hd-consecutive "
                "--num-fake 256 --num-real 256 --num-samples 256 --num-runs 1 "
                "--num-videos 256 --json")
    p.add_argument("--fake", metavar="SRC", help="generated clips (any vidbench data source)")
    p.add_argument("--real", metavar="SRC", help="real clips (FVD: or an exported statistics file)")
    p.add_argument("--metrics", help="comma-separated: fvd,is,acd,psnr-ssim (default: the "
                                     "selection's metrics except psnr-ssim)")
    p.add_argument("--protocols", help="protocol set name(s) and/or metric=protocol entries, "
                                       "comma-separated (default: mocogan-hd)")
    for flag, text in (("--num-fake", "FVD fake clips"), ("--num-real", "FVD real clips"),
                       ("--num-samples", "IS clips per run"), ("--num-runs", "IS runs"),
                       ("--num-videos", "ACD videos per side and PSNR/SSIM pairs"),
                       ("--num-frames", "PSNR/SSIM: first T frames of every video")):
        p.add_argument(flag, type=positive_int,
                       help=f"{text} (default: the protocol's; recorded as an override)")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write cached FVD real statistics")
    p.add_argument("--dry-run", action="store_true",
                   help="print the selected protocols, drawn clips and planned passes; "
                        "compute nothing")
    p.add_argument("--list-protocols", action="store_true",
                   help="print the protocol sets and every metric's protocols, then exit")
    add_common_args(p)
    p.set_defaults(func=run)
