"""The summary of a benchmark run, written next to pytest-benchmark's JSON.

Run by ``tox -e bench`` after the benchmarks::

    python -m benchmarks.summary results/bench/benchmarks.json [--readme README.md]

writes ``summary.json`` (one JSON object) and ``summary.md`` into the JSON's directory (and,
with ``--readme``, the README's table: ``benchmarks/readme_table.py``).

The ratios, their targets and how they are computed: ``benchmarks/ratios.py``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from benchmarks.ratios import NEARBY, compute_ratios, figures_of, targets_of
from vidbench.utils.fileio import atomic_write_text

def build_summary(bench_json: dict[str, Any]) -> dict[str, Any]:
    """The summary object: when, where, with what, the figures and their ratios."""
    figures = figures_of(bench_json.get("benchmarks", []))
    run = bench_json.get("vidbench", {})
    keep = ("unit", "seconds_min", "seconds_median", "rounds", "items_per_round",
            "flops_per_item", "gflop_per_s", "peak_rss_bytes", "threads", NEARBY)
    table = {}
    for name, info in sorted(figures.items()):
        row = {k: info[k] for k in keep if k in info}
        unit = info.get("unit")
        if unit and f"{unit}_per_s" in info:
            row[f"{unit}_per_s"] = info[f"{unit}_per_s"]
        table[name] = row
    ratios = compute_ratios(figures)
    return {
        "date": run.get("date", bench_json.get("datetime")),
        "git_commit": run.get("git_commit", bench_json.get("commit_info", {}).get("id")),
        "git_dirty": run.get("git_dirty", bench_json.get("commit_info", {}).get("dirty")),
        "machine": run.get("machine", {}),
        "versions": run.get("versions", {}),
        "statistic": "fastest round (min) of each benchmark",
        "targets": targets_of(ratios),
        "ratios": ratios,
        "figures": table,
    }


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return "" if x is None else str(x)


def _met(r: dict[str, Any]) -> str:
    """A ratio's target and whether it was met ("" without a target)."""
    if "target" not in r:
        return ""
    return f"{r['target']}: " + {True: "met", False: "not met", None: "not measured"}[r["met"]]


def machine_line(summary: dict[str, Any]) -> str:
    """Where and when: CPU, threads, load, date, commit."""
    m = summary.get("machine", {})

    def load(values: Any) -> str:
        return "?" if not values else ", ".join(f"{v:g}" for v in values)
    commit = str(summary.get("git_commit") or "")[:12]
    return (f"{m.get('cpu')}, {m.get('cpu_count')} logical CPUs, {m.get('torch_threads')} torch "
            f"threads; load average (1, 5, 15 min) {load(m.get('load_average_start'))} at the "
            f"start, {load(m.get('load_average_end'))} at the end; {summary.get('date')}, "
            f"commit {commit}" + (" with uncommitted changes" if summary.get("git_dirty") else ""))


def render_markdown(summary: dict[str, Any]) -> str:
    machine = summary["machine"]
    lines = ["# vidbench benchmarks", "",
             f"- date: {summary['date']}",
             f"- git commit: {summary['git_commit']}"
             + (" (with uncommitted changes)" if summary["git_dirty"] else ""),
             f"- CPU: {machine.get('cpu')} ({machine.get('cpu_count')} logical CPUs), "
             f"torch threads: {machine.get('torch_threads')}, OPENBLAS_CORETYPE: "
             f"{machine.get('openblas_coretype')}",
             f"- load average (1, 5, 15 min): {machine.get('load_average_start')} at the "
             f"start, {machine.get('load_average_end')} at the end",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items() if v),
             f"- statistic: {summary['statistic']}", "",
             "## Targets", "", "| ratio | target | value | met |", "|---|---|---|---|"]
    for name, t in summary.get("targets", targets_of(summary["ratios"])).items():
        value = "not measured" if t["value"] is None else f"{t['value']:.3g}"
        met = {True: "yes", False: "no", None: ""}[t["met"]]
        lines.append(f"| {name} | {t['target']} | {value} | {met} |")
    lines += ["", "## Ratios (same run)", "", "| ratio | value | target | meaning |",
              "|---|---|---|---|"]
    for name, r in summary["ratios"].items():
        lines.append(f"| {name} | {r['value']:.3g} | {_met(r)} | {r['meaning']} "
                     f"({r['numerator']} / {r['denominator']}) |")
    lines += ["", "## Figures", "",
              "| figure | seconds (min) | rate | GFLOP/s | peak RSS (MiB) | peers timed in its "
              "rounds |", "|---|---|---|---|---|---|"]
    for name, f in summary["figures"].items():
        unit = f.get("unit")
        rate = f"{_fmt(f.get(f'{unit}_per_s'))} {unit}/s" if unit else ""
        rss = f.get("peak_rss_bytes")
        nearby = ", ".join(f"{peer} {_fmt(n.get(str(n.get('unit')) + '_per_s'))} {n.get('unit')}/s"
                           for peer, n in f.get(NEARBY, {}).items())
        lines.append(f"| {name} | {_fmt(f.get('seconds_min'))} | {rate} | "
                     f"{_fmt(f.get('gflop_per_s'))} | {'' if rss is None else round(rss / 2**20)} "
                     f"| {nearby} |")
    return "\n".join(lines) + "\n"


def write_summary(bench_json_path: str | Path, out_dir: str | Path | None = None) -> dict[str, Any]:
    """Read pytest-benchmark's JSON; write ``summary.json`` and ``summary.md``; return it."""
    path = Path(bench_json_path)
    bench_json = json.loads(path.read_text())
    if not isinstance(bench_json, dict) or "benchmarks" not in bench_json:
        raise ValueError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks')")
    summary = build_summary(bench_json)
    out = Path(out_dir) if out_dir is not None else path.parent
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out / "summary.md", render_markdown(summary))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.summary", description=__doc__.split("\n\n")[0],
        epilog="example: python -m benchmarks.summary results/bench/benchmarks.json "
               "--readme README.md")
    parser.add_argument("json", help="pytest-benchmark JSON (--benchmark-json output)")
    parser.add_argument("--out", default=None, help="output directory (default: the JSON's)")
    parser.add_argument("--readme", default=None, metavar="README",
                        help="also rewrite the figures table of this README "
                             "(benchmarks/readme_table.py)")
    args = parser.parse_args(argv)
    summary = write_summary(args.json, args.out)
    width = max((len(n) for n in summary["ratios"]), default=0)
    for name, r in summary["ratios"].items():
        print(f"{name:<{width}}  {r['value']:8.3f}  {_met(r):<16}  {r['meaning']}")
    if args.readme:
        from benchmarks.readme_table import update_readme

        update_readme(args.readme, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
