"""Feature extractors with a declared contract: uint8 clips ``[B, T, H, W, 3]`` in, float
features ``[B, D]`` out.

:class:`I3DExtractor` reproduces the FVD reference preprocessing of
``google-research/google-research: frechet_video_distance/frechet_video_distance.py``
(``preprocess`` + ``create_id3_embedding``): every frame resized to 224 x 224 with TF1 legacy
bilinear (``tf.image.resize_bilinear``, align_corners=False, no half-pixel centres, no crop,
no antialias), cast to float32, mapped by ``2 * x / 255 - 1``, checked to lie in
[-1.001, 1.001], then embedded by the TF-Hub I3D (``i3d-kinetics-400/1``, the 400 logits
averaged over time). An optional pre-resize (e.g. MoCoGAN-HD's 128 x 128, docs/protocols.md,
*MoCoGAN-HD's FVD*) runs first, on uint8 frames, with a named method; its output is rounded
to uint8, as frames saved at that size would be.

:class:`RandomProjectionExtractor` is a seeded random projection of pooled pixels with no
weights: it exercises the engine (invariance tests, data-pipeline throughput) and is not a
metric.

The C3D of the video IS (:mod:`vidbench.metrics.c3d_extractor`) and the face embedder of ACD
(:mod:`vidbench.metrics.face_extractor`) subclass :class:`Extractor`; every extractor is built
by name through :mod:`vidbench.metrics.registry`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vidbench.data.base import fingerprint_of
from vidbench.utils.errors import VidbenchError

RANGE_TOLERANCE = 1.001  # the reference asserts the I3D input lies in [-1.001, 1.001]


class Extractor:
    """Maps a uint8 RGB batch ``[B, T, H, W, 3]`` (a CPU tensor) to float features ``[B, D]``.

    Subclasses set ``name``, ``feature_dim``, ``min_frames``, implement ``_forward`` and
    ``preprocessing()``, and ``weights_sha256()`` when they read a weight file.
    """

    name: str = ""
    feature_dim: int = 0
    min_frames: int = 1
    weights_name: str | None = None

    def __init__(self) -> None:
        self.device = torch.device("cpu")

    def preprocessing(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def weights_sha256(self) -> str | None:
        return None

    def start_pass(self, first_index: int = 0) -> None:
        """Called by the feature engine before a pass; ``first_index`` is the index of the
        pass's first clip in its source (a shard's start under several processes). Extractors
        whose output depends on the clip's position (the seeded dropout of IS ``tgan-v1``)
        restart their count here; the others ignore it."""

    def contract(self) -> dict[str, Any]:
        """Everything that fixes the features: stored with results and in cache keys."""
        return {"name": self.name, "weights": self.weights_name,
                "weights_sha256": self.weights_sha256(),
                "input": "uint8 [B, T, H, W, 3] RGB", "min_frames": self.min_frames,
                "features": f"float [B, {self.feature_dim}]",
                "preprocessing": self.preprocessing()}

    def to(self, device: str | torch.device) -> Extractor:
        """Move to ``device``; a network already loaded (``self._net``) moves with it."""
        self.device = torch.device(device)
        if getattr(self, "_net", None) is not None:
            self._net = self._net.to(self.device)
        return self

    def __call__(self, clips: torch.Tensor) -> torch.Tensor:
        if not isinstance(clips, torch.Tensor) or clips.dtype != torch.uint8:
            raise TypeError(f"{self.name}: expected a uint8 tensor, got "
                            f"{getattr(clips, 'dtype', type(clips).__name__)}")
        if clips.ndim != 5 or clips.shape[-1] != 3:
            raise ValueError(f"{self.name}: expected [B, T, H, W, 3], got {list(clips.shape)}")
        if clips.shape[1] < self.min_frames:
            raise VidbenchError(f"{self.name} needs clips of at least {self.min_frames} frames, "
                                f"got {clips.shape[1]}")
        return self._forward(clips)

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class I3DExtractor(Extractor):
    """The FVD reference embedding: TF1-bilinear resize to 224, 2x/255 - 1, TF-Hub I3D logits.

    ``pre_resize=(size, method)`` first resizes every uint8 frame to ``size x size`` with a
    method of :func:`vidbench.data.resize.resize_frames` and rounds back to uint8.
    The network and the weight hash are loaded lazily, so a cache hit needs neither.
    """

    name = "i3d"
    feature_dim = 400
    min_frames = 9  # the last 2-step time pool needs T >= 9: docs/protocols.md, *The I3D network*
    weights_name = "i3d"
    size = 224

    def __init__(self, pre_resize: tuple[int, str] | None = None, weights_path: str | None = None):
        super().__init__()
        if pre_resize is not None:
            size, method = pre_resize
            if int(size) < 1 or not isinstance(method, str):
                raise ValueError(f"pre_resize must be (size, method), got {pre_resize!r}")
            pre_resize = (int(size), method)
        self.pre_resize = pre_resize
        self.weights_path = weights_path
        self._sha256: str | None = None
        self._net: torch.nn.Module | None = None

    def preprocessing(self) -> dict[str, Any]:
        return {"pre_resize": list(self.pre_resize) if self.pre_resize else None,
                "pre_resize_output": "uint8, rounded half up" if self.pre_resize else None,
                "resize": [self.size, "tf1-bilinear"], "crop": None,
                "scaling": "2*x/255-1 float32", "range_check": [-RANGE_TOLERANCE, RANGE_TOLERANCE],
                "features": "logits averaged over time (400)"}

    def _weight_file(self) -> str:
        if self.weights_path is not None:
            return str(self.weights_path)
        from vidbench.models.weights import weight_path
        return str(weight_path(self.weights_name))

    def weights_sha256(self) -> str:
        if self._sha256 is None:
            from vidbench.utils.hashing import sha256_file
            self._sha256 = sha256_file(self._weight_file())
        return self._sha256

    def network(self) -> torch.nn.Module:
        if self._net is None:
            from vidbench.models.i3d import load_i3d
            self._net = load_i3d(self.weights_path, device=self.device).eval()
        return self._net

    def preprocess(self, clips: torch.Tensor) -> torch.Tensor:
        """uint8 ``[B, T, H, W, 3]`` -> float32 ``[B, 3, T, 224, 224]`` in [-1, 1]."""
        from vidbench.data.resize import resize_frames, resize_tf1_bilinear

        b, t, h, w, c = clips.shape
        frames = clips.reshape(b * t, h, w, c)
        if self.pre_resize is not None:
            size, method = self.pre_resize
            small = resize_frames(frames.cpu().numpy(), size, method)  # uint8, rounded
            if small.dtype != np.uint8:
                raise RuntimeError(f"resize_frames({method}) returned {small.dtype}, not uint8")
            frames = torch.from_numpy(np.ascontiguousarray(small))
        x = frames.to(self.device).permute(0, 3, 1, 2).to(torch.float32)  # [BT, 3, h, w]
        x = resize_tf1_bilinear(x, (self.size, self.size))  # a fresh float32 tensor
        x = x.mul_(2.0).div_(255.0).sub_(1.0)   # 2 * x / 255 - 1, each step rounded as written
        lo, hi = (float(v) for v in torch.aminmax(x))
        if lo < -RANGE_TOLERANCE or hi > RANGE_TOLERANCE:
            raise VidbenchError(f"I3D input outside [-1, 1] after scaling: [{lo}, {hi}]")
        # channels-last frames in, so [B, 3, T, H, W] is channels_last_3d: the network's
        # memory order, taken without a copy
        return x.reshape(b, t, c, self.size, self.size).permute(0, 2, 1, 3, 4)

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.network()(self.preprocess(clips)).float()


class RandomProjectionExtractor(Extractor):
    """Seeded random projection of pooled pixels: tanh(pool(clip) @ W). Not a metric.

    Each clip's features depend on that clip only, so statistics must not change with batch
    size, workers or ranks; in float64 (the default) they agree to rounding (~1e-15).
    """

    name = "random-projection"
    weights_name = None

    def __init__(self, dim: int = 16, seed: int = 0, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.feature_dim = int(dim)
        self.seed = int(seed)
        self.dtype = dtype
        gen = torch.Generator().manual_seed(self.seed)
        self.pool = (2, 4, 4)
        self.weight = torch.randn(3 * 2 * 4 * 4, self.feature_dim, generator=gen,
                                  dtype=torch.float64).to(dtype)

    def preprocessing(self) -> dict[str, Any]:
        return {"pool": list(self.pool), "scaling": "x/255", "dim": self.feature_dim,
                "seed": self.seed, "dtype": str(self.dtype)}

    def weights_sha256(self) -> str:
        return fingerprint_of({"random-projection": self.preprocessing()})

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = clips.to(self.device).permute(0, 4, 1, 2, 3).to(self.dtype) / 255.0
        pooled = torch.nn.functional.adaptive_avg_pool3d(x, self.pool).flatten(1)
        return torch.tanh((pooled - 0.5) @ self.weight.to(self.device) * 2.0)
