"""`vidbench table NAME`: one of the paper's tables from result lines and reported numbers.

The rendered table goes to stdout (or ``--out``) and is also saved as
``<results folder>/tables/NAME[-DATASET].<ext>`` (``results/tables/`` by default; ``--no-save``
turns that off)."""
from __future__ import annotations

import argparse
import os
import sys

from vidbench.cli import add_command
from vidbench.commands._args import DEFAULT_RESULTS, read_results, results_paths


def save_dir(paths: list[str], given: str | None) -> str:
    """Where rendered tables are saved: ``given``, else ``tables/`` in the results folder."""
    if given:
        return given
    first = paths[0] if paths else DEFAULT_RESULTS
    return os.path.join(first if os.path.isdir(first) else os.path.dirname(first) or ".",
                        "tables")


def run(args: argparse.Namespace) -> int:
    from vidbench.utils.fileio import atomic_write_text
    from vidbench.report.tables import EXTENSIONS, build_table, get_table, list_tables, render

    saved = None
    if args.name == "list":
        text = list_tables()
    else:
        spec = get_table(args.name)               # an unknown name fails before any reading
        paths = results_paths(args.results)
        records = read_results(paths, "table")
        text = render(build_table(args.name, records, dataset=args.dataset), args.format)
        if not args.no_save:
            stem = spec.name + (f"-{args.dataset}" if args.dataset else "")
            saved = os.path.join(save_dir(paths, args.save_dir),
                                 f"{stem}.{EXTENSIONS[args.format]}")
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
                   help="where the rendered table is also saved (default: tables/ in the "
                        "results folder)")
    p.add_argument("--no-save", action="store_true", help="do not save the rendered table")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.set_defaults(func=run)
