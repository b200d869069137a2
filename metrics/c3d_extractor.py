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
                 mean_path: str | None = None, dropout_runs: int = 0,
                 dropout_seed: int = 0):
        super().__init__()
        from vidbench.models.c3d import INPUT_MODES

        if mode not in INPUT_MODES:
            raise VidbenchError(f"unknown C3D input mode {mode!r}; known: {', '.join(INPUT_MODES)}")
        if dropout_runs < 0:
            raise VidbenchError(f"dropout_runs must be >= 0, got {dropout_runs}")
        self.mode = mode
        # dropout_runs > 0: the fc6/fc7 dropout stays on (TGAN v1's evaluation ran the network
        # in training mode); each clip gets dropout_runs probability rows, side by side
        self.dropout_runs, self.dropout_seed = int(dropout_runs), int(dropout_seed)
        self.feature_dim = 101 * max(1, self.dropout_runs)
        self._next_index = 0
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
                "features": "softmax of fc8 (101)",
                **({"dropout": {"layers": "fc6, fc7 (ratio 0.5, kept x2)",
                                "runs": self.dropout_runs, "seed": self.dropout_seed,
                                "masks": "clip i: numpy default_rng([seed, i]).random((runs, 2, "
                                         "4096)) >= 0.5",
                                "features": f"[B, {self.dropout_runs} x 101], run-major"}}
                   if self.dropout_runs else {"dropout": "off (eval mode)"})}

    def start_pass(self, first_index: int = 0) -> None:
        self._next_index = int(first_index)

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
        if not self.dropout_runs:
            return self.network()(x).float()
        from vidbench.models.c3d import dropout_masks

        keep = dropout_masks(self.dropout_seed, self._next_index, len(x), self.dropout_runs)
        self._next_index += len(x)
        probs = self.network().dropout_forward(x, keep.to(self.device))   # [B, R, 101]
        return probs.reshape(len(x), -1).float()
