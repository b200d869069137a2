"""Writing samples of a :class:`vidbench.sample.generate.VideoModel` to disk.

Layouts (``fmt``): ``npy``: one ``samples.npy`` uint8 [N, T, H, W, 3] (lossless, readable by
every ``vidbench eval`` command); ``png``: ``video_00000/00000.png`` … (lossless frame folders);
``mp4``: ``video_00000.mp4`` … (H.264, for viewing only). With ``noise="both"`` each variant
goes to its own subfolder (``noise/`` with StyleGAN2 noise, ``no_noise/`` without), sharing z
and ε. ``samples.json`` records the model, seeds and options. Grids (:func:`write_grids`):
``grid_content.png``/``.gif``: one content (sample 0's z) with the motions (ε) of samples
0..k−1, one row each; ``grid_motion.png``/``.gif``: one motion (sample 0's ε) applied to the
contents of samples 0..k−1.
"""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vidbench.data.writers import write_frames, write_grid, write_grid_video, write_video
from vidbench.utils.errors import VidbenchError
from vidbench.utils.fileio import atomic_path, atomic_write_text
from vidbench.sample.generate import VideoModel, generate_videos, to_clips

FORMATS = ("npy", "png", "mp4")
VARIANT_DIRS = {"per_video": "noise", "none": "no_noise"}


def write_samples(model: VideoModel, out_dir: str | Path, num_videos: int, *, seed: int = 0,
                  fmt: str = "npy", noise: str = "per_video", n_frames: int | None = None,
                  long: str = "unroll", batch_size: int = 8, convention: str = "round",
                  fps: float = 10.0, progress: bool = True) -> dict[str, Any]:
    """Generate samples 0..num_videos−1 and write them (see the module docstring)."""
    if fmt not in FORMATS:
        raise VidbenchError(f"format {fmt!r} unknown; valid: {', '.join(FORMATS)}")
    if num_videos < 1 or batch_size < 1:
        raise VidbenchError("num_videos and batch_size must be >= 1")
    variants = list(VARIANT_DIRS) if noise == "both" else [noise]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    written: dict[str, str] = {}
    for variant in variants:
        folder = out / VARIANT_DIRS[variant] if noise == "both" else out
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack, tqdm(total=num_videos, unit="video",
                                                   desc=f"sampling ({variant})",
                                                   disable=not progress) as bar:
            array = None
            for start in range(0, num_videos, batch_size):
                idx = list(range(start, min(start + batch_size, num_videos)))
                clips = to_clips(generate_videos(model, idx, seed=seed, n_frames=n_frames,
                                                 noise=variant, long=long), convention,
                                 where=model.info["motion"]["file"], indices=idx)
                if fmt == "npy":
                    if array is None:   # memory-mapped, renamed into place when complete
                        tmp = stack.enter_context(atomic_path(folder / "samples.npy"))
                        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                                          shape=(num_videos, *clips.shape[1:]))
                    array[start:start + len(idx)] = clips
                else:
                    for i, clip in zip(idx, clips):
                        if fmt == "png":
                            write_frames(folder / f"video_{i:05d}", clip, overwrite=True)
                        else:
                            write_video(folder / f"video_{i:05d}.mp4", clip, fps=fps)
                bar.update(len(idx))
            if array is not None:
                array.flush()
                del array
        written[variant] = str(folder)
    manifest = {"model": model.info, "num_videos": num_videos, "seed": seed, "format": fmt,
                "noise": noise, "frames": n_frames or model.n_frames, "long": long,
                "convention": convention, "seeds": "sample i: SeedSequence([seed, i]); draws z, "
                "eps, noise maps in that order", "outputs": written,
                "seconds": round(time.time() - t0, 3)}
    atomic_write_text(out / "samples.json", json.dumps(manifest, indent=2, default=str))
    return manifest


def disentanglement_clips(model: VideoModel, k: int, *, seed: int = 0,
                          n_frames: int | None = None, noise: str = "per_video",
                          convention: str = "round") -> tuple[np.ndarray, np.ndarray]:
    """(one content × k motions, one motion × k contents) as uint8 [k, T, H, W, 3] each."""
    if k < 1:
        raise VidbenchError(f"grid size must be >= 1, got {k}")
    idx = list(range(k))
    content = generate_videos(model, [0] * k, idx, seed=seed, n_frames=n_frames, noise=noise)
    motion = generate_videos(model, idx, [0] * k, seed=seed, n_frames=n_frames, noise=noise)
    return to_clips(content, convention), to_clips(motion, convention)


def write_grids(model: VideoModel, out_dir: str | Path, k: int = 4, *, seed: int = 0,
                n_frames: int | None = None, noise: str = "per_video",
                convention: str = "round", fps: float = 10.0) -> dict[str, str]:
    """Write ``grid_content`` and ``grid_motion`` as a PNG (rows = videos) and a tiled GIF."""
    content, motion = disentanglement_clips(model, k, seed=seed, n_frames=n_frames,
                                            noise="per_video" if noise == "both" else noise,
                                            convention=convention)
    out = Path(out_dir)
    paths = {}
    for name, clips in (("grid_content", content), ("grid_motion", motion)):
        paths[f"{name}.png"] = str(write_grid(out / f"{name}.png", clips))
        paths[f"{name}.gif"] = str(write_grid_video(out / f"{name}.gif", clips, fps=fps))
    return paths


__all__ = ["FORMATS", "write_samples", "disentanglement_clips", "write_grids"]
