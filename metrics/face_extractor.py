"""The face extractor of ACD: uint8 clips -> per-video frame-pair distances of face embeddings.

Embeds every frame with facenet-pytorch's ``InceptionResnetV1`` (VGGFace2 weights, unit-norm
512-d embeddings; ``models/facenet.py``) under one of two input modes (docs/protocols.md,
*ACD*):

``mocogan-hd``
    MoCoGAN-HD's snippet (snap-research/MoCoGAN-HD#13): each frame area-averaged to 128x128
    (2x average pooling at 256), mapped to [-1, 1] by ``x / 127.5 - 1``, clamped, fed whole.
``face-crop``
    facenet-pytorch's MTCNN crops the largest face (160x160, standardised by
    ``(x - 127.5) / 128``); a frame without a face is fed whole (resized to 160) and counted.

Features per video (float64): the L2 distances of all frame pairs t < s in row-major order,
then the fraction of frames with a detected face (1 in ``mocogan-hd``). ``vidbench.metrics.acd``
turns them into ACD for either pairs reading; the feature width stays small
(T(T-1)/2 + 1 = 121 for 16 frames), so the engine's running sums stay cheap.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vidbench.metrics.acd import INPUT_MODES, face_feature_dim, pair_distances
from vidbench.metrics.extractors import Extractor
from vidbench.utils.errors import VidbenchError

HD_SIZE = 128


class FaceExtractor(Extractor):
    """Frame-pair distances of VGGFace2 embeddings of ``num_frames``-frame clips."""

    name = "facenet-vggface2"
    min_frames = 2
    weights_name = "vggface2"

    def __init__(self, mode: str = "mocogan-hd", num_frames: int = 16,
                 weights_path: str | None = None, frames_per_batch: int = 64):
        super().__init__()
        if mode not in INPUT_MODES:
            raise VidbenchError(f"unknown face input mode {mode!r}; known: {', '.join(INPUT_MODES)}")
        self.mode = mode
        self.num_frames = int(num_frames)
        self.feature_dim = face_feature_dim(self.num_frames)
        self.min_frames = self.num_frames
        self.weights_path = weights_path
        self.frames_per_batch = int(frames_per_batch)
        self._sha256: str | None = None
        self._net: torch.nn.Module | None = None
        self._cropper: Any = None

    def weights_sha256(self) -> str:
        if self._sha256 is None:
            from vidbench.models.weights import weight_path
            from vidbench.utils.hashing import sha256_file
            path = self.weights_path or weight_path(self.weights_name)
            self._sha256 = sha256_file(path)
        return self._sha256

    def preprocessing(self) -> dict[str, Any]:
        if self.mode == "mocogan-hd":
            steps: dict[str, Any] = {"resize": [HD_SIZE, "area (2x average pooling at 256)"],
                                     "scaling": "x/127.5-1, clamped to [-1, 1]",
                                     "face_detection": None}
        else:
            from vidbench.models.facenet import cropper_settings
            steps = {"face_detection": cropper_settings()}
        return {"mode": self.mode, **steps, "num_frames": self.num_frames,
                "embedding": "InceptionResnetV1 vggface2, L2-normalised (512)",
                "features": "L2 distances of all frame pairs t<s (row-major), then the "
                            "fraction of frames with a detected face"}

    def to(self, device: str | torch.device) -> FaceExtractor:
        super().to(device)
        if self._cropper is not None:
            self._cropper.to(self.device)
        return self

    def network(self) -> torch.nn.Module:
        if self._net is None:
            from vidbench.models.facenet import load_face_embedder
            self._net = load_face_embedder(self.weights_path, device=self.device)
        return self._net

    def _inputs(self, frames: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """uint8 frames ``[N, H, W, 3]`` -> (embedder input ``[N, 3, h, w]``, face found ``[N]``)."""
        if self.mode == "face-crop":
            if self._cropper is None:
                from vidbench.models.facenet import FaceCropper
                self._cropper = FaceCropper(device=self.device)
            return self._cropper(frames)
        if frames.shape[1:3] != (HD_SIZE, HD_SIZE):
            from vidbench.data.resize import resize_frames
            x = resize_frames(frames, HD_SIZE, "area", out_dtype=np.float32)
        else:
            x = frames.astype(np.float32)
        x = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2)
        return (x / 127.5 - 1.0).clamp(-1.0, 1.0), np.ones(len(frames), bool)

    def embeddings(self, clips: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(unit embeddings ``[B, T, 512]`` float32, face found ``[B, T]``) of uint8 clips."""
        b, t = clips.shape[:2]
        frames = clips.reshape(b * t, *clips.shape[2:]).cpu().numpy()
        net = self.network()
        out, found = [], []
        for lo in range(0, len(frames), self.frames_per_batch):
            x, ok = self._inputs(frames[lo:lo + self.frames_per_batch])
            out.append(net(x.to(self.device)).float().cpu().numpy())
            found.append(ok)
        return np.concatenate(out).reshape(b, t, -1), np.concatenate(found).reshape(b, t)

    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        if clips.shape[1] != self.num_frames:
            raise VidbenchError(f"{self.name} was set up for {self.num_frames}-frame clips, got "
                                f"{clips.shape[1]} frames")
        emb, found = self.embeddings(clips)
        feats = np.concatenate([pair_distances(emb), found.mean(axis=1, keepdims=True)], axis=1)
        return torch.from_numpy(feats)
