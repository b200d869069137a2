"""What the demo shows a person: the FVD table with its context rows, real and generated clips
(a PNG grid and an animated GIF), the HTML report and a short summary."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vidbench.utils.fileio import atomic_path

ROW_LABELS = {  # row key -> label, in the table's order
    "real-vs-real": "real vs real (another seed)",
    "full": "MoCoGAN-HD Full",
    "no-eqn2": "w/o Eqn. 2 (no residual)",
    "no-image-disc": "w/o D_I",
    "no-video-disc": "w/o D_V",
    "no-mutual-info": "w/o L_mi",
    "untrained": "untrained motion generator",
    "random-walk-w": "random walk in W",
}
CONTEXT_ROWS = ("untrained", "random-walk-w")   # what Full must beat
DIRECTIONS = ("horizontal", "vertical", "diagonal", "circular")   # the data's motion classes
SHOWN = 4          # real and generated videos in the pictures
ZOOM = 1           # nearest-neighbour upscaling of the frames in the pictures


def column_key(rec: Mapping[str, Any]) -> tuple[str, str, Any, Any]:
    return (rec["metric"], rec["protocol"], rec.get("num_fake"), rec.get("num_real"))


def column_label(metric: str, protocol: str, num_fake: Any, num_real: Any) -> str:
    """``FVD [mocogan-hd, 96 vs 96]``; one count for one-sided metrics (``IS [tganv2, 96]``)."""
    counts = [str(n) for n in (num_fake, num_real) if n is not None]
    return f"{metric.upper()} [{', '.join([protocol, ' vs '.join(counts)] if counts else [protocol])}]"


def _grid(head: list[str], lines: list[list[str]]) -> list[str]:
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + \
        [fmt.format(*x) for x in lines]


def margins(fvd: Mapping[str, Mapping[str, Any]], row: str = "full"
            ) -> dict[str, list[float]]:
    """Per context row, ``row``'s FVD relative to it at each sampling seed, in percent
    (negative: ``row`` is lower, i.e. better)."""
    out = {}
    for other in CONTEXT_ROWS:
        if row in fvd and other in fvd:
            out[other] = [100.0 * (a / b - 1.0) for a, b in zip(fvd[row]["runs"],
                                                                  fvd[other]["runs"])]
    return out


def demo_checks(fvd: Mapping[str, Mapping[str, Any]], motion: Mapping[str, Mapping[str, Any]],
                row: str = "full", margin: float = 15.0) -> dict[str, Any]:
    """What the demo is meant to show, as numbers: ``row``'s FVD margin over each context row
    at every sampling seed (``beats_context``: at least ``margin`` percent lower at each), the
    data's directions its clips cover, and whether every clip keeps its area (last/first area
    within :data:`vidbench.metrics.clip_motion.KEEP_AREA_RANGE`)."""
    from vidbench.metrics.clip_motion import KEEP_AREA_RANGE

    rel = margins(fvd, row)
    m = motion.get(row)
    covered = [d for d in DIRECTIONS if m and m["labels"][d] > 0]
    lo, hi = KEEP_AREA_RANGE
    area = m["area"] if m else {}
    kept = (area.get("ratio_min") is not None and area["ratio_min"] >= lo
            and area["ratio_max"] <= hi and m["no_foreground"] == 0)
    return {"row": row, "fvd_vs_context_percent": rel, "required_margin_percent": margin,
            "beats_context": bool(rel) and len(rel) == len(CONTEXT_ROWS)
            and all(x <= -margin for v in rel.values() for x in v),
            "directions_covered": covered, "area_kept_by_every_clip": bool(kept)}


def format_motion(motion: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per row: clips per direction label, mean speed, share of clips keeping their
    area and the range of last/first area (:func:`vidbench.metrics.clip_motion.motion_summary`)."""
    head = ["motion of the clips", *DIRECTIONS, "still", "px/frame", "area kept",
            "last/first area"]
    lines = []
    for key, label in ROW_LABELS.items():
        if key not in motion:
            continue
        m = motion[key]
        speed, area = m["speed_px_per_frame"]["mean"], m["area"]
        keep = area["keep_fraction"]
        span = ("-" if area["ratio_min"] is None else
                f"{area['ratio_min']:.2f}-{area['ratio_max']:.2f}")
        lines.append([label, *(str(m["labels"][d]) for d in (*DIRECTIONS, "still")),
                      "-" if speed is None else f"{speed:.2f}",
                      "-" if keep is None else f"{100 * keep:.0f} %", span])
    return _grid(head, lines)


def format_table(results: str | Path, skipped: Mapping[str, str],
                 motion: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The demo's table: each row's FVD as mean ± std over the sampling seeds and per seed,
    the motion diversity, Full against the context rows, then the motion of the clips."""
    from vidbench.evaluation.records import read_results

    records, _ = read_results(results)
    fvd = {r["variant"]: r for r in records if r["metric"] == "fvd"}
    div = {r["variant"]: r for r in records if r["metric"] == "diversity"}
    seeds = next((r["sampling_seeds"] for r in fvd.values()), [])
    head = ["row", "FVD mean ± std", *(f"seed {s}" for s in seeds), "diversity"]
    first = next(iter(fvd.values()), {})
    counts = (first.get("num_fake"), first.get("num_real"))
    lines = []
    for key, label in ROW_LABELS.items():
        r = fvd.get(key)
        if r is not None and (r.get("num_fake"), r.get("num_real")) != counts:
            # the header's counts must not stand for counts this row did not use
            label = f"{label} ({r.get('num_fake')} vs {r.get('num_real')})"
        cells = ["-"] * (1 + len(seeds)) if r is None else \
            [f"{r['value']:.2f} ± {r['std']:.2f}" if r.get("std") is not None
             else f"{r['value']:.2f}", *(f"{v:.2f}" for v in r["runs"])]
        lines.append([label, *cells,
                      f"{div[key]['value']:.4f}" if key in div else "-"])
    out = [f"{column_label('fvd', first.get('protocol', 'mocogan-hd'), *counts)}, fake vs real "
           f"clips; training seed {first.get('training_seed')}, sampling seeds "
           f"{', '.join(map(str, seeds))}; diversity [last-frame-std] of App. D"]
    out += _grid(head, lines)
    for other, rel in margins(fvd).items():
        out.append(f"Full vs {ROW_LABELS[other]}: "
                   + ", ".join(f"{x:+.1f} %" for x in rel) + " FVD at the sampling seeds")
    if motion:
        out += [""] + format_motion(motion)
        if "full" in motion:
            c = demo_checks(fvd, motion)
            out.append(f"Full's clips cover {len(c['directions_covered'])} of the data's "
                       f"{len(DIRECTIONS)} directions ({', '.join(c['directions_covered'])}); "
                       f"every clip keeps its area (0.5-2x): "
                       f"{'yes' if c['area_kept_by_every_clip'] else 'no'}")
    for name, reason in sorted(skipped.items()):
        out.append(f"skipped {name}: {reason}")
    return "\n".join(out)


def motion_notes(motion: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Each row's motion as one line for the report, beside its videos."""
    notes = {}
    for key, m in motion.items():
        labels = ", ".join(f"{d} {m['labels'][d]}" for d in (*DIRECTIONS, "still"))
        speed, area = m["speed_px_per_frame"], m["area"]
        keep = area["keep_fraction"]
        notes[key] = [f"motion of its {m['num_clips']} clips (every sampling seed): {labels}; "
                      f"mean speed {speed['mean'] or 0:.2f} px/frame; "
                      f"area kept in {100 * (keep or 0):.0f} % of clips (last/first area "
                      f"{area['ratio_min'] or 0:.2f}-{area['ratio_max'] or 0:.2f})"]
    return notes


def _zoom(videos: np.ndarray) -> np.ndarray:
    return videos.repeat(ZOOM, axis=2).repeat(ZOOM, axis=3)


def pick_clips(motions: Sequence[Any], count: int = SHOWN) -> list[int]:
    """Indices of ``count`` clips to show: the first clip of each direction label in
    :data:`DIRECTIONS` order, then the first clips not yet picked (``motions``: one
    :class:`vidbench.metrics.clip_motion.ClipMotion` per clip, in sample order)."""
    picked = []
    for d in DIRECTIONS:
        hit = next((i for i, m in enumerate(motions) if m.label == d), None)
        if hit is not None and len(picked) < count:
            picked.append(hit)
    picked += [i for i in range(len(motions)) if i not in picked][:count - len(picked)]
    return picked


def write_pictures(out: Path, run: str, real: str, sampling_seed: int, real_motions: Sequence[Any],
                   fake_motions: Sequence[Any]) -> dict[str, Any]:
    """``grid.png`` (rows: SHOWN real videos, then SHOWN generated; columns: frames),
    ``samples.gif`` (top row real, bottom row generated) and ``pca_directions.png``/``.json``
    (the image along each PCA direction the motion generator moves along,
    :mod:`vidbench.sample.pca_preview`). The videos shown are the first of each direction
    label (:func:`pick_clips`) among the scored clips of ``sampling_seed``."""
    from vidbench.data.writers import write_grid, write_grid_video
    from vidbench.experiments.demo.jobs import real_clips
    from vidbench.sample.pca_preview import pca_preview
    from vidbench.sample.generate import generate_videos, load_video_model, to_clips

    model = load_video_model(run)
    fake_ids, real_ids = pick_clips(fake_motions), pick_clips(real_motions)
    fake = to_clips(generate_videos(model, fake_ids, seed=sampling_seed))
    reals = real_clips(real, max(real_ids) + 1, fake.shape[1])[real_ids]
    both = _zoom(np.concatenate([reals, fake]))
    grid = write_grid(out / "grid.png", both, pad=2)
    gif = write_grid_video(out / "samples.gif", both, ncols=SHOWN, fps=8)
    motion = model.motion
    ratios = np.load(Path(model.info["pca"]["dir"]) / "pca_var_ratio.npy")
    directions = pca_preview(model.image, motion.pca_comp, motion.pca_stdev, out,
                             var_ratio=ratios,
                             num_components=motion.n_pca, contents=1, seed=sampling_seed,
                             zoom=ZOOM, name="pca_directions", source=model.info)
    return {"grid": str(grid), "gif": str(gif), "pca_directions": directions["png"],
            "shown": {"real": {"spec": real, "clips": real_ids,
                               "labels": [real_motions[i].label for i in real_ids]},
                      "generated": {"sampling_seed": sampling_seed, "samples": fake_ids,
                                    "labels": [fake_motions[i].label for i in fake_ids]}}}


def write_report(results: Path, out: Path, runs: Mapping[str, str], real: str,
                 progress: bool, row_notes: Mapping[str, list[str]] | None = None
                 ) -> dict[str, str]:
    """The HTML report of the demo's results, and its screenshot when Chromium is present."""
    from vidbench.report.site import MediaOptions, build_report
    from vidbench.report.browser import find_chromium, screenshot_page

    shot = out / "screenshot.png"
    earlier = shot.read_bytes() if shot.is_file() else None   # the report folder is replaced
    index = build_report([results], out, runs={f"demo/{k}": v for k, v in runs.items()},
                         real_spec=real, tables=["ablation", "cross-domain"],
                         title="vidbench demo (shapes)", progress=progress,
                         row_notes=row_notes, options=MediaOptions(grid_size=2, num_long=1))
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
