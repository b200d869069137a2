"""How the foreground of a clip moves: track, per-clip motion, and a summary over clips.

Made for clips with one bright object on a dark background (the built-in ``shapes`` data set
and models trained on it), real or generated alike. :func:`track_foreground` gives each
frame's foreground area and centre, :func:`clip_motion` a clip's displacement, speed, extent,
direction label (``horizontal``, ``vertical``, ``diagonal``, ``circular``, ``still``) and area
change, :func:`motion_summary` counts and histograms over many clips (nested dicts of numbers).
The rules, thresholds and what they give on ``shapes`` are in docs/clip-motion.md.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from vidbench.data.base import ClipSource, check_clip
from vidbench.utils.errors import VidbenchError

LABELS = ("horizontal", "vertical", "diagonal", "circular", "still")
# Compass sectors of the step headings, 45° wide and centred on their direction; y points
# down in images, so "N" is up the frame.
HEADINGS = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
# Speed histogram bin edges in px/frame; the last bin is open (``8+``).
DEFAULT_SPEED_BINS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0)
KEEP_AREA_RANGE = (0.5, 2.0)
AXIS_TOLERANCE_DEG = 22.5


@dataclass(frozen=True)
class MotionRules:
    """The thresholds of the label rule (px, degrees)."""

    still_px: float = 2.0             # extent below this: still
    min_step_px: float = 0.25         # shorter steps take no part in turning or headings
    circular_turn_deg: float = 180.0  # |signed total turning| at least this ...
    turn_fraction: float = 0.75       # ... and at least this share of step pairs turning
    min_turn_deg: float = 8.0         # the way of the total by at least this much
    reversal_deg: float = 135.0       # turns sharper than this are reversals, not turning


@dataclass(frozen=True)
class ClipMotion:
    """The motion of one clip; see the module docstring for every field's rule."""

    num_frames: int
    tracked_frames: int
    dx: float
    dy: float
    path_length: float
    mean_speed: float
    extent: float
    axis_angle_deg: float
    turning_deg: float
    turning_share: float
    label: str | None
    heading_px: tuple[float, ...]      # path length per compass sector, order of HEADINGS
    area_first: int
    area_last: int
    area_min: int
    area_max: int
    area_ratio: float
    keeps_area: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (NaN becomes None; headings a dict by sector)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "heading_px":
                out[name] = {h: float(v) for h, v in zip(HEADINGS, value)}
            else:
                out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    return value


def track_foreground(clip: np.ndarray, threshold: float = 0.5
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame of a uint8 clip ``[T, H, W, 3]``: ``(area [T] int64, centre [T, 2] float64)``.

    Foreground: pixels whose channel mean is above ``threshold * 255``; the centre ``(x, y)``
    is the plain mean of the foreground pixels' (column, row) indices; NaN where a frame has
    no foreground (area 0)."""
    clip = check_clip(clip, "clip")
    if clip.shape[0] == 0:
        raise VidbenchError("clip motion needs at least one frame, got an empty clip")
    if not 0.0 <= threshold <= 1.0:
        raise VidbenchError(f"threshold must be in [0, 1], got {threshold!r}")
    # mean over channels > threshold * 255  <=>  channel sum > 3 * threshold * 255
    mask = clip.sum(axis=-1, dtype=np.int32) > 3.0 * threshold * 255.0      # [T, H, W]
    area = mask.sum(axis=(1, 2), dtype=np.int64)
    rows = mask.sum(axis=2, dtype=np.int64)     # [T, H] foreground pixels per row
    cols = mask.sum(axis=1, dtype=np.int64)     # [T, W] foreground pixels per column
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = cols @ np.arange(clip.shape[2], dtype=np.float64) / area
        cy = rows @ np.arange(clip.shape[1], dtype=np.float64) / area
    centre = np.stack([cx, cy], axis=1)
    centre[area == 0] = np.nan
    return area, centre


def _smooth(path: np.ndarray) -> np.ndarray:
    """Positions ``[K, 2]`` filtered with [1, 2, 1]/4, the end points repeated."""
    padded = np.concatenate([path[:1], path, path[-1:]])
    return (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4


def _label(path: np.ndarray, extent: float, rules: MotionRules
           ) -> tuple[str, float, float, float]:
    """(label, axis angle in degrees, signed total turning in degrees, share of step pairs
    turning the way of the total) of a trajectory's tracked centres ``[K, 2]``."""
    steps = np.diff(path, axis=0)
    ax = float(np.abs(steps[:, 0]).sum()) if len(steps) else 0.0
    ay = float(np.abs(steps[:, 1]).sum()) if len(steps) else 0.0
    axis = math.degrees(math.atan2(ay, ax)) if ax + ay > 0 else math.nan
    smooth = np.diff(_smooth(path), axis=0)
    moving = smooth[np.hypot(smooth[:, 0], smooth[:, 1]) >= rules.min_step_px]
    a, b = moving[:-1], moving[1:]
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    dot = (a * b).sum(axis=1)
    turns = np.degrees(np.arctan2(cross, dot))            # [-180, 180], per step pair
    # a reversal (a bounce straight back) has no turning sense: it is left out of the total
    total = float(turns[np.abs(turns) <= rules.reversal_deg].sum())
    share = (float(np.mean(np.sign(total) * turns >= rules.min_turn_deg))
             if len(turns) and total != 0 else 0.0)
    if extent < rules.still_px:
        label = "still"
    elif abs(total) >= rules.circular_turn_deg and share >= rules.turn_fraction:
        label = "circular"
    elif axis < AXIS_TOLERANCE_DEG:
        label = "horizontal"
    elif axis > 90.0 - AXIS_TOLERANCE_DEG:
        label = "vertical"
    else:
        label = "diagonal"
    return label, axis, total, share


def _headings(steps: np.ndarray, min_step_px: float) -> tuple[float, ...]:
    """Path length per compass sector (``HEADINGS``) of the steps at least ``min_step_px``."""
    length = np.hypot(steps[:, 0], steps[:, 1])
    keep = length >= min_step_px
    angle = np.degrees(np.arctan2(-steps[keep, 1], steps[keep, 0]))   # y down: up is +90°
    sector = np.round(np.mod(angle, 360.0) / 45.0).astype(np.int64) % len(HEADINGS)
    return tuple(float(v) for v in np.bincount(sector, weights=length[keep],
                                               minlength=len(HEADINGS)))


def clip_motion(clip: np.ndarray, threshold: float = 0.5,
                rules: MotionRules = MotionRules()) -> ClipMotion:
    """The motion of one uint8 clip ``[T, H, W, 3]`` (rules in the module docstring)."""
    area, centre = track_foreground(clip, threshold)
    tracked = np.flatnonzero(area > 0)
    path = centre[tracked]                                       # [K, 2], no NaN
    steps = np.diff(path, axis=0)                                # [K-1, 2]
    first_area = int(area[0])
    ratio = int(area[-1]) / first_area if first_area else math.nan
    lo, hi = KEEP_AREA_RANGE
    keeps = bool(first_area > 0 and np.all((area >= lo * first_area) & (area <= hi * first_area)))
    areas = dict(area_first=first_area, area_last=int(area[-1]), area_min=int(area.min()),
                 area_max=int(area.max()), area_ratio=ratio, keeps_area=keeps)
    if len(tracked) == 0:
        nan = math.nan
        return ClipMotion(num_frames=len(area), tracked_frames=0, dx=nan, dy=nan,
                          path_length=nan, mean_speed=nan, extent=nan, axis_angle_deg=nan,
                          turning_deg=nan, turning_share=nan, label=None,
                          heading_px=(0.0,) * len(HEADINGS), **areas)
    dx, dy = (path[-1] - path[0]).tolist()
    path_length = float(np.hypot(steps[:, 0], steps[:, 1]).sum())
    intervals = int(tracked[-1] - tracked[0])
    mean_speed = path_length / intervals if intervals else 0.0
    pairwise = path[:, None, :] - path[None, :, :]
    extent = float(np.sqrt((pairwise ** 2).sum(axis=-1)).max())
    label, axis, turning, share = _label(path, extent, rules)
    return ClipMotion(num_frames=len(area), tracked_frames=len(tracked), dx=dx, dy=dy,
                      path_length=path_length, mean_speed=mean_speed, extent=extent,
                      axis_angle_deg=axis, turning_deg=turning, turning_share=share,
                      label=label, heading_px=_headings(steps, rules.min_step_px), **areas)


def _bin_names(edges: Sequence[float]) -> list[str]:
    def fmt(v: float) -> str:
        return f"{v:g}"
    names = [f"{fmt(a)}-{fmt(b)}" for a, b in zip(edges[:-1], edges[1:])]
    return names + [f"{fmt(edges[-1])}+"]


def _iter_clips(clips: ClipSource | Iterable[Any]) -> Iterable[Any]:
    if isinstance(clips, ClipSource):
        return (clips[i] for i in range(len(clips)))
    return clips


def motion_summary(clips: ClipSource | Iterable[np.ndarray | ClipMotion],
                   speed_bins: Sequence[float] = DEFAULT_SPEED_BINS, threshold: float = 0.5,
                   rules: MotionRules = MotionRules()) -> dict[str, Any]:
    """Aggregate :func:`clip_motion` over clips (a ClipSource, or an iterable of uint8 clips
    ``[T, H, W, 3]`` or of :class:`ClipMotion` results).

    Returns nested dicts of numbers: ``num_clips``; ``no_foreground`` (clips without a single
    foreground pixel); ``labels`` (count per label, summing with ``no_foreground`` to
    ``num_clips``); ``speed_px_per_frame`` (``histogram``: clips per bin ``"a-b"`` = [a, b)
    of the mean speed, the last bin ``"c+"`` open, a ``"<a"`` bin only when some speed lies
    below the first edge; ``mean`` and ``median``); ``headings`` (share of the
    summed path length per compass sector, y down, so ``"N"`` is up the frame); ``area``
    (``keep_fraction`` over clips with foreground, ``ratio_median``/``ratio_min``/
    ``ratio_max`` of last/first area over clips whose first frame has foreground). A
    statistic with nothing to average is None. ``settings``: the threshold and the rules."""
    edges = [float(e) for e in speed_bins]
    if len(edges) < 1 or any(b <= a for a, b in zip(edges[:-1], edges[1:])):
        raise VidbenchError(f"speed_bins must be increasing, got {list(speed_bins)}")
    results = [c if isinstance(c, ClipMotion) else clip_motion(c, threshold, rules)
               for c in _iter_clips(clips)]
    tracked = [r for r in results if r.label is not None]
    labels = {name: sum(r.label == name for r in tracked) for name in LABELS}
    speeds = np.array([r.mean_speed for r in tracked], dtype=np.float64)
    counts = np.bincount(np.searchsorted(edges, speeds, side="right"),
                         minlength=len(edges) + 1)
    # index 0 holds speeds below the first edge (none for the default, which starts at 0)
    histogram = dict(zip(_bin_names(edges), (int(c) for c in counts[1:])))
    if counts[0]:
        histogram = {f"<{edges[0]:g}": int(counts[0]), **histogram}
    heading = np.sum([r.heading_px for r in tracked], axis=0) if tracked else np.zeros(8)
    total = float(heading.sum())
    ratios = np.array([r.area_ratio for r in results if math.isfinite(r.area_ratio)])

    def stat(values: np.ndarray, fn) -> float | None:
        return float(fn(values)) if len(values) else None

    return {
        "num_clips": len(results),
        "no_foreground": len(results) - len(tracked),
        "labels": labels,
        "speed_px_per_frame": {"histogram": histogram, "mean": stat(speeds, np.mean),
                               "median": stat(speeds, np.median)},
        "headings": {h: (float(v) / total if total > 0 else None)
                     for h, v in zip(HEADINGS, heading)},
        "area": {"keep_fraction": (sum(r.keeps_area for r in tracked) / len(tracked)
                                   if tracked else None),
                 "ratio_median": stat(ratios, np.median), "ratio_min": stat(ratios, np.min),
                 "ratio_max": stat(ratios, np.max)},
        "settings": {"threshold": float(threshold), **dataclasses.asdict(rules)},
    }
