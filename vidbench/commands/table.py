"""`vidbench table NAME`: one of the paper's tables from result lines and reported numbers."""
from __future__ import annotations

import argparse
import os
import sys

from vidbench.cli import add_command

DEFAULT_RESULTS = "results"
MAX_PROBLEMS_SHOWN = 10


def run(args: argparse.Namespace) -> int:
    from vidbench.fileio import atomic_write_text
    from vidbench.results import read_many
    from vidbench.tables import build_table, get_table, list_tables, render

    if args.name == "list":
        text = list_tables()
    else:
        get_table(args.name)                      # an unknown name fails before any reading
        paths = args.results
        if paths is None:
            paths = [DEFAULT_RESULTS] if os.path.isdir(DEFAULT_RESULTS) else []
        records, problems = read_many(paths)
        for p in problems[:MAX_PROBLEMS_SHOWN]:
            print(f"vidbench table: warning: {p}", file=sys.stderr)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            print(f"vidbench table: warning: {len(problems) - MAX_PROBLEMS_SHOWN} more line(s) "
                  "not read", file=sys.stderr)
        text = render(build_table(args.name, records), args.format)
    if args.out:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers) -> None:
    from vidbench.tables import FORMATS, TABLES

    names = [n for spec in TABLES.values() for n in (spec.name, *spec.aliases)] + ["list"]
    p = add_command(
        subparsers, "table",
        help="render one of the paper's tables from result lines and the reported numbers",
        description="Render a table of the MoCoGAN-HD paper: its reported numbers (each marked "
                    "†) next to what vidbench measured, one column per (metric, protocol). "
                    "Reads result lines (JSONL) and recomputes nothing. Measured cells come from "
                    "lines whose `experiment` is the table's; `vidbench table list` shows each "
                    "table's experiment and row names.",
        example="vidbench table ablation --results results/ablation.jsonl --format markdown")
    p.add_argument("name", choices=names, metavar="NAME",
                   help=f"table: {', '.join(names)}")
    p.add_argument("--results", nargs="+", metavar="PATH",
                   help=f"results files or folders (every *.jsonl below); default: "
                        f"{DEFAULT_RESULTS}/ when it exists")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.set_defaults(func=run)
