"""Motion diversity from one content code (MoCoGAN-HD App. D, the mutual-information study).

Reference: Tian et al., ICLR 2021, App. D: many videos are generated from one content code
with the StyleGAN2 noise switched off, so that they differ only in their motion noise ε; their
mean video is blurred where the motions disagree, and the per-pixel standard deviation of the
last frame measures how far apart the motions end up (Full vs w/o L_mi). The paper's numbers
were lost in extraction (docs/datasets.md, *The paper's reported numbers*), so this is
vidbench's own metric,
protocol ``last-frame-std``:

* N videos share ``w_1`` of sample ``content`` (:func:`vidbench.sample.generate.generate_videos`,
  ``noise="none"``); video k takes the motion noise of sample ``k`` (k = 0 … N − 1);
* frames become uint8 (``round``), then floats x/255 in [0, 1];
* the value is the mean over pixels and channels of the per-pixel standard deviation over the
  N videos (population, ``ddof=0``; the variance is formed in exact integer arithmetic) of
  the last frame; the record also gives the same per
  frame (frame 0 is exactly 0: every video starts at ``w_1``), and the spatial standard
  deviation of the mean video's last frame (lower when the mean is blurred).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from vidbench.utils.errors import VidbenchError

METRIC = "diversity"
PROTOCOL = "last-frame-std"


def diversity_from_clips(clips: np.ndarray) -> dict[str, Any]:
    """The metric on uint8 videos ``[N, T, H, W, 3]`` that share their content code."""
    clips = np.asarray(clips)
    if clips.dtype != np.uint8 or clips.ndim != 5 or clips.shape[-1] != 3 or len(clips) < 2:
        raise VidbenchError(f"motion diversity needs uint8 [N >= 2, T, H, W, 3] videos, got "
                            f"{clips.dtype} {list(clips.shape)}")
    n = len(clips)
    x = clips.astype(np.int64)
    # population variance in exact integers: (n·Σx² − (Σx)²) / n², so equal pixels give 0
    spread = n * (x * x).sum(axis=0) - x.sum(axis=0) ** 2   # [T, H, W, 3], >= 0
    per_pixel = np.sqrt(spread.astype(np.float64)) / (n * 255.0)
    per_frame = per_pixel.mean(axis=(1, 2, 3))              # [T]
    mean_last = x[:, -1].mean(axis=0) / 255.0               # [H, W, 3]
    return {"value": float(per_frame[-1]), "per_frame": [float(v) for v in per_frame],
            "mean_frame_spatial_std": float(mean_last.std()),
            "num_videos": int(len(clips)), "num_frames": int(clips.shape[1])}


def motion_diversity(model, *, num_videos: int = 100, content: int = 0, seed: int = 0,
                     n_frames: int | None = None, progress: bool = True) -> dict[str, Any]:
    """A result record of the metric for a :class:`vidbench.sample.generate.VideoModel`."""
    from tqdm import tqdm

    from vidbench.utils.provenance import provenance
    from vidbench.sample.generate import generate_videos, to_clips

    if num_videos < 2:
        raise VidbenchError(f"motion diversity needs at least 2 videos, got {num_videos}")
    t0 = time.time()
    clips = []
    for k in tqdm(range(num_videos), desc="diversity", unit="video", disable=not progress):
        frames = generate_videos(model, [content], [k], seed=seed, n_frames=n_frames,
                                 noise="none")
        clips.append(to_clips(frames)[0])
    stats = diversity_from_clips(np.stack(clips))
    device = next(model.motion.parameters()).device
    return {"metric": METRIC, "protocol": PROTOCOL, **stats, "seed": seed,
            "content_index": content, "overrides": {},
            "protocol_fields": {"name": PROTOCOL, "noise": "none", "to_uint8": "round",
                                "value": "mean over pixels and channels of the per-pixel std "
                                         "(ddof 0) over the videos of the last frame, x/255",
                                "motions": "eps of samples 0 .. N-1"},
            "fake": {"spec": "model", "fingerprint": model.fingerprint, **model.info},
            **provenance(device), "seconds": round(time.time() - t0, 3)}
