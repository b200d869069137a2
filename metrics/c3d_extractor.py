"""The C3D extractor of the video Inception Score: uint8 clips -> UCF-101 class probabilities.

Wraps :func:`vidbench.models.c3d.load_c3d` in the engine's :class:`~vidbench.metrics.extractors.Extractor`
contract (uint8 ``[B, 16, H, W, 3]`` RGB in, float ``[B, 101]`` softmax probabilities out),
so ``compute_feature_stats(..., capture_all=True)`` yields the probabilities that
:func:`vidbench.metrics.isv.compute_is` scores. The input mode (``vidbench.models.c3d.INPUT_MODES``) fixes the
resize, crop and mean clip: see ``models/c3d.py`` and docs/protocols.md, *The C3D
classifier*.
"""
from __future__ import annotations

from typing import Any

import torch

from vidbench.metrics.extractors import Extractor
from vidbench.utils.errors import VidbenchError


class C3DExtractor(Extractor):
    """UCF-101 C3D probabilities of 16-frame clips (TGANv2's Chainer weights)."""

    name = "c3d-ucf101"
    feature_dim = 101
    min_frames = 16
    weights_name = "c3d"

    def __init__(self, mode: str = "tganv2", weights_path: str | None = None,
                 mean_path: str | None = None):
        super().__init__()
        from vidbench.models.c3d import INPUT_MODES

        if mode not in INPUT_MODES:
            raise VidbenchError(f"unknown C3D input mode {mode!r}; known: {', '.join(INPUT_MODES)}")
        self.mode = mode
        self.mean_name = "c3d-mean-tgan-v1" if mode == "tgan-v1" else "c3d-mean"
        self.weights_path, self.mean_path = weights_path, mean_path
        self._hashes: dict[str, str] = {}
        self._net: torch.nn.Module | None = None

    def _file(self, name: str, given: str | None) -> str:
        if given is not None:
            return str(given)
        from vidbench.models.weights import weight_path
        return str(weight_path(name))

    def _sha256(self, name: str, given: str | None) -> str:
        if name not in self._hashes:
            from vidbench.utils.hashing import sha256_file
            self._hashes[name] = sha256_file(self._file(name, given))
        return self._hashes[name]

    def weights_sha256(self) -> str:
        return self._sha256(self.weights_name, self.weights_path)

    def preprocessing(self) -> dict[str, Any]:
        from vidbench.models.c3d import CROP, PRE_SIZE, SIZE

        cubic = [PRE_SIZE, "cv2-cubic (float, a=-0.75, half-pixel)"]
        steps = {"tganv2": {"resize": [SIZE, "bilinear align-corners (Chainer resize_images)"]},
                 "mocogan-hd": {"pre_resize": cubic,
                                "resize": [SIZE, "bilinear align-corners (Chainer resize_images)"]},
                 "mocogan-hd-v1crop": {"pre_resize": cubic, "crop": [CROP, CROP + SIZE]},
                 "tgan-v1": {"pre_resize": cubic, "crop": [CROP, CROP + SIZE]}}[self.mode]
        return {"mode": self.mode, **steps, "channels": "BGR", "frames": 16,
                "scaling": "x - mean clip (0-255 scale)", "mean": self.mean_name,
                "mean_sha256": self._sha256(self.mean_name, self.mean_path),
                "features": "softmax of fc8 (101)"}

    def network(self) -> torch.nn.Module:
        if self._net is None:
            from vidbench.models.c3d import load_c3d
            self._net = load_c3d(self.weights_path, self.mean_path, mode=self.mode,
                                 device=self.device)
        return self._net

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        if clips.shape[1] != 16:
            raise VidbenchError(f"{self.name} takes clips of exactly 16 frames, got {clips.shape[1]}")
        x = clips.to(self.device).permute(0, 4, 1, 2, 3).to(torch.float32)  # [B, 3, T, H, W]
        return self.network()(x).float()
