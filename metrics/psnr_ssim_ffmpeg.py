"""The ``dtvnet-ffmpeg`` PSNR/SSIM preset: DTVNet's PNG -> mp4 -> ffmpeg filter pipeline.

Follows ``zhangzjn/DTVNet: trainer/sky_timelapse_trainer.py`` and ``utils/dataset_utils.py``
(docs/protocols.md, *PSNR and SSIM*):

1. the first 32 frames of each real and predicted video are written as PNGs after
   ``torchvision.utils.save_image(normalize=True)`` of torchvision 0.6.1 (DTVNet's
   ``requirements.txt``): every frame min-max normalised on its own over all channels,
   ``(x - min) / (max - min + 1e-5)``, then ``trunc(v*255 + 0.5)`` (float32);
2. each PNG sequence is encoded with DTVNet's options ``-framerate 25 -pix_fmt yuv420p -i
   %04d.png -qscale:v 2`` (``-pix_fmt`` is an input option there, so the encoder picks its own
   pixel format; the effective codec and pixel format are read from ffmpeg's log and stored);
3. ``ffmpeg -i real.mp4 -i pred.mp4 -lavfi ssim=stats_file=...`` and the same with ``psnr``;
   per frame, SSIM is the ``All:`` field and PSNR the ``psnr_avg:`` field (``inf`` for
   identical frames).

The ffmpeg binary is ``imageio_ffmpeg.get_ffmpeg_exe()`` unless one is given. Scratch files
live in a temporary folder that is removed afterwards.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from vidbench.utils.errors import VidbenchError

MAX_FRAMES = 32
ENCODE_OPTIONS = ("-framerate", "25", "-pix_fmt", "yuv420p", "-i", "%04d.png", "-qscale:v", "2")
# (filter, field of its stats file read per frame): a psnr stats line reads
# "n:1 mse_avg:... mse_y:... mse_u:... mse_v:... psnr_avg:... psnr_y:... psnr_u:... psnr_v:...",
# an ssim line "n:1 Y:... U:... V:... All:... (...)"
STATS_FIELDS = (("psnr", "psnr_avg"), ("ssim", "All"))


def minmax_uint8(frame: np.ndarray) -> np.ndarray:
    """torchvision 0.6 ``save_image(normalize=True)`` of one frame ``[H, W, C]`` -> uint8."""
    x = np.asarray(frame, np.float32)
    lo, hi = float(x.min()), float(x.max())
    x = (x - np.float32(lo)) / np.float32(hi - lo + 1e-5)
    return np.clip(np.floor(x * np.float32(255) + np.float32(0.5)), 0, 255).astype(np.uint8)


def find_ffmpeg(ffmpeg: str | None = None) -> str:
    if ffmpeg is not None:
        if not Path(ffmpeg).is_file():
            raise VidbenchError(f"ffmpeg binary not found at {ffmpeg}")
        return str(ffmpeg)
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # the package raises RuntimeError when it has no binary
        raise VidbenchError(f"the dtvnet-ffmpeg preset needs an ffmpeg binary "
                            f"(imageio-ffmpeg): {exc}") from None


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise VidbenchError(f"ffmpeg failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stderr


def _encode(ffmpeg: str, frames: np.ndarray, folder: Path) -> tuple[Path, str]:
    """Write min-max normalised PNGs and encode them; (mp4 path, output stream description)."""
    from PIL import Image

    folder.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(minmax_uint8(frame)).save(folder / f"{i:04d}.png")
    log = _run([ffmpeg, "-y", "-hide_banner", *ENCODE_OPTIONS, "out.mp4"], folder)
    output = log[log.find("Output #0"):]
    match = re.search(r"Stream #0:0.*?Video: (\w+).*?, (\w+)\(", output)
    return folder / "out.mp4", (f"{match.group(1)} {match.group(2)}" if match else "unknown")


def _read_stats(path: Path, key: str, count: int) -> np.ndarray:
    values = []
    for line in path.read_text().splitlines():
        fields = dict(f.split(":", 1) for f in line.split() if ":" in f)
        if key in fields:
            values.append(float(fields[key]))
    if len(values) != count:
        raise VidbenchError(f"ffmpeg stats {path.name}: expected {count} frames with "
                            f"{key}, found {len(values)}")
    return np.array(values, np.float64)


def compare_mp4(ffmpeg: str, real: Path, pred: Path, cwd: Path, count: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (psnr_avg, SSIM All) of two mp4 files via ffmpeg's filters."""
    out = {}
    for name, key in STATS_FIELDS:
        _run([ffmpeg, "-hide_banner", "-i", str(real), "-i", str(pred), "-lavfi",
              f"{name}=stats_file={name}.log", "-f", "null", "-"], cwd)
        out[name] = _read_stats(cwd / f"{name}.log", key, count)
    return out["psnr"], out["ssim"]


def ffmpeg_frames(pred: np.ndarray, real: np.ndarray, ffmpeg: str | None = None,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Per-frame PSNR and SSIM ``[N, min(T, 32)]`` of uint8 videos, and the settings used."""
    from tqdm.auto import tqdm

    exe = find_ffmpeg(ffmpeg)
    t = min(pred.shape[1], MAX_FRAMES)
    psnr, ssim = np.empty((len(pred), t)), np.empty((len(pred), t))
    streams = set()
    for i in tqdm(range(len(pred)), desc="ffmpeg psnr/ssim", unit="video",
                  disable=not progress, leave=False):
        with tempfile.TemporaryDirectory(prefix="vidbench-dtvnet-") as scratch:
            work = Path(scratch)
            real_mp4, s1 = _encode(exe, real[i, :t], work / "real")
            pred_mp4, s2 = _encode(exe, pred[i, :t], work / "pred")
            streams.update((s1, s2))
            psnr[i], ssim[i] = compare_mp4(exe, real_mp4, pred_mp4, work, t)
    settings = {"frames": f"first {MAX_FRAMES}", "normalize": "per-frame min-max to uint8 "
                "(torchvision 0.6 save_image normalize=True: /(max-min+1e-5), +0.5)", "encode": " ".join(ENCODE_OPTIONS),
                "encoded_streams": sorted(streams), "psnr": "ffmpeg psnr filter, psnr_avg",
                "ssim": "ffmpeg ssim filter, All", "ffmpeg": exe,
                "average": "frames, then videos"}
    return psnr, ssim, settings
