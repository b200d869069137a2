"""``vidbench demo``: build the built-in ``shapes`` data set, inspect it, write samples.

Writes into ``out_dir``: ``samples.gif`` (a tiled animation, one column per motion class),
``grid.png`` (rows = videos, columns = frames) and ``summary.json`` (one JSON object: the
data set's description and fingerprint, counts per motion class and shape, pixel statistics,
the files written, timings and provenance). Runs in seconds on one CPU core.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vidbench.data.base import iter_batches
from vidbench.data.shapes import make_shapes
from vidbench.data.writers import write_grid, write_grid_video
from vidbench.fileio import atomic_write_text
from vidbench.provenance import provenance

DEFAULT_OUT = Path("results") / "demo"
FULL = {"num_videos": 256, "length": 16, "resolution": 64}
QUICK = {"num_videos": 28, "length": 8, "resolution": 64}


def run_demo(out_dir: str | Path = DEFAULT_OUT, quick: bool = False, seed: int = 0,
             progress: bool = True) -> dict[str, Any]:
    """Make ``shapes``, inspect every clip, write the sample files; return the summary."""
    out_dir = Path(out_dir)
    options = {**(QUICK if quick else FULL), "seed": seed}
    start = time.perf_counter()
    source = make_shapes(**options)

    # Inspect: decode every clip through the clip contract and gather statistics.
    frames = 0
    pixel_sum = np.zeros(3)
    pixel_sq = np.zeros(3)
    batches = iter_batches(source, batch_size=32)
    for batch in tqdm(batches, total=-(-len(source) // 32), desc="shapes", unit="batch",
                      disable=not progress, leave=False):
        frames += batch.shape[0] * batch.shape[1]
        x = batch.reshape(-1, 3).astype(np.float64)
        pixel_sum += x.sum(axis=0)
        pixel_sq += (x ** 2).sum(axis=0)
    npix = frames * source.resolution ** 2
    mean = pixel_sum / npix
    std = np.sqrt(np.maximum(pixel_sq / npix - mean ** 2, 0))
    labels = [source.labels(i) for i in range(len(source))]
    inspect_s = time.perf_counter() - start

    # Samples: the first 2*len(MOTIONS) videos cycle through the motion classes twice, so a
    # grid with one column per class shows two examples of each.
    classes = source.motions
    n_show = min(len(source), 2 * len(classes))
    shown = np.stack([source[i] for i in range(n_show)])
    gif = write_grid_video(out_dir / "samples.gif", shown, ncols=min(len(classes), n_show), fps=8)
    n_rows = min(len(source), len(classes))
    grid = write_grid(out_dir / "grid.png", shown[:n_rows], pad=2)

    summary: dict[str, Any] = {
        "dataset": source.describe(),
        "num_videos": len(source),
        "frames_per_video": source.length,
        "total_frames": frames,
        "resolution": [source.resolution, source.resolution],
        "motion_classes": list(classes),
        "videos_per_motion": dict(Counter(lab["motion"] for lab in labels)),
        "videos_per_shape": dict(sorted(Counter(lab["shape"] for lab in labels).items())),
        "pixel_mean_rgb": [round(float(v), 3) for v in mean],
        "pixel_std_rgb": [round(float(v), 3) for v in std],
        "samples": {"gif": str(gif), "gif_videos": n_show,
                    "gif_columns": [labels[i]["motion"] for i in range(min(len(classes), n_show))],
                    "grid": str(grid),
                    "grid_rows": [{"motion": labels[i]["motion"], "shape": labels[i]["shape"],
                                   "colour": labels[i]["colour"]} for i in range(n_rows)]},
        "quick": quick,
        "seconds": {"generate_and_inspect": round(inspect_s, 3),
                    "total": round(time.perf_counter() - start, 3)},
        "provenance": provenance(),
    }
    summary_path = out_dir / "summary.json"
    summary["summary"] = str(summary_path)
    atomic_write_text(summary_path, json.dumps(summary, indent=2) + "\n")
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """A short human-readable report of :func:`run_demo`'s result."""
    per_motion = ", ".join(f"{m} {n}" for m, n in summary["videos_per_motion"].items())
    h, w = summary["resolution"]
    return "\n".join([
        f"shapes data set (fingerprint {summary['dataset']['fingerprint'][:12]}): "
        f"{summary['num_videos']} videos x {summary['frames_per_video']} frames at {h}x{w}",
        f"  motion classes ({len(summary['motion_classes'])}): {per_motion}",
        f"  shapes: {', '.join(f'{k} {v}' for k, v in summary['videos_per_shape'].items())}",
        f"  pixel mean RGB {summary['pixel_mean_rgb']}, std {summary['pixel_std_rgb']}",
        f"wrote {summary['samples']['gif']}  (animation, {summary['samples']['gif_videos']} videos, "
        f"one column per motion class)",
        f"wrote {summary['samples']['grid']}  (rows = videos, columns = frames)",
        f"wrote {summary['summary']}",
        f"done in {summary['seconds']['total']:.2f} s",
    ])

