"""What the demo shows a person: the FVD table with its context rows, real and generated clips
(a PNG grid and an animated GIF), the HTML report and a short summary."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from vidbench.utils.fileio import atomic_path

ROW_LABELS = {  # row key -> label, in the table's order
    "real-vs-real": "real vs real (another seed)",
    "full": "MoCoGAN-HD Full",
    "no-eqn2": "w/o Eqn. 2 (no residual)",
    "no-image-disc": "w/o D_I",
    "no-video-disc": "w/o D_V",
    "untrained": "untrained motion generator",
    "random-walk-w": "random walk in W",
}
SHOWN = 4          # real and generated videos in the pictures
ZOOM = 2           # nearest-neighbour upscaling of the 32² frames


def column_key(rec: Mapping[str, Any]) -> tuple[str, str, Any, Any]:
    return (rec["metric"], rec["protocol"], rec.get("num_fake"), rec.get("num_real"))


def column_label(metric: str, protocol: str, num_fake: Any, num_real: Any) -> str:
    """``FVD [mocogan-hd, 96 vs 96]``; one count for one-sided metrics (``IS [tganv2, 96]``)."""
    counts = [str(n) for n in (num_fake, num_real) if n is not None]
    return f"{metric.upper()} [{', '.join([protocol, ' vs '.join(counts)] if counts else [protocol])}]"


def format_table(results: str | Path, skipped: Mapping[str, str]) -> str:
    """The demo's table: one row per variant and context row, one column per metric."""
    from vidbench.evaluation.records import read_results

    records, _ = read_results(results)
    # a column is one metric under one protocol AT the counts it used: the header names both,
    # so a protocol's name never stands for counts it did not use (rows measured with other
    # counts get a column of their own)
    cols = sorted({column_key(r) for r in records}, key=str)
    cell = {(r["variant"], *column_key(r)): r for r in records}
    head = ["row"] + [column_label(*c) for c in cols]
    lines = []
    for key, label in ROW_LABELS.items():
        vals = [f"{cell[(key, *c)]['value']:.2f}" if (key, *c) in cell else "-" for c in cols]
        lines.append([label] + vals)
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*x) for x in lines]
    if any(r.get("overrides") for r in records):
        out.append("counts in brackets: fake vs real clips (overrides of the protocol's counts)")
    for name, reason in sorted(skipped.items()):
        out.append(f"skipped {name}: {reason}")
    return "\n".join(out)


def _zoom(videos: np.ndarray) -> np.ndarray:
    return videos.repeat(ZOOM, axis=2).repeat(ZOOM, axis=3)


def write_pictures(out: Path, run: str, real: str, seed: int) -> dict[str, str]:
    """``grid.png`` (rows: SHOWN real videos, then SHOWN generated; columns: frames),
    ``samples.gif`` (top row real, bottom row generated) and ``pca_directions.png``/``.json``
    (the image along each PCA direction the motion generator moves along,
    :mod:`vidbench.sample.pca_preview`)."""
    from vidbench.evaluation.sources import open_any_source
    from vidbench.data.writers import write_grid, write_grid_video
    from vidbench.sample.pca_preview import pca_preview
    from vidbench.sample.generate import generate_videos, load_video_model, to_clips

    model = load_video_model(run)
    fake = to_clips(generate_videos(model, list(range(SHOWN)), seed=seed))
    src = open_any_source(real)
    t = fake.shape[1]
    reals = np.stack([src[i][:t] for i in range(SHOWN)])
    both = _zoom(np.concatenate([reals, fake]))
    grid = write_grid(out / "grid.png", both, pad=2)
    gif = write_grid_video(out / "samples.gif", both, ncols=SHOWN, fps=8)
    motion = model.motion
    ratios = np.load(Path(model.info["pca"]["dir"]) / "pca_var_ratio.npy")
    directions = pca_preview(model.image, motion.pca_comp, motion.pca_stdev, out,
                             var_ratio=ratios,
                             num_components=motion.n_pca, contents=1, seed=seed, zoom=ZOOM,
                             name="pca_directions", source=model.info)
    return {"grid": str(grid), "gif": str(gif), "pca_directions": directions["png"]}


def write_report(results: Path, out: Path, runs: Mapping[str, str], real: str,
                 progress: bool) -> dict[str, str]:
    """The HTML report of the demo's results, and its screenshot when Chromium is present."""
    from vidbench.report.site import build_report
    from vidbench.report.browser import find_chromium, screenshot_page

    shot = out / "screenshot.png"
    earlier = shot.read_bytes() if shot.is_file() else None   # the report folder is replaced
    index = build_report([results], out, runs={f"demo/{k}": v for k, v in runs.items()},
                         real_spec=real, tables=["ablation"], title="vidbench demo (shapes)",
                         progress=progress)
    files = {"report": str(index)}
    if find_chromium():
        screenshot_page(index, shot, height=1600)
        files["screenshot"] = str(shot)
    elif earlier is not None:
        with atomic_path(shot) as tmp:
            tmp.write_bytes(earlier)
        files["screenshot"] = f"{shot} (kept from an earlier run: no Chromium here, so no new one)"
        print(f"vidbench: no Chromium: no new screenshot taken; {shot} is the earlier run's",
              file=sys.stderr)
    else:
        print("vidbench: no Chromium: no screenshot taken (apt-get install chromium)",
              file=sys.stderr)
    return files


def format_summary(summary: dict[str, Any]) -> str:
    """The table, where each file went, and the timings."""
    s = summary["seconds"]
    lines = [summary["table"], ""]
    lines += [f"  {k:<20} {v}" for k, v in summary["files"].items()]
    lines.append("")
    lines.append("time: " + ", ".join(f"{k} {v:.0f} s" for k, v in s.items()))
    return "\n".join(lines)
