"""`vidbench table NAME`: one of the paper's tables from result lines and reported numbers.

The rendered table goes to stdout, or to a file with ``--out``; nothing else is written.
``--save-dir DIR`` (deprecated) still also saves ``DIR/NAME[-DATASET].<ext>``; ``--no-save``
(deprecated) is accepted and does nothing, since nothing is saved by default."""
from __future__ import annotations

import argparse
import os
import sys

from vidbench.cli import add_command
from vidbench.commands._args import DEFAULT_RESULTS, deprecated, read_results, results_paths


def run(args: argparse.Namespace) -> int:
    from vidbench.utils.fileio import atomic_write_text
    from vidbench.report.tables import EXTENSIONS, build_table, get_table, list_tables, render

    saved = None
    if args.no_save:
        deprecated("table", "--no-save", "nothing is saved unless --out FILE is given")
    if args.save_dir:
        deprecated("table", "--save-dir", "use --out FILE")
    if args.name == "list":
        text = list_tables()
    else:
        spec = get_table(args.name)               # an unknown name fails before any reading
        paths = results_paths(args.results)
        records = read_results(paths, "table")
        text = render(build_table(args.name, records, dataset=args.dataset), args.format)
        if args.save_dir:
            stem = spec.name + (f"-{args.dataset}" if args.dataset else "")
            saved = os.path.join(args.save_dir, f"{stem}.{EXTENSIONS[args.format]}")
            atomic_write_text(saved, text)
    if args.out:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    if saved:
        print(f"vidbench table: saved {saved}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    from vidbench.report.tables import FORMATS, TABLES

    names = [n for spec in TABLES.values() for n in (spec.name, *spec.aliases)] + ["list"]
    p = add_command(
        subparsers, "table",
        help="render one of the paper's tables from result lines and the reported numbers",
        description="Render a table of the MoCoGAN-HD paper: its reported numbers (each marked "
                    "†) next to what vidbench measured, one column per (metric, protocol). "
                    "Reads result lines (JSONL) and recomputes nothing. Measured cells come from "
                    "lines whose `experiment` is the table's; `vidbench table list` shows each "
                    "table's experiment and row names.",
        example="vidbench table ablation --results results/ablation.jsonl --format md\n"
                "vidbench table fvd --dataset shapes --format latex")
    p.add_argument("name", choices=names, metavar="NAME",
                   help=f"table: {', '.join(names)}")
    p.add_argument("--results", nargs="+", metavar="PATH",
                   help=f"results files or folders (every *.jsonl below); default: "
                        f"{DEFAULT_RESULTS}/ when it exists")
    p.add_argument("--dataset", metavar="D",
                   help="only lines measured on data set D (e.g. shapes, ucf101)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="output format (md = markdown)")
    p.add_argument("--save-dir", metavar="DIR",
                   help="deprecated: also save the table in DIR (use --out FILE)")
    p.add_argument("--no-save", action="store_true",
                   help="deprecated: does nothing (nothing is saved without --out)")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of stdout; the only file written")
    p.set_defaults(func=run)
