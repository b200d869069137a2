"""Writers for clips, batches and sample grids; every file is written atomically.

* ``write_video(path, clip)`` chooses by extension: ``.mp4`` (H.264 ``yuv420p`` through the
  ffmpeg binary of imageio-ffmpeg; lossy, for viewing), ``.gif`` (ffmpeg with a palette
  computed over the whole clip; one GIF frame per clip frame, so a still clip keeps its frame
  count), ``.npy`` (the exact uint8 array) or ``.png`` (a frame grid, one row).
* ``write_frames(dir, clip)`` writes ``00000.png``, ``00001.png``, ... (lossless).
* ``write_array(path, clips)`` saves a uint8 batch ``[N, T, H, W, 3]`` as ``.npy``.
* ``write_grid(path, clips)`` one PNG, rows = videos, columns = frames;
  ``write_grid_video(path, clips, ncols)`` a tiled animation (``.gif``/``.mp4``).

H.264 in 4:2:0 needs even frame sizes: an odd height or width is padded by one replicated
row/column before encoding. Samples meant for metrics go to ``.npy`` or PNG frames, never
mp4/gif (lossy round trips shift FVD; docs/datasets.md, *Lossless storage*).
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from vidbench.data.base import check_clip
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.utils.fileio import atomic_path

VIDEO_SUFFIXES = (".mp4", ".gif", ".npy", ".png")
PathLike = str | os.PathLike


def _check_batch(clips: np.ndarray, where: str) -> np.ndarray:
    clips = np.asarray(clips)
    if clips.dtype != np.uint8 or clips.ndim != 5 or clips.shape[-1] != 3:
        raise BadInputError(where, f"expected uint8 clips [N, T, H, W, 3], got "
                                   f"{clips.dtype} {list(clips.shape)}")
    return clips


def _ffmpeg_encode(path: Path, clip: np.ndarray, fps: float, output_args: list[str]) -> None:
    import imageio_ffmpeg

    t, h, w, _ = clip.shape
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-nostdin",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}",
           "-i", "pipe:0", "-an", *output_args, str(path)]
    proc = subprocess.run(cmd, input=np.ascontiguousarray(clip).tobytes(), capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace")[-800:]
        raise VidbenchError(f"ffmpeg could not write {path}: {message}")


def _pad_even(clip: np.ndarray) -> np.ndarray:
    _, h, w, _ = clip.shape
    if h % 2 == 0 and w % 2 == 0:
        return clip
    return np.pad(clip, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_video(path: PathLike, clip: np.ndarray, fps: float = 8.0, crf: int = 15) -> Path:
    """Write one uint8 clip ``[T, H, W, 3]``; the format follows the extension.

    ``crf`` is x264's quality for ``.mp4`` (0 = lossless luma, 15 visually transparent).
    """
    path = Path(path)
    clip = check_clip(np.asarray(clip), str(path))
    suffix = path.suffix.lower()
    if fps <= 0:
        raise VidbenchError(f"{path}: fps must be positive, got {fps}")
    if suffix == ".mp4":
        args = ["-c:v", "libx264", "-preset", "medium", "-crf", str(int(crf)),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
        with atomic_path(path) as tmp:
            _ffmpeg_encode(tmp, _pad_even(clip), fps, args)
    elif suffix == ".gif":
        graph = ("split[a][b];[a]palettegen=stats_mode=full[p];"
                 "[b][p]paletteuse=dither=bayer:bayer_scale=4")
        args = ["-filter_complex", graph, "-loop", "0", "-f", "gif"]
        with atomic_path(path) as tmp:
            _ffmpeg_encode(tmp, clip, fps, args)
    elif suffix == ".npy":
        write_array(path, clip[None])
    elif suffix == ".png":
        write_grid(path, clip[None], pad=0)
    else:
        raise VidbenchError(f"{path}: unknown video extension {suffix!r}; "
                            f"valid: {', '.join(VIDEO_SUFFIXES)} (or write_frames for a folder)")
    return path


def write_frames(directory: PathLike, clip: np.ndarray, ext: str = "png",
                 overwrite: bool = False) -> Path:
    """Write a clip as one image per frame, ``00000.png`` ... (at least 5 digits).

    The folder appears complete or not at all (written to a temporary folder, then renamed);
    an existing folder is an error unless ``overwrite``.
    """
    directory = Path(directory)
    clip = check_clip(np.asarray(clip), str(directory))
    ext = ext.lower().lstrip(".")
    if ext not in ("png", "jpg", "jpeg", "bmp"):
        raise VidbenchError(f"{directory}: unsupported frame format {ext!r}; valid: png, jpg, bmp")
    if directory.exists() and not overwrite:
        raise VidbenchError(f"{directory} already exists (pass overwrite=True to replace it)")
    directory.parent.mkdir(parents=True, exist_ok=True)
    digits = max(5, len(str(len(clip) - 1)))
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        for i, frame in enumerate(clip):
            options = {"quality": 95} if ext in ("jpg", "jpeg") else {}
            Image.fromarray(frame).save(tmp / f"{i:0{digits}d}.{ext}", **options)
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old",
                                        dir=directory.parent))
            os.replace(directory, old / "x")
        os.replace(tmp, directory)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return directory


def write_array(path: PathLike, clips: np.ndarray) -> Path:
    """Save a uint8 batch ``[N, T, H, W, 3]`` exactly as ``.npy``."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise VidbenchError(f"{path}: write_array writes .npy files")
    clips = _check_batch(clips, str(path))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(clips), allow_pickle=False)
    return path


def frame_grid(clips: np.ndarray, pad: int = 2, pad_value: int = 255,
               max_frames: int | None = None) -> np.ndarray:
    """One image of ``[N, T, H, W, 3]`` clips: row n is video n, column t frame t.

    ``pad`` pixels of ``pad_value`` separate the tiles and frame the image, so the result is
    ``[N*(H+pad)+pad, T*(W+pad)+pad, 3]``.
    """
    clips = _check_batch(clips, "frame_grid")
    if max_frames is not None:
        clips = clips[:, :max_frames]
    n, t, h, w, _ = clips.shape
    out = np.full((n * (h + pad) + pad, t * (w + pad) + pad, 3), pad_value, np.uint8)
    for i in range(n):
        for j in range(t):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y:y + h, x:x + w] = clips[i, j]
    return out


def tile_clips(clips: np.ndarray, ncols: int | None = None, pad: int = 2,
               pad_value: int = 255) -> np.ndarray:
    """Tile ``[N, T, H, W, 3]`` clips into one clip ``[T, H', W', 3]``, ``ncols`` per row
    (default ``ceil(sqrt(N))``); empty tiles are filled with ``pad_value``."""
    clips = _check_batch(clips, "tile_clips")
    n, t, h, w, _ = clips.shape
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    if ncols < 1:
        raise VidbenchError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    out = np.full((t, nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), pad_value, np.uint8)
    for k in range(n):
        y, x = pad + (k // ncols) * (h + pad), pad + (k % ncols) * (w + pad)
        out[:, y:y + h, x:x + w] = clips[k]
    return out


def write_grid(path: PathLike, clips: np.ndarray, pad: int = 2, pad_value: int = 255,
               max_frames: int | None = None) -> Path:
    """Write :func:`frame_grid` of ``clips`` as a PNG (rows = videos, columns = frames)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise VidbenchError(f"{path}: write_grid writes .png files")
    image = frame_grid(clips, pad=pad, pad_value=pad_value, max_frames=max_frames)
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
    return path


def write_grid_video(path: PathLike, clips: np.ndarray, ncols: int | None = None,
                     fps: float = 8.0, pad: int = 2, pad_value: int = 255) -> Path:
    """Write the tiled animation of ``clips`` (:func:`tile_clips`) as ``.gif`` or ``.mp4``."""
    path = Path(path)
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise VidbenchError(f"{path}: write_grid_video writes .gif or .mp4 files")
    return write_video(path, tile_clips(clips, ncols=ncols, pad=pad, pad_value=pad_value), fps=fps)
