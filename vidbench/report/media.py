"""The report's videos: sample clips, disentanglement grids and long videos, for viewing.

Generated clips are the samples a result line scored: for a ``checkpoint:RUN_DIR`` source,
clip ``i`` is sample ``i`` of the record's seed, with the record's noise mode and uint8
convention (:func:`vidbench.sample.generate.generate_videos`, as :class:`vidbench.sample.generate.GeneratorSource`
reads them); any other source (a folder of samples, a baseline's outputs, a data set) shows its
first clips. The disentanglement grids are :func:`vidbench.sample.outputs.disentanglement_clips`
(one content × k motions, one motion × k contents); the long videos unroll the motion
generator past its training length (``long="unroll"``) and interpolate the codes of a
training-length trajectory (``long="interpolate"``, 2n − 1 frames).

Frames shown are for looking at only (GIF or H.264 MP4: lossy, never scored). Clips taller
than ``max_side`` pixels are downscaled (PIL, box filter) and clips longer than ``max_frames``
are cut, so a full-length data set video does not make a huge file; the page displays every
tile at one height, real clips beside generated ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vidbench.data.writers import write_grid_video, write_video
from vidbench.utils.errors import VidbenchError

MEDIA_FORMATS = ("gif", "mp4")


@dataclass(frozen=True)
class MediaOptions:
    """How many clips the report shows per row and how they are encoded."""

    num_videos: int = 4             # generated (and real) clips per row
    grid_size: int = 3              # k of the disentanglement grids
    long_factor: int = 2            # unrolled long videos: long_factor × training length
    num_long: int = 2               # long videos per mode
    fps: float = 8.0
    fmt: str = "gif"                # gif (plays everywhere) or mp4 (H.264)
    max_side: int = 128             # larger frames are downscaled for viewing
    max_frames: int = 32            # real / given clips are cut to this many frames

    def __post_init__(self) -> None:
        if self.fmt not in MEDIA_FORMATS:
            raise VidbenchError(f"report media format {self.fmt!r} unknown; valid: "
                                f"{', '.join(MEDIA_FORMATS)}")
        for name in ("num_videos", "grid_size", "long_factor", "max_side", "max_frames"):
            if getattr(self, name) < 1:
                raise VidbenchError(f"report option {name} must be >= 1, got "
                                    f"{getattr(self, name)}")
        if self.num_long < 0 or self.fps <= 0:
            raise VidbenchError("report options: num_long must be >= 0 and fps > 0")


@dataclass(frozen=True)
class Media:
    """One file shown in the report (``path`` relative to the report folder)."""

    path: str
    caption: str
    kind: str                       # clip | grid | long | plot
    width: int = 0                  # pixels of the file (0: unknown)
    height: int = 0
    frames: int = 0


def fit_for_view(clip: np.ndarray, max_side: int, max_frames: int | None = None) -> np.ndarray:
    """``clip`` [T, H, W, 3] cut to ``max_frames`` and, when its longer side exceeds
    ``max_side``, downscaled (aspect kept, box filter)."""
    clip = np.asarray(clip)
    if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3:
        raise VidbenchError(f"report clips must be uint8 [T, H, W, 3], got {clip.dtype} "
                            f"{list(clip.shape)}")
    if max_frames is not None:
        clip = clip[:max_frames]
    _, h, w, _ = clip.shape
    scale = max_side / max(h, w)
    if scale >= 1:
        return clip
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BOX)) for f in clip])


class MediaWriter:
    """Writes clips under ``root/media/<folder>/`` and returns :class:`Media` entries."""

    def __init__(self, root: Path, options: MediaOptions):
        self.root, self.options = root, options

    def clip(self, folder: str, name: str, clip: np.ndarray, caption: str,
             kind: str = "clip") -> Media:
        o = self.options
        clip = fit_for_view(clip, o.max_side)
        rel = f"media/{folder}/{name}.{o.fmt}"
        write_video(self.root / rel, clip, fps=o.fps)
        return Media(rel, caption, kind, clip.shape[2], clip.shape[1], clip.shape[0])

    def grid(self, folder: str, name: str, clips: np.ndarray, caption: str) -> Media:
        o = self.options
        clips = np.stack([fit_for_view(c, o.max_side) for c in clips])
        rel = f"media/{folder}/{name}.{o.fmt}"
        write_grid_video(self.root / rel, clips, ncols=len(clips), fps=o.fps)
        t, h, w = clips.shape[1:4]
        n = len(clips)
        return Media(rel, caption, "grid", n * (w + 2) + 2, h + 4, t)


def source_clips(spec: str, n: int, options: MediaOptions, *, root: str | None = None,
                 frames: int | None = None) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The first ``n`` clips of the source ``spec`` (cut to ``frames``, at most
    ``max_frames``) and its description."""
    from vidbench.evaluation.sources import open_any_source

    source = open_any_source(spec, root=root)
    if len(source) == 0:
        raise VidbenchError(f"{spec}: the source holds no clips")
    limit = min(frames or options.max_frames, options.max_frames)
    clips = [fit_for_view(source[i], options.max_side, limit)
             for i in range(min(n, len(source)))]
    return clips, source.describe()


def model_media(run_dir: str | Path, writer: MediaWriter, folder: str, *, seed: int = 0,
                noise: str = "per_video", convention: str = "round", frames: int | None = None,
                device: str = "cpu") -> tuple[dict[str, list[Media]], dict[str, Any]]:
    """Samples, grids and long videos of a motion run: ``{"generated", "grids", "long"}`` and
    the model's description."""
    from vidbench.sample.generate import generate_videos, load_video_model, to_clips
    from vidbench.sample.outputs import disentanglement_clips

    o = writer.options
    model = load_video_model(run_dir, device=device)
    n = frames or model.n_frames
    where = model.info["motion"]["file"]
    idx = list(range(o.num_videos))
    clips = to_clips(generate_videos(model, idx, seed=seed, n_frames=n, noise=noise),
                     convention, where=where, indices=idx)
    out: dict[str, list[Media]] = {"generated": [
        writer.clip(folder, f"generated_{i:02d}", c, f"sample {i} (seed {seed})")
        for i, c in zip(idx, clips)]}
    content, motion = disentanglement_clips(model, o.grid_size, seed=seed, n_frames=n,
                                            noise=noise, convention=convention)
    last = o.grid_size - 1
    out["grids"] = [
        writer.grid(folder, "grid_content", content,
                    f"one content (sample 0's z) × the motions (ε) of samples 0–{last}"),
        writer.grid(folder, "grid_motion", motion,
                    f"one motion (sample 0's ε) × the contents of samples 0–{last}")]
    out["long"] = []
    long_idx = list(range(o.num_long))
    if long_idx:
        unrolled = to_clips(generate_videos(model, long_idx, seed=seed,
                                            n_frames=o.long_factor * model.n_frames,
                                            noise=noise, long="unroll"), convention, where=where)
        interpolated = to_clips(generate_videos(model, long_idx, seed=seed, n_frames=n,
                                                noise=noise, long="interpolate"), convention,
                                where=where)
        for i in long_idx:
            out["long"].append(writer.clip(
                folder, f"long_unroll_{i:02d}", unrolled[i],
                f"sample {i} unrolled to {unrolled.shape[1]} frames "
                f"({o.long_factor}× the training length {model.n_frames})", kind="long"))
            out["long"].append(writer.clip(
                folder, f"long_interpolate_{i:02d}", interpolated[i],
                f"sample {i}, {n} codes with midpoints: {interpolated.shape[1]} frames",
                kind="long"))
    describe = {"run_dir": str(run_dir), "motion": model.info["motion"],
                "image_generator": model.info.get("image_generator", {}).get("path"),
                "n_frames": model.n_frames, "seed": seed, "noise": noise,
                "convention": convention}
    return out, describe


__all__ = ["MEDIA_FORMATS", "MediaOptions", "Media", "MediaWriter", "fit_for_view",
           "source_clips", "model_media"]
