"""Tiny on-disk video fixtures for the data reader tests (written with PIL, NumPy, ffmpeg)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def rand_clip(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def numbered_clip(t: int, h: int = 8, w: int = 8) -> np.ndarray:
    """Frame i is filled with the value i (so the order of frames can be read back)."""
    return np.broadcast_to(np.arange(t, dtype=np.uint8)[:, None, None, None], (t, h, w, 3)).copy()


def write_frames(folder: Path, clip: np.ndarray, pattern: str = "img_{i}.png",
                 numbers=None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, frame in enumerate(clip):
        p = folder / pattern.format(i=numbers[i] if numbers is not None else i)
        Image.fromarray(frame).save(p, quality=95) if p.suffix != ".png" else Image.fromarray(frame).save(p)
        out.append(p)
    return out


def write_video(path: Path, clip: np.ndarray, codec: str = "ffv1", pix_fmt: str = "gbrp",
                fps: float = 10, extra: list[str] | None = None) -> Path:
    """Encode ``clip`` with the imageio-ffmpeg binary (ffv1/gbrp is lossless RGB)."""
    import imageio_ffmpeg
    path.parent.mkdir(parents=True, exist_ok=True)
    t, h, w, _ = clip.shape
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec=codec,
                                         pix_fmt_in="rgb24", pix_fmt_out=pix_fmt,
                                         macro_block_size=1, output_params=extra,
                                         ffmpeg_log_level="error")
    writer.send(None)
    for frame in clip:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def write_zip(path: Path, videos: dict[str, np.ndarray], pattern: str = "{i:03d}.png") -> Path:
    import io
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, clip in videos.items():
            for i, frame in enumerate(clip):
                buf = io.BytesIO()
                Image.fromarray(frame).save(buf, format="PNG")
                member = pattern.format(i=i) if not name else f"{name}/{pattern.format(i=i)}"
                zf.writestr(member, buf.getvalue())
    return path


def copy_file(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(Path(src).read_bytes())
    return dst


def truncate(path: Path, keep: float = 0.5) -> Path:
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return path

