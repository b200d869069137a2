"""How far a panel item's value moves when nothing but the arithmetic changes: the item
computed under several torch thread counts and batch sizes. The spread (max - min) is what
an item's tolerance is set from (docs/protocols.md, *Regression panel*).

    python -m vidbench.experiments.regress.spread ITEM [ITEM ...] [--threads 1 2]
        [--batch-sizes 1 4 12]
"""
from __future__ import annotations

import argparse
import json
from typing import Any

import torch

from vidbench.experiments.regress import panel
from vidbench.experiments.regress.check import compute_panel

THREADS = (1, 2)
BATCH_SIZES = (1, 4, 12)


def measure_spread(names: list[str], threads: tuple[int, ...] = THREADS,
                   batch_sizes: tuple[int, ...] = BATCH_SIZES,
                   reference: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``{item: {"values": {"t1-b4": v, ...}, "spread": max - min, "relative": spread/|mean|}}``;
    with ``reference`` (a read reference file) its value of each item joins the values as
    ``"reference"`` (computed as ``vidbench regress`` computes: its own thread count, batch 4)."""
    original = panel.eval_kwargs  # the one knob the items share
    before = torch.get_num_threads()
    values: dict[str, dict[str, float]] = {n: {} for n in names}
    try:
        for t in threads:
            torch.set_num_threads(t)
            for b in batch_sizes:
                panel.eval_kwargs = lambda run, b=b: {**original(run), "batch_size": b}
                for name, got in compute_panel(names).items():
                    values[name][f"t{t}-b{b}"] = got["value"]
    finally:
        panel.eval_kwargs = original
        torch.set_num_threads(before)
    out = {}
    for name, vals in values.items():
        if reference is not None and name in reference["items"]:
            vals["reference"] = reference["items"][name]["value"]
        spread = max(vals.values()) - min(vals.values())
        mean = sum(vals.values()) / len(vals)
        out[name] = {"values": vals, "spread": spread,
                     "relative": spread / abs(mean) if mean else float("inf")}
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m vidbench.experiments.regress.spread",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("items", nargs="+")
    parser.add_argument("--threads", nargs="+", type=int, default=list(THREADS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=list(BATCH_SIZES))
    parser.add_argument("--reference", metavar="FILE",
                        help="also count this reference file's value of each item")
    args = parser.parse_args()
    from vidbench.experiments.regress.check import read_reference

    ref = read_reference(args.reference) if args.reference else None
    print(json.dumps(measure_spread(args.items, tuple(args.threads), tuple(args.batch_sizes),
                                    ref), indent=1))
