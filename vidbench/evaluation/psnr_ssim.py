"""PSNR / SSIM of predicted videos against their real counterparts, paired in order: the
i-th video of the predicted source against the i-th of the real one (docs/protocols.md,
*PSNR and SSIM*).

Per-frame values come from :func:`vidbench.metrics.psnr_ssim.frame_values` under a named preset
(``wang``, ``valid-crop``, ``dtvnet-ffmpeg``), one pair at a time (no network, so no shared
pass), then :func:`vidbench.metrics.psnr_ssim.summarize` averages over frames, then videos.

Infinite PSNR: a frame identical to its reference has PSNR = inf, so ``psnr`` is inf as soon
as one frame is identical. The record keeps the float ``inf``; every JSON output of vidbench
writes non-finite floats as the strings ``"inf"``, ``"-inf"`` and ``"nan"``
(:func:`vidbench.metrics.psnr_ssim.json_safe`), so the output stays strict JSON and
``float(value)`` reads them back. ``psnr_capped`` (each frame capped at 100 dB) is always
finite, ``psnr_finite`` averages the frames with MSE > 0 only, and ``num_capped_frames`` counts
the identical frames.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from vidbench.utils.errors import VidbenchError
from vidbench.evaluation.passes import EvalContext, overrides_note, record_tail

METRIC = "psnr_ssim"


class PSNRSSIMJob:
    """PSNR/SSIM of ``pred_spec`` against ``real_spec`` under ``preset`` (no extractor)."""

    metric = METRIC

    def __init__(self, pred_spec: Any, real_spec: Any, preset: str, ctx: EvalContext, *,
                 num_videos: int | None = None, num_frames: int | None = None,
                 ffmpeg: str | None = None):
        from vidbench.metrics.psnr_ssim import PRESETS

        if preset not in PRESETS:
            raise VidbenchError(f"unknown PSNR/SSIM preset {preset!r}; known: {', '.join(PRESETS)}")
        if preset == "dtvnet-ffmpeg":
            from vidbench.metrics.psnr_ssim_ffmpeg import find_ffmpeg
            ffmpeg = find_ffmpeg(ffmpeg)  # a missing binary stops here, before any decoding
        t0 = time.time()
        self.protocol, self.ctx, self.ffmpeg = preset, ctx, ffmpeg
        self.pred_spec, self.real_spec = pred_spec, real_spec
        self.pred = ctx.draw_first(pred_spec, num_frames)
        self.real = ctx.draw_first(real_spec, num_frames)
        names = (f"predicted source {self.pred.name} ({pred_spec}) has {len(self.pred)} videos "
                 f"and real source {self.real.name} ({real_spec}) has {len(self.real)}")
        if num_videos is None and len(self.pred) != len(self.real):
            raise VidbenchError(f"PSNR/SSIM pairs videos in order, but the {names}; give "
                                "sources of equal size or --num-videos N")
        self.num = len(self.pred) if num_videos is None else int(num_videos)
        if self.num > min(len(self.pred), len(self.real)) or self.num < 1:
            raise VidbenchError(f"PSNR/SSIM: {self.num} pairs asked, but the {names}")
        self.overrides = {k: v for k, v in (("num_videos", num_videos),
                                            ("num_frames", num_frames)) if v is not None}
        self.requests: dict[str, Any] = {}  # no extractor: nothing for a shared pass
        self.seconds = time.time() - t0

    def _side(self, spec: Any, source: Any) -> dict[str, Any]:
        return {"spec": str(spec), **source.describe(), "num_used": self.num}

    def plan(self) -> dict[str, Any]:
        return {"metric": self.metric, "protocol": self.protocol, "overrides": self.overrides,
                "fake": self._side(self.pred_spec, self.pred),
                "real": self._side(self.real_spec, self.real), "extractor": None}

    def _pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        p, r = self.pred[i], self.real[i]
        if p.shape != r.shape:
            raise VidbenchError(
                f"PSNR/SSIM pair {i}: predicted {self.pred.name}[{i}] ({self.pred_spec}) is "
                f"{list(p.shape)} but real {self.real.name}[{i}] ({self.real_spec}) is "
                f"{list(r.shape)}; paired videos must have equal [T, H, W, 3] (--num-frames "
                "takes the first frames of both)")
        return p, r

    def finish(self, features: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        from tqdm.auto import tqdm

        from vidbench.metrics.psnr_ssim import frame_values, summarize

        t0 = time.time()
        rows: list[tuple[np.ndarray, ...]] = []
        settings: dict[str, Any] = {}
        length = 0
        for i in tqdm(range(self.num), desc=f"psnr/ssim {self.protocol}", unit="pair",
                      disable=not self.ctx.progress, leave=False):
            p, r = self._pair(i)
            length = length or p.shape[0]
            if p.shape[0] != length:
                raise VidbenchError(f"PSNR/SSIM: videos differ in length ({self.pred.name}[0] "
                                    f"has {length} frames, [{i}] has {p.shape[0]}); set "
                                    "--num-frames")
            psnr, capped, ssim, settings = frame_values(p[None], r[None], self.protocol,
                                                        ffmpeg=self.ffmpeg)
            rows.append((psnr, capped, ssim))
        psnr, capped, ssim = (np.concatenate([row[k] for row in rows]) for k in range(3))
        res = summarize(psnr, capped, ssim, self.protocol, settings)
        notes = overrides_note(self.protocol, self.overrides)
        if res["num_capped_frames"]:
            notes.append(f"{res['num_capped_frames']} frame(s) equal their reference (PSNR "
                         "inf): 'psnr' is inf; 'psnr_capped' caps each frame at 100 dB")
        from vidbench.metrics.protocols import PSNR_SSIM_DESCRIPTIONS

        keep = ("psnr", "psnr_capped", "psnr_finite", "num_capped_frames", "ssim",
                "num_videos", "num_frames", "per_video")
        return {
            "metric": self.metric, "protocol": self.protocol,
            "value": {"psnr": res["psnr"], "ssim": res["ssim"]}, **{k: res[k] for k in keep},
            "num_fake": res["num_videos"], "num_real": res["num_videos"],
            "protocol_fields": {"name": self.protocol,
                                "description": PSNR_SSIM_DESCRIPTIONS.get(self.protocol),
                                "settings": settings},
            "fake": self._side(self.pred_spec, self.pred),
            "real": self._side(self.real_spec, self.real),
            "extractor": None, "weights_sha256": None,
            **record_tail(seed=self.ctx.seed, overrides=self.overrides,
                          batch_size=self.ctx.batch_size, device="cpu",
                          seconds=self.seconds + time.time() - t0, notes=notes),
        }


def evaluate_psnr_ssim(
    pred_spec: Any,                    # predicted videos: a source string or a ClipSource
    real_spec: Any,                    # their real counterparts, in the same order
    preset: str = "wang",              # vidbench.metrics.psnr_ssim.PRESETS
    num_videos: int | None = None,     # the first N pairs; None: all (counts must be equal)
    num_frames: int | None = None,     # the first T frames of every video; None: all
    ffmpeg: str | None = None,         # ffmpeg binary for dtvnet-ffmpeg (default: found)
    **context: Any,                    # EvalContext fields: seed, root, skip_bad, progress
) -> dict[str, Any]:
    """PSNR and SSIM of the predicted videos against the real ones: one result record
    (``fake`` describes the predicted source). See the module docstring for ``inf``."""
    ctx = EvalContext(**context)
    return PSNRSSIMJob(pred_spec, real_spec, preset, ctx, num_videos=num_videos,
                       num_frames=num_frames, ffmpeg=ffmpeg).finish()
