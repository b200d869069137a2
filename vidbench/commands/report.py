"""`vidbench report`: a static HTML page of the results store, its tables and its videos."""
from __future__ import annotations

import argparse
import sys

from vidbench.cli import add_command
from vidbench.commands._args import DEFAULT_RESULTS, add_deprecated_alias, read_results, results_paths


def _runs(items: list[str] | None) -> dict[str, str]:
    from vidbench.utils.errors import VidbenchError

    out: dict[str, str] = {}
    for item in items or []:
        key, eq, path = item.partition("=")
        if not eq or not key or not path:
            raise VidbenchError(f"--run {item!r}: expected ROW=RUN_DIR (e.g. full-256=runs/a)")
        out[key] = path
    return out


def run(args: argparse.Namespace) -> int:
    from vidbench.report.site import build_report
    from vidbench.report.media import MediaOptions

    paths = results_paths(args.results)
    read_results(paths, "report")
    options = MediaOptions(num_videos=args.num_videos, grid_size=args.grid_size,
                           long_factor=args.long_factor, num_long=args.num_long, fps=args.fps,
                           fmt=args.media)
    index = build_report(paths, args.out, runs=_runs(args.run), real_spec=args.real,
                         root=args.root, tables=args.tables, options=options,
                         title=args.title, device=args.device, progress=not args.quiet)
    print(f"wrote {index} (open it in a browser; the folder is self-contained)")
    if args.screenshot:
        return _screenshot(index, args.screenshot_height)
    return 0


def _screenshot(index, height: int | None) -> int:
    from vidbench.report.browser import check_page, screenshot_page

    check = check_page(index)
    shot = screenshot_page(index, index.parent / "screenshot.png",
                           height=height or check.page_height or None)
    print(f"headless Chromium: {check.media_ok} of {check.media_total} pictures and videos "
          f"loaded, {check.cells} table cells ({check.cells_empty} empty); wrote {shot}")
    if not check.ok:
        print("vidbench report: error: the page is not whole in the browser"
              + (f" (not loaded: {', '.join(check.broken)})" if check.broken else ""),
              file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    from vidbench.report.site import DEFAULT_OUT
    from vidbench.report.media import MEDIA_FORMATS
    from vidbench.report.tables import TABLES

    p = add_command(
        subparsers, "report",
        help="write a static HTML report: the paper's tables and the videos behind them",
        description="Write a self-contained folder (index.html, media/, report.json) that any "
                    "browser opens from disk: the paper's tables (reported numbers marked †, "
                    "measured cells with their provenance on hover), and for every measured "
                    "row real clips beside generated ones, the disentanglement grids (one "
                    "content × several motions, one motion × several contents), long videos "
                    "and the training losses against the step. A row's model is the run "
                    "its result lines name (checkpoint:RUN_DIR) or the one given with --run.",
        example="vidbench report --results results/ --out results/report\n"
                "vidbench report --results runs/ablation.jsonl --run full-256=runs/motion/ab12 "
                "--real shapes")
    p.add_argument("--results", nargs="+", metavar="PATH",
                   help=f"results files or folders (every *.jsonl below); without it, "
                        f"{DEFAULT_RESULTS}/ when it exists")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                   help="report folder (replaced if it holds an earlier report)")
    p.add_argument("--run", action="append", metavar="ROW=RUN_DIR",
                   help="motion run folder of a row (ROW, TABLE/ROW or EXPERIMENT/ROW); "
                        "repeatable; a key no row has gets a gallery of its own")
    p.add_argument("--real", metavar="SPEC",
                   help="source of the real clips shown; without it, each result line's real spec")
    p.add_argument("--root", metavar="DIR", help="data set root for the real clips")
    p.add_argument("--tables", nargs="+", choices=list(TABLES), metavar="NAME",
                   help=f"tables to show; without it, all: {', '.join(TABLES)}")
    p.add_argument("--num-videos", type=int, default=4, help="clips per row (real and generated)")
    p.add_argument("--grid-size", type=int, default=3, help="videos per disentanglement grid")
    p.add_argument("--long-factor", type=int, default=2,
                   help="unrolled long videos: this many times the training length")
    p.add_argument("--num-long", type=int, default=2, help="long videos per mode")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second of the clips")
    p.add_argument("--media", choices=MEDIA_FORMATS, default="gif",
                   help="clip format: gif plays in every browser; mp4 is H.264")
    p.add_argument("--title", default="vidbench report", help="page title")
    p.add_argument("--device", default="cpu", help="device for generating samples")
    p.add_argument("--screenshot", action="store_true",
                   help="open the page in headless Chromium (Debian's chromium package), check "
                        "that every clip and table cell loaded, and save DIR/screenshot.png")
    p.add_argument("--screenshot-height", type=int, metavar="PX",
                   help="screenshot height in CSS pixels; without it, the whole page")
    p.add_argument("--no-progress", dest="quiet", action="store_true", help="no progress bar")
    add_deprecated_alias(p, "--quiet", "--no-progress", dest="quiet", flag=True)
    p.set_defaults(func=run)
