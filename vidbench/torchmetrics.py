"""FVD, video IS and ACD as ``torchmetrics.Metric`` classes, for training loops.

``update(videos, real=...)`` embeds a batch with the protocol's extractor and adds it to the
metric's state; ``compute()`` gives the value; ``reset()`` empties the state. The states are
torchmetrics states, so under DDP (or Lightning) torchmetrics synchronises them across ranks:
FVD keeps float64 feature sums (reduced by sum, so a sharded run gives the single-process
value to rounding); IS and ACD keep the feature rows (gathered in rank order).

Each class computes exactly what :func:`vidbench.fvd`, :func:`vidbench.inception_score` and
:func:`vidbench.acd` compute from the same clips, with the same extractor, preprocessing and
formula. One difference, by design: the clips are used as given. Drawing clips from long videos
(lengths, strides, random starts, subsets) is the caller's, so FVD clips must already have the
protocol's length when it fixes one; IS and ACD use each clip's first ``num_frames`` frames, as
the command line does. Videos are read as :mod:`vidbench.evaluation.inputs` says (uint8
``[N, T, H, W, 3]``, or float with ``layout=`` and ``value_range=``).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from vidbench.evaluation.inputs import batch_to_uint8
from vidbench.metrics.acd import compute_acd, get_acd_protocol
from vidbench.metrics.fvd import compute_fvd
from vidbench.metrics.isv import compute_is, get_is_protocol
from vidbench.metrics.protocols import FVDProtocol, get_protocol
from vidbench.metrics.registry import build_extractor
from vidbench.metrics.stats import STATS_FORMAT, FeatureStats
from vidbench.utils.distributed import tf32_disabled
from vidbench.utils.errors import VidbenchError

__all__ = ["FrechetVideoDistance", "InceptionScore", "AverageContentDistance"]


def _gathered(state: list[torch.Tensor] | torch.Tensor) -> torch.Tensor | None:
    """A ``cat`` state as one tensor (a list before synchronisation, a tensor after), or None
    when nothing was added."""
    if isinstance(state, list) and not state:
        return None
    return dim_zero_cat(state)


class _VideoMetric(Metric):
    """Shared parts: reading a batch and running the extractor on the metric's device."""

    is_differentiable = False
    full_state_update = False

    def _setup(self, extractor: Any, layout: str | None, value_range: Any,
               batch_size: int, allow_tf32: bool = False) -> None:
        if batch_size < 1:
            raise VidbenchError(f"batch_size must be >= 1, got {batch_size}")
        self.extractor = extractor
        self.contract = extractor.contract()  # a missing weight file stops here
        self.layout, self.value_range = layout, value_range
        self.batch_size, self.allow_tf32 = int(batch_size), allow_tf32

    def _features(self, videos: Any, num_frames: int | None = None,
                  exact_frames: tuple[int, str] | None = None) -> torch.Tensor:
        """float64 features ``[N, D]`` of a batch of videos (first ``num_frames`` frames;
        ``exact_frames``: (length, side) the clips must have)."""
        clips = batch_to_uint8(videos, layout=self.layout, value_range=self.value_range)
        if exact_frames is not None and clips.shape[1] != exact_frames[0]:
            raise VidbenchError(f"{self.proto.name} uses {exact_frames[0]}-frame "
                                f"{exact_frames[1]} clips; these have {clips.shape[1]} (cut "
                                "the clips before update)")
        if num_frames is not None:
            if clips.shape[1] < num_frames:
                raise VidbenchError(f"videos have {clips.shape[1]} frames; this protocol uses "
                                    f"the first {num_frames} (give longer clips)")
            clips = clips[:, :num_frames]
        self.extractor.to(self.device)
        parts = []
        with torch.inference_mode(), tf32_disabled(not self.allow_tf32):
            for start in range(0, len(clips), self.batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(clips[start:start
                                                                    + self.batch_size]))
                parts.append(self.extractor(batch).to(self.device, torch.float64))
        return torch.cat(parts).clone()


class FrechetVideoDistance(_VideoMetric):
    """FVD under a named protocol (``vidbench eval fvd --list-protocols``).

    ``update(videos, real=True)`` adds real clips, ``real=False`` fake ones. The state is the
    float64 sum, sum of outer products and count of each side's I3D features.
    """

    higher_is_better = False

    def __init__(self, protocol: str | FVDProtocol, *, layout: str | None = None,
                 value_range: Any = None, batch_size: int = 16, **kwargs: Any):
        super().__init__(**kwargs)
        self.proto = get_protocol(protocol)
        self._setup(build_extractor(self.proto.extractor, **self.proto.extractor_kwargs()),
                    layout, value_range, batch_size, self.proto.allow_tf32)
        dim = self.extractor.feature_dim
        for side in ("real", "fake"):
            self.add_state(f"{side}_sum", torch.zeros(dim, dtype=torch.float64),
                           dist_reduce_fx="sum")
            self.add_state(f"{side}_sum_outer", torch.zeros(dim, dim, dtype=torch.float64),
                           dist_reduce_fx="sum")
            self.add_state(f"{side}_num", torch.zeros((), dtype=torch.float64),
                           dist_reduce_fx="sum")

    def update(self, videos: Any, real: bool) -> None:
        side = "real" if real else "fake"
        draw = self.proto.real if real else self.proto.fake
        feats = self._features(videos, exact_frames=None if draw.length is None
                               else (draw.length, side))
        setattr(self, f"{side}_sum", getattr(self, f"{side}_sum") + feats.sum(0))
        setattr(self, f"{side}_sum_outer", getattr(self, f"{side}_sum_outer") + feats.T @ feats)
        setattr(self, f"{side}_num", getattr(self, f"{side}_num") + len(feats))

    def _stats(self, side: str) -> FeatureStats:
        n = int(round(float(getattr(self, f"{side}_num"))))
        if n == 0:
            raise VidbenchError(f"FVD: no {side} clips were given (update(videos, "
                                f"real={side == 'real'}))")
        return FeatureStats.from_arrays({
            "stats_format": STATS_FORMAT, "num_items": n,
            "sum": getattr(self, f"{side}_sum").cpu().numpy(),
            "sum_outer": getattr(self, f"{side}_sum_outer").cpu().numpy()}, where=f"FVD {side}")

    def compute(self) -> torch.Tensor:
        value = compute_fvd(self._stats("fake"), self._stats("real"), self.proto)
        return torch.tensor(value, dtype=torch.float64)


class InceptionScore(_VideoMetric):
    """Video IS (C3D, UCF-101) under a named IS protocol, over every clip given: the clips
    make ``num_runs`` runs of equal size (the protocol's run count)."""

    higher_is_better = True

    def __init__(self, protocol: str, *, layout: str | None = None, value_range: Any = None,
                 batch_size: int = 16, **kwargs: Any):
        super().__init__(**kwargs)
        self.proto = get_is_protocol(protocol)
        self._setup(build_extractor("c3d-ucf101", **self.proto.extractor_kwargs()), layout,
                    value_range, batch_size)
        self.add_state("probs", default=[], dist_reduce_fx="cat")

    def reset(self) -> None:
        super().reset()
        # tgan-v1's seeded dropout masks follow the clip's position: count from 0 again
        start = getattr(getattr(self, "extractor", None), "start_pass", None)
        if start is not None:
            start(0)

    def update(self, videos: Any, real: bool = False) -> None:
        if real:
            raise VidbenchError("IS scores generated clips only: call update(videos)")
        self.probs.append(self._features(videos, self.proto.num_frames))

    def compute(self) -> torch.Tensor:
        probs = _gathered(self.probs)
        if probs is None:
            raise VidbenchError("IS: no clips were given (update(videos))")
        n, runs = len(probs), self.proto.num_runs
        if n % runs:
            raise VidbenchError(f"IS {self.proto.name}: {n} clips do not split into "
                                f"{runs} equal runs")
        proto = dataclasses.replace(self.proto, num_samples=n // runs)
        return torch.tensor(compute_is(probs.cpu().numpy(), proto)["value"], dtype=torch.float64)


class AverageContentDistance(_VideoMetric):
    """ACD (face embeddings) under a named ACD protocol, over every video given."""

    higher_is_better = False

    def __init__(self, protocol: str, *, layout: str | None = None, value_range: Any = None,
                 batch_size: int = 16, **kwargs: Any):
        super().__init__(**kwargs)
        self.proto = get_acd_protocol(protocol)
        self._setup(build_extractor("facenet-vggface2", mode=self.proto.input_mode,
                                    num_frames=self.proto.num_frames), layout, value_range,
                    batch_size)
        self.add_state("features", default=[], dist_reduce_fx="cat")

    def update(self, videos: Any, real: bool = False) -> None:
        if real:
            raise VidbenchError("ACD here scores one set of videos: call update(videos) "
                                "(a second metric object scores the real ones)")
        self.features.append(self._features(videos, self.proto.num_frames))

    def compute(self) -> torch.Tensor:
        feats = _gathered(self.features)
        if feats is None:
            raise VidbenchError("ACD: no videos were given (update(videos))")
        proto = dataclasses.replace(self.proto, num_videos=len(feats))
        return torch.tensor(compute_acd(feats.cpu().numpy(), proto)["value"],
                            dtype=torch.float64)
