"""ACD (Average Content Distance) of MoCoGAN / MoCoGAN-HD from per-frame face embeddings.

MoCoGAN (Tulyakov et al. 2018) defines ACD as the average pairwise L2 distance between the
per-frame content features of a video, averaged over videos; "pairwise" is ambiguous, so
both readings are named (docs/protocols.md, *ACD*):

``consecutive``  the T-1 pairs (t, t+1);
``all``          the T(T-1)/2 pairs t < s.

Per video: the mean L2 distance between unit-norm embeddings over the pairs; the value: the
mean over videos. MoCoGAN-HD's embedder is facenet-pytorch's ``InceptionResnetV1``
(VGGFace2), whose embeddings already have unit norm (distances in [0, 2]); see
``snap-research/MoCoGAN-HD#13`` for its partial snippet (1024 videos x 16 frames,
256 -> 128 average pooling, clamp to [-1, 1], no face detection).

The face extractor (``vidbench.metrics.face_extractor``) emits per video the distances of all pairs
(t < s, row-major: (0,1), (0,2), ..., (T-2,T-1)) followed by the fraction of frames in which
a face was found; both pair readings and their means over videos follow from those
features, so a plain mean of the features (no per-video capture) already gives the value.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidbench.utils.errors import VidbenchError

PAIRS = ("consecutive", "all")
INPUT_MODES = ("mocogan-hd", "face-crop")


def _check_pairs(pairs: str) -> None:
    if pairs not in PAIRS:
        raise VidbenchError(f"pairs must be one of {PAIRS}, got {pairs!r}")


def all_pairs(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices (t, s), t < s, in row-major order."""
    if num_frames < 2:
        raise VidbenchError(f"ACD needs at least 2 frames per video, got {num_frames}")
    return np.triu_indices(num_frames, k=1)


def pair_columns(num_frames: int, pairs: str) -> np.ndarray:
    """Which of the :func:`all_pairs` columns ``pairs`` averages."""
    _check_pairs(pairs)
    t, s = all_pairs(num_frames)
    return np.arange(len(t)) if pairs == "all" else np.flatnonzero(s == t + 1)


def pair_distances(emb: np.ndarray, normalize: bool = True) -> np.ndarray:
    """L2 distances of all frame pairs ``[N, T(T-1)/2]`` of embeddings ``[N, T, D]``
    (float64; rows L2-normalised first when ``normalize``)."""
    e = np.asarray(emb, dtype=np.float64)
    if e.ndim != 3 or e.shape[0] < 1:
        raise VidbenchError(f"ACD expects embeddings [N, T, D], got {list(e.shape)}")
    if not np.isfinite(e).all():
        raise VidbenchError("ACD embeddings contain NaN or inf")
    if normalize:
        norms = np.linalg.norm(e, axis=-1, keepdims=True)
        if (norms == 0).any():
            raise VidbenchError("cannot normalise an all-zero embedding")
        e = e / norms
    t, s = all_pairs(e.shape[1])
    return np.linalg.norm(e[:, t] - e[:, s], axis=-1)


def acd_from_pair_distances(dist: np.ndarray, num_frames: int, pairs: str
                            ) -> tuple[float, np.ndarray]:
    """(mean over videos, per-video ACD ``[N]``) from all-pair distances ``[N, T(T-1)/2]``."""
    d = np.asarray(dist, dtype=np.float64)
    cols = pair_columns(num_frames, pairs)
    if d.ndim != 2 or d.shape[1] != num_frames * (num_frames - 1) // 2 or len(d) < 1:
        raise VidbenchError(f"expected pair distances [N, {num_frames * (num_frames - 1) // 2}] "
                            f"for {num_frames} frames, got {list(d.shape)}")
    per_video = d[:, cols].mean(axis=1)
    return float(per_video.mean()), per_video


def acd_from_embeddings(emb: np.ndarray, pairs: str, normalize: bool = True
                        ) -> tuple[float, np.ndarray]:
    """(ACD, per-video ACD ``[N]``) of embeddings ``[N, T, D]`` under ``pairs``."""
    _check_pairs(pairs)
    e = np.asarray(emb)
    return acd_from_pair_distances(pair_distances(e, normalize), e.shape[1], pairs)


def face_feature_dim(num_frames: int) -> int:
    """Width of the face extractor's features: all pair distances + the face fraction."""
    return len(all_pairs(num_frames)[0]) + 1


def split_face_features(features: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(pair distances ``[N, P]``, face-found fraction ``[N]``) of face features ``[N, P + 1]``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim == 1:
        f = f[None]
    if f.ndim != 2 or f.shape[1] != face_feature_dim(num_frames):
        raise VidbenchError(f"face features for {num_frames} frames must be "
                            f"[N, {face_feature_dim(num_frames)}], got {list(f.shape)}")
    return f[:, :-1], f[:, -1]


@dataclass(frozen=True)
class ACDProtocol:
    """A complete ACD recipe; the name is stored with every value."""

    name: str
    description: str
    input_mode: str                 # INPUT_MODES (vidbench.metrics.face_extractor)
    pairs: str                      # PAIRS
    num_videos: int | None = None   # None: every clip of the source
    num_frames: int = 16
    weights: str = "vggface2"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_pairs(self.pairs)
        if self.input_mode not in INPUT_MODES or self.num_frames < 2:
            raise ValueError(f"{self.name}: bad input_mode or num_frames")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["notes"] = list(self.notes)
        return out


def compute_acd(features: np.ndarray, protocol: ACDProtocol) -> dict[str, Any]:
    """ACD from the face extractor's per-video features ``[N, P + 1]`` (capture_all)."""
    dist, found = split_face_features(features, protocol.num_frames)
    if protocol.num_videos is not None and len(dist) != protocol.num_videos:
        raise VidbenchError(f"{protocol.name}: needs exactly {protocol.num_videos} videos, "
                            f"got {len(dist)}")
    by_pairs = {p: acd_from_pair_distances(dist, protocol.num_frames, p) for p in PAIRS}
    value, per_video = by_pairs[protocol.pairs]
    return {"metric": "acd", "protocol": protocol.name, "value": value,
            "std": float(per_video.std()), "num_videos": int(len(dist)),
            "per_video": [float(v) for v in per_video],
            "by_pairs": {p: v for p, (v, _) in by_pairs.items()},
            "face_found_fraction": float(found.mean()),
            "settings": protocol.to_dict()}


_HD_NOTES = ("MoCoGAN-HD#13: frames 2x average-pooled to 128, clamped to [-1, 1], fed "
             "directly (no face detection); vidbench maps uint8 x by x/127.5 - 1 after an "
             "exact area resize to 128", "pairs mode not stated by MoCoGAN-HD [unverified]")

ACD_PROTOCOLS: dict[str, ACDProtocol] = {p.name: p for p in (
    ACDProtocol(name="mocogan-hd-consecutive", input_mode="mocogan-hd", pairs="consecutive",
                num_videos=1024, description="MoCoGAN-HD ACD, 1024 x 16 frames, consecutive "
                                             "pairs", notes=_HD_NOTES),
    ACDProtocol(name="mocogan-hd-all", input_mode="mocogan-hd", pairs="all", num_videos=1024,
                description="MoCoGAN-HD ACD, 1024 x 16 frames, all pairs", notes=_HD_NOTES),
    ACDProtocol(name="face-crop-consecutive", input_mode="face-crop", pairs="consecutive",
                description="MTCNN face crops (160) then the embedder; consecutive pairs"),
    ACDProtocol(name="face-crop-all", input_mode="face-crop", pairs="all",
                description="MTCNN face crops (160) then the embedder; all pairs"),
)}


def get_acd_protocol(name: str | ACDProtocol) -> ACDProtocol:
    if isinstance(name, ACDProtocol):
        return name
    if name not in ACD_PROTOCOLS:
        raise VidbenchError(f"unknown ACD protocol {name!r}; known: {', '.join(ACD_PROTOCOLS)}")
    return ACD_PROTOCOLS[name]
