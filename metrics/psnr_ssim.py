"""PSNR / SSIM between predicted and real videos under named presets.

Presets: ``wang`` (default; uint8, data range 255, scikit-image SSIM with Wang et al.'s
settings), ``valid-crop`` (``JunyaoHu/common_metrics_on_video_quality: calculate_psnr.py,
calculate_ssim.py``), an alias of ``wang`` because it gives the same numbers (see
:data:`PRESET_ALIASES`), and ``dtvnet-ffmpeg`` (``zhangzjn/DTVNet``, through ffmpeg's filters:
``metrics/psnr_ssim_ffmpeg.py``). Every preset averages per-frame values over frames, then
over videos.

Identical frames have infinite PSNR, so results carry ``psnr`` (inf kept), ``psnr_capped``,
``psnr_finite`` and ``num_capped_frames``; non-finite values stay Python floats (write JSON
through :func:`json_safe`). Details: docs/protocols.md, *PSNR and SSIM*.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from vidbench.utils.errors import VidbenchError

PRESETS = ("wang", "valid-crop", "dtvnet-ffmpeg")
# JunyaoHu's frames in [0, 1] with C1 = 0.01², C2 = 0.03² are Wang's uint8 constants scaled by
# 255²; its 11x11 Gaussian (sigma 1.5) with the 5-pixel border cropped is exactly the part of
# scikit-image's Gaussian-filtered map that scikit-image averages (it crops the same border);
# its "100 when MSE < 1e-10" is the 100 dB cap (PSNR > 100 dB exactly when MSE < 1e-10). So
# the two give the same PSNR, capped PSNR and SSIM (to float rounding), and one is computed.
PRESET_ALIASES = {"valid-crop": "wang"}
PSNR_CAP = 100.0
WANG_SSIM = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False,
             "data_range": 255, "channel_axis": -1}
JUNYAOHU_C1 = 0.01 ** 2   # the [0, 1]-scale C1 of the valid-crop reference (Wang's, rescaled)
WINDOW = 11


def _check_videos(pred: np.ndarray, real: np.ndarray, min_side: int) -> tuple[np.ndarray, np.ndarray]:
    pred, real = np.asarray(pred), np.asarray(real)
    for name, v in (("pred", pred), ("real", real)):
        if v.dtype != np.uint8 or v.ndim != 5 or v.shape[-1] != 3:
            raise VidbenchError(f"PSNR/SSIM: {name} must be uint8 [N, T, H, W, 3], got "
                                f"{v.dtype} {list(v.shape)}")
    if pred.shape != real.shape:
        raise VidbenchError(f"PSNR/SSIM: pred {list(pred.shape)} and real {list(real.shape)} differ")
    if min(pred.shape[:2]) < 1 or min(pred.shape[2:4]) < min_side:
        raise VidbenchError(f"PSNR/SSIM: need >= 1 video and frame, frames >= {min_side} px on "
                            f"each side, got {list(pred.shape)}")
    return pred, real


def mse_frames(pred: np.ndarray, real: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-frame MSE ``[N, T]`` over all pixels and channels (float64, values / ``scale``)."""
    d = (pred.astype(np.float64) - real.astype(np.float64)) / scale
    return (d * d).mean(axis=(2, 3, 4))


def psnr_from_mse(mse: np.ndarray, peak: float) -> np.ndarray:
    """``10 log10(peak^2 / MSE)``; inf where MSE = 0."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak * peak / np.asarray(mse, np.float64))


def ssim_wang(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two uint8 frames ``[H, W, 3]`` with the Wang settings (:data:`WANG_SSIM`)."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, **WANG_SSIM))


def _ssim_frames(pred: np.ndarray, real: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], float],
                 scale: float, progress: bool) -> np.ndarray:
    from tqdm.auto import tqdm

    n, t = pred.shape[:2]
    out = np.empty((n, t))
    for i in tqdm(range(n), desc="ssim", unit="video", disable=not progress, leave=False):
        for j in range(t):
            a, b = pred[i, j], real[i, j]
            out[i, j] = fn(a / scale, b / scale) if scale != 1.0 else fn(a, b)
    return out


def _video_mean_finite(psnr: np.ndarray) -> float | None:
    finite = np.isfinite(psnr)
    per_video = [row[ok].mean() for row, ok in zip(psnr, finite) if ok.any()]
    return float(np.mean(per_video)) if per_video else None


def summarize(psnr: np.ndarray, psnr_capped: np.ndarray, ssim: np.ndarray, preset: str,
              settings: dict[str, Any]) -> dict[str, Any]:
    """The result record from per-frame values ``[N, T]``: means over frames, then videos."""
    per_video = {"psnr": psnr.mean(axis=1), "psnr_capped": psnr_capped.mean(axis=1),
                 "ssim": ssim.mean(axis=1)}
    return {"metric": "psnr_ssim", "protocol": preset,
            "psnr": float(per_video["psnr"].mean()),
            "psnr_capped": float(per_video["psnr_capped"].mean()),
            "psnr_finite": _video_mean_finite(psnr),
            "num_capped_frames": int((psnr_capped != psnr).sum()),
            "ssim": float(per_video["ssim"].mean()),
            "num_videos": int(psnr.shape[0]), "num_frames": int(psnr.shape[1]),
            "per_video": {k: [float(x) for x in v] for k, v in per_video.items()},
            "per_frame": {"psnr": psnr.tolist(), "ssim": ssim.tolist()},
            "settings": settings}


def frame_values(pred: np.ndarray, real: np.ndarray, preset: str = "wang", *,
                 progress: bool = False, ffmpeg: str | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Per-frame (PSNR, capped PSNR, SSIM) ``[N, T]`` and the settings of ``preset``.

    Batches of videos can be scored one at a time and their rows concatenated before
    :func:`summarize`: every value depends on its own frame pair only.
    """
    if preset not in PRESETS:
        raise VidbenchError(f"unknown PSNR/SSIM preset {preset!r}; known: {', '.join(PRESETS)}")
    if preset == "dtvnet-ffmpeg":
        from vidbench.metrics.psnr_ssim_ffmpeg import ffmpeg_frames

        pred, real = _check_videos(pred, real, min_side=8)
        psnr, ssim, settings = ffmpeg_frames(pred, real, ffmpeg=ffmpeg, progress=progress)
        return psnr, np.minimum(psnr, PSNR_CAP), ssim, settings
    pred, real = _check_videos(pred, real, min_side=WINDOW)
    psnr = psnr_from_mse(mse_frames(pred, real), 255.0)
    ssim = _ssim_frames(pred, real, ssim_wang, 1.0, progress)
    settings = {"range": "uint8, data range 255", "psnr": "10*log10(255^2/MSE) per frame, "
                "all channels", "psnr_cap": PSNR_CAP,
                "ssim": {"function": "skimage.metrics.structural_similarity", **WANG_SSIM},
                "average": "frames, then videos"}
    if preset in PRESET_ALIASES:
        settings["alias_of"] = PRESET_ALIASES[preset]
    return psnr, np.minimum(psnr, PSNR_CAP), ssim, settings


def compute_psnr_ssim(pred: np.ndarray, real: np.ndarray, preset: str = "wang", *,
                      progress: bool = False, ffmpeg: str | None = None) -> dict[str, Any]:
    """PSNR and SSIM of uint8 videos ``[N, T, H, W, 3]`` against ``real`` under ``preset``."""
    psnr, capped, ssim, settings = frame_values(pred, real, preset, progress=progress,
                                                ffmpeg=ffmpeg)
    return summarize(psnr, capped, ssim, preset, settings)


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by the strings "inf", "-inf", "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
