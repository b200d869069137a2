"""What a source holds: video and frame counts, resolutions, fps, lengths, and problems.

For sources read from files the numbers come from the videos' descriptions (headers, no
decoding); other sources (``shapes``) are counted by reading their clips. Problems are the
inputs skipped under ``skip_bad``, each with its file and reason.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from vidbench.data.base import ClipSource
from vidbench.data.clips import VideoClipSource

REPORT_KEYS = ("source", "fingerprint", "kind", "num_videos", "num_clips", "total_frames",
               "length", "resolutions", "fps", "problems", "notes")


def _fps_key(fps: float | None) -> str:
    return "unknown" if fps is None else f"{fps:.3f}".rstrip("0").rstrip(".")


def inspect_source(source: ClipSource) -> dict[str, Any]:
    """A JSON-able report on ``source`` (keys :data:`REPORT_KEYS`)."""
    if isinstance(source, VideoClipSource):
        lengths = [v.num_frames for v in source.videos]
        sizes = Counter(f"{v.width}x{v.height}" for v in source.videos)
        fps = Counter(_fps_key(v.fps) for v in source.videos)
    else:
        lengths, sizes = [], Counter()
        for i in range(len(source)):
            clip = source[i]
            lengths.append(int(clip.shape[0]))
            sizes[f"{clip.shape[2]}x{clip.shape[1]}"] += 1
        fps = Counter({"unknown": len(lengths)}) if lengths else Counter()
    notes = {k: source.meta[k] for k in ("dirs_without_media", "ignored_files",
                                         "videos_with_frame_gaps") if source.meta.get(k)}
    return {
        "source": source.name,
        "fingerprint": source.fingerprint,
        "kind": source.meta.get("kind", type(source).__name__),
        "num_videos": len(lengths),
        "num_clips": len(source),
        "total_frames": int(sum(lengths)),
        "length": {"min": min(lengths) if lengths else 0,
                   "mean": round(sum(lengths) / len(lengths), 3) if lengths else 0.0,
                   "max": max(lengths) if lengths else 0},
        "resolutions": dict(sizes.most_common()),
        "fps": dict(fps.most_common()),
        "problems": [{"path": p, "reason": r} for p, r in source.skipped],
        "notes": notes,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def format_report(report: dict[str, Any]) -> str:
    """The report as readable text."""
    ln = report["length"]
    res = " of " + next(iter(report["resolutions"])) if len(report["resolutions"]) == 1 else ""
    lines = [
        f"summary:      {_plural(report['num_videos'], 'video')}, "
        f"{_plural(report['total_frames'], 'frame')}{res}",
        f"source:       {report['source']} ({report['kind']})",
        f"fingerprint:  {report['fingerprint']}",
        f"videos:       {report['num_videos']} ({report['num_clips']} clips)",
        f"frames:       {report['total_frames']} in total; per video min {ln['min']}, "
        f"mean {ln['mean']:g}, max {ln['max']}",
        "resolutions:  " + (", ".join(f"{k} ({_plural(n, 'video')})" for k, n in report["resolutions"].items())
                            or "-"),
        "fps:          " + (", ".join(f"{k} ({_plural(n, 'video')})" for k, n in report["fps"].items()) or "-"),
    ]
    for key, n in report["notes"].items():
        lines.append(f"{key.replace('_', ' ')}: {n}")
    if report["problems"]:
        lines.append(f"problems:     {len(report['problems'])}")
        lines += [f"  {p['path']}: {p['reason']}" for p in report["problems"]]
    else:
        lines.append("problems:     none")
    return "\n".join(lines)
