"""Line plots as standalone SVG text, for the static report (:mod:`vidbench.report.site`).

Hand-written SVG keeps the report free of plotting dependencies and of external fonts or
scripts: a plot is one ``<svg>`` document with axes, "nice" ticks (1, 2 or 5 × 10^k), one
``<polyline>`` per series (``data-series`` names it; point markers when a series is short)
and a legend. The mapping from data to pixels is affine per axis (y grows upwards), so a
plot can be checked by reading its polylines back.

:func:`log_series` turns a training log (``RUN_DIR/log.jsonl``, one JSON object per line, as
:mod:`vidbench.train.motion` writes it) into series keyed by name: every finite number of a
line carrying ``step`` (event lines, e.g. checkpoints, and the wall-clock ``time`` are
skipped), plus ``METRIC [protocol]`` series from lines that carry ``metric``, ``protocol``
and ``value`` with a ``step``.
"""
from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Mapping, Sequence

from vidbench.utils.errors import BadInputError

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
MARKERS_UP_TO = 40                  # points per series drawn as circles up to this many
SKIPPED_LOG_KEYS = ("step", "epoch", "time", "event")

LABELS = {"step_time": "seconds per training step"}

Series = Sequence[tuple[float, float]]


def nice_ticks(lo: float, hi: float, target: int = 5, integer: bool = False) -> list[float]:
    """Ticks covering ``[lo, hi]`` at a step of 1, 2 or 5 × 10^k, about ``target`` of them;
    the first tick is <= lo and the last >= hi; ``integer``: steps of at least 1."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"ticks need finite bounds, got {lo}, {hi}")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, target)
    if integer:
        raw = max(raw, 1.0)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    count = int(math.ceil((hi - first) / step - 1e-9))
    return [first + i * step for i in range(count + 1)]


def _label(v: float, step: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.2g}"
    decimals = max(0, -int(math.floor(math.log10(step))))
    return f"{v:.{decimals}f}"


def line_plot_svg(series: Mapping[str, Series], *, title: str, xlabel: str = "step",
                  ylabel: str = "", width: int = 480, height: int = 270) -> str:
    """One SVG document plotting every series (name -> [(x, y), ...]) against a shared x."""
    clean = {name: [(float(x), float(y)) for x, y in pts
                    if math.isfinite(float(x)) and math.isfinite(float(y))]
             for name, pts in series.items()}
    clean = {name: sorted(pts) for name, pts in clean.items() if pts}
    if not clean:
        raise ValueError(f"plot {title!r}: no finite points")
    xs = [x for pts in clean.values() for x, _ in pts]
    ys = [y for pts in clean.values() for _, y in pts]
    xt = nice_ticks(min(xs), max(xs), integer=all(x == int(x) for x in xs))
    yt = nice_ticks(min(ys), max(ys))
    legend_h = 16 * ((len(clean) + 2) // 3)
    left, right, top, bottom = 62, 14, 28 + legend_h, 40
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - xt[0]) / (xt[-1] - xt[0]) * pw

    def py(y: float) -> float:
        return top + ph - (y - yt[0]) / (yt[-1] - yt[0]) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{width / 2:.1f}" y="15" text-anchor="middle" font-size="13" '
           f'font-weight="bold">{escape(title)}</text>']
    xstep, ystep = xt[1] - xt[0], yt[1] - yt[0]
    for v in xt:
        x = px(v)
        out.append(f'<line x1="{x:.2f}" y1="{top}" x2="{x:.2f}" y2="{top + ph}" '
                   f'stroke="#e6e6e6"/><text x="{x:.2f}" y="{top + ph + 14}" '
                   f'text-anchor="middle">{_label(v, xstep)}</text>')
    for v in yt:
        y = py(v)
        out.append(f'<line x1="{left}" y1="{y:.2f}" x2="{left + pw}" y2="{y:.2f}" '
                   f'stroke="#e6e6e6"/><text x="{left - 4}" y="{y + 4:.2f}" '
                   f'text-anchor="end">{_label(v, ystep)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#444444"/>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f"{escape(xlabel)}</text>")
    if ylabel:
        out.append(f'<text transform="translate(13,{top + ph / 2:.1f}) rotate(-90)" '
                   f'text-anchor="middle">{escape(ylabel)}</text>')
    for i, (name, pts) in enumerate(clean.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{px(x):.2f},{py(y):.2f}" for x, y in pts)
        out.append(f'<polyline data-series="{escape(name)}" points="{points}" fill="none" '
                   f'stroke="{colour}" stroke-width="1.6"/>')
        if len(pts) <= MARKERS_UP_TO:
            out += [f'<circle cx="{px(x):.2f}" cy="{py(y):.2f}" r="2.5" fill="{colour}"/>'
                    for x, y in pts]
        lx, ly = left + (i % 3) * (pw / 3), 26 + 16 * (i // 3)
        out.append(f'<line x1="{lx:.1f}" y1="{ly - 4}" x2="{lx + 16:.1f}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"/><text x="{lx + 20:.1f}" y="{ly}">'
                   f"{escape(name)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def log_series(path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """Series of a training log (module docstring); an unreadable line is a BadInputError
    naming the file and the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInputError(path, f"cannot read the training log ({exc.strerror or exc})") \
            from None
    out: dict[str, list[tuple[float, float]]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):            # a run interrupted mid-write: a torn last line
                break
            raise BadInputError(path, f"line {number} is not JSON ({exc})") from None
        if not isinstance(entry, dict) or "event" in entry or not _number(entry.get("step")):
            continue
        step = float(entry["step"])
        if isinstance(entry.get("metric"), str) and _number(entry.get("value")):
            name = f"{entry['metric']} [{entry.get('protocol', '?')}]"
            out.setdefault(name, []).append((step, float(entry["value"])))
            continue
        for key, value in entry.items():
            if key not in SKIPPED_LOG_KEYS and _number(value) and math.isfinite(value):
                out.setdefault(key, []).append((step, float(value)))
    return out


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def group_series(series: Mapping[str, Series]) -> dict[str, dict[str, Series]]:
    """Training-log series grouped for plotting: ``g/*`` (generator losses), ``d/*``
    (discriminator losses), metric series one plot each, anything else one plot each."""
    groups: dict[str, dict[str, Series]] = {}
    for name, pts in series.items():
        head = name.split("/", 1)[0] if "/" in name else None
        title = {"g": "generator losses", "d": "discriminator losses"}.get(
            head or "", LABELS.get(name, name))
        groups.setdefault(title, {})[name] = pts
    return groups


__all__ = ["nice_ticks", "line_plot_svg", "log_series", "group_series"]
