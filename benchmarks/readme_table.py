"""The README's table of benchmark figures, generated from ``results/bench/summary.json``.

The table sits in the README between :data:`BEGIN` and :data:`END` (HTML comments, invisible
when rendered) and is replaced as a whole, the rest of the README left as it is::

    python -m benchmarks.readme_table                      # results/bench/summary.json -> README
    python -m benchmarks.readme_table SUMMARY_JSON README  # other files
    python -m benchmarks.summary results/bench/benchmarks.json --readme README.md  # both steps

Targets (``benchmarks/ratios.py``: ``TARGETS``) are checked against the summary's ratios
here, so a summary written before a target existed gets the same table as a new one.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from benchmarks.ratios import TARGETS, target_check
from benchmarks.summary import machine_line
from vidbench.utils.fileio import atomic_write_text

BEGIN = "<!-- benchmarks:begin (generated: python -m benchmarks.readme_table) -->"
END = "<!-- benchmarks:end -->"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SUMMARY = ROOT / "results" / "bench" / "summary.json"
DEFAULT_README = ROOT / "README.md"


def render_readme_table(summary: dict[str, Any]) -> str:
    """The block between the markers: the machine line and one row per ratio."""
    lines = [f"Latest figures ({machine_line(summary)}):", "",
             "| ratio (same run) | value | target | meaning |", "|---|---|---|---|"]
    for name, r in summary.get("ratios", {}).items():
        target = ""
        if name in TARGETS:
            check = target_check(name, r["value"])
            target = f"{check['target']} ({'met' if check['met'] else 'not met'})"
        lines.append(f"| `{name}` | {r['value']:.3g} | {target} | {r['meaning']} |")
    missing = [name for name in TARGETS if name not in summary.get("ratios", {})]
    if missing:
        lines += ["", "Not measured in this run: " + ", ".join(
            f"`{name}` (target {target_check(name, None)['target']})" for name in missing) + "."]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN!r} ... {END!r} block")
    return text[:start + len(BEGIN)] + "\n" + block + "\n" + text[end:]


def update_readme(readme: str | Path, summary: dict[str, Any]) -> bool:
    """Rewrite the README's table from ``summary``; True when the file changed."""
    path = Path(readme)
    text = path.read_text()
    new = replace_block(text, render_readme_table(summary))
    if new != text:
        atomic_write_text(path, new)
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme_table",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", nargs="?", default=str(DEFAULT_SUMMARY),
                        help="summary.json of benchmarks/summary.py")
    parser.add_argument("readme", nargs="?", default=str(DEFAULT_README))
    args = parser.parse_args(argv)
    changed = update_readme(args.readme, json.loads(Path(args.summary).read_text()))
    print(f"{args.readme}: {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
